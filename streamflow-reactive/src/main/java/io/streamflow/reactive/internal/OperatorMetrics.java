package io.streamflow.reactive.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.streamflow.reactive.StreamFlowMeters;
import reactor.core.scheduler.Scheduler;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Meters of one operator instance. Hot-path counts are kept in plain fields by the (serialized)
 * operator and added to the Micrometer counters by {@link #flush()}, which operators call on every
 * watermark, timer and termination, so a counter costs nothing per record.
 */
public final class OperatorMetrics {

    private final Counter in;
    private final Counter out;
    private final Counter late;
    private final Counter deadLetter;
    private final Counter deduplicated;
    private final Counter panes;
    private final Counter unmatched;
    private final AtomicLong watermark = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong stateEntries = new AtomicLong();

    private final MeterRegistry registry;
    private final Tags tags;
    private final Scheduler clock;

    private long pendingIn;
    private long pendingOut;
    private long pendingPanes;

    /**
     * @param clock processing time for {@code streamflow.watermark.lag} (the operator's scheduler, so
     *              that virtual time drives it in tests)
     */
    public OperatorMetrics(MeterRegistry registry, String pipeline, String operator, Scheduler clock) {
        Tags tags = Tags.of("pipeline", pipeline, "operator", operator);
        this.registry = registry;
        this.tags = tags;
        this.clock = clock;
        in = counter(registry, StreamFlowMeters.RECORDS_IN, tags);
        out = counter(registry, StreamFlowMeters.RECORDS_OUT, tags);
        late = counter(registry, StreamFlowMeters.RECORDS_LATE, tags);
        deadLetter = counter(registry, StreamFlowMeters.RECORDS_DEAD_LETTER, tags);
        deduplicated = counter(registry, StreamFlowMeters.RECORDS_DEDUPLICATED, tags);
        panes = counter(registry, StreamFlowMeters.PANES_FIRED, tags);
        unmatched = counter(registry, StreamFlowMeters.RECORDS_UNMATCHED, tags);
        Gauge.builder(StreamFlowMeters.WATERMARK.meterName(), watermark, a -> (double) a.get())
                .description(StreamFlowMeters.WATERMARK.description())
                .baseUnit(StreamFlowMeters.WATERMARK.baseUnit()).tags(tags).strongReference(false).register(registry);
        Gauge.builder(StreamFlowMeters.WATERMARK_LAG.meterName(), watermark, a -> lag(clock, a.get()))
                .description(StreamFlowMeters.WATERMARK_LAG.description())
                .baseUnit(StreamFlowMeters.WATERMARK_LAG.baseUnit()).tags(tags).strongReference(false).register(registry);
        Gauge.builder(StreamFlowMeters.STATE_ENTRIES.meterName(), stateEntries, a -> (double) a.get())
                .description(StreamFlowMeters.STATE_ENTRIES.description())
                .baseUnit(StreamFlowMeters.STATE_ENTRIES.baseUnit()).tags(tags).strongReference(false)
                .register(registry);
    }

    /**
     * Registers the watermark meters of one source partition of a watermark operator.
     *
     * @param partition the partition id (the {@code partition} tag)
     * @param state     what the watermark is read from; held weakly
     * @param watermark reads the partition's watermark from {@code state}
     * @return the meters, for {@link #remove(List)} when the partition is released
     */
    public <T> List<Meter> partitionWatermark(int partition, T state, ToLongFunction<T> watermark) {
        Tags t = tags.and("partition", Integer.toString(partition));
        return List.of(
                Gauge.builder(StreamFlowMeters.PARTITION_WATERMARK.meterName(), state,
                                s -> (double) watermark.applyAsLong(s))
                        .description(StreamFlowMeters.PARTITION_WATERMARK.description())
                        .baseUnit(StreamFlowMeters.PARTITION_WATERMARK.baseUnit()).tags(t).strongReference(false)
                        .register(registry),
                Gauge.builder(StreamFlowMeters.PARTITION_WATERMARK_LAG.meterName(), state,
                                s -> lag(clock, watermark.applyAsLong(s)))
                        .description(StreamFlowMeters.PARTITION_WATERMARK_LAG.description())
                        .baseUnit(StreamFlowMeters.PARTITION_WATERMARK_LAG.baseUnit()).tags(t).strongReference(false)
                        .register(registry));
    }

    /** @param meters meters of {@link #partitionWatermark} to remove from the registry */
    public void remove(List<Meter> meters) {
        meters.forEach(registry::remove);
    }

    /** Processing time minus the watermark; NaN before the first watermark and after the end of input. */
    static double lag(Scheduler clock, long watermark) {
        if (watermark == Long.MIN_VALUE || watermark == Long.MAX_VALUE) {
            return Double.NaN;
        }
        return (double) clock.now(TimeUnit.MILLISECONDS) - watermark;
    }

    private static Counter counter(MeterRegistry registry, StreamFlowMeters m, Tags tags) {
        return Counter.builder(m.meterName()).description(m.description()).baseUnit(m.baseUnit()).tags(tags)
                .register(registry);
    }

    public void recordIn() {
        pendingIn++;
    }

    public void recordOut() {
        pendingOut++;
    }

    public void paneFired() {
        pendingPanes++;
        pendingOut++;
    }

    /** Late records are rare: counted at once so a test or dashboard sees them immediately. */
    public void late() {
        late.increment();
    }

    public void deadLetter() {
        deadLetter.increment();
    }

    public void deduplicated() {
        deduplicated.increment();
    }

    public void unmatched() {
        unmatched.increment();
    }

    public void watermark(long w) {
        watermark.lazySet(w);
    }

    public void stateEntries(long n) {
        stateEntries.lazySet(n);
    }

    public void flush() {
        if (pendingIn != 0) {
            in.increment(pendingIn);
            pendingIn = 0;
        }
        if (pendingOut != 0) {
            out.increment(pendingOut);
            pendingOut = 0;
        }
        if (pendingPanes != 0) {
            panes.increment(pendingPanes);
            pendingPanes = 0;
        }
    }
}
