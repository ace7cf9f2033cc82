package io.streamflow.reactive.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once under SIGKILL: {@link CrashPipeline} runs in a child JVM and is killed with
 * SIGKILL at random points of its work ({@code -Dcrash.kills=N}, default 20), restarted after each
 * kill from its checkpoint directory, and finally let run to the end. The part files it delivered
 * must then hold exactly the reference model's results: none missing, none twice.
 */
class CheckpointCrashTest {

    private static final int KILLS = Integer.getInteger("crash.kills", 20);
    private static final int LINES = Integer.getInteger("crash.lines", 400_000);
    private static final int KEYS = 100;
    private static final long STEP_MILLIS = 2;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES) // child JVMs: about 1 s per run on 2 cores
    void outputIsExactlyOnceAfterRepeatedSigkill() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        System.out.println("CheckpointCrashTest seed=" + seed + " kills=" + KILLS + " lines=" + LINES
                + " (replay with -Dcrash.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        Path input = dir.resolve("input.txt");
        List<String> lines = input(rnd, LINES);
        Files.write(input, lines, StandardCharsets.UTF_8);
        Map<String, Long> expected = reference(lines);

        Path checkpoints = dir.resolve("checkpoints");
        Path output = dir.resolve("out");
        int kills = 0;
        int runs = 0;
        while (kills < KILLS) {
            runs++;
            int killAfter = 1 + rnd.nextInt(4);
            Process p = start(input, checkpoints, output, 20 + rnd.nextInt(80));
            boolean killed = false;
            int progress = 0;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("progress") && ++progress == killAfter) {
                        p.destroyForcibly(); // SIGKILL on Linux and macOS
                        killed = true;
                        break;
                    }
                }
            }
            p.waitFor(60, TimeUnit.SECONDS);
            System.out.println("CheckpointCrashTest run " + runs + ": " + (killed ? "killed after progress "
                    + progress : "ended by itself"));
            if (killed) {
                kills++;
            } else {
                assertThat(p.exitValue()).as("child exit code (run " + runs + ")").isZero();
                break; // the input was finished before this kill point
            }
        }
        Process last = start(input, checkpoints, output, 50);
        String out = new String(last.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(last.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(last.exitValue()).as("final run exit code, output:\n" + out).isZero();
        assertThat(out).contains("done");

        Map<String, Long> actual = new HashMap<>();
        List<String> duplicated = new ArrayList<>();
        try (Stream<Path> parts = Files.list(output)) {
            for (Path part : parts.sorted().toList()) {
                assertThat(part.getFileName().toString()).startsWith("part-").endsWith(".txt");
                for (String l : Files.readAllLines(part, StandardCharsets.UTF_8)) {
                    int c = l.lastIndexOf(',');
                    if (actual.put(l.substring(0, c), Long.parseLong(l.substring(c + 1))) != null) {
                        duplicated.add(l);
                    }
                }
            }
        }
        List<String> missing = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            Long a = actual.get(e.getKey());
            if (a == null) {
                missing.add(e.getKey());
            } else if (!a.equals(e.getValue())) {
                wrong.add(e.getKey() + " expected " + e.getValue() + " got " + a);
            }
        }
        List<String> extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        System.out.println("CheckpointCrashTest: " + kills + " kills over " + runs + " runs; " + expected.size()
                + " expected results; missing " + missing.size() + ", duplicated " + duplicated.size()
                + ", wrong " + wrong.size() + ", unexpected " + extra.size());
        assertThat(kills).as("kills before the input was finished").isGreaterThanOrEqualTo(Math.min(KILLS, 20));
        assertThat(missing).as("missing results").isEmpty();
        assertThat(duplicated).as("duplicated results").isEmpty();
        assertThat(wrong).as("wrong results").isEmpty();
        assertThat(extra).as("unexpected results").isEmpty();
    }

    private Process start(Path input, Path checkpoints, Path output, long intervalMillis) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                CrashPipeline.class.getName(), input.toString(), checkpoints.toString(), output.toString(),
                Long.toString(intervalMillis));
        pb.redirectErrorStream(true);
        return pb.start();
    }

    /** Lines {@code "timestamp,key"}: event time advancing 2 ms per line, up to 150 ms out of order. */
    static List<String> input(SplittableRandom rnd, int n) {
        List<String> lines = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long ts = 10_000 + i * STEP_MILLIS - rnd.nextInt(151);
            if (rnd.nextInt(1000) == 0) {
                ts -= 5_000; // far behind: late for its window
            }
            lines.add(ts + ",k" + rnd.nextInt(KEYS));
        }
        return lines;
    }

    /**
     * The reference model: counts per key and 1 s window of the records that are not late, where a
     * record is late when its window's last millisecond is at or before the watermark of the
     * records before it (largest timestamp − 100 ms − 1).
     */
    static Map<String, Long> reference(List<String> lines) {
        Map<String, Long> counts = new HashMap<>();
        long max = Long.MIN_VALUE;
        for (String l : lines) {
            int c = l.indexOf(',');
            long ts = Long.parseLong(l.substring(0, c));
            String key = l.substring(c + 1);
            long start = Math.floorDiv(ts, CrashPipeline.WINDOW_MILLIS) * CrashPipeline.WINDOW_MILLIS;
            long watermark = max == Long.MIN_VALUE ? Long.MIN_VALUE : max - CrashPipeline.BOUND_MILLIS - 1;
            if (start + CrashPipeline.WINDOW_MILLIS - 1 > watermark) {
                counts.merge(key + "," + start, 1L, Long::sum);
            }
            max = Math.max(max, ts);
        }
        return counts;
    }
}
