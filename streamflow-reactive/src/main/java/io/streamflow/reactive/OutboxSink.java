package io.streamflow.reactive;

import java.io.IOException;
import java.util.List;

/**
 * A sink that receives its output one checkpoint at a time, only once that checkpoint is durable
 * (see {@link Checkpointing#sink(OutboxSink, java.util.function.Function)}). Until then the output
 * waits in the checkpoint's outbox, inside the same commit as the state and source positions that
 * produced it.
 * <p>
 * After a crash, the output of a committed checkpoint whose delivery may not have finished is
 * delivered again, with the same id and the same records. A sink is exactly-once when
 * {@link #deliver} is idempotent per checkpoint id: the file sink writes a part file named after
 * the id through a temporary file and an atomic rename; a transactional sink tags its
 * transaction with the id.
 * <p>
 * Calls are made one at a time, in increasing id order, on a thread that may block.
 *
 * @param <T> the record type kept in the outbox; it must be serialisable by the state store
 *            (boxed primitives, strings, records, enums, collections of those, or a type with a
 *            registered {@link io.streamflow.reactive.state.StateCodec})
 */
@FunctionalInterface
public interface OutboxSink<T> {

    /**
     * Delivers the output of checkpoint {@code checkpointId} (possibly empty). Throwing fails the
     * pipeline; the records stay in the outbox and are delivered again after a restart.
     */
    void deliver(long checkpointId, List<T> records) throws IOException;
}
