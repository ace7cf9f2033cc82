package io.streamflow.benchmarks.flink;

import io.streamflow.benchmarks.BenchEvents;
import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.Measured;
import io.streamflow.benchmarks.WindowWorkload;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.io.Serial;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The Apache Flink pipeline of the harness, on a local MiniCluster ({@link FlinkLocal}): the
 * event columns → Flink's bounded out-of-orderness watermarks → {@code keyBy} key → event-time
 * windows with an incremental count + sum → a checksum of the results. Its checksum equals the
 * loop's ({@code WindowLoop}) for every workload and parallelism.
 * <p>
 * <b>Source.</b> {@code fromSequence(0, n - 1)} yields event indices; a map reads
 * {@code (key, timestamp, value)} from the event columns, which it finds through
 * {@link FlinkLocal#share} (the job runs in this JVM, so the columns are not serialised into the
 * job). The source, the map and the watermark assigner form one chained subtask reading the
 * events in their order, like StreamFlow's single source; {@code parallelism} applies to the
 * keyed stages (window, checksum), which receive the events over Flink's network stack, hash
 * partitioned by key. Each window subtask thus sees its keys' events in the sequence's order,
 * interleaved with exactly the watermarks the loop computes. The map checks that the events are
 * out of order by at most the spec's disorder and fails the job otherwise, rather than let Flink
 * drop a late event; the window operator's late-data side output is counted as well and a
 * non-zero count fails the run.
 * <p>
 * <b>Watermarks.</b> Flink's bounded out-of-orderness generator (the one behind
 * {@code WatermarkStrategy.forBoundedOutOfOrderness(B)}), {@code B} = the spec's disorder, event
 * timestamps from the events: watermark {@code maxTs - B - 1}, the loop's formula. Unlike
 * Flink's default, which emits it periodically (every 200 ms of processing time), it is emitted
 * after every event that raises {@code maxTs}: the harness's contract. For tumbling and sliding
 * windows the results would be the same either way (no event is late), for sessions they are
 * not: a session {@code [start, end)} fires when the watermark reaches {@code end - 1}; an event
 * of its key with timestamp exactly {@code end} is not late, and extends the session if it
 * arrives before the firing but starts a new one after it. Flink advances the watermark lazily,
 * so it would merge sessions that the contract keeps apart. The same holds for parallel
 * source subtasks: the window operator's watermark is the minimum over its input channels and
 * lags behind the sequence's, by an amount that depends on thread timing.
 * <p>
 * <b>Windows.</b> {@code TumblingEventTimeWindows} / {@code SlidingEventTimeWindows} /
 * {@code EventTimeSessionWindows} (sessions whose windows touch are merged, as in the loop),
 * Flink's default event-time trigger (one firing when the watermark reaches {@code end - 1}),
 * allowed lateness 0, an {@link AggregateFunction} keeping {@code (count, sum)} per key and
 * window in the heap state backend, and a {@link ProcessWindowFunction} adding the window bounds.
 * Each result goes to a chained function that adds it to a per-subtask checksum accumulator;
 * results are never collected.
 * <p>
 * <b>Object reuse</b> is enabled: chained operators hand records over without a defensive copy.
 * That is safe here because no function keeps a reference to a record it received or emitted
 * (the aggregate copies the fields it needs into its own accumulator); the source map reuses one
 * output tuple for the same reason. Semantics are unchanged.
 */
public final class FlinkWindows {

    /** Name of the accumulator holding the results' checksum. */
    static final String RESULTS = "window-results";
    /** Name of the counter of events the window operator found late (must stay 0). */
    static final String LATE = "late-events";

    /** An event: {@code (key, timestamp, value)}. */
    static final TypeInformation<Tuple3<Long, Long, Long>> EVENT =
            Types.TUPLE(Types.LONG, Types.LONG, Types.LONG);
    /** A window result: {@code (key, start, end, count, sum)}, window {@code [start, end)}. */
    static final TypeInformation<Tuple5<Long, Long, Long, Long, Long>> RESULT =
            Types.TUPLE(Types.LONG, Types.LONG, Types.LONG, Types.LONG, Types.LONG);

    private FlinkWindows() {
    }

