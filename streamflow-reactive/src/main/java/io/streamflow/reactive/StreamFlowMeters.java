package io.streamflow.reactive;

/**
 * Every meter StreamFlow registers with Micrometer. Names are lowercase and dotted; tags are
 * low-cardinality only: {@code pipeline} and {@code operator}, and for the per-partition watermark
 * meters of a watermark operator {@code partition} (the source's partition id), never keys or window ids.
 */
public enum StreamFlowMeters {

    /** Records that entered an operator. */
    RECORDS_IN("streamflow.records.in", "records", "Records received by an operator"),
    /** Records (or results) an operator emitted. */
    RECORDS_OUT("streamflow.records.out", "records", "Records or results emitted by an operator"),
    /** Records that arrived after their window or state was purged and went to the late output. */
    RECORDS_LATE("streamflow.records.late", "records", "Records sent to the late-data side output"),
    /** Records sent to the dead-letter output (user function threw, bad timestamp, bad input). */
    RECORDS_DEAD_LETTER("streamflow.records.dead.letter", "records", "Records sent to the dead-letter output"),
    /** Records removed as duplicates by a deduplication operator. */
    RECORDS_DEDUPLICATED("streamflow.records.deduplicated", "records", "Records removed as duplicates"),
    /** Records of an inner join that found no match (emitted by no join result, by definition of the join). */
    RECORDS_UNMATCHED("streamflow.records.unmatched", "records", "Records an inner join found no match for"),
    /** Window panes fired. */
    PANES_FIRED("streamflow.panes.fired", "panes", "Window panes emitted"),
    /** Current watermark of an operator (epoch millis). */
    WATERMARK("streamflow.watermark", "milliseconds", "Current event-time watermark of an operator"),
    /** Processing time minus the operator's watermark. */
    WATERMARK_LAG("streamflow.watermark.lag", "milliseconds", "Processing time minus the current watermark"),
    /**
     * Watermark of one source partition in a watermark operator (epoch millis), tagged
     * {@code partition}; removed when the source releases the partition.
     */
    PARTITION_WATERMARK("streamflow.watermark.partition", "milliseconds",
            "Current event-time watermark of one source partition"),
    /** Processing time minus the watermark of one source partition, tagged {@code partition}. */
    PARTITION_WATERMARK_LAG("streamflow.watermark.partition.lag", "milliseconds",
            "Processing time minus the current watermark of one source partition"),
    /** Keyed state entries held by an operator. */
    STATE_ENTRIES("streamflow.state.entries", "entries", "Keyed state entries held by an operator");

    private final String meterName;
    private final String baseUnit;
    private final String description;

    StreamFlowMeters(String meterName, String baseUnit, String description) {
        this.meterName = meterName;
        this.baseUnit = baseUnit;
        this.description = description;
    }

    /** @return the Micrometer meter name, e.g. {@code "streamflow.records.in"} */
    public String meterName() {
        return meterName;
    }

    /** @return the meter's base unit: {@code "records"}, {@code "panes"}, {@code "milliseconds"} or {@code "entries"} */
    public String baseUnit() {
        return baseUnit;
    }

    /** @return the description registered with the meter */
    public String description() {
        return description;
    }
}
