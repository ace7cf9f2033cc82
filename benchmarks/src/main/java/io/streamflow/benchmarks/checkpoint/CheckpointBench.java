package io.streamflow.benchmarks.checkpoint;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The checkpoint benchmark: the machine's sequential write + {@code fsync} ceiling; then a child
 * JVM ({@link StateChild} {@code build}) builds about {@code stateMb} of keyed state, changes all of
 * it, 1% of it at random and 1% in one key range, one checkpoint per phase; then a second child with
 * a 512 MB heap ({@code recover}) is timed from its start to its first output, goes over every key
 * once more with the default limit on uncommitted changes, and reports its pauses and resident
 * memory. Writes {@code checkpoints.json} and {@code checkpoints.md} to the results directory and
 * the checkpoint section of {@code docs/BENCHMARKS.md}.
 * <p>
 * Arguments ({@code name=value}): {@code state} (MB of state, default 1024), {@code pad} (bytes of
 * padding per key, default 200), {@code dir} (work directory, default {@code target/checkpoint-bench};
 * it must be on the disk to measure, not a memory file system), {@code out}, {@code doc},
 * {@code from} (a saved {@code checkpoints.json}: write its report again, run nothing).
 */
public final class CheckpointBench {

    static final String BEGIN = "<!-- checkpoint results: begin (written by the harness, do not edit) -->";
    static final String END = "<!-- checkpoint results: end -->";
    /** Bytes a key takes in the state file per byte of padding plus fixed overhead, measured at 200 B padding. */
    static final double FILE_BYTES_PER_KEY_OVERHEAD = 60;

    private CheckpointBench() {
    }

    /** The figures of one run. */
    public record Result(Map<String, Object> machine, String recoverHeap, int keys, int pad, long fsyncBytes,
                         double fsyncMbPerS,
                         List<Map<String, String>> buildPhases, Map<String, String> buildEnd,
                         Map<String, String> recoverOpen, Map<String, String> firstOutput, long spawnToFirstOutputMs,
                         long expectedFirstCount, boolean pageCacheDropped, List<Map<String, String>> recoverPhases,
                         Map<String, String> recoverEnd) {
    }