    /**
     * Runs workload {@code w} over {@code ev}: one source subtask, window and checksum at
     * {@code parallelism}. Returns the checksum of the window results and, as
     * {@link Measured#nanos()}, the job's net runtime ({@link JobExecutionResult#getNetRuntime()},
     * millisecond resolution): from the job's submission to the running MiniCluster to its end,
     * including deploying its tasks, excluding starting and stopping the cluster.
     *
     * @throws IllegalStateException if the job fails, or any event was late for the window operator
     */
    public static Measured run(BenchEvents ev, WindowWorkload w, int parallelism) {
        return run(ev, w, parallelism, 1);
    }

    /**
     * As {@link #run(BenchEvents, WindowWorkload, int)} with {@code sourceParallelism} source
     * subtasks, each reading one contiguous range of the events (so still bounded out of order,
     * no event late). Tumbling and sliding results are the loop's; session results may differ
     * from it (see the class comment), so the harness does not use it.
     */
    static Measured run(BenchEvents ev, WindowWorkload w, int parallelism, int sourceParallelism) {
        int n = ev.size();
        if (n == 0) {
            return new Measured(new Checksum(), 0);
        }
        long id = FlinkLocal.share(ev);
        try {
            Configuration conf = FlinkLocal.configuration(parallelism);
            conf.set(PipelineOptions.OBJECT_REUSE, true);
            StreamExecutionEnvironment env = FlinkLocal.environment(parallelism, conf);
            long bound = ev.spec.disorderMillis();

            DataStream<Tuple3<Long, Long, Long>> events = env.fromSequence(0, n - 1).name("event indices")
                    .setParallelism(sourceParallelism)
                    .map(new ReadEvent(id, bound), EVENT).name("events").setParallelism(sourceParallelism)
                    .assignTimestampsAndWatermarks(WatermarkStrategy
                            .<Tuple3<Long, Long, Long>>forGenerator(ctx -> new EveryEvent<>(Duration.ofMillis(bound)))
                            .withTimestampAssigner((e, previous) -> e.f1))
                    .name("watermarks").setParallelism(sourceParallelism);

            OutputTag<Tuple3<Long, Long, Long>> late = new OutputTag<>("late events", EVENT);
            SingleOutputStreamOperator<Tuple5<Long, Long, Long, Long, Long>> results = events
                    .keyBy(new EventKey(), Types.LONG)
                    .window(assigner(w))
                    .allowedLateness(Duration.ZERO)
                    .sideOutputLateData(late)
                    .aggregate(new CountAndSum(), new WithWindow(),
                            TypeInformation.of(CountSum.class), TypeInformation.of(CountSum.class), RESULT)
                    .name("window " + w.label());
            results.process(new ChecksumResults(), Types.LONG).name("checksum")
                    .sinkTo(new DiscardingSink<>()).name("results");
            results.getSideOutput(late).process(new CountLate(), Types.LONG).name("count late")
                    .sinkTo(new DiscardingSink<>()).name("late");

            JobExecutionResult r = FlinkLocal.execute(env, "windows " + w.label() + ", " + ev.spec);
            long lateEvents = FlinkLocal.counter(r, LATE);
            if (lateEvents > 0) {
                throw new IllegalStateException(lateEvents + " events were late for Flink's window operator");
            }
            return new Measured(FlinkLocal.checksum(r, RESULTS), r.getNetRuntime(TimeUnit.NANOSECONDS));
        } finally {
            FlinkLocal.release(id);
        }
    }

    /** Flink's window assigner for {@code w}. */
    static WindowAssigner<Object, TimeWindow> assigner(WindowWorkload w) {
        return switch (w) {
            case TUMBLING -> TumblingEventTimeWindows.of(Duration.ofMillis(w.size));
            case SLIDING -> SlidingEventTimeWindows.of(Duration.ofMillis(w.size), Duration.ofMillis(w.slide));
            case SESSION -> EventTimeSessionWindows.withGap(Duration.ofMillis(w.gap));
        };
    }

    /**
     * Flink's bounded out-of-orderness watermark generator ({@code maxTs - B - 1}), emitting its
     * watermark after every event that raises the maximum timestamp, not only periodically.
     */
    static final class EveryEvent<T> extends BoundedOutOfOrdernessWatermarks<T> {
        private long maxTs = Long.MIN_VALUE;

        EveryEvent(Duration bound) {
            super(bound);
        }

        @Override
        public void onEvent(T event, long timestamp, WatermarkOutput output) {
            super.onEvent(event, timestamp, output);
            if (timestamp > maxTs) {
                maxTs = timestamp;
                onPeriodicEmit(output);
            }
        }
    }

