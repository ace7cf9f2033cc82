package io.streamflow.benchmarks;

import io.streamflow.benchmarks.jmh.AllocationProfile;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the harness's results: JSON, a Markdown section, a PNG chart, and the section of the benchmarks doc. */
final class Report {

    static final String BEGIN = "<!-- harness results: begin (written by the harness, do not edit) -->";
    static final String END = "<!-- harness results: end -->";

    private final Harness.Options options;
    final List<Harness.WindowRow> windows = new ArrayList<>();
    final List<NexmarkRuns.Row> nexmark = new ArrayList<>();
    final List<AllocationProfile.Row> allocation = new ArrayList<>();
    final List<LatencyRun.Result> latency = new ArrayList<>();

    Report(Harness.Options options) {
        this.options = options;
    }

    void write() throws IOException {
        Path dir = options.out;
        Harness.write(dir, "latest.json", json());
        String md = markdown();
        Harness.write(dir, "latest.md", md);
        chart(dir.resolve("latest.png"));
        if (!options.doc.equals("none")) {
            Path doc = Path.of(options.doc);
            if (Files.exists(doc)) {
                String text = Files.readString(doc);
                int b = text.indexOf(BEGIN);
                int e = text.indexOf(END);
                if (b >= 0 && e > b) {
                    Files.writeString(doc, text.substring(0, b + BEGIN.length()) + "\n\n" + md + "\n"
                            + text.substring(e));
                    System.out.println("updated the results section of " + doc);
                }
            }
        }
        System.out.println("wrote " + dir.resolve("latest.json") + ", latest.md, latest.png");
        System.out.println();
        System.out.println(md);
    }

    // ------------------------------------------------------------------ JSON

