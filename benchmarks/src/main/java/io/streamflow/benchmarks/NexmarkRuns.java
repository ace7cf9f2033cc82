package io.streamflow.benchmarks;

import io.streamflow.benchmarks.nexmark.NexmarkEvents;
import io.streamflow.benchmarks.nexmark.NexmarkFlink;
import io.streamflow.benchmarks.nexmark.NexmarkGenerator;
import io.streamflow.benchmarks.nexmark.NexmarkQuery;
import io.streamflow.benchmarks.nexmark.NexmarkStreamFlow;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Nexmark in the harness: each query with StreamFlow and with Flink (parallelism 1) on the same
 * generated events, interleaved rounds; the two checksums must be equal (else the query is
 * reported as wrong).
 */
final class NexmarkRuns {

    private NexmarkRuns() {
    }

    /** One query's figures: median events/s of each system, and whether their results agreed. */
    record Row(NexmarkQuery query, int events, String status, double[] streamflow, double[] flink, Checksum checksum) {
        double streamflowMedian() {
            return streamflow.length == 0 ? Double.NaN : Harness.percentile(streamflow, 50);
        }

        double flinkMedian() {
            return flink.length == 0 ? Double.NaN : Harness.percentile(flink, 50);
        }
    }

    static List<Row> run(int events, int rounds) {
        return run(events, rounds, List.of(NexmarkQuery.values()));
    }

    static List<Row> run(int events, int rounds, List<NexmarkQuery> queries) {
        NexmarkEvents ev = NexmarkGenerator.generate(NexmarkGenerator.Config.of(42, events));
        List<Row> rows = new ArrayList<>();
        for (NexmarkQuery q : queries) {
            System.out.printf("%n== Nexmark %s (%s), %,d events%n", q, q.description(), events);
            List<Double> sf = new ArrayList<>();
            List<Double> fl = new ArrayList<>();
            String status = "ok";
            Checksum sum = null;
            for (int round = 0; round < rounds && status.equals("ok"); round++) {
                try {
                    System.gc();
                    Measured a = NexmarkStreamFlow.run(q, ev);
                    System.gc();
                    Measured b = NexmarkFlink.run(q, ev, 1);
                    if (!a.checksum().equals(b.checksum())) {
                        status = "WRONG: StreamFlow " + a.checksum() + " vs Flink " + b.checksum();
                        break;
                    }
                    sum = a.checksum();
                    sf.add(a.eventsPerSecond(ev.size()));
                    fl.add(b.eventsPerSecond(ev.size()));
                    System.out.printf(Locale.ROOT, "round %d: streamflow %s | flink-p1 %s | %s%n", round + 1,
                            Harness.rate(sf.get(sf.size() - 1)), Harness.rate(fl.get(fl.size() - 1)), a.checksum());
                } catch (Throwable t) {
                    status = "failed: " + t;
                }
            }
            boolean ok = status.equals("ok");
            rows.add(new Row(q, events, status, ok ? sf.stream().mapToDouble(Double::doubleValue).toArray()
                    : new double[0], ok ? fl.stream().mapToDouble(Double::doubleValue).toArray() : new double[0], sum));
        }
        return rows;
    }
}
