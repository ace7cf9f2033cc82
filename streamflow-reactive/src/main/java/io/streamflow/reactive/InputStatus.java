package io.streamflow.reactive;

/**
 * In-band input status marker, of two kinds.
 * <p>
 * <b>Idleness</b>: an input that emits {@link #idle()} stops holding back the watermark of any
 * merge or multi-input operator downstream until it emits {@link #active()} (which a watermark
 * assigner does before the first record after an idle period). There are two instances, one per
 * status, shared by every stream; compare with {@link #isIdle()}.
 * <p>
 * <b>Release of a source partition</b>: a source emits {@link #released(int)} when one of its
 * partitions leaves it for good (a Kafka partition revoked in a rebalance): the watermark assigner
 * right after the source forgets that partition, so it no longer holds the watermark back, and
 * consumes the marker (it does not go further). A partition released and later read again starts
 * afresh, as a new one; the assigner's watermark never goes back, so its records older than the
 * watermark are judged late downstream. Merges and multi-input operators forward a release marker
 * that reaches them unchanged and keep their idleness state. Compare with {@link #isReleased()}.
 *
 * @param <K> key type of the stream the marker travels on
 * @param <V> value type of the stream the marker travels on
 */
public final class InputStatus<K, V> implements StreamElement<K, V> {

    @SuppressWarnings("rawtypes")
    private static final InputStatus IDLE = new InputStatus<>(true, -1);
    @SuppressWarnings("rawtypes")
    private static final InputStatus ACTIVE = new InputStatus<>(false, -1);

    private final boolean idle;
    /** The released partition, {@code -1} for the idleness markers. */
    private final int partition;

    private InputStatus(boolean idle, int partition) {
        this.idle = idle;
        this.partition = partition;
    }

    /**
     * The marker an input emits when it stops producing for a while: downstream merges and
     * multi-input operators then leave it out of their watermark until it is active again.
     *
     * @param <K> key type of the stream
     * @param <V> value type of the stream
     * @return the shared idle marker
     */
    @SuppressWarnings("unchecked")
    public static <K, V> InputStatus<K, V> idle() {
        return IDLE;
    }

    /**
     * The marker an idle input emits before it produces again: downstream merges and multi-input
     * operators then count its watermark again.
     *
     * @param <K> key type of the stream
     * @param <V> value type of the stream
     * @return the shared active marker
     */
    @SuppressWarnings("unchecked")
    public static <K, V> InputStatus<K, V> active() {
        return ACTIVE;
    }

    /**
     * The marker a source emits when its partition {@code partition} (the {@link Origin#partition()}
     * of its records) leaves it, after the last element of that partition it delivers: the
     * watermark assigner downstream forgets the partition, so that it does not hold the watermark
     * back until an idle timeout (or for ever, without one).
     *
     * @param <K>       key type of the stream
     * @param <V>       value type of the stream
     * @param partition the partition id, {@code >= 0}
     * @return a release marker for that partition
     * @throws IllegalArgumentException if {@code partition} is negative
     */
    public static <K, V> InputStatus<K, V> released(int partition) {
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0, was " + partition);
        }
        return new InputStatus<>(false, partition);
    }

    /** @return {@code true} for {@link #idle()}, {@code false} for {@link #active()} and release markers */
    public boolean isIdle() {
        return idle;
    }

    /** @return {@code true} for a {@link #released(int)} marker, {@code false} for the idleness markers */
    public boolean isReleased() {
        return partition >= 0;
    }

    /**
     * @return the partition a {@link #released(int)} marker releases
     * @throws IllegalStateException for the idleness markers, which concern a whole input
     */
    public int partition() {
        if (partition < 0) {
            throw new IllegalStateException(this + " concerns a whole input, not a partition");
        }
        return partition;
    }

    /** Release markers are equal when they release the same partition; the idleness markers are shared. */
    @Override
    public boolean equals(Object o) {
        return o instanceof InputStatus<?, ?> s && s.idle == idle && s.partition == partition;
    }

    @Override
    public int hashCode() {
        return idle ? -2 : partition;
    }

    @Override
    public String toString() {
        return idle ? "InputStatus{IDLE}" : partition < 0 ? "InputStatus{ACTIVE}"
                : "InputStatus{RELEASED " + partition + "}";
    }
}
