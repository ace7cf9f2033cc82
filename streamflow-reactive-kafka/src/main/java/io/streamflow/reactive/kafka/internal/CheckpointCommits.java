package io.streamflow.reactive.kafka.internal;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live subscriptions of one Kafka source configuration, to which the positions of each
 * delivered checkpoint are handed for committing to the consumer group.
 */
public final class CheckpointCommits {

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
     * Hands a delivered checkpoint's positions to every live subscription, which commits the
     * positions of its assigned partitions (offset + 1) on its poll thread.
     *
     * @param positions partition id → last consumed offset
     */
    public void committed(Map<Integer, Long> positions) {
        for (PollLoop<?, ?> loop : loops) {
            loop.commitCheckpoint(positions);
        }
    }
}
