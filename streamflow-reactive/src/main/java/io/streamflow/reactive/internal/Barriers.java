package io.streamflow.reactive.internal;

import io.streamflow.reactive.CheckpointBarrier;

/**
 * Access to the checkpoint signal of a {@link CheckpointBarrier} without making it public API:
 * {@code CheckpointBarrier} installs the accessor when its class initialises.
 */
public final class Barriers {

    /** Implemented by {@code CheckpointBarrier}. */
    public interface Access {
        <K, V> CheckpointBarrier<K, V> create(long id, CheckpointSignal signal);

        CheckpointSignal signal(CheckpointBarrier<?, ?> barrier);
    }

    private static volatile Access access;

    private Barriers() {
    }

    public static void install(Access a) {
        access = a;
    }

    private static Access access() {
        Access a = access;
        if (a == null) {
            try {
                Class.forName(CheckpointBarrier.class.getName(), true, Barriers.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            a = access;
        }
        return a;
    }

    /** @return a barrier whose forwarding operators wait for {@code signal} */
    public static <K, V> CheckpointBarrier<K, V> create(long id, CheckpointSignal signal) {
        return access().create(id, signal);
    }

    /** @return the barrier's signal, or {@code null} for a barrier made with {@link CheckpointBarrier#of(long)} */
    public static CheckpointSignal signal(CheckpointBarrier<?, ?> barrier) {
        return access().signal(barrier);
    }
}
