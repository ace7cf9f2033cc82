package io.streamflow.reactive;

import java.util.Objects;

/**
 * Where a record came from: the source name, the partition within the source and the position
 * (offset, byte offset or sequence number) within that partition.
 *
 * @param source    name of the source, never {@code null}
 * @param partition partition of the source ({@code 0} for unpartitioned sources)
 * @param position  position within the partition, {@code -1} when unknown
 */
public record Origin(String source, int partition, long position) {

    /** Origin of records that were created in memory, with no source. */
    public static final Origin NONE = new Origin("none", 0, -1L);

    /**
     * Validates the components.
     *
     * @param source    name of the source
     * @param partition partition of the source, {@code >= 0}
     * @param position  position within the partition, {@code -1} when unknown
     * @throws NullPointerException     if {@code source} is {@code null}
     * @throws IllegalArgumentException if {@code partition} is negative
     */
    public Origin {
        Objects.requireNonNull(source, "source");
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0, was " + partition);
        }
    }

    /**
     * Same as the constructor, for call sites that read better with a factory.
     *
     * @param source    name of the source
     * @param partition partition of the source, {@code >= 0}
     * @param position  position within the partition, {@code -1} when unknown
     * @return an origin in the given source and partition at the given position
     * @throws NullPointerException     if {@code source} is {@code null}
     * @throws IllegalArgumentException if {@code partition} is negative
     */
    public static Origin of(String source, int partition, long position) {
        return new Origin(source, partition, position);
    }

    @Override
    public String toString() {
        return source + "[" + partition + "]@" + position;
    }
}
