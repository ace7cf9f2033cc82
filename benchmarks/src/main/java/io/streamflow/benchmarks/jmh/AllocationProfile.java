package io.streamflow.benchmarks.jmh;

import io.streamflow.benchmarks.WindowWorkload;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Heap allocated per event, measured by running {@link WindowBenchmark} through the JMH runner
 * with the gc profiler: for each system, workload, key count and disorder, the profiler's
 * {@code gc.alloc.rate.norm} (bytes allocated per operation, by every thread of the benchmark
 * JVM) divided by the events per operation, plus the throughput derived from the average time
 * per operation.
 * <p>
 * With forks &gt; 0, JMH starts each benchmark in a fresh JVM with the class path of this JVM, so
 * the caller must run with an ordinary class path (a plain {@code java -cp ...} launch, or a jar
 * whose manifest lists the class path); with forks = 0 everything runs in this JVM (allocation of
 * the caller's other threads then counts too, and results are less isolated).
 */
public final class AllocationProfile {

    /** The profiler's secondary result: bytes allocated per benchmark operation. */
    public static final String ALLOC_NORM = "gc.alloc.rate.norm";

    /** Systems {@link WindowBenchmark} knows. */
    public static final Set<String> SYSTEMS = Set.of(WindowBenchmark.LOOP, WindowBenchmark.STREAMFLOW,
            WindowBenchmark.STREAMFLOW_ASYNC);

    private AllocationProfile() {
    }

    /**
     * How JMH runs the benchmark.
     *
     * @param forks                 JVMs per parameter combination (0: run in this JVM)
     * @param warmupIterations      warm-up iterations per fork
     * @param warmupTime            minimum duration of one warm-up iteration
     * @param measurementIterations measured iterations per fork
     * @param measurementTime       minimum duration of one measured iteration
     * @param jvmArgs               arguments of each forked JVM (heap size, collector)
     * @param quiet                 {@code true}: JMH prints nothing; {@code false}: its usual progress
     */
    public record Settings(int forks, int warmupIterations, Duration warmupTime, int measurementIterations,
                           Duration measurementTime, List<String> jvmArgs, boolean quiet) {

        public Settings {
            if (forks < 0 || warmupIterations < 0 || measurementIterations < 1) {
                throw new IllegalArgumentException("bad settings: forks " + forks + ", warm-up iterations "
                        + warmupIterations + ", measurement iterations " + measurementIterations);
            }
            Objects.requireNonNull(warmupTime, "warmupTime");
            Objects.requireNonNull(measurementTime, "measurementTime");
            jvmArgs = List.copyOf(jvmArgs);
        }

        /** One fork, 3 warm-up and 5 measured iterations of 2 s each, an 8 GB heap with the parallel collector. */
        public static Settings defaults() {
            return new Settings(1, 3, Duration.ofSeconds(2), 5, Duration.ofSeconds(2),
                    List.of("-Xms2g", "-Xmx8g", "-XX:+UseParallelGC"), false);
        }

        /** A copy with {@code forks} JVMs per parameter combination. */
        public Settings withForks(int n) {
            return new Settings(n, warmupIterations, warmupTime, measurementIterations, measurementTime, jvmArgs,
                    quiet);
        }

        /** A copy with {@code n} warm-up iterations of at least {@code time} each. */
        public Settings withWarmup(int n, Duration time) {
            return new Settings(forks, n, time, measurementIterations, measurementTime, jvmArgs, quiet);
        }

        /** A copy with {@code n} measured iterations of at least {@code time} each. */
        public Settings withMeasurement(int n, Duration time) {
            return new Settings(forks, warmupIterations, warmupTime, n, time, jvmArgs, quiet);
        }

        /** A copy whose forked JVMs get {@code args} instead. */
        public Settings withJvmArgs(List<String> args) {
            return new Settings(forks, warmupIterations, warmupTime, measurementIterations, measurementTime, args,
                    quiet);
        }

        /** A copy that silences (or not) JMH's own output. */
        public Settings withQuiet(boolean q) {
            return new Settings(forks, warmupIterations, warmupTime, measurementIterations, measurementTime, jvmArgs,
                    q);
        }
    }

    /**
     * One parameter combination's figures.
     *
     * @param system          {@code loop}, {@code streamflow} or {@code streamflow-async}
     * @param workload        the window workload
     * @param keys            distinct keys
     * @param disorderMillis  out-of-orderness of the events (and the watermark bound)
     * @param eventsPerOp     events per benchmark operation
     * @param bytesPerEvent   heap bytes allocated per event ({@code NaN} if the JVM cannot measure allocation)
     * @param eventsPerSecond events per second (events per operation / average time per operation)
     * @param bytesPerOp      the profiler's bytes per operation
     * @param millisPerOp     average time per operation in milliseconds
     * @param millisPerOpError JMH's 99.9% confidence half-width of {@code millisPerOp} ({@code NaN} if too few samples)
     */
    public record Row(String system, WindowWorkload workload, int keys, long disorderMillis, int eventsPerOp,
                      double bytesPerEvent, double eventsPerSecond, double bytesPerOp, double millisPerOp,
                      double millisPerOpError) {

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-16s %-18s %,9d keys %4d ms disorder: %8.1f B/event %,13.0f events/s",
                    system, workload.label(), keys, disorderMillis, bytesPerEvent, eventsPerSecond);
        }
    }

    /**
     * Runs {@link WindowBenchmark} with the gc profiler for every combination of the given
     * parameters and returns one row per combination, ordered by system, workload, keys and
     * disorder.
     *
     * @param systems     systems to measure (see {@link #SYSTEMS})
     * @param workloads   window workloads
     * @param keys        key counts
     * @param disorders   out-of-orderness values in milliseconds
     * @param eventsPerOp events per operation (one whole pipeline run)
     * @param settings    forks, iterations, forked JVM arguments
     * @throws IllegalArgumentException for an unknown system or an empty parameter list
     * @throws IllegalStateException    if JMH fails to run a benchmark
     */
    public static List<Row> run(Collection<String> systems, Collection<WindowWorkload> workloads,
                                Collection<Integer> keys, Collection<Long> disorders, int eventsPerOp,
                                Settings settings) {
        if (systems.isEmpty() || workloads.isEmpty() || keys.isEmpty() || disorders.isEmpty() || eventsPerOp < 1) {
            throw new IllegalArgumentException("nothing to run: systems " + systems + ", workloads " + workloads
                    + ", keys " + keys + ", disorders " + disorders + ", events per op " + eventsPerOp);
        }
        for (String s : systems) {
            if (!SYSTEMS.contains(s)) {
                throw new IllegalArgumentException("unknown system " + s + ", expected one of " + SYSTEMS);
            }
        }
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include("^" + Pattern.quote(WindowBenchmark.class.getName()) + "\\.pipeline$")
                .param("system", strings(systems))
                .param("workload", workloads.stream().map(Enum::name).toArray(String[]::new))
                .param("keys", strings(keys))
                .param("disorder", strings(disorders))
                .param("events", Integer.toString(eventsPerOp))
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.MILLISECONDS)
                .forks(settings.forks())
                .warmupIterations(settings.warmupIterations())
                .warmupTime(TimeValue.milliseconds(settings.warmupTime().toMillis()))
                .measurementIterations(settings.measurementIterations())
                .measurementTime(TimeValue.milliseconds(settings.measurementTime().toMillis()))
                .threads(1)
                .shouldFailOnError(true)
                .addProfiler(GCProfiler.class)
                .verbosity(settings.quiet() ? VerboseMode.SILENT : VerboseMode.NORMAL);
        if (!settings.jvmArgs().isEmpty()) {
            options.jvmArgs(settings.jvmArgs().toArray(String[]::new));
        }
        Collection<RunResult> results;
        try {
            results = new Runner(options.build()).run();
        } catch (RunnerException e) {
            throw new IllegalStateException("the allocation benchmark failed: " + e.getMessage(), e);
        }
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) {
            rows.add(row(r));
        }
        rows.sort(Comparator.comparing(Row::system).thenComparing(Row::workload).thenComparingInt(Row::keys)
                .thenComparingLong(Row::disorderMillis));
        return rows;
    }

    private static Row row(RunResult r) {
        BenchmarkParams p = r.getParams();
        int events = Integer.parseInt(p.getParam("events"));
        Result<?> primary = r.getPrimaryResult();
        double millisPerOp = primary.getScore();
        Result<?> alloc = r.getSecondaryResults().get(ALLOC_NORM);
        double bytesPerOp = alloc == null ? Double.NaN : alloc.getScore();
        return new Row(p.getParam("system"), WindowWorkload.valueOf(p.getParam("workload")),
                Integer.parseInt(p.getParam("keys")), Long.parseLong(p.getParam("disorder")), events,
                bytesPerOp / events, events / (millisPerOp / 1e3), bytesPerOp, millisPerOp, primary.getScoreError());
    }

    private static String[] strings(Collection<?> values) {
        return values.stream().map(String::valueOf).distinct().toArray(String[]::new);
    }

    /**
     * Runs the profile alone and prints one line per combination. Arguments are
     * {@code name=value} pairs, lists comma-separated; defaults in brackets:
     * {@code systems=[loop,streamflow,streamflow-async] workloads=[TUMBLING,SLIDING,SESSION]
     * keys=[10000] disorder=[100] events=[1000000] forks=[1] warmup=[3] measurement=[5]
     * iterationSeconds=[2] jvm=[-Xms2g -Xmx8g -XX:+UseParallelGC]} (jvm: space-separated).
     */
    public static void main(String[] args) {
        List<String> systems = List.of(WindowBenchmark.LOOP, WindowBenchmark.STREAMFLOW,
                WindowBenchmark.STREAMFLOW_ASYNC);
        List<WindowWorkload> workloads = List.of(WindowWorkload.values());
        List<Integer> keys = List.of(10_000);
        List<Long> disorders = List.of(100L);
        int events = 1_000_000;
        Settings settings = Settings.defaults();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("expected name=value, got " + arg);
            }
            String name = arg.substring(0, eq);
            String value = arg.substring(eq + 1);
            List<String> list = List.of(value.split(","));
            switch (name) {
                case "systems" -> systems = list;
                case "workloads" -> workloads = list.stream()
                        .map(s -> WindowWorkload.valueOf(s.toUpperCase(Locale.ROOT))).toList();
                case "keys" -> keys = list.stream().map(Integer::valueOf).toList();
                case "disorder" -> disorders = list.stream().map(Long::valueOf).toList();
                case "events" -> events = Integer.parseInt(value);
                case "forks" -> settings = settings.withForks(Integer.parseInt(value));
                case "warmup" -> settings = settings.withWarmup(Integer.parseInt(value), settings.warmupTime());
                case "measurement" -> settings = settings.withMeasurement(Integer.parseInt(value),
                        settings.measurementTime());
                case "iterationSeconds" -> {
                    Duration d = Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
                    settings = settings.withWarmup(settings.warmupIterations(), d)
                            .withMeasurement(settings.measurementIterations(), d);
                }
                case "jvm" -> settings = settings.withJvmArgs(List.of(value.trim().split("\\s+")));
                default -> throw new IllegalArgumentException("unknown argument " + name);
            }
        }
        List<Row> rows = run(systems, workloads, keys, disorders, events, settings);
        System.out.println();
        System.out.println("Heap allocated per event (" + events + " events per operation):");
        for (Row r : rows) {
            System.out.println(r);
        }
    }
}
