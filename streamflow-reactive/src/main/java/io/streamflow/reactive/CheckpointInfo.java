package io.streamflow.reactive;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a checkpoint holds, as listed by {@link Checkpointing#list(java.nio.file.Path)} and
 * {@link Checkpointing#restored()}.
 *
 * @param id            checkpoint id (1, 2, ... per checkpoint directory)
 * @param time          when it was committed (wall clock)
 * @param positions     source name → partition → position of the last record the state reflects
 *                      (file: byte offset of the line; generator: sequence number)
 * @param operators     names of the operators that have state in it
 * @param stateEntries  state name ({@code operator/state}) → number of entries
 * @param outboxRecords sink records committed with it and not yet delivered when it was written
 * @param fileBytes     size of the state file when the checkpoint's commit began
 */
public record CheckpointInfo(long id, Instant time, Map<String, Map<Integer, Long>> positions, List<String> operators,
                             Map<String, Long> stateEntries, long outboxRecords, long fileBytes) {
}
