package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.KeyedState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Damage to the latest checkpoint is detected and the previous one is used. For each seed, three
 * checkpoints of random keyed state are written (the third in its own session, so the bytes it
 * wrote are known by comparing the file before and after); then one bit among those bytes is
 * flipped, or the file is truncated inside them. Reopening must give either the previous
 * checkpoint's exact state with a reported problem, or — when the damage hit bytes that nothing
 * reads (padding, a spare header copy) — the latest checkpoint's exact state. Never other state,
 * never an exception.
 */
class CheckpointCorruptionTest {

    private static final int SEEDS = Integer.getInteger("corruption.seeds", 300);

    @TempDir
    Path tmp;

    @Test
    void damagedLatestCheckpointFallsBackToThePreviousOne() throws Exception {
        long base = Long.getLong("corruption.seed", System.nanoTime());
        System.out.println("CheckpointCorruptionTest base seed=" + base + " (replay with -Dcorruption.seed=" + base + ")");
        int detected = 0;
        int harmless = 0;
        int truncations = 0;
        String example = "";
        for (int i = 0; i < SEEDS; i++) {
            long seed = base + i;
            SplittableRandom rnd = new SplittableRandom(seed);
            Path dir = tmp.resolve("s" + i);
            Map<String, Long> state = new TreeMap<>();
            Map<String, Long> at2;
            try (CheckpointStore store = CheckpointStore.open(dir, Map.of(), 1000, p -> { })) {
                KeyedState<String, Long, Long> ks = store.backend().keyedState("op", "values");
                change(ks, state, rnd, 2_000);
                store.commit(1, 1, Map.of("src", Map.of(0, 100L)));
                store.sync();
                change(ks, state, rnd, 500);
                store.commit(2, 2, Map.of("src", Map.of(0, 200L)));
                store.sync();
                at2 = new TreeMap<>(state);
            }
            Path file = dir.resolve(CheckpointStore.FILE);
            byte[] before = Files.readAllBytes(file);
            try (CheckpointStore store = CheckpointStore.open(dir, Map.of(), 1000, p -> { })) {
                KeyedState<String, Long, Long> ks = store.backend().keyedState("op", "values");
                change(ks, state, rnd, 1 + rnd.nextInt(500));
                store.commit(3, 3, Map.of("src", Map.of(0, 300L)));
                store.sync();
            }
            Map<String, Long> at3 = new TreeMap<>(state);
            byte[] after = Files.readAllBytes(file);
            List<Integer> changed = new ArrayList<>();
            for (int b = 0; b < after.length; b++) {
                if (b >= before.length || before[b] != after[b]) {
                    changed.add(b);
                }
            }
            assertThat(changed).as("bytes written by checkpoint 3").isNotEmpty();
            // truncation only cuts what checkpoint 3 appended at the end of the file
            boolean truncate = after.length > before.length && rnd.nextInt(4) == 0;
            String damage;
            if (truncate) {
                int at = before.length + rnd.nextInt(after.length - before.length);
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.setLength(at);
                }
                damage = "truncated to " + at + " of " + after.length;
                truncations++;
            } else {
                int at = changed.get(rnd.nextInt(changed.size()));
                after[at] ^= (byte) (1 << rnd.nextInt(8));
                Files.write(file, after);
                damage = "bit flipped at " + at + " of " + after.length;
            }
            List<String> problems = new ArrayList<>();
            try (CheckpointStore store = CheckpointStore.open(dir, Map.of(), 1000, problems::add)) {
                CheckpointRecord latest = store.latest();
                Map<String, Long> restored = read(store.backend().keyedState("op", "values"));
                String what = "seed " + seed + ": " + damage + ", problems " + problems;
                assertThat(latest).as(what).isNotNull();
                // each problem is reported (and counted as a fallback) once, also when the file is searched twice
                assertThat(problems).as(what).doesNotHaveDuplicates();
                if (latest.id() == 2) {
                    assertThat(problems).as(what).isNotEmpty();
                    assertThat(restored).as(what).isEqualTo(at2);
                    assertThat(latest.positions()).as(what).isEqualTo(Map.of("src", Map.of(0, 200L)));
                    detected++;
                    if (example.isEmpty() || rnd.nextInt(8) == 0) {
                        example = problems.toString();
                    }
                } else {
                    assertThat(latest.id()).as(what).isEqualTo(3);
                    assertThat(restored).as(what).isEqualTo(at3);
                    harmless++;
                }
            }
        }
        System.out.println("CheckpointCorruptionTest: problems reported, e.g. " + example);
        System.out.println("CheckpointCorruptionTest: " + SEEDS + " seeds (" + truncations + " truncations): "
                + detected + " detected and fell back to the previous checkpoint, " + harmless
                + " hit bytes no read depends on and restored the latest exactly, 0 wrong");
        assertThat(detected).isGreaterThan(SEEDS / 2);
    }

    private static void change(KeyedState<String, Long, Long> ks, Map<String, Long> model, SplittableRandom rnd,
                               int n) {
        for (int i = 0; i < n; i++) {
            String key = "k" + rnd.nextInt(3_000);
            long ns = rnd.nextInt(4);
            if (rnd.nextInt(5) == 0) {
                ks.remove(0, ns, key);
                model.remove(ns + "/" + key);
            } else {
                long v = rnd.nextLong();
                ks.put(0, ns, key, v);
                model.put(ns + "/" + key, v);
            }
        }
    }

    private static Map<String, Long> read(KeyedState<String, Long, Long> ks) {
        Map<String, Long> out = new TreeMap<>();
        for (long ns = 0; ns < 4; ns++) {
            long n = ns;
            ks.forEach(0, ns, (k, v) -> out.put(n + "/" + k, v));
        }
        return out;
    }

}
