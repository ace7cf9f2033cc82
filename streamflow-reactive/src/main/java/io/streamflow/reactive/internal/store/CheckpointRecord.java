package io.streamflow.reactive.internal.store;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The record of one checkpoint, written in the same store commit as the state it describes.
 *
 * @param id              checkpoint id
 * @param timeMillis      wall-clock time of the commit
 * @param positions       source → partition → position of the last record the state reflects
 * @param operators       operators with state (sorted)
 * @param stateEntries    state map → entries (sorted), checked when the checkpoint is verified
 * @param outboxRecords   sink records in the outbox at the commit
 * @param version         store version of this checkpoint's commit
 * @param previousVersion store version of the previous checkpoint, {@code 0} for the first one
 * @param fileBytes       file size before the commit (the commit's size is known only after it)
 * @param crc             CRC32C over all other fields
 */
public record CheckpointRecord(long id, long timeMillis, Map<String, Map<Integer, Long>> positions,
                               List<String> operators, Map<String, Long> stateEntries, long outboxRecords,
                               long version, long previousVersion, long fileBytes, long crc) {

    static long crcOf(long id, long timeMillis, Map<String, Map<Integer, Long>> positions, List<String> operators,
                      Map<String, Long> stateEntries, long outboxRecords, long version, long previousVersion,
                      long fileBytes) {
        CRC32C crc = new CRC32C();
        String canonical = id + "|" + timeMillis + "|" + positions + "|" + operators + "|" + stateEntries + "|"
                + outboxRecords + "|" + version + "|" + previousVersion + "|" + fileBytes;
        crc.update(canonical.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    /** @return whether the CRC matches the fields */
    boolean intact() {
        return crc == crcOf(id, timeMillis, positions, operators, stateEntries, outboxRecords, version,
                previousVersion, fileBytes);
    }
}
