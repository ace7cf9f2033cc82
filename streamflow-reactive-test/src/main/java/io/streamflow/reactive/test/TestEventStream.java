package io.streamflow.reactive.test;

import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a scripted event-time stream for tests: records at chosen timestamps and partitions,
 * explicit watermarks, idleness markers and pauses in processing time. The result is a
 * {@code Flux<StreamElement<K, V>>} to feed an operator under {@code StepVerifier}; pauses use
 * {@code Mono.delay}, so under {@code StepVerifier.withVirtualTime} they advance virtual time only
 * when the test calls {@code thenAwait}.
 * <pre>{@code
 * Flux<StreamElement<String, Integer>> input = TestEventStream.<String, Integer>create()
 *     .record("a", 1, 1_000)
 *     .record("a", 2, 1_500)
 *     .watermark(1_999)
 *     .advanceProcessingTime(Duration.ofSeconds(5))
 *     .record("b", 3, 2_100)
 *     .build();              // ends with Watermark.end()
 * }</pre>
 * Builders are mutable and single-use; {@link #build()} may be called more than once and each
 * result replays the same script.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class TestEventStream<K, V> {

    private final List<Step<K, V>> steps = new ArrayList<>();
    private final String source;
    private final long[] positions = new long[1024];
    private long currentWatermark = Long.MIN_VALUE;

    private sealed interface Step<K, V> permits Emit, Pause {
    }

    private record Emit<K, V>(StreamElement<K, V> element) implements Step<K, V> {
    }

    private record Pause<K, V>(Duration duration) implements Step<K, V> {
    }

    private TestEventStream(String source) {
        this.source = source;
    }

    /**
     * A script whose records come from a source named {@code "test"}.
     *
     * @param <K> key type
     * @param <V> value type
     * @return an empty script
     */
    public static <K, V> TestEventStream<K, V> create() {
        return new TestEventStream<>("test");
    }

    /**
     * A script whose records come from {@code source}: the {@link Origin#source()} of its records,
     * for tests of what operators report about origins.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param source the source name of the records
     * @return an empty script
     * @throws NullPointerException if {@code source} is {@code null}
     */
    public static <K, V> TestEventStream<K, V> create(String source) {
        return new TestEventStream<>(Objects.requireNonNull(source, "source"));
    }

    /**
     * A record in partition 0; see {@link #record(Object, Object, long, int)}.
     *
     * @param key       the key, may be {@code null}
     * @param value     the value, may be {@code null}
     * @param timestamp event time in epoch milliseconds
     * @return this script
     */
    public TestEventStream<K, V> record(K key, V value, long timestamp) {
        return record(key, value, timestamp, 0);
    }

    /**
     * A record in {@code partition}; its position is the count of earlier records of that partition.
     * Its timestamp is not checked against the watermarks of the script, so a test can script late
     * records.
     *
     * @param key       the key, may be {@code null}
     * @param value     the value, may be {@code null}
     * @param timestamp event time in epoch milliseconds
     * @param partition the source partition, in {@code [0, 1024)}
     * @return this script
     * @throws IllegalArgumentException if {@code partition} is out of range
     */
    public TestEventStream<K, V> record(K key, V value, long timestamp, int partition) {
        if (partition < 0 || partition >= positions.length) {
            throw new IllegalArgumentException("partition must be in [0, " + positions.length + "), was " + partition);
        }
        steps.add(new Emit<>(StreamRecord.of(key, value, timestamp, Origin.of(source, partition,
                positions[partition]++))));
        return this;
    }

    /**
     * Any element, as is: a barrier, a side output, or a record with an origin of its own. Not
     * checked: a watermark added here does not count for {@link #watermark(long)}'s check.
     *
     * @param element the element
     * @return this script
     * @throws NullPointerException if {@code element} is {@code null}
     */
    public TestEventStream<K, V> element(StreamElement<K, V> element) {
        steps.add(new Emit<>(Objects.requireNonNull(element, "element")));
        return this;
    }

    /**
     * Advances the watermark.
     *
     * @param timestamp the new watermark, in epoch milliseconds; equal to the last one is allowed
     * @return this script
     * @throws IllegalArgumentException if it would go backwards (a stream's watermarks never do)
     */
    public TestEventStream<K, V> watermark(long timestamp) {
        if (timestamp < currentWatermark) {
            throw new IllegalArgumentException("watermark " + timestamp + " would go back from " + currentWatermark
                    + "; watermarks never go backwards");
        }
        currentWatermark = timestamp;
        steps.add(new Emit<>(Watermark.of(timestamp)));
        return this;
    }

    /**
     * Marks this input idle (merges ignore its watermark until {@link #active()}).
     *
     * @return this script
     */
    public TestEventStream<K, V> idle() {
        steps.add(new Emit<>(InputStatus.idle()));
        return this;
    }

    /**
     * Marks this input active again.
     *
     * @return this script
     */
    public TestEventStream<K, V> active() {
        steps.add(new Emit<>(InputStatus.active()));
        return this;
    }

    /**
     * Lets {@code duration} of processing time pass (virtual under {@code withVirtualTime}) before the
     * next step, with {@code Mono.delay} on {@code Schedulers.parallel()}.
     *
     * @param duration how long to pause, not negative
     * @return this script
     * @throws NullPointerException     if {@code duration} is {@code null}
     * @throws IllegalArgumentException if {@code duration} is negative
     */
    public TestEventStream<K, V> advanceProcessingTime(Duration duration) {
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative()) {
            throw new IllegalArgumentException("processing time cannot go back: " + duration);
        }
        steps.add(new Pause<>(duration));
        return this;
    }

    /** @return the script as a stream that ends with {@link Watermark#end()} and completes */
    public Flux<StreamElement<K, V>> build() {
        return build(true);
    }

    /**
     * The script as it stands now; later steps do not change the stream.
     *
     * @param endOfInput whether the stream ends with {@link Watermark#end()} before it completes
     * @return the script as a stream; with {@code endOfInput} false it completes without a final watermark
     */
    public Flux<StreamElement<K, V>> build(boolean endOfInput) {
        List<Step<K, V>> script = List.copyOf(steps);
        Flux<StreamElement<K, V>> flux = Flux.fromIterable(script).concatMap(step -> {
            if (step instanceof Emit<K, V> e) {
                return Mono.just(e.element());
            }
            return Mono.delay(((Pause<K, V>) step).duration()).then(Mono.<StreamElement<K, V>>empty());
        }, 1);
        return endOfInput ? flux.concatWith(Mono.just(Watermark.end())) : flux;
    }

    /**
     * The records of the script as it stands now, emitted at once (pauses are left out).
     *
     * @return the scripted records only, without control elements or pauses (for a watermark assigner)
     */
    @SuppressWarnings("unchecked")
    public Flux<StreamRecord<K, V>> records() {
        List<StreamRecord<K, V>> out = new ArrayList<>();
        for (Step<K, V> s : steps) {
            if (s instanceof Emit<K, V> e && e.element() instanceof StreamRecord<?, ?> r) {
                out.add((StreamRecord<K, V>) r);
            }
        }
        return Flux.fromIterable(out);
    }
}
