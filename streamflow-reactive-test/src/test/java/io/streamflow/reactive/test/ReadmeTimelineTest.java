package io.streamflow.reactive.test;

import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The timeline table of the README's concepts section, element by element. */
class ReadmeTimelineTest {

    @Test
    @SuppressWarnings("unchecked")
    void shouldProduceExactlyTheReadmeTimeline() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<StreamElement<String, WindowResult<String, Long>>> out = TestEventStream.<String, Integer>create()
                .record("k", 1, 1_000).record("k", 1, 9_000).record("k", 1, 12_500).record("k", 1, 8_000)
                .record("k", 1, 17_500).record("k", 1, 3_000)
                .records()
                .transform(WatermarkStrategy.<String, Integer>forBoundedOutOfOrderness(Duration.ofSeconds(2)).assign())
                .transform(WindowOperator.<String, Integer>of(Windows.tumbling(Duration.ofSeconds(10)))
                        .allowedLateness(Duration.ofSeconds(5))
                        .settings(OperatorSettings.named("readme").withMeterRegistry(registry))
                        .aggregate(Aggregations.count()))
                .collectList().block(Duration.ofSeconds(10));

        assertThat(out).containsExactly(
                Watermark.of(-1_001),
                Watermark.of(6_999),
                result(0, 10_000, 2, PaneInfo.Timing.ON_TIME, 0, false),
                Watermark.of(10_499),
                result(0, 10_000, 3, PaneInfo.Timing.LATE, 1, false),
                Watermark.of(15_499),
                out.get(6),
                result(10_000, 20_000, 2, PaneInfo.Timing.ON_TIME, 0, true),
                Watermark.end());
        LateRecord<?, ?> late = (LateRecord<?, ?>) out.get(6);
        assertThat(late.record().timestamp()).isEqualTo(3_000);
        assertThat(late.windowStart()).isZero();
        assertThat(late.windowEnd()).isEqualTo(10_000);
        assertThat(late.watermark()).isEqualTo(15_499);
        assertThat(registry.get("streamflow.records.late").counter().count()).isEqualTo(1.0);
    }

    private static StreamRecord<String, WindowResult<String, Long>> result(long start, long end, long count,
                                                                           PaneInfo.Timing timing, long index,
                                                                           boolean isFinal) {
        return StreamRecord.of("k", new WindowResult<>("k", start, end, count, new PaneInfo(timing, index, isFinal)),
                end - 1, io.streamflow.reactive.Origin.of("readme", 0, -1));
    }
}
