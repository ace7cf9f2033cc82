package io.streamflow.benchmarks.jmh;

import io.streamflow.benchmarks.BenchEvents;
import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.StreamFlowWindows;
import io.streamflow.benchmarks.WindowLoop;
import io.streamflow.benchmarks.WindowWorkload;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One whole windowed pipeline per operation: every event of a trial's event set goes through
 * watermarks, keyed windows (count + sum) and into a {@link Checksum}, which is returned to the
 * blackhole. The score is the average time per operation, so the throughput in events per second
 * is {@code events / score}; with the gc profiler, {@code gc.alloc.rate.norm / events} is the heap
 * allocated per event.
 * <p>
 * Systems: {@value #LOOP} (the hand-written primitive loop, the allocation floor),
 * {@value #STREAMFLOW} (the StreamFlow pipeline on the calling thread) and
 * {@value #STREAMFLOW_ASYNC} (one async boundary between the watermark assigner and the window
 * operator). The async boundary's worker thread lives for the whole trial, so an operation pays
 * for the pipeline only, not for starting a thread.
 * <p>
 * The events are the harness's deterministic sequence ({@link BenchEvents}), generated once per
 * trial; the watermark's out-of-orderness bound equals their disorder, so no event is late.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class WindowBenchmark {

    /** The hand-written primitive loop. */
    public static final String LOOP = "loop";
    /** StreamFlow, one thread end to end. */
    public static final String STREAMFLOW = "streamflow";
    /** StreamFlow with one async boundary before the window operator. */
    public static final String STREAMFLOW_ASYNC = "streamflow-async";

    /** The window workload. */
    @Param({"TUMBLING", "SLIDING", "SESSION"})
    public WindowWorkload workload;

    /** Distinct keys. */
    @Param({"10000", "1000000"})
    public int keys;

    /** Maximum out-of-orderness of the events in milliseconds, also the watermark's bound. */
    @Param({"0", "100"})
    public long disorder;

    /** The system under test: {@value #LOOP}, {@value #STREAMFLOW} or {@value #STREAMFLOW_ASYNC}. */
    @Param({LOOP, STREAMFLOW, STREAMFLOW_ASYNC})
    public String system;

    /** Events per operation. */
    @Param({"1000000"})
    public int events;

    /** Events per second of event time (how densely the events fill the windows). */
    @Param({"1000000"})
    public long eventTimeRate;

    private BenchEvents ev;
    private Scheduler boundaryScheduler;
    private Function<Flux<StreamElement<Long, Long>>, Flux<StreamElement<Long, Long>>> boundary;

    /**
     * Generates the events and, for the async system, starts the boundary's worker; a StreamFlow
     * system must give the loop's checksum once before it is measured (a wrong system is not timed).
     */
    @Setup(Level.Trial)
    public void setUp() {
        ev = BenchEvents.generate(new BenchEvents.Spec(events, keys, disorder, eventTimeRate, 42));
        switch (system) {
            case LOOP, STREAMFLOW -> boundary = f -> f;
            case STREAMFLOW_ASYNC -> {
                Scheduler s = Schedulers.newSingle("jmh-window-boundary");
                boundaryScheduler = s;
                boundary = f -> f.publishOn(s);
            }
            default -> throw new IllegalArgumentException("unknown system " + system);
        }
        if (!LOOP.equals(system)) {
            Checksum expected = WindowLoop.run(ev, workload, disorder);
            Checksum actual = streamFlow(ev, workload, disorder, boundary);
            if (!actual.equals(expected)) {
                throw new IllegalStateException(system + " computed " + actual + ", the loop " + expected + " ("
                        + workload + ", " + ev.spec + ")");
            }
        }
    }

    /** Stops the boundary's worker. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (boundaryScheduler != null) {
            boundaryScheduler.dispose();
            boundaryScheduler = null;
        }
    }

    /**
     * Runs the whole pipeline over the trial's events.
     *
     * @return the results' checksum (consumed by the blackhole)
     */
    @Benchmark
    public Checksum pipeline() {
        if (LOOP.equals(system)) {
            return WindowLoop.run(ev, workload, disorder);
        }
        return streamFlow(ev, workload, disorder, boundary);
    }

    /** The StreamFlow pipeline of the harness with the given boundary, checksummed on the final subscriber. */
    static Checksum streamFlow(BenchEvents ev, WindowWorkload w, long bound,
                               Function<Flux<StreamElement<Long, Long>>, Flux<StreamElement<Long, Long>>> boundary) {
        Checksum checksum = new Checksum();
        StreamFlowWindows.pipeline(StreamFlowWindows.source(ev), w, bound, boundary)
                .doOnNext(e -> {
                    if (e instanceof StreamRecord<Long, WindowResult<Long, Aggregations.CountAndSum>> r) {
                        WindowResult<Long, Aggregations.CountAndSum> res = r.value();
                        checksum.add(res.key(), res.start(), res.end(), res.value().count(), res.value().sum());
                    }
                })
                .then()
                .block();
        return checksum;
    }
}
