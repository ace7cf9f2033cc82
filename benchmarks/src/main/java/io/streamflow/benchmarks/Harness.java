package io.streamflow.benchmarks;

import io.streamflow.benchmarks.checkpoint.CheckpointBench;

import io.streamflow.benchmarks.flink.FlinkWindows;
import io.streamflow.benchmarks.jmh.AllocationProfile;
import io.streamflow.benchmarks.kafka.KafkaCells;
import io.streamflow.benchmarks.kafka.KafkaSystem;
import io.streamflow.benchmarks.nexmark.NexmarkQuery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The side-by-side harness: every system on the same events, each in a worker JVM of its own
 * ({@link WindowWorker}; {@code isolate=false} runs them all in this JVM), in interleaved
 * rounds, each result set reduced to a checksum and compared with the hand-written loop's (a
 * system whose checksum differs is reported as wrong, not fast). Then Nexmark, the allocation
 * profile (JMH gc profiler) and the latency run. Writes {@code benchmarks/results/latest.json},
 * {@code latest.md}, {@code latest.png} and the results section of {@code docs/BENCHMARKS.md}.
 * <p>
 * Arguments ({@code name=value}, all optional): {@code events} (10,000,000 per measurement),
 * {@code rounds} (5), {@code warmup} (1 unmeasured round first), {@code keys} (10000,1000000), {@code disorder} (0,100), {@code workloads}
 * (tumbling,sliding,session), {@code systems} (loop,streamflow,streamflow-async,naive-reactor,
 * flink-p1,flink-p2), {@code nexmark} (events per Nexmark query, 0 skips), {@code queries} (the
 * Nexmark queries, all by default, e.g. {@code Q3,Q4,Q8}), {@code jmh}
 * (true/false), {@code latency} (seconds per latency run, 0 skips), {@code out} (results
 * directory), {@code doc} (the document whose results section is rewritten, {@code none} to
 * skip), {@code isolate} (true), {@code worker} (the worker JVMs' flags, comma-separated);
 * the Kafka cells ({@link KafkaCells}): {@code kafka} (events in the input topic, 0 skips them),
 * {@code kafka-keys} (10000), {@code kafka-systems} (all of {@link KafkaSystem}), {@code kafka-latency}
 * (seconds per latency run, 0 skips), {@code kafka-worker} (their worker JVMs' flags).
 * {@code workloads=none} skips the windowed workloads.
 * {@code quick} is a small run: 1,000,000 events, 2 rounds, 10,000 keys, short JMH and latency,
 * 200,000 Kafka events.
 */
public final class Harness {

    static final List<String> ALL_SYSTEMS = List.of("loop", "streamflow", "streamflow-async", "naive-reactor",
            "flink-p1", "flink-p2");

    private Harness() {
    }

    public static void main(String[] args) throws IOException {
        Options o = Options.parse(args);
        Report report = new Report(o);
        System.out.printf("StreamFlow benchmark harness: %s%n", o);
        for (WindowWorkload w : o.workloads) {
            for (int keys : o.keys) {
                for (long disorder : o.disorders) {
                    report.windows.add(windows(o, w, keys, disorder));
                }
            }
        }
        if (o.kafkaEvents > 0) {
            KafkaCells.write(KafkaCells.run(new KafkaCells.Settings(o.kafkaEvents, o.kafkaKeys, o.kafkaSystems,
                    o.rounds, o.warmup, Duration.ofMillis(100), o.kafkaLatencySeconds, o.isolate, o.kafkaWorkerJvm)),
                    o.out, o.doc);
        }
        if (o.nexmarkEvents > 0) {
            report.nexmark.addAll(NexmarkRuns.run(o.nexmarkEvents, o.rounds, o.nexmarkQueries));
        }
        if (o.jmh) {
            report.allocation.addAll(AllocationProfile.run(List.of("loop", "streamflow", "streamflow-async"),
                    o.workloads, List.of(o.keys.get(0)), List.of(100L), 1_000_000, o.quick
                            ? AllocationProfile.Settings.defaults().withWarmup(1, Duration.ofSeconds(1))
                            .withMeasurement(2, Duration.ofSeconds(1))
                            : AllocationProfile.Settings.defaults()));
        }
        if (o.latencySeconds > 0) {
            for (boolean async : new boolean[] {false, true}) {
                report.latency.add(LatencyRun.run(WindowWorkload.TUMBLING, 10_000, 100, 200_000,
                        Duration.ofSeconds(o.latencySeconds), Duration.ofSeconds(Math.max(1, o.latencySeconds / 3)),
                        async));
            }
        }
        if (!report.windows.isEmpty() || !report.nexmark.isEmpty() || !report.allocation.isEmpty()
                || !report.latency.isEmpty()) {
            report.write();
        }
        if (o.checkpointMb > 0) {
            CheckpointBench.write(CheckpointBench.run(Path.of("target", "checkpoint-bench"), o.checkpointMb, 200,
                    "-Xmx8g", "-Xmx512m"), o.out, o.doc);
        }
    }

    // ------------------------------------------------------------------ windowed workloads

    /** One system's figures on one configuration. */
    record SystemRow(String system, String status, double[] rates, double[] ratios, Checksum checksum) {

        double median() {
            return rates.length == 0 ? Double.NaN : percentile(rates, 50);
        }

        double ratioMedian() {
            return ratios.length == 0 ? Double.NaN : percentile(ratios, 50);
        }

        double ratioMin() {
            return Arrays.stream(ratios).min().orElse(Double.NaN);
        }

        double ratioMax() {
            return Arrays.stream(ratios).max().orElse(Double.NaN);
        }
    }

    /** One configuration (workload, keys, disorder) with every system. */
    record WindowRow(WindowWorkload workload, int keys, long disorder, int events, List<SystemRow> systems) {
        String label() {
            return workload.label() + ", " + (keys >= 1_000_000 ? keys / 1_000_000 + "M" : keys / 1000 + "K")
                    + " keys, " + (disorder == 0 ? "in order" : disorder + " ms disorder");
        }
    }

    static WindowRow windows(Options o, WindowWorkload w, int keys, long disorder) {
        List<String> systems = new ArrayList<>(o.systems);
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        Map<String, String> status = new LinkedHashMap<>();
        Map<String, Checksum> checksums = new LinkedHashMap<>();
        for (String s : systems) {
            rates.put(s, new ArrayList<>());
            ratios.put(s, new ArrayList<>());
            status.put(s, "ok");
        }
        if (disorder > 0 && systems.contains("naive-reactor")) {
            status.put("naive-reactor", "n/a: out-of-order input (a processing-order groupBy/window pipeline cannot "
                    + "give event-time results)");
        }
        System.out.printf("%n== %s, %,d events%n", w.label() + ", " + keys + " keys, disorder " + disorder + " ms",
                o.events);
        Map<String, Runner> runners = new LinkedHashMap<>();
        List<WindowWorker.Handle> workers = new ArrayList<>();
        try {
            if (o.isolate) {
                List<String> needed = new ArrayList<>(List.of("loop"));
                systems.stream().filter(s -> !s.equals("loop") && status.get(s).equals("ok")).forEach(needed::add);
                for (String s : needed) {
                    WindowWorker.Handle h;
                    try {
                        h = WindowWorker.Handle.start(s, w, o.events, keys, disorder, o.workerJvm);
                    } catch (IOException e) {
                        if (s.equals("loop")) {
                            throw new UncheckedIOException(e);
                        }
                        status.put(s, "failed: " + e);
                        continue;
                    }
                    workers.add(h);
                    runners.put(s, h::run);
                }
            } else {
                BenchEvents ev = BenchEvents.generate(new BenchEvents.Spec(o.events, keys, disorder, 1_000_000, 42));
                runners.put("loop", () -> measure(() -> WindowLoop.run(ev, w, disorder)));
                for (String s : systems) {
                    if (!s.equals("loop")) {
                        runners.put(s, () -> run(s, ev, w));
                    }
                }
            }
            for (int w0 = 0; w0 < o.warmup; w0++) {
                // not measured: every system compiles its hot code, and no worker is still
                // compiling in the background while another one is measured
                StringBuilder line = new StringBuilder("warm-up " + (w0 + 1) + ":");
                for (Map.Entry<String, Runner> r : runners.entrySet()) {
                    if (status.getOrDefault(r.getKey(), "ok").equals("ok")) {
                        try {
                            r.getValue().run();
                            line.append(' ').append(r.getKey());
                        } catch (Throwable t) {
                            if (r.getKey().equals("loop")) {
                                throw new IllegalStateException("the loop failed", t);
                            }
                            status.put(r.getKey(), "failed: " + t);
                            line.append(' ').append(r.getKey()).append(" FAILED ").append(t);
                        }
                    }
                }
                System.out.println(line);
            }
            for (int round = 0; round < o.rounds; round++) {
                // the loop first, then the others in an order rotated every round
                Measured loop;
                try {
                    loop = runners.get("loop").run();
                } catch (Exception e) {
                    throw new IllegalStateException("the loop failed", e);
                }
                double loopRate = loop.eventsPerSecond(o.events);
                checksums.put("loop", loop.checksum());
                if (systems.contains("loop")) {
                    rates.get("loop").add(loopRate);
                    ratios.get("loop").add(1.0);
                }
                List<String> order = new ArrayList<>(systems);
                order.remove("loop");
                java.util.Collections.rotate(order, -round);
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "round %d: loop %s", round + 1,
                        rate(loopRate)));
                for (String s : order) {
                    if (!status.get(s).equals("ok")) {
                        continue;
                    }
                    Measured m;
                    try {
                        m = runners.get(s).run();
                    } catch (Throwable t) {
                        status.put(s, "failed: " + t);
                        line.append(" | ").append(s).append(" FAILED ").append(t);
                        System.gc();
                        continue;
                    }
                    checksums.put(s, m.checksum());
                    if (!m.checksum().equals(loop.checksum())) {
                        status.put(s, "WRONG: checksum " + m.checksum() + " differs from the loop's "
                                + loop.checksum());
                        line.append(" | ").append(s).append(" WRONG");
                        continue;
                    }
                    double r = m.eventsPerSecond(o.events);
                    rates.get(s).add(r);
                    ratios.get(s).add(r / loopRate);
                    line.append(String.format(Locale.ROOT, " | %s %s (%.1f%%)", s, rate(r), 100 * r / loopRate));
                }
                System.out.println(line);
            }
        } finally {
            workers.forEach(WindowWorker.Handle::close);
        }
        List<SystemRow> rows = new ArrayList<>();
        for (String s : systems) {
            boolean ok = status.get(s).equals("ok");
            rows.add(new SystemRow(s, status.get(s), ok ? toArray(rates.get(s)) : new double[0],
                    ok ? toArray(ratios.get(s)) : new double[0], checksums.get(s)));
        }
        return new WindowRow(w, keys, disorder, o.events, rows);
    }

    /** One measured run of one system, in this JVM or in its worker. */
    private interface Runner {
        Measured run() throws Exception;
    }

    interface Job {
        Checksum run();
    }

    static Measured measure(Job job) {
        System.gc();
        long t0 = System.nanoTime();
        Checksum c = job.run();
        return new Measured(c, System.nanoTime() - t0);
    }

    static Measured run(String system, BenchEvents ev, WindowWorkload w) {
        System.gc();
        return switch (system) {
            case "streamflow" -> StreamFlowWindows.run(ev, w, false);
            case "streamflow-async" -> StreamFlowWindows.run(ev, w, true);
            case "naive-reactor" -> NaiveReactorWindows.run(ev, w);
            case "flink-p1" -> FlinkWindows.run(ev, w, 1);
            case "flink-p2" -> FlinkWindows.run(ev, w, 2);
            default -> throw new IllegalArgumentException("unknown system " + system + "; known: " + ALL_SYSTEMS);
        };
    }

    static double percentile(double[] values, double p) {
        double[] v = values.clone();
        Arrays.sort(v);
        if (v.length % 2 == 1 || p != 50) {
            return v[(int) Math.min(v.length - 1, Math.floor(p / 100 * v.length))];
        }
        return (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double[] toArray(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String rate(double eventsPerSecond) {
        if (Double.isNaN(eventsPerSecond)) {
            return "-";
        }
        return eventsPerSecond >= 1e6 ? String.format(Locale.ROOT, "%.2fM/s", eventsPerSecond / 1e6)
                : String.format(Locale.ROOT, "%.0fK/s", eventsPerSecond / 1e3);
    }

    // ------------------------------------------------------------------ options

    /**
     * Worker heaps: the 1 GiB young generation and 512 MiB of old touched up front, room to grow to
     * 6 GiB (Flink's heap state of a million keys in four sliding windows holds about 1.7 GiB live,
     * the naive Reactor pipeline's million groups more); six workers and the harness fit the
     * machine's 24 GiB.
     */
    static final List<String> DEFAULT_WORKER_JVM = List.of("-Xms1536m", "-Xmx6g", "-Xmn1g", "-XX:+AlwaysPreTouch",
            "-XX:+UseParallelGC", "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED");

    static final class Options {
        int events = 10_000_000;
        int rounds = 5;
        /** Unmeasured rounds before the measured ones. */
        int warmup = 1;
        List<Integer> keys = List.of(10_000, 1_000_000);
        List<Long> disorders = List.of(0L, 100L);
        List<WindowWorkload> workloads = List.of(WindowWorkload.values());
        List<String> systems = ALL_SYSTEMS;
        int nexmarkEvents = 10_000_000;
        List<NexmarkQuery> nexmarkQueries = List.of(NexmarkQuery.values());
        boolean jmh = true;
        int latencySeconds = 30;
        int checkpointMb = 1024;
        /** Events in the Kafka cells' input topic (0 skips them). */
        int kafkaEvents = 3_000_000;
        int kafkaKeys = 10_000;
        List<KafkaSystem> kafkaSystems = List.of(KafkaSystem.values());
        int kafkaLatencySeconds = 20;
        List<String> kafkaWorkerJvm = KafkaCells.DEFAULT_WORKER_JVM;
        boolean quick;
        /** Windowed configurations: every system in a worker JVM of its own ({@link WindowWorker}). */
        boolean isolate = true;
        /** The flags of the worker JVMs (the class path is the harness's). */
        List<String> workerJvm = DEFAULT_WORKER_JVM;
        Path out = Path.of("results");
        String doc = "../docs/BENCHMARKS.md";
        final List<String> args = new ArrayList<>();

        static Options parse(String[] args) {
            Options o = new Options();
            for (String a : args) {
                o.args.add(a);
                if (a.equals("all")) {
                    continue;
                }
                if (a.equals("quick")) {
                    o.quick = true;
                    o.events = 1_000_000;
                    o.rounds = 2;
                    o.warmup = 0;
                    o.keys = List.of(10_000);
                    o.nexmarkEvents = 500_000;
                    o.latencySeconds = 3;
                    o.checkpointMb = 64;
                    o.kafkaEvents = 200_000;
                    o.kafkaLatencySeconds = 6;
                    continue;
                }
                int eq = a.indexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException("expected name=value, 'all' or 'quick', got '" + a + "'");
                }
                String name = a.substring(0, eq);
                String value = a.substring(eq + 1);
                switch (name) {
                    case "events" -> o.events = Integer.parseInt(value.replace("_", ""));
                    case "rounds" -> o.rounds = Integer.parseInt(value);
                    case "warmup" -> o.warmup = Integer.parseInt(value);
                    case "keys" -> o.keys = Arrays.stream(value.split(",")).map(s -> Integer.parseInt(s.trim()))
                            .toList();
                    case "disorder" -> o.disorders = Arrays.stream(value.split(",")).map(s -> Long.parseLong(s.trim()))
                            .toList();
                    case "workloads" -> o.workloads = value.equals("none") ? List.of() : Arrays.stream(value.split(","))
                            .map(s -> WindowWorkload.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                    case "systems" -> {
                        List<String> s = Arrays.stream(value.split(",")).map(String::trim).toList();
                        for (String x : s) {
                            if (!ALL_SYSTEMS.contains(x)) {
                                throw new IllegalArgumentException("unknown system '" + x + "'; known: " + ALL_SYSTEMS);
                            }
                        }
                        o.systems = s;
                    }
                    case "nexmark" -> o.nexmarkEvents = Integer.parseInt(value.replace("_", ""));
                    case "queries" -> o.nexmarkQueries = Arrays.stream(value.split(","))
                            .map(s -> NexmarkQuery.valueOf(s.trim().toUpperCase(Locale.ROOT))).toList();
                    case "jmh" -> o.jmh = Boolean.parseBoolean(value);
                    case "latency" -> o.latencySeconds = Integer.parseInt(value);
                    case "checkpoint" -> o.checkpointMb = Integer.parseInt(value);
                    case "out" -> o.out = Path.of(value);
                    case "doc" -> o.doc = value;
                    case "isolate" -> o.isolate = Boolean.parseBoolean(value);
                    case "worker" -> o.workerJvm = Arrays.stream(value.split(",")).map(String::trim)
                            .filter(f -> !f.isEmpty()).toList();
                    case "kafka" -> o.kafkaEvents = Integer.parseInt(value.replace("_", ""));
                    case "kafka-keys" -> o.kafkaKeys = Integer.parseInt(value.replace("_", ""));
                    case "kafka-systems" -> o.kafkaSystems = Arrays.stream(value.split(",")).map(KafkaSystem::of)
                            .toList();
                    case "kafka-latency" -> o.kafkaLatencySeconds = Integer.parseInt(value);
                    case "kafka-worker" -> o.kafkaWorkerJvm = Arrays.stream(value.split(",")).map(String::trim)
                            .filter(f -> !f.isEmpty()).toList();
                    default -> throw new IllegalArgumentException("unknown option '" + name + "'; known: events, "
                            + "rounds, warmup, keys, disorder, workloads, systems, nexmark, queries, jmh, latency, checkpoint, out, doc, "
                            + "isolate, worker, kafka, kafka-keys, kafka-systems, kafka-latency, kafka-worker");
                }
            }
            if (o.rounds < 1 || o.events < 1 || o.warmup < 0) {
                throw new IllegalArgumentException("rounds and events must be >= 1, warmup >= 0");
            }
            return o;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,d events x %d rounds (after %d unmeasured), keys %s, disorder %s ms, %s, systems %s, "
                            + "nexmark %,d events %s, jmh %s, latency %d s, checkpoint state %d MB, kafka %,d events, %s", events, rounds, warmup, keys,
                    disorders, workloads, systems, nexmarkEvents, nexmarkQueries, jmh, latencySeconds, checkpointMb, kafkaEvents,
                    isolate ? "windowed systems each in a worker JVM " + workerJvm : "windowed systems in this JVM");
        }
    }

    static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("jvmFlags", ManagementFactory.getRuntimeMXBean().getInputArguments());
        m.put("date", Instant.now().toString());
        return m;
    }

    static Path write(Path dir, String name, String content) throws IOException {
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }
}
