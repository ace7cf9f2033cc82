package io.streamflow.benchmarks;

import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.concurrent.Queues;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * Emit delay of window results under an open-loop load at a fixed event rate.
 * <p>
 * A producer thread sends event {@code i} at its intended time {@code i / rate} after the start,
 * computed from the start and never from the previous send, so it does not slow down when the
 * pipeline does (it only catches up, in a burst). The event's timestamp is a fixed base plus its
 * intended time in milliseconds, moved back by a uniform random disorder of up to
 * {@code disorderMillis} (the events are {@link BenchEvents} with the rate as their event-time
 * rate), keys are {@link BenchEvents#keyId ids} of {@code keys} distinct keys. The events go into
 * a unicast Reactor sink with a bounded queue, are handed to one pipeline thread and run through
 * {@link StreamFlowWindows#pipeline} there: on that thread end to end (sync), or with the
 * pipeline's one async boundary before the window operator (async). The handoff from the
 * producer to the pipeline thread exists in both modes: it is the ingest of the system.
 * <p>
 * The emit delay of a result is the processing time when it reaches the final subscriber minus
 * the intended send time of the event that released it: the first event whose watermark
 * ({@code max timestamp - B - 1}, {@code B = disorderMillis}) reached the window's maximum
 * timestamp {@code end - 1}. The watermark is a pure function of the event sequence, so that
 * event is found from the schedule, not from what the pipeline did; measuring against intended
 * times means a stalled pipeline or producer shows up as delay (no coordinated omission). The
 * delay does not contain the bound {@code B} the watermark waits by design: it is the system's
 * reaction time from the moment the releasing event was due. The producer parks while it is ahead
 * of the schedule and then sends every due event; its wake-up jitter counts as delay too.
 * <p>
 * Results released only by the end of the input (the final watermark after the last event) have
 * no releasing event and are counted separately, not recorded. Every other result's delay is
 * recorded in an HdrHistogram in microseconds with 3 significant digits.
 */
public final class LatencyRun {

    /** Seed of the event sequence. */
    static final long SEED = 42;

    /** How long the producer waits before it retries when the sink's queue is full. */
    private static final long OVERFLOW_BACKOFF_NANOS = 50_000;

    private LatencyRun() {
    }

    /**
     * The figures of one run. Delays are in microseconds.
     *
     * @param workload         the window workload
     * @param keys             distinct keys
     * @param disorderMillis   out-of-orderness of the events and the watermark bound
     * @param eventsPerSecond  the intended send rate
     * @param duration         the measured part of the schedule
     * @param async            whether the pipeline had its async boundary
     * @param events           events sent (warm-up included)
     * @param count            results whose delay was recorded (the histogram's count)
     * @param warmupResults    results released during the warm-up (not recorded)
     * @param flushedResults   results released only by the end of the input (not recorded)
     * @param p50Micros        median emit delay
     * @param p99Micros        99th percentile
     * @param p999Micros       99.9th percentile
     * @param maxMicros        largest delay
     * @param meanMicros       mean delay
     * @param maxSendLagMicros how far behind its schedule the producer fell at worst (send time - intended time),
     *                         over the events after the warm-up
     * @param queueFullRetries how often the sink's queue was full and the producer had to retry
     * @param histogram        the delays (a copy, microseconds)
     */
    public record Result(WindowWorkload workload, int keys, long disorderMillis, long eventsPerSecond,
                         Duration duration, boolean async, long events, long count, long warmupResults,
                         long flushedResults, long p50Micros, long p99Micros, long p999Micros, long maxMicros,
                         double meanMicros, long maxSendLagMicros, long queueFullRetries, Histogram histogram) {

        /** Median emit delay in milliseconds. */
        public double p50Millis() {
            return p50Micros / 1e3;
        }

        /** 99th percentile emit delay in milliseconds. */
        public double p99Millis() {
            return p99Micros / 1e3;
        }

        /** 99.9th percentile emit delay in milliseconds. */
        public double p999Millis() {
            return p999Micros / 1e3;
        }

        /** Largest emit delay in milliseconds. */
        public double maxMillis() {
            return maxMicros / 1e3;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s, %,d keys, %d ms disorder, %,d events/s for %s, %s: %,d results,"
                            + " emit delay p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms (producer lag max"
                            + " %.3f ms, %d queue-full retries, %d warm-up and %d end-of-input results not recorded)",
                    workload.label(), keys, disorderMillis, eventsPerSecond, duration, async ? "async" : "sync",
                    count, p50Millis(), p99Millis(), p999Millis(), maxMillis(), maxSendLagMicros / 1e3,
                    queueFullRetries, warmupResults, flushedResults);
        }
    }

    /**
     * Runs the schedule for {@code duration} without a warm-up.
     *
     * @see #run(WindowWorkload, int, long, long, Duration, Duration, boolean)
     */
    public static Result run(WindowWorkload w, int keys, long disorderMillis, long eventsPerSecond,
                             Duration duration, boolean async) {
        return run(w, keys, disorderMillis, eventsPerSecond, duration, Duration.ZERO, async);
    }

    /**
     * Sends events at {@code eventsPerSecond} for {@code warmup + duration}, then completes the
     * input; records the emit delay of every result released by an event sent (intended) at or
     * after {@code warmup}.
     *
     * @param w               window workload
     * @param keys            distinct keys
     * @param disorderMillis  maximum out-of-orderness of the events, also the watermark bound
     * @param eventsPerSecond intended send rate
     * @param duration        measured part of the schedule
     * @param warmup          leading part of the schedule whose results are not recorded (JIT warm-up)
     * @param async           {@code true}: the pipeline's async boundary before the window operator
     * @return percentiles, counts and the histogram of the emit delays
     * @throws IllegalStateException if the pipeline fails
     */
    public static Result run(WindowWorkload w, int keys, long disorderMillis, long eventsPerSecond,
                             Duration duration, Duration warmup, boolean async) {
        Objects.requireNonNull(w, "workload");
        if (keys < 1 || disorderMillis < 0 || eventsPerSecond < 1 || duration.isNegative() || duration.isZero()
                || warmup.isNegative()) {
            throw new IllegalArgumentException("bad latency run: " + keys + " keys, " + disorderMillis
                    + " ms disorder, " + eventsPerSecond + " events/s, " + duration + " (warm-up " + warmup + ")");
        }
        long micros = (duration.toNanos() + warmup.toNanos()) / 1_000L;
        long total = Math.multiplyExact(micros, eventsPerSecond) / 1_000_000L;
        if (total < 1 || total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the schedule has " + total + " events");
        }
        int n = (int) total;
        long warmupNanos = warmup.toNanos();
        BenchEvents ev = BenchEvents.generate(new BenchEvents.Spec(n, keys, disorderMillis, eventsPerSecond, SEED));
        WatermarkSchedule schedule = WatermarkSchedule.of(ev.timestamps, disorderMillis);
        // the schedule's arrays (tens of MB) were just allocated in the young generation: collect
        // now, so the young collection that copies them out does not pause the measured part
        System.gc();

        Scheduler ingest = Schedulers.newSingle("latency-pipeline");
        Scheduler windowThread = async ? Schedulers.newSingle("latency-window") : null;
        Function<Flux<StreamElement<Long, Long>>, Flux<StreamElement<Long, Long>>> boundary =
                windowThread == null ? f -> f : f -> f.publishOn(windowThread);
        int capacity = (int) Math.min(1 << 22, Math.max(1 << 16, eventsPerSecond));
        Sinks.Many<StreamRecord<Long, Long>> sink = Sinks.many().unicast()
                .onBackpressureBuffer(Queues.<StreamRecord<Long, Long>>get(capacity).get());
        Histogram histogram = new Histogram(3);
        long[] unrecorded = new long[2]; // [warm-up, end of input], written by the final subscriber only
        // processing time of the schedule's start, set once the pipeline is subscribed
        AtomicLong start = new AtomicLong();
        try {
            CompletableFuture<Void> done = StreamFlowWindows
                    .pipeline(sink.asFlux().publishOn(ingest), w, disorderMillis, boundary)
                    .doOnNext(e -> {
                        if (e instanceof StreamRecord<Long, WindowResult<Long, Aggregations.CountAndSum>> r) {
                            long now = System.nanoTime();
                            int releasing = schedule.firstEventReaching(r.value().end() - 1);
                            if (releasing < 0) {
                                unrecorded[1]++;
                                return;
                            }
                            long intended = intendedNanos(releasing, eventsPerSecond);
                            if (intended < warmupNanos) {
                                unrecorded[0]++;
                                return;
                            }
                            histogram.recordValue(Math.max(0, (now - start.get() - intended) / 1_000));
                        }
                    })
                    .then()
                    .toFuture();
            start.set(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5));
            Producer producer = new Producer(ev, sink, start.get(), eventsPerSecond, warmupNanos, done);
            Thread thread = new Thread(producer, "latency-producer");
            thread.setDaemon(true);
            thread.start();
            try {
                done.get();
                thread.join();
            } catch (ExecutionException e) {
                throw new IllegalStateException("the pipeline failed: " + e.getCause(), e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } finally {
                producer.stop = true;
            }
            if (producer.failure != null) {
                throw new IllegalStateException("the producer failed: " + producer.failure, producer.failure);
            }
            // done.get() happened after the final subscriber's last write
            return new Result(w, keys, disorderMillis, eventsPerSecond, duration, async, n,
                    histogram.getTotalCount(), unrecorded[0], unrecorded[1],
                    histogram.getValueAtPercentile(50), histogram.getValueAtPercentile(99),
                    histogram.getValueAtPercentile(99.9), histogram.getMaxValue(),
                    histogram.getTotalCount() == 0 ? Double.NaN : histogram.getMean(),
                    producer.maxLagNanos / 1_000, producer.queueFullRetries, histogram.copy());
        } finally {
            ingest.dispose();
            if (windowThread != null) {
                windowThread.dispose();
            }
        }
    }

    /**
     * Runs the latency measurement alone, synchronous and then async, and prints both results.
     * Arguments (defaults in brackets): {@code workload [TUMBLING] keys [10000] disorderMillis [100]
     * eventsPerSecond [200000] seconds [10] warmupSeconds [0]}.
     */
    public static void main(String[] args) {
        WindowWorkload w = args.length > 0 ? WindowWorkload.valueOf(args[0].toUpperCase(Locale.ROOT))
                : WindowWorkload.TUMBLING;
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        long disorder = args.length > 2 ? Long.parseLong(args[2]) : 100;
        long rate = args.length > 3 ? Long.parseLong(args[3]) : 200_000;
        Duration duration = Duration.ofMillis(Math.round((args.length > 4 ? Double.parseDouble(args[4]) : 10) * 1000));
        Duration warmup = Duration.ofMillis(Math.round((args.length > 5 ? Double.parseDouble(args[5]) : 0) * 1000));
        for (boolean async : new boolean[] {false, true}) {
            System.out.println(run(w, keys, disorder, rate, duration, warmup, async));
        }
    }

    /** Intended send time of event {@code i}, in nanoseconds after the start of the schedule. */
    static long intendedNanos(long i, long eventsPerSecond) {
        // exact for i * 1e9 < 2^63, i.e. any int index
        return i * 1_000_000_000L / eventsPerSecond;
    }

    /** Sends the events on schedule, then completes the sink. */
    private static final class Producer implements Runnable {
        private final BenchEvents ev;
        private final Sinks.Many<StreamRecord<Long, Long>> sink;
        private final long start;
        private final long rate;
        private final long warmupNanos;
        private final CompletableFuture<Void> done;
        volatile boolean stop;
        volatile Throwable failure;
        volatile long maxLagNanos;
        volatile long queueFullRetries;

        Producer(BenchEvents ev, Sinks.Many<StreamRecord<Long, Long>> sink, long start, long rate, long warmupNanos,
                 CompletableFuture<Void> done) {
            this.ev = ev;
            this.sink = sink;
            this.start = start;
            this.rate = rate;
            this.warmupNanos = warmupNanos;
            this.done = done;
        }

        @Override
        public void run() {
            try {
                send();
            } catch (Throwable t) {
                failure = t;
                sink.tryEmitError(t);
            }
        }

        private void send() {
            Origin origin = Origin.of("latency", 0, 0);
            long[] keys = ev.keys;
            long[] ts = ev.timestamps;
            long[] values = ev.values;
            long maxLag = 0;
            long retries = 0;
            long now = System.nanoTime();
            for (int i = 0; i < keys.length; i++) {
                long intended = intendedNanos(i, rate);
                long due = start + intended;
                while (due - now > 0) {
                    LockSupport.parkNanos(due - now);
                    now = System.nanoTime();
                }
                StreamRecord<Long, Long> record = StreamRecord.of(keys[i], values[i], ts[i], origin);
                for (;;) {
                    Sinks.EmitResult result = sink.tryEmitNext(record);
                    if (result.isSuccess()) {
                        break;
                    }
                    if (result != Sinks.EmitResult.FAIL_OVERFLOW || stop || done.isDone()) {
                        // the pipeline is gone (it failed or was cancelled): its error is reported by run
                        maxLagNanos = maxLag;
                        queueFullRetries = retries;
                        return;
                    }
                    retries++;
                    LockSupport.parkNanos(OVERFLOW_BACKOFF_NANOS);
                    now = System.nanoTime();
                }
                if (intended >= warmupNanos) {
                    maxLag = Math.max(maxLag, now - due);
                }
            }
            maxLagNanos = maxLag;
            queueFullRetries = retries;
            sink.tryEmitComplete();
        }
    }

    /**
     * The watermark after each event of a sequence, compressed to the events that advanced it:
     * {@code watermarks[j]} is the watermark right after event {@code events[j]}, strictly
     * increasing in {@code j}.
     */
    static final class WatermarkSchedule {
        private final long[] watermarks;
        private final int[] events;

        private WatermarkSchedule(long[] watermarks, int[] events) {
            this.watermarks = watermarks;
            this.events = events;
        }

        /** The schedule of bounded out-of-orderness {@code bound}: {@code W = max timestamp - bound - 1}. */
        static WatermarkSchedule of(long[] timestamps, long bound) {
            long[] wms = new long[16];
            int[] idx = new int[16];
            int size = 0;
            long maxTs = Long.MIN_VALUE;
            long wm = Long.MIN_VALUE;
            for (int i = 0; i < timestamps.length; i++) {
                long t = timestamps[i];
                if (t > maxTs) {
                    maxTs = t;
                    long nw = t - bound - 1;
                    if (nw > wm) {
                        wm = nw;
                        if (size == wms.length) {
                            wms = Arrays.copyOf(wms, size * 2);
                            idx = Arrays.copyOf(idx, size * 2);
                        }
                        wms[size] = nw;
                        idx[size] = i;
                        size++;
                    }
                }
            }
            return new WatermarkSchedule(Arrays.copyOf(wms, size), Arrays.copyOf(idx, size));
        }

        /**
         * The index of the first event after which the watermark is at least {@code time}, or
         * {@code -1} if no event takes it there (only the end of the input does).
         */
        int firstEventReaching(long time) {
            int lo = 0;
            int hi = watermarks.length; // first j with watermarks[j] >= time lies in [lo, hi]
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (watermarks[mid] >= time) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo == watermarks.length ? -1 : events[lo];
        }
    }
}
