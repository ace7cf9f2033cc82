package io.streamflow.benchmarks.checkpoint;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.KeyedOperators;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.AggregateFunction;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The checkpointed pipeline of the checkpoint benchmark, run in a child JVM: a generator of
 * records {@code (key, n)} → a running aggregate per key whose state is a {@link Total} with a
 * padding string (so that each key holds about {@code pad} bytes) → an exactly-once file sink that
 * receives key {@code k0}'s results only. The records come in phases; after each phase the source
 * waits for a checkpoint taken on demand, and the child prints that checkpoint's figures as a line
 * {@code bench phase=<name> key=value ...}.
 * <p>
 * Modes: {@code build <dir> <keys> <pad>}: every key once (the build), every key again (a full
 * change), 1% of the keys at random, 1% of the keys in one contiguous range; nothing limits the
 * uncommitted changes, so each phase is one checkpoint. {@code recover <dir> <keys> <pad>}: key
 * {@code k0} once (its result is the first output, printed as {@code bench first-output ...}),
 * then every key once more with the default limit on uncommitted changes (a sixteenth of the heap),
 * so the changes are written by many smaller checkpoints; then the resident memory.
 */
public final class StateChild {

    /** The state of one key. */
    public record Total(long count, long sum, String pad) {
    }

    private StateChild() {
    }

    /** One phase of the input: the key index of each record. */
    record Phase(String name, int[] keys) {
    }

    public static void main(String[] args) {
        String mode = args[0];
        Path dir = Path.of(args[1]);
        int keys = Integer.parseInt(args[2]);
        int pad = Integer.parseInt(args[3]);
        long spawnedAt = ManagementFactory.getRuntimeMXBean().getStartTime();
        switch (mode) {
            case "build" -> run(dir, keys, pad, buildPhases(keys), 0, spawnedAt);
            case "recover" -> run(dir, keys, pad, recoverPhases(keys), -1, spawnedAt);
            default -> throw new IllegalArgumentException("mode build or recover, got " + mode);
        }
        System.out.flush();
    }

    static List<Phase> buildPhases(int keys) {
        int[] all = new int[keys];
        for (int i = 0; i < keys; i++) {
            all[i] = i;
        }
        int onePercent = Math.max(1, keys / 100);
        SplittableRandom rnd = new SplittableRandom(42);
        int[] random = new int[onePercent];
        for (int i = 0; i < onePercent; i++) {
            random[i] = rnd.nextInt(keys);
        }
        int[] range = new int[onePercent];
        int from = keys / 3;
        for (int i = 0; i < onePercent; i++) {
            range[i] = from + i;
        }
        return List.of(new Phase("build", all), new Phase("full-change", all.clone()),
                new Phase("1%-random", random), new Phase("1%-range", range));
    }

    static List<Phase> recoverPhases(int keys) {
        int[] all = new int[keys];
        for (int i = 0; i < keys; i++) {
            all[i] = i;
        }
        return List.of(new Phase("first", new int[] {0}), new Phase("full-pass", all));
    }

    /** @return key {@code k0}'s count after the build (the recovery's first output is one more) */
    static long countOfKey0AfterBuild(int keys) {
        long c = 0;
        for (Phase p : buildPhases(keys)) {
            for (int k : p.keys()) {
                if (k == 0) {
                    c++;
                }
            }
        }
        return c;
    }

    private static String key(int i) {
        return "k" + i;
    }

