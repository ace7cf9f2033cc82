package io.streamflow.reactive.test;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.Trigger;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestEventStreamTest {

    @SuppressWarnings("unchecked")
    private static WindowResult<String, Long> result(StreamElement<String, WindowResult<String, Long>> e) {
        assertThat(e).isInstanceOf(StreamRecord.class);
        return ((StreamRecord<String, WindowResult<String, Long>>) e).value();
    }

    @Test
    void shouldDriveWatermarksAndProcessingTimeFromTheScript() {
        StepVerifier.withVirtualTime(() -> {
                    VirtualTimeScheduler vts = VirtualTimeScheduler.get();
                    return TestEventStream.<String, Integer>create()
                            .record("a", 1, 1_000)
                            .record("a", 2, 1_500)
                            .advanceProcessingTime(Duration.ofSeconds(10))
                            .record("a", 3, 1_700)
                            .watermark(1_999)
                            .build()
                            .transform(WindowOperator.<String, Integer>of(Windows.tumbling(Duration.ofSeconds(1)))
                                    .trigger(Trigger.onWatermark().withEarlyFiringsEvery(Duration.ofSeconds(5)))
                                    .settings(OperatorSettings.named("counts").withScheduler(vts))
                                    .aggregate(Aggregations.count()));
                })
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(5))
                .assertNext(e -> {
                    WindowResult<String, Long> r = result(e);
                    assertThat(r.value()).isEqualTo(2L);
                    assertThat(r.pane().timing()).isEqualTo(PaneInfo.Timing.EARLY);
                })
                .thenAwait(Duration.ofSeconds(5))
                .assertNext(e -> {
                    WindowResult<String, Long> r = result(e);
                    assertThat(r.value()).isEqualTo(3L);
                    assertThat(r.pane()).isEqualTo(new PaneInfo(PaneInfo.Timing.ON_TIME, 1, true));
                })
                .expectNext(Watermark.of(1_999))
                .expectNext(Watermark.end())
                .verifyComplete();
    }

    @Test
    void shouldRefuseAWatermarkThatGoesBack() {
        TestEventStream<String, Integer> s = TestEventStream.<String, Integer>create().watermark(10);
        assertThatThrownBy(() -> s.watermark(5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("never go backwards");
    }

    @Test
    void shouldNumberPositionsPerPartition() {
        StepVerifier.create(TestEventStream.<String, Integer>create("src")
                        .record("a", 1, 1, 0).record("b", 2, 2, 1).record("c", 3, 3, 0).records())
                .assertNext(r -> assertThat(r.origin().position()).isZero())
                .assertNext(r -> assertThat(r.origin().partition()).isEqualTo(1))
                .assertNext(r -> assertThat(r.origin().position()).isEqualTo(1))
                .verifyComplete();
    }
}
