package io.streamflow.reactive;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.LiftedFlux;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * How event timestamps are taken from records and how watermarks are generated: an immutable
 * configuration, each {@code with*} method returns a copy. Apply it with {@link #assign()}.
 * <p>
 * Watermarks are generated per source partition ({@link Origin#partition()}); the stream's
 * watermark is the minimum over the partitions that are not idle, and never goes backwards.
 * A partition with no record for the idleness timeout (processing time, from the strategy's
 * {@link Scheduler}) stops holding the watermark back until it produces again; when every
 * partition is idle the assigner emits {@link InputStatus#idle()} so that merges downstream ignore
 * this input. A partition the source gives up (a Kafka partition revoked in a rebalance) stops
 * holding the watermark back at once when the source says so with
 * {@link InputStatus#released(int)}, without waiting for an idle timeout. When the input
 * completes, {@link Watermark#end()} is emitted, which fires every remaining window.
 * <p>
 * By default a watermark is emitted whenever it advances, right after the record that advanced
 * it ({@code W = maxTimestamp - B - 1} for bounded out-of-orderness {@code B}). With
 * {@link #withPeriodicEmit(Duration)} it is emitted on a processing-time timer instead, as Flink
 * does by default.
 * <h2>Timestamps that are not event times</h2>
 * Valid event timestamps lie strictly between {@link StreamRecord#NO_TIMESTAMP}
 * ({@code Long.MIN_VALUE}) and the end-of-input watermark {@link Watermark#END}
 * ({@code Long.MAX_VALUE}).
 * <ul>
 *   <li>A record whose own timestamp is {@link StreamRecord#NO_TIMESTAMP}, taken without a
 *   {@linkplain #withTimestampAssigner timestamp assigner}, fails the pipeline whatever the error
 *   policy, with a message that names {@code withTimestampAssigner}: its source carries no event
 *   time (like {@link StreamSources#fileLines}), so every one of its records would fail the same
 *   way. That is a missing configuration, not bad data; sending the whole input to the dead-letter
 *   output would only hide it.</li>
 *   <li>A timestamp of {@code Long.MAX_VALUE}, or {@code Long.MIN_VALUE} returned by a timestamp
 *   assigner, is bad data, and so is a timestamp the {@linkplain #withMaxTimestampAhead guard}
 *   rejects: the record is neither emitted nor seen by the watermark generator. Under
 *   {@link ErrorPolicy#deadLetter()} it goes to the dead-letter output as a {@link DeadLetter} with
 *   its origin and the reason, and is counted in {@code streamflow.records.dead.letter}; under
 *   {@link ErrorPolicy#fail()} (the default) the pipeline fails with the same message. It is not
 *   retried: the same timestamp fails the same way.</li>
 * </ul>
 * The event-time operators downstream (windows, joins, analytics, keyed operators with a
 * time-to-live) dead-letter such records too, and also records whose window or join range would
 * not fit in a {@code long} (timestamps within a window size of the ends). They cannot keep a bad
 * timestamp from advancing the watermark, which is made here: only the guard can.
 * <h2>Defaults</h2>
 * Timestamps are the records' own, watermarks are emitted per advancing record, no partition is
 * ever idle, there is no guard, processing time comes from {@code Schedulers.parallel()}, the error
 * policy is {@link ErrorPolicy#fail()}, and the meters are registered in the global registry as
 * operator {@code "watermarks"} of pipeline {@code "default"}.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class WatermarkStrategy<K, V> {

    /** The default timestamp: the record's own (a constant, so the assigner can tell it is in use). */
    private static final ToLongFunction<StreamRecord<?, ?>> RECORD_TIMESTAMP = StreamRecord::timestamp;

    private final Supplier<WatermarkGenerator> generator;
    private final String description;
    private final ToLongFunction<? super StreamRecord<K, V>> timestampAssigner;
    private final Duration idleTimeout;
    private final Duration periodicInterval;
    /** The guard of {@link #withMaxTimestampAhead}, or {@code null}. */
    private final Duration maxAhead;
    private final Scheduler scheduler;
    private final ErrorPolicy errorPolicy;
    private final String name;
    private final String pipeline;
    private final MeterRegistry registry;

    private WatermarkStrategy(Supplier<WatermarkGenerator> generator, String description,
                              ToLongFunction<? super StreamRecord<K, V>> timestampAssigner, Duration idleTimeout,
                              Duration periodicInterval, Duration maxAhead, Scheduler scheduler,
                              ErrorPolicy errorPolicy, String name, String pipeline, MeterRegistry registry) {
        this.generator = generator;
        this.description = description;
        this.timestampAssigner = timestampAssigner;
        this.idleTimeout = idleTimeout;
        this.periodicInterval = periodicInterval;
        this.maxAhead = maxAhead;
        this.scheduler = scheduler;
        this.errorPolicy = errorPolicy;
        this.name = name;
        this.pipeline = pipeline;
        this.registry = registry;
    }

    /**
     * Watermark {@code = max timestamp seen - maxOutOfOrderness - 1 ms}, per partition: a record up
     * to {@code maxOutOfOrderness} older than the newest one seen is still on time.
     *
     * @param <K>               key type
     * @param <V>               value type
     * @param maxOutOfOrderness how far records may be out of order, at millisecond precision;
     *                          {@link Duration#ZERO} for in-order input
     * @return a strategy with this generator and the defaults
     * @throws NullPointerException     if {@code maxOutOfOrderness} is {@code null}
     * @throws IllegalArgumentException if {@code maxOutOfOrderness} is negative
     */
    public static <K, V> WatermarkStrategy<K, V> forBoundedOutOfOrderness(Duration maxOutOfOrderness) {
        Objects.requireNonNull(maxOutOfOrderness, "maxOutOfOrderness");
        if (maxOutOfOrderness.isNegative()) {
            throw new IllegalArgumentException("maxOutOfOrderness must not be negative, was " + maxOutOfOrderness
                    + "; use Duration.ZERO for in-order input");
        }
        long b = EventTime.toMillis(maxOutOfOrderness);
        return forGenerator(() -> WatermarkGenerator.boundedOutOfOrderness(b), "boundedOutOfOrderness(" + b + "ms)");
    }

    /**
     * For timestamps that never decrease within a partition: watermark {@code = max timestamp - 1},
     * the same as {@code forBoundedOutOfOrderness(Duration.ZERO)}.
     *
     * @param <K> key type
     * @param <V> value type
     * @return a strategy with this generator and the defaults
     */
    public static <K, V> WatermarkStrategy<K, V> forMonotonousTimestamps() {
        return forGenerator(() -> WatermarkGenerator.boundedOutOfOrderness(0), "monotonousTimestamps");
    }

    /**
     * A custom generator; {@code supplier} is called once per input partition, when the partition is
     * first seen (its first record, or its restored watermark after a checkpoint), and must return a
     * new generator each time.
     *
     * @param <K>      key type
     * @param <V>      value type
     * @param supplier makes the generator of one partition
     * @return a strategy with this generator and the defaults
     * @throws NullPointerException if {@code supplier} is {@code null}
     */
    public static <K, V> WatermarkStrategy<K, V> forGenerator(Supplier<WatermarkGenerator> supplier) {
        return forGenerator(supplier, "custom");
    }

    private static <K, V> WatermarkStrategy<K, V> forGenerator(Supplier<WatermarkGenerator> supplier, String desc) {
        return new WatermarkStrategy<>(Objects.requireNonNull(supplier, "supplier"), desc, RECORD_TIMESTAMP,
                null, null, null, Schedulers.parallel(), ErrorPolicy.fail(), "watermarks", "default",
                Metrics.globalRegistry);
    }

    /**
     * Takes the event timestamp from the record with {@code assigner} instead of
     * {@link StreamRecord#timestamp()}; the emitted record carries the extracted timestamp. A record
     * whose timestamp cannot be extracted is handled by the {@linkplain #withErrorPolicy error policy}.
     *
     * @param assigner the event time of a record, in epoch milliseconds; called once per record, in
     *                 the assigner's drain loop (it must not block)
     * @return a copy with this timestamp assigner
     * @throws NullPointerException if {@code assigner} is {@code null}
     */
    public WatermarkStrategy<K, V> withTimestampAssigner(ToLongFunction<? super StreamRecord<K, V>> assigner) {
        return new WatermarkStrategy<>(generator, description, Objects.requireNonNull(assigner, "assigner"),
                idleTimeout, periodicInterval, maxAhead, scheduler, errorPolicy, name, pipeline, registry);
    }

    /**
     * Marks a partition idle after {@code timeout} of processing time without records; an idle
     * partition does not hold the watermark back until its next record. Idleness is checked on a
     * timer every half timeout, so a partition becomes idle between 1 and 1.5 timeouts after its
     * last record.
     *
     * @param timeout how long a partition may be quiet before it is idle; positive, or {@code null}
     *                for no idleness (the default)
     * @return a copy with this timeout; a timeout that is not positive fails {@link #assign()}
     */
    public WatermarkStrategy<K, V> withIdleness(Duration timeout) {
        return new WatermarkStrategy<>(generator, description, timestampAssigner, timeout, periodicInterval,
                maxAhead, scheduler, errorPolicy, name, pipeline, registry);
    }

    /**
     * Guards the watermark against timestamps absurdly far in the future, such as a timestamp in
     * microseconds or a year 2900: a record whose timestamp is more than {@code maxAhead} ahead of
     * <em>both</em> the watermark of its partition and the current processing time (of the
     * strategy's {@linkplain #withScheduler scheduler}) is rejected. It is neither emitted nor seen
     * by the watermark generator, so it cannot advance the watermark; it goes to the dead-letter
     * output or fails the pipeline, as the {@linkplain #withErrorPolicy error policy} says (see the
     * class comment).
     * <p>
     * Both references, because either alone rejects good data: in a replay or simulation that
     * runs faster than real time, event time runs ahead of the clock and the watermark keeps up
     * with it; and a partition's watermark stands still while the partition is quiet, so after a
     * quiet night its next record is far ahead of its watermark, but not of the clock. A
     * partition's first record (it has no watermark yet) is judged against processing time alone,
     * so an absurd first record cannot set the watermark either. Each partition is judged against
     * its own watermark, not the stream's (the minimum over the partitions): a lagging partition
     * does not make the records of another look too far ahead.
     * <p>
     * Choose {@code maxAhead} well above the out-of-orderness bound and the clock skew of the
     * producers: for a live source, hours or days. In tests with virtual time, set the scheduler's
     * clock near the event times ({@code VirtualTimeScheduler.advanceTimeTo}), or the first
     * records are judged ahead of it.
     *
     * @param maxAhead how far ahead of both references a timestamp may be; at least 1 ms
     * @return a copy with this guard; a guard under 1 ms fails {@link #assign()}
     * @throws NullPointerException if {@code maxAhead} is {@code null}
     */
    public WatermarkStrategy<K, V> withMaxTimestampAhead(Duration maxAhead) {
        return new WatermarkStrategy<>(generator, description, timestampAssigner, idleTimeout, periodicInterval,
                Objects.requireNonNull(maxAhead, "maxAhead"), scheduler, errorPolicy, name, pipeline, registry);
    }

    /**
     * Emits watermarks on a processing-time interval rather than after each advancing record: each
     * tick calls every partition generator's {@link WatermarkGenerator#onPeriodicEmit} and emits
     * the stream's watermark if it advanced.
     *
     * @param interval time between ticks, on the strategy's scheduler; positive, or {@code null} for
     *                 per-record emission (the default)
     * @return a copy with this interval; an interval that is not positive fails {@link #assign()}
     */
    public WatermarkStrategy<K, V> withPeriodicEmit(Duration interval) {
        return new WatermarkStrategy<>(generator, description, timestampAssigner, idleTimeout, interval, maxAhead,
                scheduler, errorPolicy, name, pipeline, registry);
    }

    /**
     * The scheduler that supplies processing time and runs timers (virtual time in tests): the
     * idleness and periodic-emit timers, the guard's clock and the watermark-lag meter. Default
     * {@code Schedulers.parallel()}.
     *
     * @param scheduler the processing-time clock
     * @return a copy with this scheduler
     * @throws NullPointerException if {@code scheduler} is {@code null}
     */
    public WatermarkStrategy<K, V> withScheduler(Scheduler scheduler) {
        return new WatermarkStrategy<>(generator, description, timestampAssigner, idleTimeout, periodicInterval,
                maxAhead, Objects.requireNonNull(scheduler, "scheduler"), errorPolicy, name, pipeline, registry);
    }

    /**
     * What to do with a record whose timestamp cannot be extracted, is not an event time, or is
     * rejected by {@link #withMaxTimestampAhead} (default: fail). A record without a timestamp and
     * without a timestamp assigner fails the pipeline whatever the policy (see the class comment).
     *
     * @param policy what to do with such a record
     * @return a copy with this policy
     * @throws NullPointerException if {@code policy} is {@code null}
     */
    public WatermarkStrategy<K, V> withErrorPolicy(ErrorPolicy policy) {
        return new WatermarkStrategy<>(generator, description, timestampAssigner, idleTimeout, periodicInterval,
                maxAhead, scheduler, Objects.requireNonNull(policy, "policy"), name, pipeline, registry);
    }

    /**
     * Operator and pipeline names used in meters and logs, and the registry for the meters
     * (defaults: {@code "default"}, {@code "watermarks"}, the global registry). The operator name
     * also names the dead letters of rejected records.
     *
     * @param pipelineName  the {@code pipeline} tag of the meters
     * @param operatorName  the {@code operator} tag of the meters
     * @param meterRegistry where the meters are registered
     * @return a copy with these names and registry
     * @throws NullPointerException if an argument is {@code null}
     */
    public WatermarkStrategy<K, V> withMetrics(String pipelineName, String operatorName, MeterRegistry meterRegistry) {
        return new WatermarkStrategy<>(generator, description, timestampAssigner, idleTimeout, periodicInterval,
                maxAhead, scheduler, errorPolicy, Objects.requireNonNull(operatorName, "operatorName"),
                Objects.requireNonNull(pipelineName, "pipelineName"),
                Objects.requireNonNull(meterRegistry, "meterRegistry"));
    }

    /**
     * Validates the configuration and returns the operator: records in, records with in-band
     * watermarks out. (A source that also emits {@link DeadLetter}s, such as
     * {@link StreamSources#fileLines(java.nio.file.Path)}, goes in with {@link EventStream#from}.)
     *
     * <p>
     * Each subscription gets its own assigner, generators and timers. It requests 256 inputs ahead;
     * on cancel those not processed yet are dropped and its timers stopped. An error from upstream
     * is passed on; when the input completes, {@link Watermark#end()} is emitted before completion.
     *
     * @return the operator, for {@code Flux.transform}
     * @throws IllegalArgumentException listing every configuration error at once
     */
    public Function<Flux<StreamRecord<K, V>>, Flux<StreamElement<K, V>>> assign() {
        Function<Flux<? extends StreamElement<K, V>>, Flux<StreamElement<K, V>>> f = assign(null);
        return f::apply;
    }

    /**
     * As {@link #assign()}, with a source that may emit dead letters besides its records (inputs it
     * could not decode): they pass through in place and are counted in
     * {@code streamflow.records.dead.letter}. With {@code checkpointing}, as the first operator of a
     * checkpointed source (it injects the barriers).
     */
    Function<Flux<? extends StreamElement<K, V>>, Flux<StreamElement<K, V>>> assign(
            io.streamflow.reactive.internal.SourceCheckpointing checkpointing) {
        List<String> errors = new ArrayList<>();
        if (idleTimeout != null && (idleTimeout.isNegative() || idleTimeout.isZero())) {
            errors.add("idleness timeout must be positive, was " + idleTimeout);
        }
        if (periodicInterval != null && (periodicInterval.isNegative() || periodicInterval.isZero())) {
            errors.add("periodic emit interval must be positive, was " + periodicInterval);
        }
        if (maxAhead != null && EventTime.toMillis(maxAhead) <= 0) {
            errors.add("max timestamp ahead must be at least 1 ms, was " + maxAhead);
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid watermark strategy: " + String.join("; ", errors));
        }
        return flux -> new LiftedFlux<StreamElement<K, V>, StreamElement<K, V>>(flux,
                actual -> new WatermarkAssigner<>(actual, this, checkpointing));
    }

    Supplier<WatermarkGenerator> generator() {
        return generator;
    }

    ToLongFunction<? super StreamRecord<K, V>> timestampAssigner() {
        return timestampAssigner;
    }

    Duration idleTimeout() {
        return idleTimeout;
    }

    Duration periodicInterval() {
        return periodicInterval;
    }

    /** The guard in milliseconds, or {@code -1} when there is none. */
    long maxAheadMillis() {
        return maxAhead == null ? -1 : EventTime.toMillis(maxAhead);
    }

    /** Whether timestamps are the records' own (no timestamp assigner). */
    boolean usesRecordTimestamps() {
        return timestampAssigner == RECORD_TIMESTAMP;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    ErrorPolicy errorPolicy() {
        return errorPolicy;
    }

    String name() {
        return name;
    }

    String pipeline() {
        return pipeline;
    }

    MeterRegistry registry() {
        return registry;
    }

    @Override
    public String toString() {
        return "WatermarkStrategy{" + description + (idleTimeout == null ? "" : ", idle=" + idleTimeout)
                + (periodicInterval == null ? ", perEvent" : ", periodic=" + periodicInterval)
                + (maxAhead == null ? "" : ", maxAhead=" + maxAhead) + '}';
    }
}
