package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.KeyedState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With the store's default settings the space of old chunks is reused at once, and still the
 * previous checkpoint and the one before it stay restorable after a crash, also a crash in the
 * middle of a commit that writes into reused space.
 * <p>
 * For each seed checkpoints each change up to a third of {@value #KEYS} keys at random, so that
 * most chunks lose all their live pages within a few checkpoints and their space is reused. After
 * {@value #CHECKPOINTS} of them, the first commit {@code C + 1} that writes into space of older
 * chunks is the one that crashes, made from the file as it was when checkpoint {@code C} was
 * durable: a random part of the 4 KB blocks that commit
 * changed reaches the file (never the last one, so the commit is incomplete). Opening must restore
 * checkpoint {@code C} exactly. With checkpoint {@code C}'s chunk damaged as well (bytes flipped in
 * what its commit wrote) it must restore {@code C - 1} exactly, and with {@code C - 1}'s damaged
 * too, {@code C - 2}: the commit that crashed may only have overwritten chunks that no checkpoint
 * from {@code C - 2} on needs.
 */
class KeptCheckpointsTest {

    private static final int SEEDS = Integer.getInteger("kept.seeds", 12);
    /** Checkpoints before the one whose commit is torn: at least this many ... */
    private static final int CHECKPOINTS = 30;
    /** ... and more until a commit writes into space that older chunks had. */
    private static final int MAX_CHECKPOINTS = 100;
    private static final int KEYS = 3_000;
    private static final int BLOCK = 4096;

    @TempDir
    Path tmp;

    @Test
    void aCrashDuringACommitIntoReusedSpaceLeavesTheLastThreeCheckpointsRestorable() throws IOException {
        long base = Long.getLong("kept.seed", System.nanoTime());
        System.out.println("KeptCheckpointsTest base seed=" + base + " (replay with -Dkept.seed=" + base + ")");
        long written = 0;
        long files = 0;
        long checkpoints = 0;
        for (int i = 0; i < SEEDS; i++) {
            long seed = base + i;
            SplittableRandom rnd = new SplittableRandom(seed);
            Path dir = tmp.resolve("s" + i);
            Path file = dir.resolve(CheckpointStore.FILE);
            Map<Long, Map<String, Long>> states = new HashMap<>();
            Map<Long, byte[]> durable = new HashMap<>(); // file bytes once checkpoint id was durable
            Map<String, Long> model = new TreeMap<>();
            byte[] torn = null;
            long c = 0;
            CheckpointStore writer = CheckpointStore.open(dir, Map.of(), 50, p -> { });
            try {
                KeyedState<String, Long, Long> ks = writer.backend().keyedState("op", "values");
                byte[] previous = new byte[0];
                for (long id = 1; id <= MAX_CHECKPOINTS && torn == null; id++) {
                    change(ks, model, rnd, id == 1 ? KEYS : 1 + rnd.nextInt(KEYS / 3));
                    writer.commit(id, id, positions(id));
                    byte[] now = Files.readAllBytes(file);
                    if (id > CHECKPOINTS && intoReusedSpace(previous, now)) {
                        // the crash: this commit does not complete
                        torn = tear(previous, now, rnd);
                        c = id - 1;
                        break;
                    }
                    writer.sync();
                    states.put(id, new TreeMap<>(model));
                    written += changedBlocks(previous, now).size() * (long) BLOCK;
                    previous = now;
                    durable.put(id, now);
                    durable.remove(id - 3);
                }
                files += previous.length;
                checkpoints += c;
            } finally {
                // the process dies: nothing is closed
                writer.backend().store().closeImmediately();
            }
            String what = "seed " + seed;
            assertThat(torn).as("%s: a commit into reused space within %d checkpoints", what, MAX_CHECKPOINTS)
                    .isNotNull();
            // the crash during commit C + 1: checkpoint C is restored
            assertRestores(tmp.resolve("s" + i + "-torn"), torn, c, c, states.get(c), what + ", torn commit");
            // ... checkpoint C damaged too: C - 1
            byte[] damaged = damage(torn, durable.get(c - 1), durable.get(c), rnd);
            assertRestores(tmp.resolve("s" + i + "-c"), damaged, c, c - 1, states.get(c - 1),
                    what + ", torn commit and checkpoint " + c + " damaged");
            // ... and checkpoint C - 1 as well: C - 2
            damaged = damage(damaged, durable.get(c - 2), durable.get(c - 1), rnd);
            assertRestores(tmp.resolve("s" + i + "-c1"), damaged, c, c - 2, states.get(c - 2),
                    what + ", torn commit and checkpoints " + c + " and " + (c - 1) + " damaged");
        }
        System.out.printf("KeptCheckpointsTest: %d seeds, %d checkpoints on average before the torn commit: files "
                        + "%d KB on average for %d KB of changed blocks written%n", SEEDS, checkpoints / SEEDS,
                files / SEEDS / 1024, written / SEEDS / 1024);
        // the space of old chunks was reused: the files hold a fraction of what was written to them
        assertThat(files).as("file bytes vs bytes written").isLessThan(written / 3);
    }

    /** Opens {@code bytes} as the state file of {@code dir} (checkpoint {@code noted} noted as durable). */
    private static void assertRestores(Path dir, byte[] bytes, long noted, long expected, Map<String, Long> state,
                                       String what) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(CheckpointStore.FILE), bytes);
        Files.writeString(dir.resolve(CheckpointStore.LATEST_FILE), Long.toString(noted));
        List<String> problems = new ArrayList<>();
        try (CheckpointStore store = CheckpointStore.open(dir, Map.of(), 50, problems::add)) {
            CheckpointRecord latest = store.latest();
            String as = what + "; problems " + problems;
            assertThat(latest).as(as).isNotNull();
            assertThat(latest.id()).as(as).isEqualTo(expected);
            assertThat(latest.positions()).as(as).isEqualTo(positions(expected));
            assertThat(read(store.backend().keyedState("op", "values"))).as(as).isEqualTo(state);
            if (expected < noted) {
                assertThat(problems).as(what).isNotEmpty();
            }
        }
    }

    /** @return whether {@code after} differs from {@code before} in a chunk block within its length (space reused) */
    private static boolean intoReusedSpace(byte[] before, byte[] after) {
        return changedBlocks(before, after).stream().anyMatch(b -> b >= 2 && (long) (b + 1) * BLOCK <= before.length);
    }

    /**
     * @return {@code before} with a random part of the blocks in which {@code after} differs from it,
     * never the last such block (the end of the chunk being written)
     */
    private static byte[] tear(byte[] before, byte[] after, SplittableRandom rnd) {
        List<Integer> changed = changedBlocks(before, after);
        assertThat(changed).as("blocks written by the last commit").isNotEmpty();
        int lastChunkBlock = changed.stream().filter(b -> b >= 2).mapToInt(Integer::intValue).max().orElseThrow();
        byte[] out = Arrays.copyOf(before, Math.max(before.length, after.length));
        if (after.length > before.length && rnd.nextBoolean()) {
            // the file was extended, but the extension did not reach the disk
            out = Arrays.copyOf(before, before.length);
        }
        for (int b : changed) {
            if (b != lastChunkBlock && rnd.nextBoolean() && (long) (b + 1) * BLOCK <= out.length) {
                System.arraycopy(after, b * BLOCK, out, b * BLOCK, Math.min(BLOCK, after.length - b * BLOCK));
            }
        }
        return out;
    }

    /**
     * @return {@code file} with bytes flipped in the first half of the chunk that the commit which
     * turned {@code before} into {@code after} wrote (not in the store header)
     */
    private static byte[] damage(byte[] file, byte[] before, byte[] after, SplittableRandom rnd) {
        List<Integer> chunk = changedBlocks(before, after).stream().filter(b -> b >= 2).toList();
        assertThat(chunk).as("blocks of the checkpoint's chunk").isNotEmpty();
        byte[] out = file.clone();
        int from = chunk.get(0) * BLOCK;
        int to = Math.max(from + 256, (chunk.get(0) * BLOCK + (chunk.get(chunk.size() - 1) + 1) * BLOCK) / 2);
        for (int k = 0; k < 8; k++) {
            int at = from + rnd.nextInt(to - from);
            out[at] ^= (byte) (1 + rnd.nextInt(255));
        }
        return out;
    }

    /** @return the 4 KB blocks in which {@code b} differs from {@code a} (or that only {@code b} has) */
    private static List<Integer> changedBlocks(byte[] a, byte[] b) {
        List<Integer> out = new ArrayList<>();
        for (int block = 0; (long) block * BLOCK < b.length; block++) {
            int from = block * BLOCK;
            int to = Math.min(b.length, from + BLOCK);
            if (to > a.length || !Arrays.equals(a, from, to, b, from, to)) {
                out.add(block);
            }
        }
        return out;
    }

    private static void change(KeyedState<String, Long, Long> ks, Map<String, Long> model, SplittableRandom rnd,
                               int n) {
        for (int i = 0; i < n; i++) {
            String key = "k" + rnd.nextInt(KEYS);
            long v = rnd.nextLong();
            ks.put(0, 0L, key, v);
            model.put(key, v);
        }
    }

    private static Map<String, Map<Integer, Long>> positions(long id) {
        return Map.of("src", Map.of(0, 100 * id));
    }

    private static Map<String, Long> read(KeyedState<String, Long, Long> ks) {
        Map<String, Long> out = new TreeMap<>();
        ks.forEach(0, 0L, out::put);
        return out;
    }
}
