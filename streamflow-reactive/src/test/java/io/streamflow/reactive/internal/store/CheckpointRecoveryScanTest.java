package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.KeyedState;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * MVStore opens a file at the newest chunk it reaches from its store header: after a clean
 * shutdown it checks the chunks listed by the header's chunk, otherwise it also looks at the last
 * complete chunk of the file and follows the chain of predicted next chunks. Both stop at an
 * older chunk in the files built here, although a newer complete chunk is in the file, so the
 * store opens at an older checkpoint than the one noted as completed. {@link CheckpointStore}
 * then searches every block of the file and must restore the newest checkpoint, exactly.
 * <p>
 * The files are parsed, not laid out by fixed offsets: the store header is in blocks 0 and 1, a
 * chunk starts at a block with its header ({@code chunk:..,len:..,version:..,next:..}) and ends
 * with a footer ({@code chunk:..,len:..,version:..,fletcher:..}) in the last 128 bytes of its last
 * block. Each test first shows that a plain MVStore open lands on the older checkpoint, so it
 * cannot pass without the search.
 */
class CheckpointRecoveryScanTest {

    private static final int BLOCK = 4096;
    private static final int FOOTER = 128;
    private static final int KEYS = 300;
    private static final int MAX_CHECKPOINTS = 40;

    @TempDir
    Path dir;

    @AfterEach
    void defaultRetention() {
        CheckpointStore.useRetentionTime(-1);
    }

    /**
     * The space of old chunks is reused at once, so checkpoints are written until one's chunk lands
     * in a gap before older chunks. MVStore rewrote the store header for that chunk; the header is
     * rewritten (with a matching checksum, no clean-shutdown mark) to name the previous
     * checkpoint's chunk instead, as a header whose last write was lost would. A normal open then
     * finds that chunk from the header and the same or an older one as the file's last chunk; the
     * chain of next chunks leads to the end of the file, not into the gap. Only blocks 0 and 1 are
     * written.
     */
    @Test
    void newestCheckpointInReusedSpaceBeforeTheFilesLastChunkIsFound() throws IOException {
        Path file = dir.resolve(CheckpointStore.FILE);
        Map<Long, Map<String, Long>> states = new HashMap<>();
        Map<Long, Long> versions = new HashMap<>();
        long newest = 0;
        Chunk newestChunk = null;
        Chunk previousChunk = null;
        CheckpointStore.useRetentionTime(0);
        CheckpointStore writer = CheckpointStore.open(dir, Map.of(), 1000, p -> fail("reported: " + p));
        try {
            KeyedState<String, Long, Long> ks = writer.backend().keyedState("op", "values");
            for (long id = 1; id <= MAX_CHECKPOINTS && newest == 0; id++) {
                states.put(id, writeCheckpoint(writer, ks, id));
                versions.put(id, writer.latest().version());
                if (id < 3) {
                    continue;
                }
                List<Chunk> chunks = completeChunks(Files.readAllBytes(file));
                Chunk candidate = withVersion(chunks, versions.get(id));
                Chunk previous = withVersion(chunks, versions.get(id - 1));
                Chunk last = chunks.stream().max(Comparator.comparingLong(Chunk::end)).orElseThrow();
                if (candidate != null && previous != null && candidate.end() <= last.block()
                        && chainEnd(chunks, previous, last).version() < candidate.version()) {
                    newest = id;
                    newestChunk = candidate;
                    previousChunk = previous;
                }
            }
        } finally {
            // the process ends after checkpoint `newest` was synced and noted, without closing the store
            writer.backend().store().closeImmediately();
            writer.close();
            CheckpointStore.useRetentionTime(-1);
        }
        assertThat(newest).as("a checkpoint written into reused space before the file's last chunk, within %d",
                MAX_CHECKPOINTS).isGreaterThanOrEqualTo(3);
        assertThat(noted()).isEqualTo(newest);

        byte[] before = Files.readAllBytes(file);
        Map<String, String> header = storeHeader(before);
        header.put("block", Long.toHexString(previousChunk.block()));
        header.put("chunk", Integer.toHexString(previousChunk.id()));
        header.put("version", Long.toHexString(previousChunk.version()));
        header.remove("clean");
        writeStoreHeader(file, header);
        assertThat(storeHeader(Files.readAllBytes(file))).isEqualTo(header);
        assertOnlyChanged(before, Files.readAllBytes(file), 0, 2 * BLOCK);
        assertThat(completeChunks(Files.readAllBytes(file))).as("the newest checkpoint's chunk is complete")
                .contains(newestChunk);

        assertPlainOpenStopsAt(file, newest - 1, versions.get(newest - 1), versions.get(newest));
        System.out.println("CheckpointRecoveryScanTest: checkpoint " + newest + " in " + newestChunk
                + " before the file's last chunk; store header set to " + previousChunk);
        assertRestoresExactly(newest, states.get(newest));
    }