    String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("machine", Harness.machine());
        root.put("arguments", options.args);
        root.put("settings", options.toString());
        root.put("windowWorkerJvmFlags", options.isolate ? options.workerJvm : null);
        List<Object> ws = new ArrayList<>();
        for (Harness.WindowRow r : windows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("workload", r.workload().name().toLowerCase(Locale.ROOT));
            m.put("keys", r.keys());
            m.put("disorderMillis", r.disorder());
            m.put("events", r.events());
            List<Object> systems = new ArrayList<>();
            for (Harness.SystemRow s : r.systems()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("system", s.system());
                x.put("status", s.status());
                x.put("eventsPerSecondPerRound", s.rates());
                x.put("medianEventsPerSecond", finite(s.median()));
                x.put("ratioToLoopPerRound", s.ratios());
                x.put("ratioToLoopMedian", finite(s.ratioMedian()));
                x.put("ratioToLoopMin", finite(s.ratioMin()));
                x.put("ratioToLoopMax", finite(s.ratioMax()));
                x.put("checksum", s.checksum() == null ? null : s.checksum().toString());
                systems.add(x);
            }
            m.put("systems", systems);
            ws.add(m);
        }
        root.put("windows", ws);
        List<Object> nx = new ArrayList<>();
        for (NexmarkRuns.Row r : nexmark) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("query", r.query().name());
            m.put("description", r.query().description());
            m.put("events", r.events());
            m.put("status", r.status());
            m.put("streamflowEventsPerSecondPerRound", r.streamflow());
            m.put("flinkP1EventsPerSecondPerRound", r.flink());
            m.put("streamflowMedian", finite(r.streamflowMedian()));
            m.put("flinkP1Median", finite(r.flinkMedian()));
            m.put("checksum", r.checksum() == null ? null : r.checksum().toString());
            nx.add(m);
        }
        root.put("nexmark", nx);
        List<Object> al = new ArrayList<>();
        for (AllocationProfile.Row r : allocation) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("system", r.system());
            m.put("workload", r.workload().name().toLowerCase(Locale.ROOT));
            m.put("keys", r.keys());
            m.put("disorderMillis", r.disorderMillis());
            m.put("eventsPerOp", r.eventsPerOp());
            m.put("bytesPerEvent", finite(r.bytesPerEvent()));
            m.put("eventsPerSecond", finite(r.eventsPerSecond()));
            al.add(m);
        }
        root.put("allocation", al);
        List<Object> lat = new ArrayList<>();
        for (LatencyRun.Result r : latency) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("workload", r.workload().name().toLowerCase(Locale.ROOT));
            m.put("keys", r.keys());
            m.put("disorderMillis", r.disorderMillis());
            m.put("eventsPerSecond", r.eventsPerSecond());
            m.put("seconds", r.duration().toSeconds());
            m.put("async", r.async());
            m.put("results", r.count());
            m.put("p50Micros", r.p50Micros());
            m.put("p99Micros", r.p99Micros());
            m.put("p999Micros", r.p999Micros());
            m.put("maxMicros", r.maxMicros());
            m.put("maxSendLagMicros", r.maxSendLagMicros());
            lat.add(m);
        }
        root.put("latency", lat);
        return JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValueAsString(root);
    }

    private static Object finite(double d) {
        return Double.isFinite(d) ? d : null;
    }

    // ------------------------------------------------------------------ Markdown

    String markdown() {
        StringBuilder b = new StringBuilder();
        Map<String, Object> machine = Harness.machine();
        b.append("Run of ").append(machine.get("date")).append(": ").append(machine.get("cores")).append(" cores, ")
                .append(machine.get("jvm")).append(", ").append(machine.get("os")).append(", JVM flags `")
                .append(String.join(" ", castList(machine.get("jvmFlags")))).append("`.\n");
        b.append("Arguments: `").append(options.args.isEmpty() ? "all" : String.join(" ", options.args))
                .append("` (").append(options).append(").\n\n");
        if (!windows.isEmpty()) {
            List<String> systems = windows.get(0).systems().stream().map(Harness.SystemRow::system).toList();
            b.append("### Windowed aggregations (count + sum per key and window)\n\n");
            b.append("Each cell: median events/s over the rounds, then the ratio to the loop measured in the same "
                    + "round (median, min–max).");
            b.append(options.isolate ? " Every system, the loop too, ran in a worker JVM of its own, with flags `"
                    + String.join(" ", options.workerJvm) + "`; the rounds were interleaved across the workers.\n\n"
                    : " Every system ran in the harness's JVM.\n\n");
            b.append("| workload | ").append(String.join(" | ", systems)).append(" |\n|---|");
            b.append("---|".repeat(systems.size())).append('\n');
            for (Harness.WindowRow r : windows) {
                b.append("| ").append(r.label()).append(" |");
                for (Harness.SystemRow s : r.systems()) {
                    b.append(' ').append(cell(s)).append(" |");
                }
                b.append('\n');
            }
            b.append('\n');
            b.append("Goals (ratios to the loop in the same run; StreamFlow synchronous):\n\n");
            b.append("| workload | StreamFlow / loop | goal | StreamFlow / Flink p1 | StreamFlow / Flink p2 | goal met |\n");
            b.append("|---|---|---|---|---|---|\n");
            for (Harness.WindowRow r : windows) {
                Harness.SystemRow sf = find(r, "streamflow");
                if (sf == null) {
                    continue;
                }
                double goal = switch (r.workload()) {
                    case TUMBLING -> 0.20;
                    case SLIDING -> 0.10;
                    case SESSION -> 0.05;
                };
                Harness.SystemRow f1 = find(r, "flink-p1");
                Harness.SystemRow f2 = find(r, "flink-p2");
                double x1 = f1 == null ? Double.NaN : sf.median() / f1.median();
                double x2 = f2 == null ? Double.NaN : sf.median() / f2.median();
                boolean met = sf.ratioMedian() >= goal && !(x1 < 5) && !(x2 < 5);
                b.append(String.format(Locale.ROOT, "| %s | %s | %.0f%% | %s | %s | %s |%n", r.label(),
                        pct(sf.ratioMedian()), goal * 100, times(x1), times(x2), met ? "yes" : "**no**"));
            }
            b.append('\n');
            for (Harness.WindowRow r : windows) {
                for (Harness.SystemRow s : r.systems()) {
                    if (!s.status().equals("ok")) {
                        b.append("- ").append(r.label()).append(", ").append(s.system()).append(": ")
                                .append(s.status()).append('\n');
                    }
                }
            }
            b.append('\n');
        }
        if (!nexmark.isEmpty()) {
            b.append("### Nexmark\n\n| query | events | StreamFlow | Flink p1 | StreamFlow / Flink | results |\n");
            b.append("|---|---|---|---|---|---|\n");
            for (NexmarkRuns.Row r : nexmark) {
                b.append(String.format(Locale.ROOT, "| %s: %s | %,d | %s | %s | %s | %s |%n", r.query(),
                        r.query().description(), r.events(), Harness.rate(r.streamflowMedian()),
                        Harness.rate(r.flinkMedian()), times(r.streamflowMedian() / r.flinkMedian()),
                        r.status().equals("ok") ? "equal (" + r.checksum().results() + " rows)" : r.status()));
            }
            b.append('\n');
        }
        if (!allocation.isEmpty()) {
            b.append("### Allocation per event (JMH, gc profiler)\n\n| system | workload | keys | disorder | "
                    + "bytes/event | events/s |\n|---|---|---|---|---|---|\n");
            for (AllocationProfile.Row r : allocation) {
                b.append(String.format(Locale.ROOT, "| %s | %s | %,d | %d ms | %.1f | %s |%n", r.system(),
                        r.workload().label(), r.keys(), r.disorderMillis(), r.bytesPerEvent(),
                        Harness.rate(r.eventsPerSecond())));
            }
            b.append('\n');
        }
        if (!latency.isEmpty()) {
            b.append("### Latency (open loop, emit delay after the watermark passed the window end)\n\n"
                    + "| run | results | p50 | p99 | p99.9 | max | producer max lag |\n|---|---|---|---|---|---|---|\n");
            for (LatencyRun.Result r : latency) {
                b.append(String.format(Locale.ROOT, "| %s, %,d keys, %d ms disorder, %,d events/s for %d s, %s | %,d "
                                + "| %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms |%n", r.workload().label(), r.keys(),
                        r.disorderMillis(), r.eventsPerSecond(), r.duration().toSeconds(), r.async() ? "async" : "sync",
                        r.count(), r.p50Micros() / 1e3, r.p99Micros() / 1e3, r.p999Micros() / 1e3,
                        r.maxMicros() / 1e3, r.maxSendLagMicros() / 1e3));
            }
            b.append('\n');
        }
        b.append("![throughput as a percentage of the loop, by system and workload](../benchmarks/results/latest.png)\n");
        return b.toString();
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object o) {
        return (List<String>) o;
    }

    private static Harness.SystemRow find(Harness.WindowRow r, String system) {
        return r.systems().stream().filter(s -> s.system().equals(system) && s.status().equals("ok")).findFirst()
                .orElse(null);
    }

    private static String cell(Harness.SystemRow s) {
        if (!s.status().equals("ok")) {
            return s.status().startsWith("n/a") ? "n/a" : s.status().startsWith("WRONG") ? "**wrong**" : "failed";
        }
        if (s.system().equals("loop")) {
            return Harness.rate(s.median());
        }
        return String.format(Locale.ROOT, "%s (%s, %s–%s)", Harness.rate(s.median()), pct(s.ratioMedian()),
                pct(s.ratioMin()), pct(s.ratioMax()));
    }

    private static String pct(double r) {
        return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, r < 0.1 ? "%.1f%%" : "%.0f%%", 100 * r);
    }

    private static String times(double x) {
        return Double.isNaN(x) || Double.isInfinite(x) ? "-" : String.format(Locale.ROOT, "%.1fx", x);
    }

    // ------------------------------------------------------------------ chart

    void chart(Path file) throws IOException {
        if (windows.isEmpty()) {
            return;
        }
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(1400).height(700)
                .title("Throughput as % of the hand-written loop in the same round (median over rounds)")
                .xAxisTitle("workload").yAxisTitle("% of the loop").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        List<String> labels = windows.stream().map(Harness.WindowRow::label).toList();
        List<String> systems = windows.get(0).systems().stream().map(Harness.SystemRow::system).toList();
        for (String s : systems) {
            if (s.equals("loop")) {
                continue; // 100% by definition
            }
            List<Double> values = new ArrayList<>();
            for (Harness.WindowRow r : windows) {
                Harness.SystemRow row = find(r, s);
                // a missing value (n/a, failed, wrong) is drawn as 0
                values.add(row == null ? 0.0 : 100 * row.ratioMedian());
            }
            chart.addSeries(s, labels, values);
        }
        Files.createDirectories(file.getParent() == null ? Path.of(".") : file.getParent());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
