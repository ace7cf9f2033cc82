package io.streamflow.reactive.window;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.WatermarkStrategy;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Shared plumbing of the window tests: runs a list of input records through the real pipeline
 * (bounded out-of-orderness watermarks, then the window operator with count-and-sum) and returns
 * the fired panes and the late records in a form that is easy to compare.
 */
final class WindowTestKit {

    private WindowTestKit() {
    }

    /** One input record; {@code seq} identifies it (it travels inside the value). */
    record In(String key, long ts, long value, int seq) {
        @Override
        public String toString() {
            return "{" + key + ", ts=" + ts + ", v=" + value + ", #" + seq + "}";
        }
    }

    /** The record value as the operator sees it: the number to aggregate plus the input's seq. */
    record Val(long value, int seq) {
    }

    /** One fired pane, flattened. */
    record Pane(String key, long start, long end, long count, long sum, PaneInfo.Timing timing, long index,
                boolean isFinal) {

        /** The fields the Flink conformance vectors carry (no pane info). */
        Pane withoutPaneInfo() {
            return new Pane(key, start, end, count, sum, null, -1, false);
        }

        @Override
        public String toString() {
            return key + "[" + start + "," + end + ") n=" + count + " sum=" + sum
                    + (timing == null ? "" : " " + timing + "#" + index + (isFinal ? "(final)" : ""));
        }
    }

    static final Comparator<Pane> PANE_ORDER = Comparator.comparing(Pane::key).thenComparingLong(Pane::start)
            .thenComparingLong(Pane::end).thenComparingLong(Pane::index).thenComparingLong(Pane::count)
            .thenComparingLong(Pane::sum).thenComparing(p -> String.valueOf(p.timing()))
            .thenComparing(Pane::isFinal);

    /** What came out of the operator. */
    record Outcome(List<Pane> panes, List<Integer> lateSeqs, List<LateRecord<?, ?>> lateRecords,
                   List<StreamElement<String, ?>> raw, double lateCounter) {
    }

    /** The operator with the given windowing; {@code trigger} may be {@code null} for the default. */
    static WindowOperator<String, Val> operator(WindowAssigner assigner, long allowedLatenessMs, Trigger trigger) {
        WindowOperator<String, Val> op = WindowOperator.<String, Val>of(assigner)
                .allowedLateness(Duration.ofMillis(allowedLatenessMs));
        return trigger == null ? op : op.trigger(trigger);
    }

    /**
     * Feeds {@code input} in order through {@code forBoundedOutOfOrderness(B)} and {@code op}
     * aggregating {@code countAndSum(value)}, and collects everything that comes out.
     */
    static Outcome run(List<In> input, long outOfOrdernessMs, WindowOperator<String, Val> op) {
        return run(input, outOfOrdernessMs, op, 256, 0, 0);
    }

    /**
     * Like {@link #run(List, long, WindowOperator)} with the operator's {@code prefetch} and, when
     * {@code downstreamBatch > 0}, a downstream that requests that many elements at a time, so that
     * firings are produced under limited demand.
     * <p>
     * With {@code partitions == 0} the watermarks come from
     * {@code WatermarkStrategy.forBoundedOutOfOrderness(B)}. With {@code partitions > 0} each key is
     * read from one of that many source partitions (so the operator keeps several state shards)
     * and the test itself inserts the same watermarks: {@code max ts - B - 1} after every record
     * that advances it, END at the end.
     */
    static Outcome run(List<In> input, long outOfOrdernessMs, WindowOperator<String, Val> op, int prefetch,
                       int downstreamBatch, int partitions) {
        return run(input, outOfOrdernessMs, op, prefetch, downstreamBatch, partitions, true);
    }

    /**
     * As {@link #run(List, long, WindowOperator, int, int, int)}; with {@code fused == false} the
     * source is hidden, so it offers no synchronous fusion and the operators receive pushed inputs
     * through their prefetch queues.
     */
    static Outcome run(List<In> input, long outOfOrdernessMs, WindowOperator<String, Val> op, int prefetch,
                       int downstreamBatch, int partitions, boolean fused) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Flux<StreamElement<String, Val>> withWatermarks;
        if (partitions == 0) {
            List<StreamRecord<String, Val>> records = new ArrayList<>(input.size());
            for (In in : input) {
                records.add(StreamRecord.of(in.key(), new Val(in.value(), in.seq()), in.ts()));
            }
            withWatermarks = Flux.fromIterable(records)
                    .transform(f -> fused ? f : f.hide())
                    .transform(WatermarkStrategy.<String, Val>forBoundedOutOfOrderness(
                                    Duration.ofMillis(outOfOrdernessMs))
                            .withMetrics("test", "watermarks", registry)
                            .assign());
        } else {
            List<StreamElement<String, Val>> elements = new ArrayList<>();
            long maxTs = Long.MIN_VALUE;
            long emitted = Long.MIN_VALUE;
            for (In in : input) {
                Origin origin = Origin.of("test", Math.floorMod(in.key().hashCode(), partitions), in.seq());
                elements.add(StreamRecord.of(in.key(), new Val(in.value(), in.seq()), in.ts(), origin));
                maxTs = Math.max(maxTs, in.ts());
                if (maxTs - outOfOrdernessMs - 1 > emitted) {
                    emitted = maxTs - outOfOrdernessMs - 1;
                    elements.add(Watermark.of(emitted));
                }
            }
            elements.add(Watermark.end());
            withWatermarks = Flux.fromIterable(elements).transform(f -> fused ? f : f.hide());
        }
        List<StreamElement<String, WindowResult<String, Aggregations.CountAndSum>>> out = withWatermarks
                .transform(op.settings(OperatorSettings.named("window").withMeterRegistry(registry)
                                .withPrefetch(prefetch))
                        .aggregate(Aggregations.countAndSum(Val::value)))
                .transform(f -> downstreamBatch > 0 ? f.limitRate(downstreamBatch) : f)
                .collectList()
                .block(Duration.ofSeconds(30));
        List<Pane> panes = new ArrayList<>();
        List<Integer> late = new ArrayList<>();
        List<LateRecord<?, ?>> lateRecords = new ArrayList<>();
        List<StreamElement<String, ?>> raw = new ArrayList<>();
        for (StreamElement<String, WindowResult<String, Aggregations.CountAndSum>> e : out) {
            raw.add(e);
            if (e instanceof StreamRecord<String, WindowResult<String, Aggregations.CountAndSum>> r) {
                WindowResult<String, Aggregations.CountAndSum> w = r.value();
                if (!w.key().equals(r.key()) || r.timestamp() != w.end() - 1) {
                    throw new AssertionError("result record must be keyed like its window and stamped with the "
                            + "window's max timestamp: " + r);
                }
                panes.add(new Pane(w.key(), w.start(), w.end(), w.value().count(), w.value().sum(),
                        w.pane().timing(), w.pane().index(), w.pane().isFinal()));
            } else if (e instanceof LateRecord<?, ?> l) {
                late.add(((Val) l.record().value()).seq());
                lateRecords.add(l);
            } else if (!(e instanceof Watermark<?, ?>)) {
                throw new AssertionError("unexpected element out of the window operator: " + e);
            }
        }
        Counter lateCounter = registry.find("streamflow.records.late").tag("operator", "window").counter();
        return new Outcome(panes, late, lateRecords, raw, lateCounter == null ? 0 : lateCounter.count());
    }

    static String lines(List<?> items) {
        StringBuilder sb = new StringBuilder();
        for (Object o : items) {
            sb.append("\n    ").append(o);
        }
        return sb.toString();
    }
}