    private static void run(Path dir, int keys, int pad, List<Phase> phases, long maxUncommitted, long spawnedAt) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        String padding = "p".repeat(pad);
        long t0 = System.nanoTime();
        Checkpointing.Builder builder = Checkpointing.builder(dir.resolve("checkpoints")).interval(Duration.ZERO)
                .meterRegistry(registry);
        if (maxUncommitted >= 0) { // else the default
            builder.maxUncommittedBytes(maxUncommitted);
        }
        try (Checkpointing cp = builder.open()) {
            long openMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long restoredAt = cp.restored().map(r -> r.positions().get("gen").get(0)).orElse(-1L);
            line("open", "open_ms", openMs, "restored_position", restoredAt,
                    "jvm_start_to_open_ms", System.currentTimeMillis() - spawnedAt);
            Timer commit = registry.timer("streamflow.checkpoint.commit", "pipeline", "default");
            Timer duration = registry.timer("streamflow.checkpoint.duration", "pipeline", "default");
            Timer pause = registry.timer("streamflow.checkpoint.pause", "pipeline", "default");
            AtomicBoolean first = new AtomicBoolean();
            // the phases are numbered on from the restored position: a build starts at 0, a recovery after it
            long base = restoredAt + 1;
            Flux<StreamElement<String, Long>> source = cp.source("gen",
                    positions -> phases(cp, phases, base, positions.getOrDefault(0, -1L) + 1, pause, commit, duration),
                    WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ZERO));
            AggregateFunction<Long, Total, Long> totals = new Totals(padding);
            source.transform(KeyedOperators.runningAggregate(totals, null,
                            OperatorSettings.named("totals").withStateBackend(cp.stateBackend())))
                    .doOnNext(e -> {
                        if (e instanceof StreamRecord<String, Long> r && first.compareAndSet(false, true)) {
                            line("first-output", "key", r.key(), "count", r.value(),
                                    "jvm_start_to_first_output_ms", System.currentTimeMillis() - spawnedAt);
                        }
                    })
                    .filter(e -> !(e instanceof StreamRecord<String, Long> r) || r.key().equals("k0"))
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(dir.resolve("out")),
                            (StreamRecord<String, Long> r) -> r.key() + "," + r.value()))
                    .block();
            line("end", "checkpoints", (long) commit.count(),
                    "max_pause_ms", pause.max(TimeUnit.MILLISECONDS),
                    "mean_pause_ms", pause.mean(TimeUnit.MILLISECONDS),
                    "max_commit_ms", (long) commit.max(TimeUnit.MILLISECONDS),
                    "mean_commit_ms", (long) commit.mean(TimeUnit.MILLISECONDS),
                    "max_duration_ms", (long) duration.max(TimeUnit.MILLISECONDS),
                    "rss_mb", statusKb("VmRSS") / 1024, "peak_rss_mb", statusKb("VmHWM") / 1024,
                    "max_heap_mb", Runtime.getRuntime().maxMemory() >> 20,
                    "file_mb", fileMb(dir));
        }
    }

    /** The records of every phase from sequence number {@code from} on, each phase followed by a checkpoint. */
    private static Flux<StreamRecord<String, Long>> phases(Checkpointing cp, List<Phase> phases, long base,
                                                           long from, Timer pause, Timer commit,
                                                           Timer duration) {
        List<Flux<StreamRecord<String, Long>>> parts = new ArrayList<>();
        long seq = base;
        for (Phase p : phases) {
            long start = seq;
            int[] ks = p.keys();
            seq += ks.length;
            if (seq <= from) {
                continue; // consumed before the restart
            }
            long skip = Math.max(0, from - start);
            AtomicLong wcharBefore = new AtomicLong();
            double[] before = new double[4];
            long[] startedAt = new long[1];
            parts.add(Flux.defer(() -> {
                wcharBefore.set(wchar());
                before[0] = commit.totalTime(TimeUnit.NANOSECONDS);
                before[1] = duration.totalTime(TimeUnit.NANOSECONDS);
                before[2] = commit.count();
                before[3] = pause.totalTime(TimeUnit.NANOSECONDS);
                startedAt[0] = System.nanoTime();
                return Flux.range((int) skip, ks.length - (int) skip)
                        .map(i -> StreamRecord.of(key(ks[i]), start + i, start + i, Origin.of("gen", 0, start + i)));
            }));
            parts.add(Mono.defer(() -> {
                long processedNs = System.nanoTime() - startedAt[0];
                return cp.checkpointNow().doOnNext(id -> {
                    long bytes = wchar() - wcharBefore.get();
                    double commitMs = (commit.totalTime(TimeUnit.NANOSECONDS) - before[0]) / 1e6;
                    double pauseMs = (pause.totalTime(TimeUnit.NANOSECONDS) - before[3]) / 1e6;
                    double durationMs = (duration.totalTime(TimeUnit.NANOSECONDS) - before[1]) / 1e6;
                    line("phase", "name", p.name(), "records", (long) (ks.length - skip),
                            "checkpoints", (long) (commit.count() - before[2]),
                            "processing_ms", TimeUnit.NANOSECONDS.toMillis(processedNs),
                            "pause_ms", pauseMs, "commit_ms", commitMs, "duration_ms", durationMs,
                            "written_bytes", bytes, "max_pause_ms", pause.max(TimeUnit.MILLISECONDS));
                });
            }).thenMany(Flux.empty()));
        }
        return Flux.concat(parts);
    }

    /** Running count and sum; a new {@link Total} per record (the state value is never changed in place). */
    private record Totals(String padding) implements AggregateFunction<Long, Total, Long> {
        @Override
        public Total createAccumulator() {
            return new Total(0, 0, padding);
        }

        @Override
        public Total add(Total a, Long value) {
            return new Total(a.count() + 1, a.sum() + value, a.pad());
        }

        @Override
        public Total merge(Total a, Total b) {
            return new Total(a.count() + b.count(), a.sum() + b.sum(), a.pad());
        }

        @Override
        public Long result(Total a) {
            return a.count();
        }
    }

    static void line(String kind, Object... kv) {
        StringBuilder sb = new StringBuilder("bench ").append(kind);
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            sb.append(' ').append(kv[i]).append('=')
                    .append(v instanceof Double d ? String.format(Locale.ROOT, "%.3f", d) : v);
        }
        System.out.println(sb);
        System.out.flush();
    }

    /** @return bytes this process wrote through system calls so far (Linux), or -1 */
    static long wchar() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/io"))) {
                if (l.startsWith("wchar:")) {
                    return Long.parseLong(l.substring(6).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static long statusKb(String field) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith(field + ":")) {
                    return Long.parseLong(l.substring(field.length() + 1).replace("kB", "").trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static long fileMb(Path dir) {
        try {
            return Files.size(dir.resolve("checkpoints").resolve("state.mv")) >> 20;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, String> parse(String benchLine) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        String[] parts = benchLine.split(" ");
        m.put("kind", parts[1]);
        for (int i = 2; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            m.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
        }
        return m;
    }
}
