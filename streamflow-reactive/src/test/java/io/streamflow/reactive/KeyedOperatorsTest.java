package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.Aggregations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.util.LoggerUtils;
import reactor.test.util.TestLogger;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

class KeyedOperatorsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @AfterEach
    void stopCapturing() {
        LoggerUtils.disableCapture();
    }

    private static StreamRecord<String, Long> rec(String key, long value, long ts) {
        return StreamRecord.of(key, value, ts);
    }

    private OperatorSettings settings(String name) {
        return OperatorSettings.named(name).withPipeline("p").withMeterRegistry(registry);
    }

    private double stateEntriesGauge(String operator) {
        return registry.get("streamflow.state.entries").tag("operator", operator).gauge().value();
    }

    private double counter(String meter, String operator) {
        return registry.get(meter).tag("operator", operator).tag("pipeline", "p").counter().count();
    }

    // ------------------------------------------------------------------ running aggregate

    @Test
    void runningAggregateEmitsTheUpdatedResultOfTheKeyForEveryRecord() {
        StepVerifier.create(Flux.<StreamElement<String, Long>>just(rec("a", 1, 1), rec("b", 10, 2), rec("a", 2, 3),
                                Watermark.of(3), CheckpointBarrier.of(1), rec("a", 3, 5), Watermark.end())
                        .transform(KeyedOperators.<String, Long, Aggregations.LongAcc, Long>runningAggregate(
                                Aggregations.sumLong(v -> v), null, settings("sum"))))
                .expectNext(rec("a", 1, 1), rec("b", 10, 2), rec("a", 3, 3))
                .expectNext(Watermark.of(3), CheckpointBarrier.of(1))
                .expectNext(rec("a", 6, 5))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void runningAggregateStateOfAnIdleKeyExpiresOnceTheWatermarkPassesItsLastTimestampPlusTheTtl() {
        StateBackend backend = StateBackend.heap();
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();
        OperatorSettings settings = settings("sum").withStateBackend(backend);
        KeyedState<Object, Object, Object> state = backend.keyedState("sum", "running");

        StepVerifier.create(source.flux().transform(KeyedOperators.<String, Long, Aggregations.LongAcc, Long>
                        runningAggregate(Aggregations.sumLong(v -> v), Duration.ofMillis(100), settings)))
                .then(() -> source.next(rec("a", 1, 0), rec("b", 1, 50)))
                .expectNext(rec("a", 1, 0), rec("b", 1, 50))
                .then(() -> assertThat(state.size()).isEqualTo(2))
                .then(() -> source.next(Watermark.of(99)))
                .expectNext(Watermark.of(99))
                .then(() -> assertThat(state.size()).as("a expires at 0 + 100, not yet").isEqualTo(2))
                .then(() -> assertThat(stateEntriesGauge("sum")).isEqualTo(2.0))
                .then(() -> source.next(Watermark.of(100)))
                .expectNext(Watermark.of(100))
                .then(() -> assertThat(state.size()).as("a removed, b kept").isEqualTo(1))
                .then(() -> assertThat(stateEntriesGauge("sum")).isEqualTo(1.0))
                .then(() -> source.next(rec("a", 5, 120), rec("b", 5, 120)))
                .expectNext(rec("a", 5, 120))          // a starts again from an empty accumulator
                .expectNext(rec("b", 6, 120))          // b still had its state
                .then(() -> source.next(Watermark.of(219)))
                .expectNext(Watermark.of(219))
                .then(() -> assertThat(state.size()).as("b was touched at 120: kept until 220").isEqualTo(2))
                .then(() -> source.next(Watermark.of(220)))
                .expectNext(Watermark.of(220))
                .then(() -> assertThat(state.size()).isZero())
                .then(() -> assertThat(stateEntriesGauge("sum")).isZero())
                .then(source::complete)
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void runningAggregateWithoutTtlKeepsEveryKey() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> state = backend.keyedState("sum", "running");
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();

        StepVerifier.create(source.flux().transform(KeyedOperators.<String, Long, Aggregations.LongAcc, Long>
                        runningAggregate(Aggregations.sumLong(v -> v), null, settings("sum").withStateBackend(backend))))
                .then(() -> source.next(rec("a", 1, 0), rec("b", 1, 50), Watermark.of(1_000_000)))
                .expectNextCount(3)
                .then(() -> assertThat(state.size()).isEqualTo(2))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void runningAggregateSendsARecordWhoseAggregateThrowsToTheDeadLetterOutputWithThatPolicy() {
        AggregateFunction<Long, long[], Long> failingOnNegative = new AggregateFunction<>() {
            public long[] createAccumulator() {
                return new long[1];
            }

            public long[] add(long[] acc, Long v) {
                if (v < 0) {
                    throw new IllegalArgumentException("negative amount " + v);
                }
                acc[0] += v;
                return acc;
            }

            public long[] merge(long[] a, long[] b) {
                a[0] += b[0];
                return a;
            }

            public Long result(long[] acc) {
                return acc[0];
            }
        };

        StepVerifier.create(Flux.<StreamElement<String, Long>>just(rec("a", 1, 1), rec("a", -1, 2), rec("a", 2, 3))
                        .transform(KeyedOperators.runningAggregate(failingOnNegative, null,
                                settings("sum").withErrorPolicy(ErrorPolicy.deadLetter()))))
                .expectNext(rec("a", 1, 1))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
                    assertThat(d.input()).isEqualTo(rec("a", -1, 2));
                    assertThat(d.error()).hasMessage("negative amount -1");
                }))
                .expectNext(rec("a", 3, 3))
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(counter("streamflow.records.dead.letter", "sum")).isEqualTo(1.0);
    }

    @Test
    void runningAggregateCallsAFlakyAggregateAgainWithTheRetryPolicy() {
        AtomicInteger calls = new AtomicInteger();
        AggregateFunction<Long, long[], Long> flaky = new AggregateFunction<>() {
            public long[] createAccumulator() {
                return new long[1];
            }

            public long[] add(long[] acc, Long v) {
                if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("flaky");
                }
                acc[0] += v;
                return acc;
            }

            public long[] merge(long[] a, long[] b) {
                return a;
            }

            public Long result(long[] acc) {
                return acc[0];
            }
        };

        StepVerifier.create(Flux.<StreamElement<String, Long>>just(rec("a", 4, 1))
                        .transform(KeyedOperators.runningAggregate(flaky, null,
                                settings("sum").withErrorPolicy(ErrorPolicy.retryThenDeadLetter(1)))))
                .expectNext(rec("a", 4, 1))
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(calls).hasValue(2);
    }

    // ------------------------------------------------------------------ deduplicate

    @Test
    void deduplicateDropsADuplicateWithinTheTtlAndCountsIt() {
        StepVerifier.create(Flux.<StreamElement<String, Long>>just(rec("k", 1, 0), rec("k", 1, 50), rec("k", 2, 60),
                                Watermark.of(99), rec("k", 1, 90), Watermark.end())
                        .transform(KeyedOperators.<String, Long, Long>deduplicate(StreamRecord::value,
                                Duration.ofMillis(100), settings("dedup"))))
                .expectNext(rec("k", 1, 0), rec("k", 2, 60), Watermark.of(99), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(counter("streamflow.records.deduplicated", "dedup")).isEqualTo(2.0);
    }

    @Test
    void deduplicateLetsAnIdThroughAgainAfterItExpired() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> seen = backend.keyedState("dedup", "seen");
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();

        StepVerifier.create(source.flux().transform(KeyedOperators.<String, Long, Long>deduplicate(
                        StreamRecord::value, Duration.ofMillis(100), settings("dedup").withStateBackend(backend))))
                .then(() -> source.next(rec("k", 1, 0), Watermark.of(100)))
                .expectNext(rec("k", 1, 0), Watermark.of(100))
                .then(() -> assertThat(seen.size()).as("id 1 expired at 0 + 100").isZero())
                .then(() -> source.next(rec("k", 1, 150), rec("k", 1, 160)))
                .expectNext(rec("k", 1, 150))
                .then(source::complete)
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(counter("streamflow.records.deduplicated", "dedup")).isEqualTo(1.0);
    }

    @Test
    void deduplicateSendsARecordTooOldToCheckToTheLateOutputAndCountsAndLogsIt() {
        TestLogger log = new TestLogger(false);
        LoggerUtils.enableCaptureWith(log, false);
        LateRecordLogging.assumeCapturable("io.streamflow.reactive.DeduplicateSubscriber");

        StreamRecord<String, Long> tooOld = StreamRecord.of("k", 7L, 40L, Origin.of("orders", 3, 1234));
        StepVerifier.create(Flux.<StreamElement<String, Long>>just(rec("k", 1, 100), Watermark.of(140), tooOld)
                        .transform(KeyedOperators.<String, Long, Long>deduplicate(StreamRecord::value,
                                Duration.ofMillis(100), settings("dedup"))))
                .expectNext(rec("k", 1, 100), Watermark.of(140))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(LateRecord.class, late -> {
                    assertThat(late.record()).isEqualTo(tooOld);
                    assertThat(late.operator()).isEqualTo("dedup");
                    assertThat(late.watermark()).isEqualTo(140);
                    assertThat(late.windowStart()).isEqualTo(40);
                    assertThat(late.windowEnd()).isEqualTo(140);
                }))
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(counter("streamflow.records.late", "dedup")).isEqualTo(1.0);
        assertThat(log.getOutContent())
                .contains("[DEBUG]")
                .contains("late output")
                .contains("operator=dedup")
                .contains("ts=40")
                .contains("watermark=140")
                .contains("orders[3]@1234");
    }

    @Test
    void deduplicateAppliesTheErrorPolicyToAThrowingIdFunction() {
        AtomicInteger calls = new AtomicInteger();
        Function<StreamRecord<String, Long>, Long> idFailingOnce = r -> {
            if (r.value() == 2 && calls.incrementAndGet() == 1) {
                throw new IllegalStateException("id lookup failed");
            }
            if (r.value() < 0) {
                throw new IllegalArgumentException("no id in " + r.value());
            }
            return r.value();
        };

        StepVerifier.create(Flux.<StreamElement<String, Long>>just(rec("k", 1, 0), rec("k", -1, 1), rec("k", 2, 2))
                        .transform(KeyedOperators.deduplicate(idFailingOnce, Duration.ofMillis(100),
                                settings("dedup").withErrorPolicy(ErrorPolicy.retryThenDeadLetter(1)))))
                .expectNext(rec("k", 1, 0))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
                    assertThat(d.input()).isEqualTo(rec("k", -1, 1));
                    assertThat(d.error()).hasMessage("no id in -1");
                }))
                .expectNext(rec("k", 2, 2))          // succeeded when called again
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(counter("streamflow.records.dead.letter", "dedup")).isEqualTo(1.0);
    }

    @Test
    void aKeyArrivingFromTwoSourcePartitionsFailsWithAnExplanation() {
        StepVerifier.create(Flux.<StreamElement<String, Long>>just(
                                StreamRecord.of("a", 1L, 1L, Origin.of("t", 0, 0)),
                                StreamRecord.of("a", 1L, 2L, Origin.of("t", 1, 0)))
                        .transform(KeyedOperators.<String, Long, Aggregations.LongAcc, Long>runningAggregate(
                                Aggregations.sumLong(v -> v), null, settings("sum"))))
                .expectNextCount(1)
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("more than one source partition")
                        .hasMessageContaining("withShardBySourcePartition(false)"))
                .verify(TIMEOUT);
    }

    @Test
    void aZeroTtlIsRejected() {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> KeyedOperators.<String, Long, Long>deduplicate(StreamRecord::value, Duration.ZERO,
                        settings("dedup")))
                .withMessageContaining("time-to-live must be at least 1 ms");
    }
}
