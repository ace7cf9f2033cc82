package io.streamflow.reactive;

import io.streamflow.reactive.internal.Barriers;
import io.streamflow.reactive.internal.CheckpointSignal;

/**
 * In-band checkpoint barrier: every record before it belongs to checkpoint {@code id}. Operators
 * that do not keep state forward it unchanged; stateful operators write their state for the
 * checkpoint, forward the barrier and take no further input until the checkpoint is committed
 * (see {@link Checkpointing}).
 * <p>
 * Two barriers are equal when their ids are.
 *
 * @param <K> key type of the stream the barrier travels on
 * @param <V> value type of the stream the barrier travels on
 */
public final class CheckpointBarrier<K, V> implements StreamElement<K, V> {

    static {
        Barriers.install(new Barriers.Access() {
            @Override
            public <K, V> CheckpointBarrier<K, V> create(long id, CheckpointSignal signal) {
                return new CheckpointBarrier<>(check(id), signal);
            }

            @Override
            public CheckpointSignal signal(CheckpointBarrier<?, ?> barrier) {
                return barrier.signal;
            }
        });
    }

    private final long id;
    /** Set on barriers injected by {@link Checkpointing}: stateful operators wait for it after forwarding. */
    private final CheckpointSignal signal;

    private CheckpointBarrier(long id, CheckpointSignal signal) {
        this.id = id;
        this.signal = signal;
    }

    private static long check(long id) {
        if (id < 0) {
            throw new IllegalArgumentException("checkpoint id must be >= 0, was " + id);
        }
        return id;
    }

    /**
     * A barrier for checkpoint {@code id} that is not tied to a {@link Checkpointing} coordinator, for
     * tests and hand-built streams. Stateful operators still write their state for it and forward it,
     * but they do not pause, as nothing will commit it.
     *
     * @param <K> key type of the stream
     * @param <V> value type of the stream
     * @param id  the checkpoint id, {@code >= 0}
     * @return a barrier for checkpoint {@code id}
     * @throws IllegalArgumentException if {@code id} is negative
     */
    public static <K, V> CheckpointBarrier<K, V> of(long id) {
        return new CheckpointBarrier<>(check(id), null);
    }

    /** @return the id of the checkpoint that every record before this barrier belongs to */
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
