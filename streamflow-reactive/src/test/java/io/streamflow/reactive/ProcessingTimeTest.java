package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.Trigger;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Processing-time behaviour driven by {@link VirtualTimeScheduler}: early firings every interval of
 * a window operator's trigger. (Periodic watermark emission and idleness are in
 * {@link WatermarkStrategyTest}.)
 */
class ProcessingTimeTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();
    /** Every window result the operator emitted, in order. */
    private final List<WindowResult<String, Long>> results = new ArrayList<>();

    private static StreamRecord<String, Long> rec(String key, long ts) {
        return StreamRecord.of(key, ts, ts);
    }

    private Flux<StreamElement<String, WindowResult<String, Long>>> countsWithEarlyFiringsEverySecond() {
        return source.flux()
                .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                        .trigger(Trigger.onWatermark().withEarlyFiringsEvery(Duration.ofSeconds(1)))
                        .settings(OperatorSettings.named("counts").withScheduler(vts)
                                .withMeterRegistry(new SimpleMeterRegistry()))
                        .aggregate(Aggregations.count()))
                .doOnNext(e -> {
                    if (e instanceof StreamRecord<String, WindowResult<String, Long>> r) {
                        results.add(r.value());
                    }
                });
    }

    /** The last {@code n} results as (key, window start, value, timing, pane index, final), sorted by key. */
    private List<org.assertj.core.groups.Tuple> last(int n) {
        return results.subList(results.size() - n, results.size()).stream()
                .sorted(java.util.Comparator.comparing(WindowResult::key))
                .map(r -> tuple(r.key(), r.start(), r.value(), r.pane().timing(), r.pane().index(),
                        r.pane().isFinal()))
                .toList();
    }

    @Test
    void earlyFiringsEveryIntervalFireEarlyPanesForTheWindowsThatChangedOnly() {
        StepVerifier.withVirtualTime(this::countsWithEarlyFiringsEverySecond, () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec("a", 100), rec("b", 200)))
                .expectNoEvent(Duration.ofMillis(999))
                .thenAwait(Duration.ofMillis(1))                       // t = 1 s
                .expectNextCount(2)
                .then(() -> assertThat(last(2)).containsExactly(
                        tuple("a", 0L, 1L, PaneInfo.Timing.EARLY, 0L, false),
                        tuple("b", 0L, 1L, PaneInfo.Timing.EARLY, 0L, false)))
                .then(() -> source.next(rec("a", 300)))
                .thenAwait(Duration.ofSeconds(1))                      // t = 2 s: only a changed
                .expectNextCount(1)
                .then(() -> assertThat(last(1)).containsExactly(
                        tuple("a", 0L, 2L, PaneInfo.Timing.EARLY, 1L, false)))
                .expectNoEvent(Duration.ofSeconds(1))                  // t = 3 s: nothing changed
                .then(() -> source.next(Watermark.of(999)))
                .expectNextCount(2)
                .then(() -> assertThat(last(2)).containsExactly(
                        tuple("a", 0L, 2L, PaneInfo.Timing.ON_TIME, 2L, true),
                        tuple("b", 0L, 1L, PaneInfo.Timing.ON_TIME, 1L, true)))
                .expectNext(Watermark.of(999))
                .expectNoEvent(Duration.ofSeconds(2))                  // fired windows fire no early pane
                .then(() -> source.next(rec("b", 1500)))
                .expectNoEvent(Duration.ofMillis(999))
                .thenAwait(Duration.ofMillis(1))                       // t = 6 s
                .expectNextCount(1)
                .then(() -> assertThat(last(1)).containsExactly(
                        tuple("b", 1000L, 1L, PaneInfo.Timing.EARLY, 0L, false)))
                .then(source::complete)
                .expectNextCount(1)
                .then(() -> assertThat(last(1)).containsExactly(
                        tuple("b", 1000L, 1L, PaneInfo.Timing.ON_TIME, 1L, true)))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void theEarlyFiringTimerStopsWhenTheSubscriptionIsCancelled() {
        StepVerifier.withVirtualTime(this::countsWithEarlyFiringsEverySecond, () -> vts, Long.MAX_VALUE)
                .then(() -> source.next(rec("a", 100)))
                .thenAwait(Duration.ofSeconds(1))
                .expectNextCount(1)
                .thenCancel()
                .verify(TIMEOUT);
        int before = results.size();

        source.assertCancelled();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(results).as("no early pane after cancel").hasSize(before);
    }
}
