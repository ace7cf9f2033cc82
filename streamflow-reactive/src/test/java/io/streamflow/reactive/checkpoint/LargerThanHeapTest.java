package io.streamflow.reactive.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * State larger than the heap: {@link LargeStatePipeline} runs in a child JVM with a small heap
 * ({@code -Xmx64m}, {@code -DlargeState.xmx=...} to change it) and default checkpoint settings,
 * and builds keyed state whose live payload alone is 4.5 times that heap. Checkpoints are taken
 * only when the uncommitted state passes {@code maxUncommittedBytes} (interval zero), so the run
 * depends on early checkpoints to keep the heap bounded.
 * <p>
 * A second child JVM restarts from the same checkpoint directory and updates old keys spread over
 * the whole key range; its output (the count continues at 2, the payload hash is the first run's)
 * can only be right if the large state was read back from disk. The exactly-once part files of
 * both runs must equal the reference model line for line.
 */
class LargerThanHeapTest {

    private static final String XMX = System.getProperty("largeState.xmx", "64m");
    private static final int PAYLOAD_CHARS = 1_000;
    /** Live payload of the first run, in multiples of the child's heap. */
    private static final double HEAP_MULTIPLE = 4.5;
    private static final long UPDATES = 10_000;
    private static final long CHILD_TIMEOUT_SECONDS = 150;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // two child JVMs: about 10 s and 3 s on 2 cores
    void stateSeveralTimesTheHeapIsCheckpointedAndReadBackAfterARestart() throws Exception {
        long heap = parseSize(XMX);
        long keys = (long) (heap * HEAP_MULTIPLE / PAYLOAD_CHARS);
        Path checkpoints = dir.resolve("checkpoints");
        Path output = dir.resolve("out");
        int[] hashes = new int[(int) keys];
        for (int k = 0; k < keys; k++) {
            hashes[k] = LargeStatePipeline.payload(k, PAYLOAD_CHARS).hashCode();
        }

        // Phase 1: every record a new key with a 1000-char payload kept in its accumulator.
        Map<String, Long> first = runChild("phase1", checkpoints, output, keys, keys);
        System.out.println("LargerThanHeapTest phase 1 (-Xmx" + XMX + ", " + keys + " keys x " + PAYLOAD_CHARS
                + " chars): " + first);
        long maxMemory = first.get("maxMemory");
        assertThat(maxMemory).as("the child's Runtime.maxMemory() is the small heap").isPositive()
                .isLessThanOrEqualTo(heap);
        assertThat(first.get("restoredPosition")).as("phase 1 starts from an empty directory").isEqualTo(-1L);
        assertThat(first.get("lastPosition")).isEqualTo(keys - 1);
        assertThat(first.get("stateEntries")).as("keys in the state").isEqualTo(keys);
        assertThat(first.get("stateEntries") * PAYLOAD_CHARS).as("live payload bytes in the state")
                .isGreaterThanOrEqualTo(4 * maxMemory);
        assertThat(first.get("fileBytes")).as("state file size").isGreaterThanOrEqualTo(4 * maxMemory);
        // interval zero: apart from the final one, every checkpoint was taken because the
        // uncommitted state passed maxUncommittedBytes (an eighth of the heap by default)
        assertThat(first.get("lastCheckpoint")).as("checkpoints taken under memory pressure")
                .isGreaterThanOrEqualTo(8);
        assertOutput(output, model(keys, keys, hashes), "phase 1");

        // Phase 2: a new JVM resumes and updates old keys; the results depend on the restored state.
        Map<String, Long> second = runChild("phase2", checkpoints, output, keys + UPDATES, keys);
        System.out.println("LargerThanHeapTest phase 2 (" + UPDATES + " updates of old keys): " + second);
        assertThat(second.get("restoredPosition")).as("phase 2 resumes after phase 1's last record")
                .isEqualTo(keys - 1);
        assertThat(second.get("lastPosition")).isEqualTo(keys + UPDATES - 1);
        assertThat(second.get("stateEntries")).as("updates add no keys").isEqualTo(keys);
        assertThat(second.get("fileBytes")).isGreaterThanOrEqualTo(4 * second.get("maxMemory"));
        assertOutput(output, model(keys + UPDATES, keys, hashes), "phases 1 and 2");
    }

    /**
     * The reference model: the lines {@link LargeStatePipeline} delivers for records
     * {@code 0 .. count - 1}, in order: {@code "k<i>,<records of key i so far>,<payload length>,<hash of
     * key i's first payload>"}.
     */
    private static List<String> model(long count, long keys, int[] hashes) {
        long[] seen = new long[(int) keys];
        List<String> lines = new ArrayList<>((int) count);
        for (long n = 0; n < count; n++) {
            int k = (int) (n < keys ? n : LargeStatePipeline.updatedKey(n, keys));
            seen[k]++;
            lines.add("k" + k + "," + seen[k] + "," + PAYLOAD_CHARS + "," + hashes[k]);
        }
        return lines;
    }

    /** The part files' lines, in part order, must be exactly {@code expected}. */
    private static void assertOutput(Path output, List<String> expected, String what) throws IOException {
        List<String> actual = new ArrayList<>(expected.size());
        try (Stream<Path> parts = Files.list(output)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                actual.addAll(Files.readAllLines(part, StandardCharsets.UTF_8));
            }
        }
        int i = 0;
        while (i < actual.size() && i < expected.size() && actual.get(i).equals(expected.get(i))) {
            i++;
        }
        String difference = i == actual.size() && i == expected.size() ? null
                : "output of " + what + " has " + actual.size() + " lines, the model " + expected.size()
                + "; first difference at line " + i + ": expected "
                + (i < expected.size() ? "'" + expected.get(i) + "'" : "<end>") + ", got "
                + (i < actual.size() ? "'" + actual.get(i) + "'" : "<end>");
        assertThat(difference).as("delivered output vs reference model").isNull();
    }

    /**
     * Runs {@link LargeStatePipeline} in a child JVM with the small heap and returns its
     * {@code report} values; fails with its output and GC log when it does not end with exit code 0.
     */
    private Map<String, Long> runChild(String name, Path checkpoints, Path output, long count, long keys)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path stdout = dir.resolve(name + ".out");
        Path stderr = dir.resolve(name + ".err");
        Path gcLog = dir.resolve(name + "-gc.log");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + XMX, "-Xlog:gc:file=" + gcLog,
                "-cp", System.getProperty("java.class.path"), LargeStatePipeline.class.getName(),
                checkpoints.toString(), output.toString(), Long.toString(count), Long.toString(keys),
                Integer.toString(PAYLOAD_CHARS));
        pb.redirectOutput(stdout.toFile());
        pb.redirectError(stderr.toFile());
        Process p = pb.start();
        boolean ended = p.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        String out = Files.readString(stdout, StandardCharsets.UTF_8);
        String diagnostics = "\n--- stdout of " + name + ":\n" + tail(out, 40)
                + "\n--- stderr of " + name + ":\n" + tail(Files.readString(stderr, StandardCharsets.UTF_8), 80)
                + "\n--- GC log of " + name + " (-Xmx" + XMX + "):\n"
                + (Files.exists(gcLog) ? tail(Files.readString(gcLog, StandardCharsets.UTF_8), 25) : "(none)");
        assertThat(ended).as("child " + name + " ended within " + CHILD_TIMEOUT_SECONDS + " s" + diagnostics)
                .isTrue();
        assertThat(p.exitValue()).as("exit code of child " + name + diagnostics).isZero();
        assertThat(out).as("child " + name + " completed" + diagnostics).contains("done");
        Map<String, Long> report = new HashMap<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("report ")) {
                String[] f = line.trim().split(" ");
                report.put(f[1], Long.parseLong(f[2]));
            }
        }
        assertThat(report).as("report of child " + name + diagnostics).containsKeys("maxMemory",
                "restoredPosition", "lastPosition", "stateEntries", "fileBytes", "lastCheckpoint");
        return report;
    }

    private static String tail(String text, int lines) {
        String[] all = text.split("\n");
        int from = Math.max(0, all.length - lines);
        return (from > 0 ? "[... " + from + " lines]\n" : "") + String.join("\n", List.of(all).subList(from, all.length));
    }

    /** {@code "64m"} → bytes. */
    private static long parseSize(String s) {
        String t = s.trim().toLowerCase();
        long unit = switch (t.charAt(t.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1;
        };
        return Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1)) * unit;
    }
}
