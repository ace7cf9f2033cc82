package io.streamflow.reactive;

/**
 * In-band checkpoint barrier: every record before it belongs to checkpoint {@code id}. Operators
 * that do not keep state forward it unchanged.
 */
public final class CheckpointBarrier<K, V> implements StreamElement<K, V> {

    private final long id;

    private CheckpointBarrier(long id) {
        this.id = id;
    }

    public static <K, V> CheckpointBarrier<K, V> of(long id) {
        if (id < 0) {
            throw new IllegalArgumentException("checkpoint id must be >= 0, was " + id);
        }
        return new CheckpointBarrier<>(id);
    }

    public long id() {
        return id;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CheckpointBarrier<?, ?> b && b.id == id;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(id);
    }

    @Override
    public String toString() {
        return "CheckpointBarrier{" + id + '}';
    }
}
