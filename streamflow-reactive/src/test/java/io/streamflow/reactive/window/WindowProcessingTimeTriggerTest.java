package io.streamflow.reactive.window;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Early firings every processing-time interval, driven by a {@link VirtualTimeScheduler}: a pane
 * for every window that received records since its last pane, none for the others.
 */
class WindowProcessingTimeTriggerTest {

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final Sinks.Many<StreamElement<String, Long>> input = Sinks.many().unicast().onBackpressureBuffer();
    private final List<String> panes = new CopyOnWriteArrayList<>();
    private boolean completed;

    private Disposable start(WindowAssigner assigner, Trigger trigger) {
        return input.asFlux()
                .transform(WindowOperator.<String, Long>of(assigner).trigger(trigger)
                        .settings(OperatorSettings.named("window").withScheduler(time)
                                .withMeterRegistry(new SimpleMeterRegistry()))
                        .aggregate(Aggregations.countAndSum(v -> v)))
                .subscribe(e -> {
                    if (e instanceof StreamRecord<String, WindowResult<String, Aggregations.CountAndSum>> r) {
                        WindowResult<String, Aggregations.CountAndSum> w = r.value();
                        panes.add(w.key() + "[" + w.start() + "," + w.end() + ") n=" + w.value().count() + " sum="
                                + w.value().sum() + " " + w.pane());
                    }
                }, e -> { }, () -> completed = true);
    }

    private void record(String key, long value, long ts) {
        input.tryEmitNext(StreamRecord.of(key, value, ts)).orThrow();
    }

    private void watermark(long w) {
        input.tryEmitNext(Watermark.of(w)).orThrow();
    }

    private List<String> drainPanes() {
        List<String> l = new ArrayList<>(panes);
        panes.clear();
        return l;
    }

    @Test
    void tumblingWindowsShouldFireEarlyOnlyForWindowsThatChangedSinceTheirLastPane() {
        Disposable d = start(Windows.tumbling(Duration.ofSeconds(1)),
                Trigger.onWatermark().withEarlyFiringsEvery(Duration.ofMillis(100)));
        record("a", 1, 100);
        record("a", 2, 200);
        record("b", 4, 1_500);
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(drainPanes()).containsExactlyInAnyOrder(
                "a[0,1000) n=2 sum=3 EARLY#0", "b[1000,2000) n=1 sum=4 EARLY#0");
        time.advanceTimeBy(Duration.ofMillis(300));
        assertThat(drainPanes()).as("nothing changed: no pane").isEmpty();
        record("a", 8, 300);
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(drainPanes()).containsExactly("a[0,1000) n=3 sum=11 EARLY#1");
        watermark(999);
        assertThat(drainPanes()).containsExactly("a[0,1000) n=3 sum=11 ON_TIME#2(final)");
        record("b", 16, 1_600);
        time.advanceTimeBy(Duration.ofMillis(100));
        assertThat(drainPanes()).as("a's window is gone; b's changed").containsExactly(
                "b[1000,2000) n=2 sum=20 EARLY#1");
        input.tryEmitComplete().orThrow();
        assertThat(drainPanes()).containsExactly("b[1000,2000) n=2 sum=20 ON_TIME#2(final)");
        assertThat(completed).isTrue();
        d.dispose();
    }

    @Test
    void discardingSessionWindowsShouldFireEarlyWithWhatArrivedSinceTheLastPane() {
        Disposable d = start(Windows.session(Duration.ofMillis(100)),
                Trigger.onWatermark().withEarlyFiringsEvery(Duration.ofMillis(50)).discarding());
        record("a", 1, 1_000);
        record("a", 2, 1_050);
        time.advanceTimeBy(Duration.ofMillis(50));
        assertThat(drainPanes()).containsExactly("a[1000,1150) n=2 sum=3 EARLY#0");
        record("a", 4, 1_200); // opens [1200, 1300): a second session
        record("a", 8, 1_140); // [1140, 1240) bridges both: one session [1000, 1300)
        time.advanceTimeBy(Duration.ofMillis(50));
        assertThat(drainPanes()).containsExactly("a[1000,1300) n=2 sum=12 EARLY#1");
        time.advanceTimeBy(Duration.ofMillis(500));
        assertThat(drainPanes()).isEmpty();
        watermark(1_299);
        assertThat(drainPanes()).as("discarding and nothing new: no ON_TIME pane").isEmpty();
        input.tryEmitComplete().orThrow();
        assertThat(completed).isTrue();
        d.dispose();
    }
}
