package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Operators;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Demand handling of the stateful operators: the window operator and the watermark assigner ask
 * upstream for at most their prefetch beyond what they processed, emit only what downstream
 * requested (even when one watermark fires a thousand keys), and discard what they buffered when
 * cancelled, with nothing dropped.
 */
class BackpressureTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<Object> droppedNext = new CopyOnWriteArrayList<>();
    private final List<Throwable> droppedErrors = new CopyOnWriteArrayList<>();

    /** Requests the operator made upstream and elements upstream delivered to it. */
    private final AtomicLong upstreamRequested = new AtomicLong();
    private final AtomicLong upstreamDelivered = new AtomicLong();
    /** Requests downstream made to the operator and elements the operator emitted. */
    private final AtomicLong downstreamRequested = new AtomicLong();
    private final AtomicLong emitted = new AtomicLong();

    @BeforeEach
    void installDroppedHooks() {
        Hooks.onNextDropped(droppedNext::add);
        Hooks.onErrorDropped(droppedErrors::add);
    }

    @AfterEach
    void resetDroppedHooks() {
        Hooks.resetOnNextDropped();
        Hooks.resetOnErrorDropped();
    }

    private void assertNothingDropped() {
        assertThat(droppedNext).as("onNextDropped").isEmpty();
        assertThat(droppedErrors).as("onErrorDropped").isEmpty();
    }

    private static StreamRecord<String, Long> rec(String key, long ts) {
        return StreamRecord.of(key, ts, ts);
    }

    private static Function<Flux<StreamElement<String, Long>>, Flux<StreamElement<String, WindowResult<String, Long>>>>
    countPerSecond(int prefetch) {
        return WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                .settings(OperatorSettings.named("counts").withPrefetch(prefetch)
                        .withMeterRegistry(new SimpleMeterRegistry()))
                .aggregate(Aggregations.count());
    }

    /**
     * Wraps {@code op} so that the test sees its upstream requests and deliveries and its emissions
     * and downstream requests; an emission beyond the downstream demand fails the stream.
     */
    private <I, O> Flux<O> instrumented(Flux<I> source, Function<Flux<I>, Flux<O>> op) {
        return source
                .doOnRequest(upstreamRequested::addAndGet)
                .doOnNext(x -> upstreamDelivered.incrementAndGet())
                .transform(op)
                .doOnNext(x -> {
                    if (emitted.incrementAndGet() > downstreamRequested.get()) {
                        throw new AssertionError("emitted more than requested: " + emitted + " > "
                                + downstreamRequested);
                    }
                })
                .doOnRequest(n -> downstreamRequested.getAndUpdate(r -> Operators.addCap(r, n)));
    }

    private static WindowResult<String, Long> result(Object element) {
        assertThat(element).isInstanceOf(StreamRecord.class);
        Object value = ((StreamRecord<?, ?>) element).value();
        assertThat(value).isInstanceOf(WindowResult.class);
        @SuppressWarnings("unchecked")
        WindowResult<String, Long> r = (WindowResult<String, Long>) value;
        return r;
    }

    // ------------------------------------------------------------------ window operator

    @Test
    void theWindowOperatorGivesCorrectResultsWhenDownstreamRequestsOneAtATime() {
        Flux<StreamElement<String, Long>> input = Flux.just(rec("a", 100), rec("b", 200), rec("a", 300),
                Watermark.of(999), rec("a", 1100), Watermark.of(1999));
        List<StreamElement<String, WindowResult<String, Long>>> seen = new ArrayList<>();

        StepVerifier.Step<StreamElement<String, WindowResult<String, Long>>> step =
                StepVerifier.create(instrumented(input, countPerSecond(4)).doOnNext(seen::add), 0)
                        .expectSubscription();
        for (int i = 0; i < 6; i++) {
            step = step.thenRequest(1).expectNextCount(1);
        }
        step.expectComplete().verify(TIMEOUT);

        assertThat(seen).hasSize(6);
        Map<String, Long> firstWindow = new HashMap<>();
        for (StreamElement<String, WindowResult<String, Long>> e : seen.subList(0, 2)) {
            WindowResult<String, Long> r = result(e);
            assertThat(r.start()).isZero();
            assertThat(r.end()).isEqualTo(1000);
            firstWindow.put(r.key(), r.value());
        }
        assertThat(firstWindow).containsExactlyInAnyOrderEntriesOf(Map.of("a", 2L, "b", 1L));
        assertThat(seen.get(2)).isEqualTo(Watermark.of(999));
        assertThat(result(seen.get(3))).extracting(WindowResult::key, WindowResult::start, WindowResult::value)
                .containsExactly("a", 1000L, 1L);
        assertThat(seen.get(4)).isEqualTo(Watermark.of(1999));
        assertThat(seen.get(5)).isEqualTo(Watermark.end());
        assertNothingDropped();
    }

    @Test
    void aWatermarkFiringAThousandKeysEmitsOnlyWhatIsRequestedAndConsumesNoMoreInputMeanwhile() {
        int prefetch = 8;
        int keys = 1000;
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();
        Map<String, Long> firstWindow = new HashMap<>();

        StepVerifier.create(instrumented(source.flux(), countPerSecond(prefetch)).doOnNext(e -> {
                    if (e instanceof StreamRecord<?, ?> && result(e).end() == 1000) {
                        assertThat(firstWindow.put(result(e).key(), result(e).value())).as("each key once").isNull();
                    }
                }), 0)
                .expectSubscription()
                .then(() -> assertThat(upstreamRequested).as("initial request").hasValue(prefetch))
                .then(() -> {
                    for (int k = 0; k < keys; k++) {
                        source.next(rec("k" + k, 500));
                        source.assertMaxRequested(prefetch);
                    }
                })
                .then(() -> source.next(Watermark.of(999)))    // fires 1000 keys, nobody asked for any
                .then(() -> {
                    long outstanding = upstreamRequested.get() - upstreamDelivered.get();
                    for (long i = 0; i < outstanding; i++) {   // these wait in the operator's queue
                        source.next(rec("late-comer" + i, 1500));
                    }
                })
                .then(() -> {
                    assertThat(emitted).as("emitted without demand").hasValue(0);
                    assertThat(upstreamRequested.get())
                            .as("requested upstream <= processed (%d records + 1 watermark) + prefetch", keys)
                            .isLessThanOrEqualTo(keys + 1 + prefetch);
                })
                .thenRequest(10)
                .expectNextCount(10)
                .then(() -> assertThat(emitted).as("emitted after request(10)").hasValue(10))
                .then(() -> assertThat(upstreamRequested.get()).isLessThanOrEqualTo(keys + 1 + prefetch))
                .thenRequest(Long.MAX_VALUE)
                .expectNextCount(keys - 10)
                .expectNext(Watermark.of(999))
                .then(source::complete)
                .thenConsumeWhile(e -> !(e instanceof Watermark))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);

        // the firing computes results ahead of the demand: every key once, with its own count
        assertThat(firstWindow).hasSize(keys).allSatisfy((key, count) -> assertThat(count).as(key).isEqualTo(1L));
        source.assertMaxRequested(prefetch);
        assertNothingDropped();
    }

    @Test
    void aFiringWhoseAggregateFailsDeliversEveryResultComputedBeforeTheFailureThenFails() {
        int keys = 100;
        int failingCall = 20; // in the second group of results a firing computes ahead
        AtomicLong calls = new AtomicLong();
        AggregateFunction<Long, long[], Long> failing = new AggregateFunction<>() {
            @Override
            public long[] createAccumulator() {
                return new long[1];
            }

            @Override
            public long[] add(long[] acc, Long value) {
                acc[0]++;
                return acc;
            }

            @Override
            public long[] merge(long[] a, long[] b) {
                a[0] += b[0];
                return a;
            }

            @Override
            public Long result(long[] acc) {
                if (calls.incrementAndGet() == failingCall) {
                    throw new IllegalStateException("result failed");
                }
                return acc[0];
            }
        };
        List<StreamElement<String, Long>> input = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            input.add(rec("k" + k, 500));
        }
        input.add(Watermark.of(999));
        List<Object> seen = new ArrayList<>();

        StepVerifier.create(Flux.fromIterable(input)
                        .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                                .settings(OperatorSettings.named("failing").withMeterRegistry(new SimpleMeterRegistry()))
                                .aggregate(failing))
                        .doOnNext(seen::add), 0)
                .thenRequest(5)
                .expectNextCount(5)
                .thenRequest(Long.MAX_VALUE)
                .thenConsumeWhile(e -> true)
                .expectErrorMessage("result failed")
                .verify(TIMEOUT);

        assertThat(calls).as("result calls").hasValue(failingCall);
        assertThat(seen).as("every result computed before the failing one").hasSize(failingCall - 1);
    }

    @Test
    void cancellingTheWindowOperatorDiscardsQueuedInputsAndUndeliveredResults() {
        List<Object> discarded = new CopyOnWriteArrayList<>();
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();
        List<StreamRecord<String, Long>> queued = List.of(rec("c", 1500), rec("d", 1600), rec("e", 1700));

        StepVerifier.create(source.flux().transform(countPerSecond(8)).doOnDiscard(Object.class, discarded::add), 0)
                .expectSubscription()
                .then(() -> source.next(rec("a", 100), rec("b", 200), Watermark.of(999)))
                .then(() -> queued.forEach(source::next))
                .thenCancel()
                .verify(TIMEOUT);

        source.assertCancelled();
        assertThat(discarded).containsAll(queued);
        assertThat(discarded).filteredOn(e -> !queued.contains(e))
                .as("the one result produced but not requested")
                .singleElement()
                .satisfies(e -> assertThat(result(e).end()).isEqualTo(1000));
        assertNothingDropped();
    }

    @Test
    void elementsAPublisherSendsAfterCancellationAreDiscardedNotLost() {
        List<Object> discarded = new CopyOnWriteArrayList<>();
        TestPublisher<StreamElement<String, Long>> source =
                TestPublisher.createNoncompliant(TestPublisher.Violation.DEFER_CANCELLATION);
        StreamRecord<String, Long> afterCancel = rec("z", 5000);

        StepVerifier.create(source.flux().transform(countPerSecond(8)).doOnDiscard(Object.class, discarded::add), 0)
                .expectSubscription()
                .then(() -> source.next(rec("a", 100)))
                .thenCancel()
                .verify(TIMEOUT);
        source.next(afterCancel);

        assertThat(discarded).contains(afterCancel);
        assertNothingDropped();
    }

    @Test
    void anUpstreamThatIgnoresDemandFailsTheWindowOperatorWithAnOverflowAndLosesNothing() {
        List<Object> discarded = new CopyOnWriteArrayList<>();
        TestPublisher<StreamElement<String, Long>> source =
                TestPublisher.createNoncompliant(TestPublisher.Violation.REQUEST_OVERFLOW);
        int prefetch = 8;
        List<StreamRecord<String, Long>> tooMany = new ArrayList<>();
        for (int i = 0; i <= prefetch; i++) {   // prefetch fit in the queue, one more does not
            tooMany.add(rec("x" + i, 1500 + i));
        }

        StepVerifier.create(source.flux().transform(countPerSecond(prefetch))
                        .doOnDiscard(Object.class, discarded::add), 0)
                .expectSubscription()
                .then(() -> source.next(rec("a", 100), Watermark.of(999)))  // a result waits for demand
                .then(() -> tooMany.forEach(source::next))
                .expectErrorSatisfies(e -> assertThat(e)
                        .hasMessageContaining("upstream sent more than requested (prefetch " + prefetch + ")"))
                .verify(TIMEOUT);

        source.assertCancelled();
        assertThat(discarded).as("queued inputs and the input that did not fit").containsAll(tooMany);
        assertNothingDropped();
    }

    // ------------------------------------------------------------------ watermark assigner

    @Test
    void theWatermarkAssignerGivesCorrectResultsWhenDownstreamRequestsOneAtATime() {
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();

        StepVerifier.create(instrumented(source.flux(),
                        WatermarkStrategy.<String, Long>forMonotonousTimestamps().assign()), 0)
                .expectSubscription()
                .then(() -> source.next(rec("a", 10), rec("a", 20), rec("a", 20)))
                .then(source::complete)
                .thenRequest(1).expectNext(rec("a", 10))
                .thenRequest(1).expectNext(Watermark.of(9))
                .thenRequest(1).expectNext(rec("a", 20))
                .thenRequest(1).expectNext(Watermark.of(19))
                .thenRequest(1).expectNext(rec("a", 20))
                .thenRequest(1).expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
        assertNothingDropped();
    }

    @Test
    void theWatermarkAssignerRequestsAtMostItsPrefetchAheadAndEmitsOnlyWhatIsRequested() {
        int prefetch = 256;
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();

        StepVerifier.create(instrumented(source.flux(),
                        WatermarkStrategy.<String, Long>forMonotonousTimestamps().assign()), 0)
                .expectSubscription()
                .then(() -> assertThat(upstreamRequested).hasValue(prefetch))
                .then(() -> {
                    for (int i = 1; i <= prefetch; i++) {   // the first is processed, 255 wait in the queue
                        source.next(rec("a", i));
                    }
                })
                .then(() -> {
                    assertThat(upstreamRequested).as("no request while nothing was consumed").hasValue(prefetch);
                    source.assertMaxRequested(0);
                })
                .thenRequest(10)
                .expectNextCount(10)
                .then(() -> assertThat(emitted).hasValue(10))
                .then(() -> assertThat(upstreamRequested).as("6 records processed, below the replenish limit")
                        .hasValue(prefetch))
                .thenRequest(Long.MAX_VALUE)
                .expectNextCount(2L * prefetch - 10)
                .then(() -> source.assertMaxRequested(prefetch))
                .then(() -> source.next(rec("a", 1000)))
                .expectNext(rec("a", 1000), Watermark.of(999))
                .then(source::complete)
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
        assertNothingDropped();
    }

    @Test
    void cancellingTheWatermarkAssignerDiscardsQueuedRecords() {
        List<Object> discarded = new CopyOnWriteArrayList<>();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();

        StepVerifier.create(source.flux().transform(WatermarkStrategy.<String, Long>forMonotonousTimestamps().assign())
                        .doOnDiscard(Object.class, discarded::add), 0)
                .expectSubscription()
                .then(() -> source.next(rec("a", 1), rec("a", 2), rec("a", 3)))
                .thenCancel()
                .verify(TIMEOUT);

        source.assertCancelled();
        // the first record and its watermark were produced but not requested; the others were queued
        assertThat(discarded).containsExactlyInAnyOrder(rec("a", 1), Watermark.of(0), rec("a", 2), rec("a", 3));
        assertNothingDropped();
    }
}
