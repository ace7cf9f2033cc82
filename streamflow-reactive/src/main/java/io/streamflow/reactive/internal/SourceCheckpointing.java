package io.streamflow.reactive.internal;

import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.state.StateBackend;

import java.util.Map;

/**
 * The link between a checkpointed source's first operator (its watermark assigner) and the
 * checkpoint coordinator: the coordinator asks for a barrier, the operator injects it between two
 * records from its own drain loop and reports the source positions the barrier stands for.
 */
public interface SourceCheckpointing {

    /** Source name under which positions are stored. */
    String sourceName();

    /** Where the operator keeps its own scalars (its watermarks). */
    StateBackend backend();

    /** Positions restored from the last checkpoint: partition → last consumed position. */
    Map<Integer, Long> restoredPositions();

    /** Called once when the operator subscribes; {@code wake} (thread-safe) makes it check for a due barrier. */
    void attach(Runnable wake);

    /** @return the barrier to inject now (claimed by this call), or {@code null} */
    CheckpointBarrier<?, ?> takeDueBarrier();

    /** The positions of the last records before the barrier of checkpoint {@code id}. */
    void positionsAt(long id, Map<Integer, Long> positions);

    /** Upstream completed: the positions after every record. */
    void endOfInput(Map<Integer, Long> positions);

    /**
     * Positions at which to inject a barrier, in input order, while the pipeline replays output a
     * sink already holds after a fallback (empty: none). Read when the operator starts. A barrier
     * goes right after the record (and its watermark) that brings every partition to the target,
     * as a barrier of the original run did; a record past a target is an error.
     */
    java.util.List<Map<Integer, Long>> catchUpTargets();

    /** @return the barrier to inject at the catch-up target just reached */
    CheckpointBarrier<?, ?> catchUpBarrier();
}
