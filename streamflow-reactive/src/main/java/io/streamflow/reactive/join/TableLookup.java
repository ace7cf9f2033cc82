package io.streamflow.reactive.join;

/** Which table value a stream-table join gives each stream record. */
public enum TableLookup {
    /**
     * The value valid at the record's event time (a temporal join): the latest change with a
     * timestamp at or before the record's. The record waits until both watermarks have passed its
     * timestamp, so the result does not depend on arrival order.
     */
    AS_OF_EVENT_TIME,
    /**
     * The table's latest value when the record arrives (a lookup join): emitted at once, so the
     * result depends on how the two inputs interleave.
     */
    LATEST
}