    public static void main(String[] args) throws IOException {
        int stateMb = 1024;
        int pad = 200;
        Path dir = Path.of("target", "checkpoint-bench");
        Path out = Path.of("results");
        String doc = "../docs/BENCHMARKS.md";
        Path from = null;
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("expected name=value, got '" + a + "'");
            }
            String v = a.substring(eq + 1);
            switch (a.substring(0, eq)) {
                case "state" -> stateMb = Integer.parseInt(v);
                case "pad" -> pad = Integer.parseInt(v);
                case "dir" -> dir = Path.of(v);
                case "out" -> out = Path.of(v);
                case "doc" -> doc = v;
                case "from" -> from = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option '" + a + "'; known: state, pad, dir, "
                        + "out, doc, from");
            }
        }
        // from=<checkpoints.json>: only writes the report of a saved run again
        Result r = from != null ? JsonMapper.builder().build().readValue(Files.readString(from), Result.class)
                : run(dir, stateMb, pad, "-Xmx8g", "-Xmx512m");
        write(r, out, doc);
    }

    /** @return the number of keys that makes about {@code stateMb} of state file with {@code pad} bytes of padding */
    static int keysFor(int stateMb, int pad) {
        return (int) Math.max(100, stateMb * 1048576.0 / (pad + FILE_BYTES_PER_KEY_OVERHEAD));
    }

    /** Runs the benchmark in {@code dir} (deleted first); the children get the given heap flags. */
    public static Result run(Path dir, int stateMb, int pad, String buildHeap, String recoverHeap) throws IOException {
        deleteTree(dir);
        Files.createDirectories(dir);
        int keys = keysFor(stateMb, pad);
        long fsyncBytes = Math.max(16L << 20, (long) stateMb << 20);
        double fsync = fsyncCeiling(dir.resolve("fsync-probe"), fsyncBytes);
        System.out.printf(Locale.ROOT, "checkpoint benchmark: %,d keys x %d B padding; write+fsync ceiling %.0f MB/s%n",
                keys, pad, fsync);

        List<Map<String, String>> buildPhases = new ArrayList<>();
        Map<String, String> buildEnd = new LinkedHashMap<>();
        Child build = child(dir, "build", keys, pad, buildHeap);
        for (Map<String, String> m : build.lines) {
            if (m.get("kind").equals("phase")) {
                buildPhases.add(m);
            } else if (m.get("kind").equals("end")) {
                buildEnd = m;
            }
        }
        boolean dropped = dropPageCache();
        Child recover = child(dir, "recover", keys, pad, recoverHeap);
        Map<String, String> open = Map.of();
        Map<String, String> first = Map.of();
        Map<String, String> recoverEnd = Map.of();
        List<Map<String, String>> recoverPhases = new ArrayList<>();
        for (Map<String, String> m : recover.lines) {
            switch (m.get("kind")) {
                case "open" -> open = m;
                case "first-output" -> first = m;
                case "end" -> recoverEnd = m;
                case "phase" -> recoverPhases.add(m);
                default -> {
                }
            }
        }
        long expected = StateChild.countOfKey0AfterBuild(keys) + 1;
        if (!first.getOrDefault("key", "").equals("k0") || Long.parseLong(first.getOrDefault("count", "-1")) != expected) {
            throw new IllegalStateException("the recovered state is wrong: first output " + first + ", expected key k0 "
                    + "with count " + expected);
        }
        deleteTree(dir);
        return new Result(machine(), recoverHeap, keys, pad, fsyncBytes, fsync, buildPhases, buildEnd, open, first,
                recover.firstOutputMs, expected, dropped, recoverPhases, recoverEnd);
    }

    /** The output of a child run. */
    private record Child(List<Map<String, String>> lines, long firstOutputMs) {
    }

    private static Child child(Path dir, String mode, int keys, int pad, String heap) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, heap, "-XX:+UseParallelGC", "-cp",
                System.getProperty("java.class.path"), StateChild.class.getName(), mode, dir.toString(),
                Integer.toString(keys), Integer.toString(pad)));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Map<String, String>> lines = new ArrayList<>();
        long firstMs = -1;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                if (l.startsWith("bench ")) {
                    Map<String, String> m = StateChild.parse(l);
                    if (m.get("kind").equals("first-output") && firstMs < 0) {
                        firstMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    }
                    lines.add(m);
                    System.out.println("  " + mode + ": " + l.substring(6));
                }
            }
        }
        try {
            int exit = p.waitFor();
            if (exit != 0) {
                throw new IllegalStateException("the " + mode + " child exited with " + exit);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException("interrupted", e);
        }
        return new Child(lines, firstMs);
    }

    /** @return MB/s of writing {@code bytes} sequentially in 1 MB blocks and forcing them to disk */
    static double fsyncCeiling(Path file, long bytes) throws IOException {
        ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
        for (int i = 0; i < block.capacity(); i++) {
            block.put(i, (byte) (i * 31 + 7));
        }
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long written = 0; written < bytes; ) {
                block.clear();
                written += ch.write(block);
            }
            ch.force(true);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Files.delete(file);
        return bytes / 1048576.0 / seconds;
    }

    /** Asks Linux to drop its page cache, so that recovery reads from the disk; @return whether it could */
    static boolean dropPageCache() {
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor();
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("jvmFlags", ManagementFactory.getRuntimeMXBean().getInputArguments());
        m.put("date", Instant.now().toString());
        return m;
    }

    private static double d(Map<String, String> m, String k) {
        String v = m.get(k);
        return v == null ? Double.NaN : Double.parseDouble(v);
    }

    /** @return the results as a markdown section */
    static String markdown(Result r) {
        StringBuilder sb = new StringBuilder();
        Map<String, String> b = r.buildEnd();
        sb.append(String.format(Locale.ROOT, "Machine: %s cores, %s, %s; %s.%n%n", r.machine().get("cores"),
                r.machine().get("os"), r.machine().get("jvm"), r.machine().get("date")));
        sb.append(String.format(Locale.ROOT, "State: %,d keys with %d B of padding each; state file %s MB after the "
                + "run. Write + fsync ceiling of the disk: **%.0f MB/s** (%,d MB written sequentially in 1 MB blocks, "
                + "then `force`).%n%n", r.keys(), r.pad(), b.get("file_mb"), r.fsyncMbPerS(), r.fsyncBytes() >> 20));
        sb.append("| phase (one checkpoint each) | records | written MB | pause ms | commit ms | commit + fsync ms "
                + "| MB/s | of ceiling |\n|---|---|---|---|---|---|---|---|\n");
        for (Map<String, String> p : r.buildPhases()) {
            double mb = d(p, "written_bytes") / 1048576.0;
            double ms = d(p, "duration_ms");
            double rate = mb / (ms / 1000);
            sb.append(String.format(Locale.ROOT, "| %s | %,d | %.1f | %.2f | %.0f | %.0f | %.0f | %.0f%% |%n",
                    p.get("name"), (long) d(p, "records"), mb, d(p, "pause_ms"), d(p, "commit_ms"), ms, rate,
                    100 * rate / r.fsyncMbPerS()));
        }
        Map<String, String> e = r.recoverEnd();
        sb.append(String.format(Locale.ROOT, "%nRecovery with `%s`: from process start to the first output "
                        + "**%,d ms** (the JVM's own count: %s ms; opening and verifying the checkpoint: %s ms; page "
                        + "cache %s). The first output is key k0 with count %s, as expected (%d).%n%n",
                r.recoverHeap(), r.spawnToFirstOutputMs(), r.firstOutput().get("jvm_start_to_first_output_ms"),
                r.recoverOpen().get("open_ms"), r.pageCacheDropped() ? "dropped before the start" : "warm (could not "
                        + "drop it)", r.firstOutput().get("count"), r.expectedFirstCount()));
        sb.append(String.format(Locale.ROOT, "Then every key once more with the default limit on uncommitted changes "
                        + "(a sixteenth of the heap): %s checkpoints, pause per checkpoint mean %.2f ms, max %.2f ms "
                        + "(commit, while the operators go on: mean %s ms, max %s ms); resident memory %s MB at the "
                        + "end, peak %s MB, with `%s` (%s MB usable heap) over a state file of %s MB.%n",
                e.get("checkpoints"), d(e, "mean_pause_ms"), d(e, "max_pause_ms"), e.get("mean_commit_ms"),
                e.get("max_commit_ms"), e.get("rss_mb"), e.get("peak_rss_mb"), r.recoverHeap(), e.get("max_heap_mb"),
                e.get("file_mb")));
        return sb.toString();
    }

    public static void write(Result r, Path out, String doc) throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("checkpoints.json"),
                JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValueAsString(r));
        String md = markdown(r);
        Files.writeString(out.resolve("checkpoints.md"), md);
        Path docPath = Path.of(doc);
        if (!doc.equals("none") && Files.exists(docPath)) {
            String text = Files.readString(docPath);
            int b = text.indexOf(BEGIN);
            int e = text.indexOf(END);
            if (b >= 0 && e > b) {
                Files.writeString(docPath, text.substring(0, b + BEGIN.length()) + "\n\n" + md + "\n"
                        + text.substring(e));
                System.out.println("updated the checkpoint section of " + docPath);
            }
        }
        System.out.println();
        System.out.println(md);
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