    /**
     * Event index → {@code (key, timestamp, value)}, read from the shared columns. Checks that
     * this subtask's events are out of order by at most {@code bound} (then none is older than
     * the subtask's watermark) and fails otherwise. Reuses its output tuple (object reuse).
     */
    static final class ReadEvent extends RichMapFunction<Long, Tuple3<Long, Long, Long>> {
        @Serial
        private static final long serialVersionUID = 1L;

        private final long eventsId;
        private final long bound;
        private transient long[] keys;
        private transient long[] timestamps;
        private transient long[] values;
        private transient long maxTs;
        private transient Tuple3<Long, Long, Long> out;

        ReadEvent(long eventsId, long bound) {
            this.eventsId = eventsId;
            this.bound = bound;
        }

        @Override
        public void open(OpenContext openContext) {
            BenchEvents ev = FlinkLocal.shared(eventsId);
            keys = ev.keys;
            timestamps = ev.timestamps;
            values = ev.values;
            maxTs = Long.MIN_VALUE;
            out = new Tuple3<>();
        }

        @Override
        public Tuple3<Long, Long, Long> map(Long index) {
            int i = (int) (long) index;
            long t = timestamps[i];
            if (t > maxTs) {
                maxTs = t;
            } else if (t < maxTs - bound) {
                throw new IllegalStateException("source subtask " + getRuntimeContext().getTaskInfo()
                        .getIndexOfThisSubtask() + ": event " + i + " (ts " + t + ") is older than max ts "
                        + maxTs + " - bound " + bound + ", it would be late");
            }
            out.f0 = keys[i];
            out.f1 = t;
            out.f2 = values[i];
            return out;
        }
    }

    static final class EventKey implements KeySelector<Tuple3<Long, Long, Long>, Long> {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        public Long getKey(Tuple3<Long, Long, Long> e) {
            return e.f0;
        }
    }

    /** Count and sum of one key's values in one window: the aggregate's mutable accumulator (a Flink POJO). */
    public static final class CountSum {
        public long count;
        public long sum;

        public CountSum() {
        }
    }

    /** Incremental count + sum; updates the accumulator in place. */
    static final class CountAndSum implements AggregateFunction<Tuple3<Long, Long, Long>, CountSum, CountSum> {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        public CountSum createAccumulator() {
            return new CountSum();
        }

        @Override
        public CountSum add(Tuple3<Long, Long, Long> e, CountSum acc) {
            acc.count++;
            acc.sum += e.f2;
            return acc;
        }

        @Override
        public CountSum getResult(CountSum acc) {
            return acc;
        }

        @Override
        public CountSum merge(CountSum a, CountSum b) {
            a.count += b.count;
            a.sum += b.sum;
            return a;
        }
    }

    /** Adds the window bounds: {@code (key, start, end, count, sum)} with {@code [start, end)}. */
    static final class WithWindow
            extends ProcessWindowFunction<CountSum, Tuple5<Long, Long, Long, Long, Long>, Long, TimeWindow> {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long key, Context ctx, Iterable<CountSum> aggregated,
                            Collector<Tuple5<Long, Long, Long, Long, Long>> out) {
            CountSum c = aggregated.iterator().next();
            TimeWindow win = ctx.window();
            out.collect(Tuple5.of(key, win.getStart(), win.getEnd(), c.count, c.sum));
        }
    }

    /** Adds every result to this subtask's checksum accumulator; emits nothing. */
    static final class ChecksumResults extends ProcessFunction<Tuple5<Long, Long, Long, Long, Long>, Long> {
        @Serial
        private static final long serialVersionUID = 1L;

        private transient FlinkLocal.ChecksumAccumulator checksum;

        @Override
        public void open(OpenContext openContext) {
            checksum = FlinkLocal.checksumAccumulator(getRuntimeContext(), RESULTS);
        }

        @Override
        public void processElement(Tuple5<Long, Long, Long, Long, Long> r, Context ctx, Collector<Long> out) {
            checksum.checksum().add(r.f0, r.f1, r.f2, r.f3, r.f4);
        }
    }

    /** Counts the events the window operator dropped as late; emits nothing. */
    static final class CountLate extends ProcessFunction<Tuple3<Long, Long, Long>, Long> {
        @Serial
        private static final long serialVersionUID = 1L;

        private transient LongCounter late;

        @Override
        public void open(OpenContext openContext) {
            late = new LongCounter();
            getRuntimeContext().addAccumulator(LATE, late);
        }

        @Override
        public void processElement(Tuple3<Long, Long, Long> e, Context ctx, Collector<Long> out) {
            late.add(1);
        }
    }
}
