package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.internal.store.CheckpointStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once after a checkpoint fallback: {@link CrashPipeline} runs in a child JVM with a 20 ms
 * checkpoint interval and is killed with SIGKILL part-way; then its state file is damaged (deleted,
 * truncated at several offsets, bytes flipped in its last pages) or its whole checkpoint directory
 * is deleted, so that the restart restores an older checkpoint or none while the output directories
 * already hold parts of later ones. The restart (with a 1 s interval, so that its checkpoints group
 * the output differently) must replay without delivering up to what the sinks hold, and then go on:
 * the results, late records and dead letters must equal the reference model's, none missing, none
 * twice, and no part written before the damage may be rewritten with other content. Some restarts
 * are killed again while they catch up.
 */
class CheckpointFallbackTest {

    private static final int LINES = Integer.getInteger("fallback.lines", 100_000);
    private static final int SEEDS = Integer.getInteger("fallback.seeds", 2);

    @TempDir
    Path dir;

    enum Damage {
        DELETE_STATE_FILE, DELETE_DIRECTORY, TRUNCATE_QUARTER, TRUNCATE_THREE_QUARTERS, TRUNCATE_LAST_KB,
        FLIP_LAST_PAGE, FLIP_IN_LAST_TENTH
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void outputStaysExactlyOnceWhenTheStoreFallsBackOrIsLost() throws Exception {
        long base = Long.getLong("fallback.seed", System.nanoTime());
        System.out.println("CheckpointFallbackTest base seed=" + base + " (replay with -Dfallback.seed=" + base + ")");
        Map<Damage, String> outcomes = new TreeMap<>();
        int scenario = 0;
        for (Damage damage : Damage.values()) {
            for (int s = 0; s < SEEDS; s++) {
                long seed = base + scenario++;
                String outcome = run(damage, seed, dir.resolve("s" + scenario));
                System.out.println("CheckpointFallbackTest " + damage + " seed " + seed + ": " + outcome);
                outcomes.merge(damage, outcome, (a, b) -> a + "; " + b);
            }
        }
    }

    private String run(Damage damage, long seed, Path root) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        Files.createDirectories(root);
        Path input = root.resolve("input.txt");
        List<String> lines = CrashOutput.input(rnd, LINES);
        Files.write(input, lines, StandardCharsets.UTF_8);
        Path checkpoints = root.resolve("checkpoints");
        Path output = root.resolve("out");
        String what = damage + " seed " + seed;

        CheckpointCrashTest.Run first = new CheckpointCrashTest.Run(
                CheckpointCrashTest.start(input, checkpoints, output, 20));
        boolean killed = first.killWhenSaid("progress " + (2 + rnd.nextInt(12)) * CrashPipeline.PROGRESS, 0);
        assertThat(killed).as(what + ": the first run was killed, output:\n" + first.said).isTrue();
        Map<Path, String> before = parts(output);
        // per sink: a checkpoint whose output reached one sink before the kill and not the next is
        // delivered to the next one after the restart, under its own id, so ids are compared within a sink
        Map<Path, Long> maxPart = new HashMap<>();
        before.keySet().forEach(p -> maxPart.merge(p.getParent(), partId(p), Math::max));

        String done = damage(damage, checkpoints, rnd);
        boolean killedInCatchUp = false;
        if (rnd.nextInt(3) == 0) {
            // killed again while it replays what the sinks hold
            CheckpointCrashTest.Run again = new CheckpointCrashTest.Run(
                    CheckpointCrashTest.start(input, checkpoints, output, 1000));
            killedInCatchUp = again.killWhenSaid(rnd.nextBoolean() ? "opened" : "progress " + CrashPipeline.PROGRESS,
                    rnd.nextInt(20));
        }
        Process last = CheckpointCrashTest.start(input, checkpoints, output, 1000);
        String said = new String(last.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(last.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(last.exitValue()).as(what + ": exit code, output:\n" + said).isZero();
        assertThat(said).contains("done");

        CrashOutput.check(what, CrashOutput.expected(lines), CrashOutput.read(output));
        Map<Path, String> after = parts(output);
        for (Map.Entry<Path, String> e : before.entrySet()) {
            assertThat(after.get(e.getKey())).as(what + ": " + e.getKey() + " written before the damage is unchanged")
                    .isEqualTo(e.getValue());
        }
        boolean caughtUp = said.contains("produced exactly the");
        long newParts = after.keySet().stream().filter(p -> !before.containsKey(p)).count();
        assertThat(after.keySet().stream().filter(p -> !before.containsKey(p)))
                .as(what + ": new parts have ids after every earlier one of their sink, before: " + before.keySet())
                .allMatch(p -> partId(p) > maxPart.getOrDefault(p.getParent(), 0L));
        return done + (killedInCatchUp ? ", killed while catching up" : "") + (caughtUp ? ", replay matched" : "")
                + ", " + before.size() + " parts before, " + newParts + " new";
    }

    /** Damages the checkpoint directory; @return what was done */
    private static String damage(Damage damage, Path checkpoints, SplittableRandom rnd) throws IOException {
        Path file = checkpoints.resolve(CheckpointStore.FILE);
        long size = Files.size(file);
        switch (damage) {
            case DELETE_STATE_FILE -> Files.delete(file);
            case DELETE_DIRECTORY -> {
                try (Stream<Path> all = Files.walk(checkpoints)) {
                    for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            case TRUNCATE_QUARTER, TRUNCATE_THREE_QUARTERS, TRUNCATE_LAST_KB -> {
                long to = damage == Damage.TRUNCATE_QUARTER ? size / 4
                        : damage == Damage.TRUNCATE_THREE_QUARTERS ? size * 3 / 4 : Math.max(0, size - 1024);
                try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                    f.setLength(to);
                }
                return "truncated " + size + " to " + to;
            }
            case FLIP_LAST_PAGE, FLIP_IN_LAST_TENTH -> {
                byte[] b = Files.readAllBytes(file);
                long from = damage == Damage.FLIP_LAST_PAGE ? Math.max(0, b.length - 4096) : b.length * 9L / 10;
                List<Integer> at = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    int p = (int) (from + rnd.nextLong(b.length - from));
                    b[p] ^= (byte) (1 << rnd.nextInt(8));
                    at.add(p);
                }
                Files.write(file, b);
                return "flipped bits at " + at + " of " + b.length;
            }
        }
        return damage.toString().toLowerCase();
    }

    private static Map<Path, String> parts(Path output) throws IOException {
        Map<Path, String> out = new HashMap<>();
        for (String sub : new String[] {"results", "late", "dead"}) {
            Path d = output.resolve(sub);
            if (!Files.exists(d)) {
                continue;
            }
            try (Stream<Path> files = Files.list(d)) {
                for (Path f : files.toList()) {
                    if (f.getFileName().toString().startsWith("part-")) {
                        out.put(output.relativize(f), Files.readString(f));
                    }
                }
            }
        }
        return out;
    }

    private static long partId(Path part) {
        String n = part.getFileName().toString();
        return Long.parseLong(n.substring("part-".length(), n.length() - ".txt".length()));
    }
}
