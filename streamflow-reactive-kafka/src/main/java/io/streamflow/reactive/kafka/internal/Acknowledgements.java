package io.streamflow.reactive.kafka.internal;

import io.streamflow.reactive.Origin;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live acknowledging subscriptions of one Kafka source configuration and its copies, to which
 * acknowledgements are routed by the {@link Origin} of the acknowledged element. Each subscription
 * applies an acknowledgement of a partition assigned to it on its poll thread, and ignores the
 * others.
 */
public final class Acknowledgements {

    private final Set<PollLoop<?, ?>> loops = ConcurrentHashMap.newKeySet();

    /** Registers a subscription; called on its poll thread when it starts. */
    void add(PollLoop<?, ?> loop) {
        loops.add(loop);
    }

    /** Unregisters a subscription; called on its poll thread when it closes. */
    void remove(PollLoop<?, ?> loop) {
        loops.remove(loop);
    }

    /**
     * Hands an acknowledgement to every live acknowledging subscription. Any thread; does not block.
     *
     * @param origin the origin of the processed element: topic, partition id and offset
     */
    public void acknowledge(Origin origin) {
        if (origin.position() < 0) {
            return;
        }
        for (PollLoop<?, ?> loop : loops) {
            loop.acknowledge(origin);
        }
    }
}
