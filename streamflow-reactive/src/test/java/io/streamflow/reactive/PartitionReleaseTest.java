package io.streamflow.reactive;

import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A source's {@link InputStatus#released(int)} marker: the watermark assigner forgets the
 * partition, so it stops holding the watermark back without any idle timeout, consumes the
 * marker, and its watermark never goes back when partitions come (back) with older records.
 */
class PartitionReleaseTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static StreamElement<String, Long> rec(int partition, long ts) {
        return StreamRecord.of("k" + partition, ts, ts, Origin.of("src", partition, ts));
    }

    private static StreamElement<String, Long> released(int partition) {
        return InputStatus.released(partition);
    }

    private static Watermark<String, Long> wm(long ts) {
        return Watermark.of(ts);
    }

    @Test
    void aReleasedPartitionStopsHoldingTheWatermarkBackAndItsMarkerIsConsumed() {
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.forMonotonousTimestamps();

        StepVerifier.create(EventStream.from(Flux.just(rec(0, 1000), rec(1, 500), rec(0, 2000), released(1), rec(0, 3000)), strategy).elements())
                .expectNext(rec(0, 1000), wm(999))
                .expectNext(rec(1, 500))          // held back by partition 1
                .expectNext(rec(0, 2000))
                .expectNext(wm(1999))             // partition 1 released: partition 0 alone, marker consumed
                .expectNext(rec(0, 3000), wm(2999))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void theWatermarkNeverGoesBackWhenAPartitionComesWithOlderRecords() {
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.forMonotonousTimestamps();

        StepVerifier.create(EventStream.from(Flux.just(rec(0, 1000), rec(1, 4000), released(0), rec(2, 100), rec(2, 5000),
                                rec(1, 6000), rec(0, 200), released(2), released(7), rec(0, 7000)), strategy).elements())
                .expectNext(rec(0, 1000), wm(999))
                .expectNext(rec(1, 4000))
                .expectNext(wm(3999))             // partition 0 released
                .expectNext(rec(2, 100))          // a new partition behind the watermark: it does not go back
                .expectNext(rec(2, 5000))         // min(3999, 4999) = 3999: nothing new
                .expectNext(rec(1, 6000), wm(4999))
                .expectNext(rec(0, 200))          // partition 0 again, afresh at 199: holds, never goes back
                .expectNext(rec(0, 7000), wm(5999)) // releasing 2 (and unknown 7) changed nothing: 199 < 4999
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void withoutIdlenessAWindowStallsUntilTheLaggingPartitionIsReleasedThenFires() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.create();
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withScheduler(vts);

        StepVerifier.withVirtualTime(() -> EventStream.from(source.flux(), strategy)
                                .window(Windows.tumbling(Duration.ofSeconds(1)))
                                .aggregate(Aggregations.<Long>count())
                                .elements()
                                .filter(e -> e.isRecord() || e instanceof InputStatus<?, ?>),
                        () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec(0, 100), rec(1, 200), rec(0, 5_000)))
                .expectNoEvent(Duration.ofHours(1)) // partition 1 holds the watermark at 199, for ever
                .then(() -> source.next(released(1)))
                .assertNext(e -> {
                    WindowResult<?, ?> w = (WindowResult<?, ?>) ((StreamRecord<?, ?>) e).value();
                    assertThat(w.key()).isEqualTo("k0");
                    assertThat(w.start()).isEqualTo(0L);
                    assertThat(w.value()).isEqualTo(1L);
                })
                .assertNext(e -> {
                    WindowResult<?, ?> w = (WindowResult<?, ?>) ((StreamRecord<?, ?>) e).value();
                    assertThat(w.key()).isEqualTo("k1");
                    assertThat(w.value()).isEqualTo(1L);
                })
                .expectNoEvent(Duration.ofMinutes(1))  // the window of 5,000 waits for its watermark
                .then(source::complete)
                .assertNext(e -> assertThat(((WindowResult<?, ?>) ((StreamRecord<?, ?>) e).value()).start())
                        .isEqualTo(5_000L))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void mergesPassAReleaseMarkerOnAndKeepTheirIdleness() {
        Flux<StreamElement<String, Long>> a = Flux.<StreamElement<String, Long>>just(wm(1000), InputStatus.idle(),
                released(3)).concatWith(Flux.never());
        Flux<StreamElement<String, Long>> b = Flux.just(wm(2000));
        StepVerifier.create(StreamOperators.merge(a, b))
                .expectNext(InputStatus.released(3))   // forwarded as it is
                .expectNext(wm(2000))                 // input a stayed idle: only input b counts
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void aReleaseMarkerNamesItsPartitionAndTheIdlenessMarkersNone() {
        InputStatus<String, Long> r = InputStatus.released(5);
        assertThat(r.isReleased()).isTrue();
        assertThat(r.isIdle()).isFalse();
        assertThat(r.partition()).isEqualTo(5);
        assertThat(r).isEqualTo(InputStatus.released(5)).isNotEqualTo(InputStatus.released(6))
                .isNotEqualTo(InputStatus.active()).hasToString("InputStatus{RELEASED 5}");
        assertThat(InputStatus.idle().isReleased()).isFalse();
        assertThat(InputStatus.active().isReleased()).isFalse();
        assertThatThrownBy(() -> InputStatus.idle().partition()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> InputStatus.released(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
