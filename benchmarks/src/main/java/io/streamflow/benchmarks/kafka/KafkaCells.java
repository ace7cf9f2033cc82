package io.streamflow.benchmarks.kafka;

import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerConfig;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The Kafka cells of the harness: Kafka → 1 s tumbling count per key → Kafka on a real broker
 * (the test kit's {@link KafkaBroker}, a KRaft broker in a child JVM on {@code 127.0.0.1}), every
 * {@link KafkaSystem} on the same pre-filled input topic, in interleaved rounds, each system in a
 * worker JVM of its own ({@link KafkaWorker}; {@code isolate=false} runs them in this JVM). Each
 * run reads the whole topic in a consumer group of its own and writes into a fresh output topic,
 * which a {@code read_committed} reader then compares with the reference counts
 * ({@link KafkaInput#verify}): a system whose output differs is reported as wrong, not fast. Then
 * a latency run per system at half of its median rate ({@link KafkaLatency}).
 */
public final class KafkaCells {

    static final String BEGIN = "<!-- kafka results: begin (written by the harness, do not edit) -->";
    static final String END = "<!-- kafka results: end -->";

    /** Flags of the Kafka worker JVMs. */
    public static final List<String> DEFAULT_WORKER_JVM = List.of("-Xms1g", "-Xmx2g", "-XX:+UseParallelGC");

    /** Flags of the broker's JVM: a fixed heap and the full JIT (the test kit's default stops at C1). */
    public static final List<String> BROKER_JVM = List.of("-Xms1g", "-Xmx1g", "-XX:+UseParallelGC");

    /**
     * What to run.
     *
     * @param events         events in the input topic
     * @param keys           distinct keys
     * @param systems        systems to run ({@link KafkaSystem#LOOP} always runs: the ratios need it)
     * @param rounds         measured rounds
     * @param warmup         unmeasured rounds first
     * @param interval       checkpoint / commit interval
     * @param latencySeconds seconds of each latency run (0 skips them)
     * @param isolate        each system in a worker JVM of its own
     * @param workerJvm      flags of the worker JVMs
     */
    public record Settings(int events, int keys, List<KafkaSystem> systems, int rounds, int warmup, Duration interval,
                           int latencySeconds, boolean isolate, List<String> workerJvm) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,d events, %,d keys, %d rounds after %d unmeasured, interval %d ms, "
                            + "latency %d s, systems %s, %s", events, keys, rounds, warmup, interval.toMillis(),
                    latencySeconds, systems.stream().map(KafkaSystem::id).toList(),
                    isolate ? "each in a worker JVM " + workerJvm : "in the harness's JVM");
        }
    }

    /** One system's figures. */
    public record Row(KafkaSystem system, String status, double[] rates, double[] loopRatios, KafkaInput.Verdict verdict,
                      KafkaLatency.Result latency) {
        /** @return median events/s, NaN without measurements */
        public double median() {
            return median(rates);
        }

        /** @return median ratio to the raw consume-count-produce loop of the same round */
        public double loopRatio() {
            return median(loopRatios);
        }

        static double median(double[] v) {
            if (v.length == 0) {
                return Double.NaN;
            }
            double[] s = v.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }

        boolean ok() {
            return status.equals("ok");
        }
    }

    /** All figures of a run of the cells. */
    public record Results(Settings settings, KafkaInput.Spec input, Map<String, Object> machine, List<Row> rows) {
        /** @return the row of {@code s}, or {@code null} */
        public Row row(KafkaSystem s) {
            return rows.stream().filter(r -> r.system() == s).findFirst().orElse(null);
        }
    }

    private KafkaCells() {
    }

    /** Starts a broker, runs the cells, stops the broker. */
    public static Results run(Settings settings) throws IOException {
        try (KafkaBroker broker = KafkaBroker.start(KafkaBrokerConfig.defaults().withJvmOptions(BROKER_JVM)
                .withStartTimeout(Duration.ofMinutes(3)))) {
            return run(broker, settings, Files.createTempDirectory("streamflow-kafka-bench-"));
        }
    }

    /** Runs the cells against {@code broker}; {@code work} holds checkpoints and state stores. */
    public static Results run(KafkaBroker broker, Settings settings, Path work) throws IOException {
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("loadAverageBefore", loadAverage());
        KafkaInput.Spec spec = KafkaInput.Spec.of(settings.events(), settings.keys());
        System.out.printf("%n== Kafka cells: %s; input %s; broker %s%n", settings, spec, broker.bootstrapServers());
        String input = "bench-in";
        broker.createTopic(input, spec.partitions());
        long t0 = System.nanoTime();
        Map<Integer, Long> ends = KafkaInput.fill(broker.clientProperties(), input, spec);
        System.out.printf("input written in %.1f s, end markers at %s%n", (System.nanoTime() - t0) / 1e9, ends);
        Map<String, Long> reference = KafkaInput.reference(spec);

        List<KafkaSystem> systems = new ArrayList<>(settings.systems());
        if (!systems.contains(KafkaSystem.LOOP)) {
            systems.add(0, KafkaSystem.LOOP);
        }
        Map<KafkaSystem, String> status = new EnumMap<>(KafkaSystem.class);
        Map<KafkaSystem, List<Double>> rates = new EnumMap<>(KafkaSystem.class);
        Map<KafkaSystem, List<Double>> ratios = new EnumMap<>(KafkaSystem.class);
        Map<KafkaSystem, KafkaInput.Verdict> verdicts = new EnumMap<>(KafkaSystem.class);
        Map<KafkaSystem, KafkaWorker.Handle> workers = new EnumMap<>(KafkaSystem.class);
        Map<KafkaSystem, KafkaLatency.Result> latencies = new EnumMap<>(KafkaSystem.class);
        int[] runs = {0};
        try {
            for (KafkaSystem s : systems) {
                status.put(s, "ok");
                rates.put(s, new ArrayList<>());
                ratios.put(s, new ArrayList<>());
                if (settings.isolate()) {
                    try {
                        workers.put(s, KafkaWorker.Handle.start(s, work, settings.workerJvm()));
                    } catch (IOException e) {
                        status.put(s, "failed: " + e.getMessage());
                    }
                }
            }
            for (int round = -settings.warmup(); round < settings.rounds(); round++) {
                List<KafkaSystem> order = new ArrayList<>(systems);
                order.remove(KafkaSystem.LOOP);
                Collections.rotate(order, -Math.max(0, round));
                order.add(0, KafkaSystem.LOOP);
                StringBuilder line = new StringBuilder(round < 0 ? "warm-up:" : "round " + (round + 1) + ":");
                double loopRate = Double.NaN;
                for (KafkaSystem s : order) {
                    if (!status.get(s).equals("ok")) {
                        continue;
                    }
                    String runId = s.id() + "-" + (++runs[0]);
                    String output = runId + "-out";
                    try {
                        if (s != KafkaSystem.CONSUME) {
                            broker.createTopic(output, spec.partitions());
                        }
                        KafkaSystem.RunResult r = runner(s, settings, workers, broker, work, input, output, runId,
                                spec).call();
                        if (s == KafkaSystem.CONSUME) {
                            long expected = settings.events() + spec.partitions();
                            if (r.records() != expected) {
                                status.put(s, "WRONG: read " + r.records() + " records, expected " + expected);
                            }
                        } else {
                            KafkaInput.Verdict v = KafkaInput.verify(broker.clientProperties(), output, reference);
                            verdicts.put(s, v);
                            if (!v.ok()) {
                                status.put(s, "WRONG: " + v);
                            }
                        }
                        if (!status.get(s).equals("ok")) {
                            line.append(" | ").append(s.id()).append(" WRONG");
                            continue;
                        }
                        double rate = settings.events() / (r.nanos() / 1e9);
                        if (s == KafkaSystem.LOOP) {
                            loopRate = rate;
                        }
                        if (round >= 0) {
                            rates.get(s).add(rate);
                            ratios.get(s).add(rate / loopRate);
                        }
                        line.append(String.format(Locale.ROOT, " | %s %s (%.0f%%)", s.id(), rate(rate),
                                100 * rate / loopRate));
                    } catch (Exception e) {
                        status.put(s, "failed: " + e);
                        line.append(" | ").append(s.id()).append(" FAILED ").append(e);
                    }
                }
                System.out.println(line);
            }
            if (settings.latencySeconds() > 0) {
                for (KafkaSystem s : systems) {
                    if (s == KafkaSystem.CONSUME || !status.get(s).equals("ok") || rates.get(s).isEmpty()) {
                        continue;
                    }
                    long rate = Math.max(1000, Math.round(Row.median(toArray(rates.get(s))) / 2));
                    String runId = s.id() + "-latency-" + (++runs[0]);
                    String in = runId + "-in";
                    String out = runId + "-out";
                    broker.createTopic(in, spec.partitions());
                    broker.createTopic(out, spec.partitions());
                    try {
                        KafkaLatency.Result r = KafkaLatency.run(s, runner(s, settings, workers, broker, work, in,
                                        out, runId, spec), broker.clientProperties(), in, out, settings.keys(),
                                spec.partitions(), spec.disorderMillis(), rate, settings.latencySeconds());
                        latencies.put(s, r);
                        System.out.printf(Locale.ROOT, "latency %s at %,d events/s: p50 %.1f ms, p99 %.1f ms, "
                                        + "p99.9 %.1f ms, max %.1f ms (%,d results; producer max lag %.1f ms); %s%n",
                                s.id(), rate, r.p50Millis(), r.p99Millis(), r.p999Millis(), r.maxMillis(), r.recorded(),
                                r.producerMaxLagMillis(), r.status());
                    } catch (Exception e) {
                        System.out.println("latency " + s.id() + " FAILED " + e);
                        latencies.put(s, new KafkaLatency.Result(s, rate, settings.latencySeconds(), 0, Double.NaN,
                                Double.NaN, Double.NaN, Double.NaN, Double.NaN, null, "failed: " + e));
                    }
                }
            }
        } finally {
            workers.values().forEach(KafkaWorker.Handle::close);
        }
        machine.put("loadAverageAfter", loadAverage());
        List<Row> rows = new ArrayList<>();
        for (KafkaSystem s : systems) {
            boolean ok = status.get(s).equals("ok");
            rows.add(new Row(s, status.get(s), ok ? toArray(rates.get(s)) : new double[0],
                    ok ? toArray(ratios.get(s)) : new double[0], verdicts.get(s), latencies.get(s)));
        }
        return new Results(settings, spec, machine, rows);
    }

    private static Callable<KafkaSystem.RunResult> runner(KafkaSystem s, Settings settings,
                                                          Map<KafkaSystem, KafkaWorker.Handle> workers,
                                                          KafkaBroker broker, Path work, String input, String output,
                                                          String runId, KafkaInput.Spec spec) {
        if (settings.isolate()) {
            KafkaWorker.Handle h = workers.get(s);
            return () -> h.run(broker.bootstrapServers(), input, output, runId, spec.partitions(),
                    spec.disorderMillis(), settings.interval());
        }
        return () -> KafkaWorker.runOnce(s, broker.bootstrapServers(), input, output, runId, spec.partitions(),
                spec.disorderMillis(), settings.interval(), work);
    }

    private static double[] toArray(List<Double> l) {
        return l.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String rate(double r) {
        if (Double.isNaN(r)) {
            return "-";
        }
        return r >= 1e6 ? String.format(Locale.ROOT, "%.2fM/s", r / 1e6) : String.format(Locale.ROOT, "%.0fK/s", r / 1e3);
    }

    // ------------------------------------------------------------------ report

    /** Writes {@code kafka.json} and {@code kafka.md} into {@code out} and the Kafka results block of {@code doc}. */
    public static void write(Results results, Path out, String doc) throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("kafka.json"), json(results));
        String md = markdown(results);
        Files.writeString(out.resolve("kafka.md"), md);
        if (!doc.equals("none") && Files.exists(Path.of(doc))) {
            String text = Files.readString(Path.of(doc));
            int b = text.indexOf(BEGIN);
            int e = text.indexOf(END);
            if (b >= 0 && e > b) {
                Files.writeString(Path.of(doc), text.substring(0, b + BEGIN.length()) + "\n\n" + md + "\n"
                        + text.substring(e));
                System.out.println("updated the Kafka results of " + doc);
            }
        }
        System.out.println("wrote " + out.resolve("kafka.json") + ", kafka.md");
        System.out.println();
        System.out.println(md);
    }

    static String json(Results r) {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        machine.put("date", Instant.now().toString());
        // without the broker's class path file: a path in the build's tree, not a setting of the run
        machine.put("harnessJvmFlags", ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(f -> !f.startsWith("-D" + KafkaBrokerConfig.CLASS_PATH_FILE_PROPERTY + "=")).toList());
        machine.putAll(r.machine());
        root.put("machine", machine);
        root.put("settings", r.settings().toString());
        root.put("input", r.input().toString());
        root.put("brokerJvmFlags", BROKER_JVM);
        List<Object> rows = new ArrayList<>();
        for (Row row : r.rows()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("system", row.system().id());
            m.put("guarantee", row.system().guarantee().name().toLowerCase(Locale.ROOT));
            m.put("status", row.status());
            m.put("eventsPerSecondPerRound", row.rates());
            m.put("medianEventsPerSecond", finite(row.median()));
            m.put("ratioToLoopPerRound", row.loopRatios());
            m.put("ratioToLoopMedian", finite(row.loopRatio()));
            m.put("output", row.verdict() == null ? null : row.verdict().toString());
            KafkaLatency.Result l = row.latency();
            if (l != null) {
                Map<String, Object> lm = new LinkedHashMap<>();
                lm.put("eventsPerSecond", l.rate());
                lm.put("seconds", l.seconds());
                lm.put("recordedResults", l.recorded());
                lm.put("p50Millis", finite(l.p50Millis()));
                lm.put("p99Millis", finite(l.p99Millis()));
                lm.put("p999Millis", finite(l.p999Millis()));
                lm.put("maxMillis", finite(l.maxMillis()));
                lm.put("producerMaxLagMillis", finite(l.producerMaxLagMillis()));
                lm.put("status", l.status());
                m.put("latency", lm);
            }
            rows.add(m);
        }
        root.put("systems", rows);
        return JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValueAsString(root);
    }

    private static Object finite(double d) {
        return Double.isFinite(d) ? d : null;
    }

    /** The peer of a StreamFlow system: Kafka Streams at the same guarantee, in-memory or RocksDB store. */
    static KafkaSystem peer(KafkaSystem s, boolean rocksDb) {
        return switch (s.guarantee()) {
            case AT_LEAST_ONCE -> rocksDb ? KafkaSystem.KSTREAMS_ALO_ROCKSDB : KafkaSystem.KSTREAMS_ALO_MEMORY;
            case EXACTLY_ONCE -> rocksDb ? KafkaSystem.KSTREAMS_EOS_ROCKSDB : KafkaSystem.KSTREAMS_EOS_MEMORY;
            case NONE -> null;
        };
    }

    static String markdown(Results r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Run of %s: %d cores, %s; load average before `%s`, after `%s`.%n",
                Instant.now(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name") + " "
                        + System.getProperty("java.runtime.version"), r.machine().get("loadAverageBefore"),
                r.machine().get("loadAverageAfter")));
        b.append("Settings: ").append(r.settings()).append(". Input: ").append(r.input()).append(".\n\n");
        b.append("| system | guarantee | events/s (median, min–max) | of the raw loop | times Kafka Streams "
                + "(in-memory / RocksDB) | latency at | p50 | p99 | p99.9 | max | output |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row row : r.rows()) {
            KafkaSystem s = row.system();
            String vs = "";
            if (s.isStreamFlow() && row.ok()) {
                vs = times(row, r.row(peer(s, false))) + " / " + times(row, r.row(peer(s, true)));
            }
            KafkaLatency.Result l = row.latency();
            String lat = l == null ? "| - | - | - | - | - " : String.format(Locale.ROOT, "| %s | %s | %s | %s | %s ",
                    rate(l.rate()), ms(l.p50Millis()), ms(l.p99Millis()), ms(l.p999Millis()), ms(l.maxMillis()));
            String output = !row.ok() ? (row.status().startsWith("WRONG") ? "**wrong**: " : "**failed**: ")
                    + row.status() : s == KafkaSystem.CONSUME ? "all records read" : "equal to the reference ("
                    + String.format(Locale.ROOT, "%,d", row.verdict().results()) + " results)";
            if (l != null && !l.status().equals("ok")) {
                output += "; latency run: " + l.status();
            }
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s %s| %s |%n", s.id(),
                    s.guarantee().name().toLowerCase(Locale.ROOT).replace('_', '-'), row.ok()
                            ? rate(row.median()) + " (" + rate(min(row.rates())) + "–" + rate(max(row.rates())) + ")"
                            : "-", row.ok() ? pct(row.loopRatio()) : "-", vs.isEmpty() ? "-" : vs, lat, output));
        }
        b.append("\nGoals (StreamFlow; at least 2x Kafka Streams at the same guarantee with either store, at least "
                + "50% of the raw consume-count-produce loop, p99 under 100 ms at half of its maximum rate):\n\n");
        b.append("| system | times Kafka Streams (in-memory / RocksDB) | of the raw loop | p99 at half load | met |\n");
        b.append("|---|---|---|---|---|\n");
        for (KafkaSystem s : List.of(KafkaSystem.STREAMFLOW_ALO, KafkaSystem.STREAMFLOW_EOS)) {
            Row row = r.row(s);
            if (row == null || !row.ok()) {
                continue;
            }
            Row mem = r.row(peer(s, false));
            Row rocks = r.row(peer(s, true));
            double xm = ratio(row, mem);
            double xr = ratio(row, rocks);
            KafkaLatency.Result l = row.latency();
            double p99 = l == null ? Double.NaN : l.p99Millis();
            List<String> missed = new ArrayList<>();
            if (!(xm >= 2) || !(xr >= 2)) {
                missed.add("2x Kafka Streams");
            }
            if (!(row.loopRatio() >= 0.5)) {
                missed.add("50% of the loop");
            }
            if (!(p99 < 100)) {
                missed.add("p99");
            }
            b.append(String.format(Locale.ROOT, "| %s | %s / %s | %s | %s | %s |%n", s.id(), x(xm), x(xr),
                    pct(row.loopRatio()), ms(p99), missed.isEmpty() ? "yes" : "**no** (" + String.join(", ", missed)
                            + ")"));
        }
        return b.toString();
    }

    private static double ratio(Row a, Row b) {
        return b == null || !b.ok() ? Double.NaN : a.median() / b.median();
    }

    private static String times(Row a, Row b) {
        return x(ratio(a, b));
    }

    private static String x(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2fx", v) : "-";
    }

    private static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.0f%%", 100 * v) : "-";
    }

    private static String ms(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f ms", v) : "-";
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }
}