    /**
     * Three checkpoints, each rewriting every key, in one session closed cleanly: the store header
     * points at checkpoint 3's chunk, and checkpoint 2's chunk holds no live page any more but is
     * still listed. Its footer is blanked. After a clean shutdown MVStore checks the listed chunks
     * oldest first; at chunk 2 the check fails and it falls back to the newest chunk checked so far,
     * checkpoint 1's, without looking at the rest of the file. Checkpoint 3 needs nothing of chunk 2.
     */
    @Test
    void damagedFooterOfAChunkNoLongerInUseDoesNotHideTheNewestCheckpoint() throws IOException {
        Path file = dir.resolve(CheckpointStore.FILE);
        Map<Long, Map<String, Long>> states = new HashMap<>();
        Map<Long, Long> versions = new HashMap<>();
        writeThreeCheckpoints(states, versions);
        assertThat(noted()).isEqualTo(3);

        byte[] before = Files.readAllBytes(file);
        List<Chunk> chunks = completeChunks(before);
        Chunk second = chunkOf(chunks, versions, 2);
        Chunk third = chunkOf(chunks, versions, 3);
        Map<String, String> header = storeHeader(before);
        assertThat(header).as("clean shutdown, header at checkpoint 3's chunk")
                .containsEntry("clean", "1").containsEntry("chunk", Integer.toHexString(third.id()));
        MVStore plain = new MVStore.Builder().fileName(file.toString()).readOnly().open();
        try {
            assertThat(plain.getCurrentVersion()).isEqualTo(versions.get(3L));
            String listed = plain.getLayoutMap().get("chunk." + Integer.toHexString(second.id()));
            assertThat(listed).as("checkpoint 2's chunk in checkpoint 3's layout").isNotNull();
            assertThat(DataUtils.parseMap(listed)).as("checkpoint 2's chunk holds no live page")
                    .containsEntry("livePages", "0");
        } finally {
            plain.closeImmediately();
        }

        long footer = second.end() * BLOCK - FOOTER;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(footer);
            f.write(new byte[FOOTER]);
        }
        assertOnlyChanged(before, Files.readAllBytes(file), footer, footer + FOOTER);
        assertThat(completeChunks(Files.readAllBytes(file))).as("complete chunks after the damage")
                .doesNotContain(second).contains(third);

