package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class WatermarkStrategyTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static StreamRecord<String, Long> rec(long ts) {
        return StreamRecord.of("k", ts, ts);
    }

    private static StreamRecord<String, Long> rec(int partition, long ts) {
        return StreamRecord.of("k" + partition, ts, ts, Origin.of("src", partition, ts));
    }

    private static Watermark<String, Long> wm(long ts) {
        return Watermark.of(ts);
    }

    /** Remembers the largest timestamp; emits {@code max - 10} on every periodic tick and counts the ticks. */
    private static final class MaxMinusTen implements WatermarkGenerator {
        final AtomicInteger periodicCalls;
        long max = Long.MIN_VALUE;

        MaxMinusTen(AtomicInteger periodicCalls) {
            this.periodicCalls = periodicCalls;
        }

        @Override
        public void onEvent(long timestamp, WatermarkOutput output) {
            max = Math.max(max, timestamp);
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            periodicCalls.incrementAndGet();
            if (max != Long.MIN_VALUE) {
                output.emitWatermark(max - 10);
            }
        }
    }

    // ------------------------------------------------------------------ per-event generators

    @Test
    void boundedOutOfOrdernessEmitsMaxMinusBoundMinusOneOnlyWhenTheWatermarkAdvances() {
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(100));

        StepVerifier.create(Flux.just(rec(1000), rec(1050), rec(990), rec(1050), rec(1200)).transform(strategy.assign()))
                .expectNext(rec(1000), wm(899))
                .expectNext(rec(1050), wm(949))
                .expectNext(rec(990))
                .expectNext(rec(1050))
                .expectNext(rec(1200), wm(1099))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void monotonousTimestampsGiveAWatermarkOneBelowTheLatestTimestamp() {
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.forMonotonousTimestamps();

        StepVerifier.create(Flux.just(rec(1), rec(2), rec(2), rec(3)).transform(strategy.assign()))
                .expectNext(rec(1), wm(0), rec(2), wm(1), rec(2), rec(3), wm(2), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void theEndOfInputEmitsTheEndWatermarkEvenWithoutRecords() {
        StepVerifier.create(Flux.<StreamRecord<String, Long>>empty()
                        .transform(WatermarkStrategy.<String, Long>forMonotonousTimestamps().assign()))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void theWatermarkIsTheMinimumOverThePartitions() {
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.forMonotonousTimestamps();

        StepVerifier.create(Flux.just(rec(0, 1000), rec(1, 500), rec(0, 2000), rec(1, 1500), rec(1, 3000))
                        .transform(strategy.assign()))
                .expectNext(rec(0, 1000), wm(999))
                .expectNext(rec(1, 500))          // partition 1 is behind: 499 < 999, never backwards
                .expectNext(rec(0, 2000))         // min(1999, 499) = 499: held back by partition 1
                .expectNext(rec(1, 1500), wm(1499))
                .expectNext(rec(1, 3000), wm(1999))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void aTimestampAssignerReplacesTheRecordTimestamp() {
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withTimestampAssigner(r -> r.value() * 10);

        StepVerifier.create(Flux.just(StreamRecord.of("k", 5L, 0L)).transform(strategy.assign()))
                .expectNext(StreamRecord.of("k", 5L, 50L), wm(49), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    // ------------------------------------------------------------------ periodic emit

    @Test
    void aCustomGeneratorWithPeriodicEmitEmitsOnlyOnTheProcessingTimeTimer() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        AtomicInteger periodicCalls = new AtomicInteger();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forGenerator(
                        () -> new MaxMinusTen(periodicCalls))
                .withPeriodicEmit(Duration.ofMillis(200))
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> source.flux().transform(strategy.assign()), () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec(1000)))
                .expectNext(rec(1000))
                .expectNoEvent(Duration.ofMillis(199))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(wm(990))
                .then(() -> source.next(rec(1100), rec(1050)))
                .expectNext(rec(1100), rec(1050))
                .expectNoEvent(Duration.ofMillis(199))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(wm(1090))
                .expectNoEvent(Duration.ofMillis(400))  // no advance, no watermark
                .then(() -> assertThat(periodicCalls).as("ticks at 200, 400, 600, 800 ms").hasValue(4))
                .then(source::complete)
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void periodicEmitKeepsItsIntervalWhenIdlenessIsAlsoConfigured() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        AtomicInteger periodicCalls = new AtomicInteger();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forGenerator(
                        () -> new MaxMinusTen(periodicCalls))
                .withPeriodicEmit(Duration.ofSeconds(1))
                .withIdleness(Duration.ofMillis(1500))
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> source.flux().transform(strategy.assign()), () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec(1000)))
                .expectNext(rec(1000))
                .expectNoEvent(Duration.ofMillis(999))
                .then(() -> assertThat(periodicCalls).as("periodic emits before 1 s").hasValue(0))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(wm(990))
                .expectNoEvent(Duration.ofMillis(499))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(InputStatus.idle())
                .thenAwait(Duration.ofMillis(1500))
                .then(() -> assertThat(periodicCalls).as("periodic emits in 3 s at a 1 s interval").hasValue(3))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void timersStopWhenTheSubscriptionIsCancelled() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        AtomicInteger periodicCalls = new AtomicInteger();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forGenerator(
                        () -> new MaxMinusTen(periodicCalls))
                .withPeriodicEmit(Duration.ofMillis(300))
                .withIdleness(Duration.ofSeconds(1))
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> source.flux().transform(strategy.assign()), () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec(0, 100)))
                .expectNext(rec(0, 100))
                .thenAwait(Duration.ofMillis(300))
                .expectNext(wm(90))
                .thenCancel()
                .verify(TIMEOUT);

        source.assertCancelled();
        int before = periodicCalls.get();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(periodicCalls).as("periodic emits after cancel").hasValue(before);
    }

    // ------------------------------------------------------------------ idleness

    @Test
    void anIdlePartitionStopsHoldingTheWatermarkBackUntilItProducesAgain() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withIdleness(Duration.ofSeconds(1))
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> source.flux().transform(strategy.assign()), () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec(0, 1000), rec(1, 1000)))
                .expectNext(rec(0, 1000), wm(999), rec(1, 1000))
                .expectNoEvent(Duration.ofMillis(400))
                .then(() -> source.next(rec(0, 2000)))
                .expectNext(rec(0, 2000))                    // partition 1 still holds it at 999
                .expectNoEvent(Duration.ofMillis(400))
                .then(() -> source.next(rec(0, 3000)))
                .expectNext(rec(0, 3000))
                .expectNoEvent(Duration.ofMillis(199))       // t = 999: partition 1 not yet idle
                .thenAwait(Duration.ofMillis(1))             // t = 1000: partition 1 idle for 1 s
                .expectNext(wm(2999))
                .then(() -> source.next(rec(1, 1500)))       // back, but behind: never backwards
                .expectNext(rec(1, 1500))
                .then(() -> source.next(rec(1, 5000)))
                .expectNext(rec(1, 5000))                    // min(2999, 4999) did not advance
                .then(() -> source.next(rec(0, 6000)))
                .expectNext(rec(0, 6000), wm(4999))          // partition 1 holds it back again
                .then(source::complete)
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void whenEveryPartitionIsIdleTheAssignerEmitsIdleAndThenActiveBeforeTheNextRecord() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withIdleness(Duration.ofSeconds(1))
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> source.flux().transform(strategy.assign()), () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec(0, 1000), rec(1, 1200)))
                .expectNext(rec(0, 1000), wm(999), rec(1, 1200))
                .expectNoEvent(Duration.ofMillis(999))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(InputStatus.idle())
                .expectNoEvent(Duration.ofSeconds(5))        // idle is announced once
                .then(() -> source.next(rec(0, 2000)))
                .expectNext(InputStatus.active(), rec(0, 2000), wm(1999)) // partition 1 is still idle
                .then(() -> source.next(rec(1, 3000)))
                .expectNext(rec(1, 3000))                    // min(1999, 2999): no advance
                .then(source::complete)
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void anInputThatNeverProducesARecordBecomesIdleAfterTheTimeout() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withIdleness(Duration.ofSeconds(1))
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> source.flux().transform(strategy.assign()), () -> vts, Long.MAX_VALUE)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(999))
                .thenAwait(Duration.ofMillis(1))
                .expectNext(InputStatus.idle())
                .then(() -> source.next(rec(0, 100)))
                .expectNext(InputStatus.active(), rec(0, 100), wm(99))
                .then(source::complete)
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void idlenessTimersStopWhenTheSubscriptionIsCancelled() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withIdleness(Duration.ofSeconds(1))
                .withPeriodicEmit(Duration.ofMillis(300))
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> source.flux().transform(strategy.assign()), () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec(0, 100)))
                .expectNext(rec(0, 100))
                .thenCancel()
                .verify(TIMEOUT);

        source.assertCancelled();
        assertThat(vts.getScheduledTaskCount()).as("scheduled tasks ever").isGreaterThan(0);
        vts.advanceTimeBy(Duration.ofSeconds(10)); // nothing must run or throw after cancel
    }

    // ------------------------------------------------------------------ bad timestamps

    @Test
    void aThrowingTimestampAssignerFailsTheStreamByDefault() {
        TestPublisher<StreamRecord<String, Long>> source = TestPublisher.create();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withTimestampAssigner(r -> {
                    if (r.value() < 0) {
                        throw new IllegalStateException("no timestamp field");
                    }
                    return r.value();
                });

        StepVerifier.create(source.flux().transform(strategy.assign()))
                .then(() -> source.next(StreamRecord.of("k", 10L, 0L), StreamRecord.of("k", -1L, 0L)))
                .expectNext(StreamRecord.of("k", 10L, 10L), wm(9))
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("cannot extract the event timestamp")
                        .hasRootCauseInstanceOf(IllegalStateException.class)
                        .hasRootCauseMessage("no timestamp field"))
                .verify(TIMEOUT);
        source.assertCancelled();
    }

    @Test
    void aThrowingTimestampAssignerSendsTheRecordToTheDeadLetterOutputWithTheDeadLetterPolicy() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withTimestampAssigner(r -> {
                    if (r.value() < 0) {
                        throw new IllegalStateException("no timestamp field");
                    }
                    return r.value();
                })
                .withErrorPolicy(ErrorPolicy.deadLetter())
                .withMetrics("p", "assign", registry);
        StreamRecord<String, Long> bad = StreamRecord.of("k", -1L, 0L, Origin.of("topic", 0, 42));

        StepVerifier.create(Flux.just(StreamRecord.of("k", 10L, 0L), bad, StreamRecord.of("k", 20L, 0L))
                        .transform(strategy.assign()))
                .expectNext(StreamRecord.of("k", 10L, 10L), wm(9))
                .assertNext(e -> {
                    assertThat(e).isInstanceOf(DeadLetter.class);
                    DeadLetter<?, ?> d = (DeadLetter<?, ?>) e;
                    assertThat(d.input()).isEqualTo(bad);
                    assertThat(d.origin()).isEqualTo(Origin.of("topic", 0, 42));
                    assertThat(d.operator()).isEqualTo("assign");
                    assertThat(d.error()).isInstanceOf(IllegalStateException.class).hasMessage("no timestamp field");
                })
                .expectNext(StreamRecord.of("k", 20L, 20L), wm(19), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(registry.get("streamflow.records.dead.letter").tag("operator", "assign").tag("pipeline", "p")
                .counter().count()).isEqualTo(1.0);
    }

    @Test
    void aFlakyTimestampAssignerIsCalledAgainWithTheRetryPolicy() {
        AtomicInteger calls = new AtomicInteger();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withTimestampAssigner(r -> {
                    if (calls.incrementAndGet() < 3) {
                        throw new IllegalStateException("flaky");
                    }
                    return r.value();
                })
                .withErrorPolicy(ErrorPolicy.retryThenDeadLetter(2))
                .withMetrics("p", "assign", new SimpleMeterRegistry());

        StepVerifier.create(Flux.just(StreamRecord.of("k", 10L, 0L)).transform(strategy.assign()))
                .expectNext(StreamRecord.of("k", 10L, 10L), wm(9), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(calls).hasValue(3);
    }
}
