package io.streamflow.reactive;

import java.util.Objects;

/**
 * Side output: a record that arrived after every window it belongs to was purged (or after the
 * state it would join was dropped). Carries what is needed to trace it: the record (with its
 * {@link Origin}), the operator, the window bounds that rejected it and the watermark at the time.
 * It is counted in {@code streamflow.records.late} and logged at debug when it is produced.
 *
 * @param <K> key type of the stream the late record travels on
 * @param <V> value type of the stream the late record travels on
 */
public final class LateRecord<K, V> implements StreamElement<K, V> {

    private final StreamRecord<?, ?> record;
    private final String operator;
    private final long windowStart;
    private final long windowEnd;
    private final long watermark;

    /**
     * Creates a late record; operators make these, user code usually only reads them.
     *
     * @param record      the record that arrived too late
     * @param operator    name of the operator that rejected it
     * @param windowStart start of the (latest) window, join range or deduplication span the record
     *                    belonged to, inclusive
     * @param windowEnd   end of that window, range or span, exclusive
     * @param watermark   the operator's watermark when the record arrived
     * @throws NullPointerException if {@code record} or {@code operator} is {@code null}
     */
    public LateRecord(StreamRecord<?, ?> record, String operator, long windowStart, long windowEnd, long watermark) {
        this.record = Objects.requireNonNull(record, "record");
        this.operator = Objects.requireNonNull(operator, "operator");
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.watermark = watermark;
    }

    /** @return the late record itself, with its timestamp and {@link Origin} */
    public StreamRecord<?, ?> record() {
        return record;
    }

    /** @return name of the operator that rejected the record */
    public String operator() {
        return operator;
    }

    /** @return start of the (latest) window the record belonged to, inclusive */
    public long windowStart() {
        return windowStart;
    }

    /** @return end of that window, exclusive */
    public long windowEnd() {
        return windowEnd;
    }

    /** @return the operator's watermark when the record arrived */
    public long watermark() {
        return watermark;
    }

    @Override
    public String toString() {
        return "LateRecord{operator=" + operator + ", ts=" + record.timestamp() + ", window=[" + windowStart + ","
                + windowEnd + "), watermark=" + watermark + ", record=" + record + '}';
    }
}