        assertPlainOpenStopsAt(file, 1, versions.get(1L), versions.get(3L));
        System.out.println("CheckpointRecoveryScanTest: footer of checkpoint 2's " + second + " blanked at byte "
                + footer + "; checkpoint 3 in " + third);
        assertRestoresExactly(3, states.get(3L));
    }

    /**
     * When the commit a first open landed on is damaged, recovery hides that commit's chunk so the
     * store opens at the one before. It must hide the newest chunk up to the damaged commit's
     * version, never a newer complete chunk that the open did not reach: that chunk holds the
     * newest checkpoint, which the whole-file search is still to find.
     */
    @Test
    void hidingADamagedCommitLeavesNewerCompleteChunksAlone() throws IOException {
        Path file = dir.resolve(CheckpointStore.FILE);
        Map<Long, Long> versions = new HashMap<>();
        writeThreeCheckpoints(new HashMap<>(), versions);
        byte[] before = Files.readAllBytes(file);
        List<Chunk> chunks = completeChunks(before);
        Chunk second = chunkOf(chunks, versions, 2);
        Chunk third = chunkOf(chunks, versions, 3);
        assertThat(third.id()).as("checkpoint 3's chunk is the file's newest").isGreaterThan(second.id());

        Path copy = dir.resolve("copy");
        Files.copy(file, copy);
        assertThat(CheckpointStore.hideNewestChunk(copy, versions.get(2L))).startsWith("chunk:"
                + Integer.toHexString(second.id()) + ",");
        assertThat(completeChunks(Files.readAllBytes(copy))).as("complete chunks after hiding up to version %d",
                versions.get(2L)).doesNotContain(second).contains(third);

        Files.copy(file, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(CheckpointStore.hideNewestChunk(copy, Long.MAX_VALUE)).startsWith("chunk:"
                + Integer.toHexString(third.id()) + ",");
        assertThat(completeChunks(Files.readAllBytes(copy))).as("complete chunks after hiding the newest")
                .doesNotContain(third).contains(second);
    }

    /** Writes checkpoints 1 to 3 in one session, closed cleanly; fills each one's state and store version. */
    private void writeThreeCheckpoints(Map<Long, Map<String, Long>> states, Map<Long, Long> versions) {
        try (CheckpointStore writer = CheckpointStore.open(dir, Map.of(), 1000, p -> fail("reported: " + p))) {
            KeyedState<String, Long, Long> ks = writer.backend().keyedState("op", "values");
            for (long id = 1; id <= 3; id++) {
                states.put(id, writeCheckpoint(writer, ks, id));
                versions.put(id, writer.latest().version());
            }
        }
    }

    /** The complete chunk of checkpoint {@code id}, which must be in the file. */
    private static Chunk chunkOf(List<Chunk> chunks, Map<Long, Long> versions, long id) {
        Chunk c = withVersion(chunks, versions.get(id));
        assertThat(c).as("checkpoint %d's complete chunk", id).isNotNull();
        return c;
    }

    /**
     * A plain MVStore open (the one {@link CheckpointStore#list} uses) lands on checkpoint
     * {@code older}; MVStore's recovery mode, which searches every block, finds {@code newestVersion}.
     */
    private void assertPlainOpenStopsAt(Path file, long older, long olderVersion, long newestVersion) {
        assertThat(openedVersion(file, false)).as("version a plain MVStore open lands on").isEqualTo(olderVersion);
        assertThat(CheckpointStore.list(dir)).as("checkpoints a plain MVStore open reads").isNotEmpty()
                .last().extracting(CheckpointRecord::id).isEqualTo(older);
        assertThat(openedVersion(file, true)).as("version found by searching every block").isEqualTo(newestVersion);
    }

    /** Opening restores checkpoint {@code id} with exactly its state and positions, and reports nothing lost. */
    private void assertRestoresExactly(long id, Map<String, Long> state) throws IOException {
        List<String> problems = new ArrayList<>();
        try (CheckpointStore store = CheckpointStore.open(dir, Map.of(), 1000, problems::add)) {
            CheckpointRecord latest = store.latest();
            assertThat(latest).as("problems %s", problems).isNotNull();
            assertThat(latest.id()).as("restored checkpoint; problems %s", problems).isEqualTo(id);
            assertThat(latest.positions()).isEqualTo(positions(id));
            assertThat(read(store.backend().keyedState("op", "values"))).isEqualTo(state);
            // the older checkpoint the first open found is intact, and nothing of the newest one is lost
            assertThat(problems).isEmpty();
        }
        assertThat(noted()).isEqualTo(id);
    }

    private static long openedVersion(Path file, boolean searchEveryBlock) {
        MVStore.Builder builder = new MVStore.Builder().fileName(file.toString()).readOnly();
        if (searchEveryBlock) {
            builder.recoveryMode();
        }
        MVStore store = builder.open();
        try {
            return store.getCurrentVersion();
        } finally {
            store.closeImmediately();
        }
    }

    /** Rewrites every key with a value of checkpoint {@code id}, commits it and syncs; @return the state */
    private static Map<String, Long> writeCheckpoint(CheckpointStore store, KeyedState<String, Long, Long> ks,
                                                     long id) {
        Map<String, Long> state = new TreeMap<>();
        for (int i = 0; i < KEYS; i++) {
            long v = id * 1_000_000 + i;
            ks.put(0, 0L, "k" + i, v);
            state.put("k" + i, v);
        }
        store.commit(id, id, positions(id));
        store.sync();
        return state;
    }

    private static Map<String, Map<Integer, Long>> positions(long id) {
        return Map.of("src", Map.of(0, 100 * id));
    }

    private static Map<String, Long> read(KeyedState<String, Long, Long> ks) {
        Map<String, Long> out = new TreeMap<>();
        ks.forEach(0, 0L, out::put);
        return out;
    }

    private long noted() throws IOException {
        return Long.parseLong(Files.readString(dir.resolve(CheckpointStore.LATEST_FILE)).trim());
    }

    private static void assertOnlyChanged(byte[] before, byte[] after, long from, long to) {
        assertThat(after.length).isEqualTo(before.length);
        assertThat(Arrays.copyOfRange(after, 0, (int) from)).as("bytes before %d", from)
                .isEqualTo(Arrays.copyOfRange(before, 0, (int) from));
        assertThat(Arrays.copyOfRange(after, (int) to, after.length)).as("bytes from %d", to)
                .isEqualTo(Arrays.copyOfRange(before, (int) to, before.length));
    }

    /** A chunk of the file, from its header (its footer checked). */
    private record Chunk(int id, long block, int len, long version, long next) {
        long end() {
            return block + len;
        }
    }

    private static Chunk withVersion(List<Chunk> chunks, long version) {
        return chunks.stream().filter(c -> c.version() == version).findFirst().orElse(null);
    }

    /**
     * Where MVStore's chain of next chunks ends when it starts from the newer of the header's
     * chunk and the file's last chunk: it follows {@code next} only to blocks before the last
     * chunk, to a chunk with the following id and a higher version.
     */
    private static Chunk chainEnd(List<Chunk> chunks, Chunk header, Chunk last) {
        Chunk c = header.version() > last.version() ? header : last;
        while (c.next() != 0 && c.next() < last.block()) {
            Chunk from = c;
            Chunk next = chunks.stream().filter(n -> n.block() == from.next() && n.id() == from.id() + 1
                    && n.version() > from.version()).findFirst().orElse(null);
            if (next == null) {
                break;
            }
            c = next;
        }
        return c;
    }

    /** The chunks whose header and footer are intact and agree, in file order. */
    private static List<Chunk> completeChunks(byte[] file) {
        List<Chunk> out = new ArrayList<>();
        for (int block = 2; (long) (block + 1) * BLOCK <= file.length; block++) {
            int at = block * BLOCK;
            String head = new String(file, at, BLOCK, StandardCharsets.ISO_8859_1);
            int nl = head.indexOf('\n');
            if (!head.startsWith("chunk:") || nl < 0) {
                continue;
            }
            Chunk chunk;
            try {
                Map<String, String> h = DataUtils.parseMap(head.substring(0, nl).trim());
                chunk = new Chunk(Integer.parseInt(h.get("chunk"), 16), block, Integer.parseInt(h.get("len"), 16),
                        Long.parseLong(h.get("version"), 16), Long.parseLong(h.getOrDefault("next", "0"), 16));
            } catch (RuntimeException notAHeader) {
                continue;
            }
            if (chunk.len() <= 0 || chunk.end() * BLOCK > file.length) {
                continue;
            }
            Map<String, String> f = checksummed(new String(file, (int) (chunk.end() * BLOCK) - FOOTER, FOOTER,
                    StandardCharsets.ISO_8859_1));
            if (f != null && Integer.toHexString(chunk.id()).equals(f.get("chunk"))
                    && Integer.toHexString(chunk.len()).equals(f.get("len"))
                    && Long.toHexString(chunk.version()).equals(f.get("version"))) {
                out.add(chunk);
            }
        }
        return out;
    }

    /** The store header in block 0 (block 1 holds the same); its checksum must match. */
    private static Map<String, String> storeHeader(byte[] file) {
        Map<String, String> m = checksummed(new String(file, 0, BLOCK, StandardCharsets.ISO_8859_1));
        assertThat(m).as("store header with a matching checksum").isNotNull();
        assertThat(checksummed(new String(file, BLOCK, BLOCK, StandardCharsets.ISO_8859_1))).isEqualTo(m);
        return m;
    }

    /** Writes the store header to blocks 0 and 1 as MVStore does: the fields sorted, a Fletcher-32 checksum, zeros. */
    private static void writeStoreHeader(Path file, Map<String, String> fields) throws IOException {
        StringBuilder s = DataUtils.appendMap(new StringBuilder(), new HashMap<>(fields));
        byte[] checked = s.toString().getBytes(StandardCharsets.ISO_8859_1);
        DataUtils.appendMap(s, "fletcher", DataUtils.getFletcher32(checked, 0, checked.length));
        s.append('\n');
        byte[] block = Arrays.copyOf(s.toString().getBytes(StandardCharsets.ISO_8859_1), BLOCK);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(block);
            f.write(block);
        }
    }

    /** Parses a {@code key:value,...,fletcher:..} list; @return null unless its checksum matches */
    private static HashMap<String, String> checksummed(String text) {
        String s = text.replace('\0', ' ').trim();
        int at = s.lastIndexOf(",fletcher:");
        if (at < 0) {
            return null;
        }
        byte[] checked = s.substring(0, at).getBytes(StandardCharsets.ISO_8859_1);
        try {
            if ((int) Long.parseLong(s.substring(at + ",fletcher:".length()), 16)
                    != DataUtils.getFletcher32(checked, 0, checked.length)) {
                return null;
            }
            return DataUtils.parseMap(s.substring(0, at));
        } catch (RuntimeException e) {
            return null;
        }
    }
}
