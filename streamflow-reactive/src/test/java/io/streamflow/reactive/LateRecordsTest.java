package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.util.LoggerUtils;
import reactor.test.util.TestLogger;

import java.time.Duration;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** Late data of the window operator: counted, logged and sent to the late-data output, never dropped silently. */
class LateRecordsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final String WINDOW_LOGGER_CLASS = "io.streamflow.reactive.window.AbstractWindowSubscriber";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @AfterEach
    void stopCapturing() {
        LoggerUtils.disableCapture();
    }

    private Function<Flux<StreamElement<String, Long>>, Flux<StreamElement<String, WindowResult<String, Long>>>>
    countsPerSecond(Duration allowedLateness) {
        return WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                .allowedLateness(allowedLateness)
                .settings(OperatorSettings.named("counts").withPipeline("p").withMeterRegistry(registry))
                .aggregate(Aggregations.count());
    }

    private double lateCount() {
        return registry.get("streamflow.records.late").tag("operator", "counts").tag("pipeline", "p").counter()
                .count();
    }

    private static StreamRecord<String, Long> rec(long ts, long position) {
        return StreamRecord.of("a", ts, ts, Origin.of("clicks", 2, position));
    }

    @Test
    void aRecordForAPurgedWindowGoesToTheLateOutputIsCountedAndIsLoggedAtDebug() {
        TestLogger log = new TestLogger(false);
        LoggerUtils.enableCaptureWith(log, false);
        LateRecordLogging.assumeCapturable(WINDOW_LOGGER_CLASS);
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();
        StreamRecord<String, Long> late = rec(600, 78);

        StepVerifier.create(source.flux().transform(countsPerSecond(Duration.ZERO)))
                .then(() -> source.next(rec(500, 77), Watermark.of(999)))
                .assertNext(e -> assertThat(e.isRecord()).isTrue())
                .expectNext(Watermark.of(999))
                .then(() -> assertThat(lateCount()).isZero())
                .then(() -> assertThat(log.getOutContent()).doesNotContain("late record"))
                .then(() -> source.next(late))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(LateRecord.class, l -> {
                    assertThat(l.record()).isEqualTo(late);
                    assertThat(l.operator()).isEqualTo("counts");
                    assertThat(l.windowStart()).isZero();
                    assertThat(l.windowEnd()).isEqualTo(1000);
                    assertThat(l.watermark()).isEqualTo(999);
                }))
                .then(() -> assertThat(lateCount()).as("counted at once").isEqualTo(1.0))
                .then(source::complete)
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(log.getOutContent())
                .contains("[DEBUG]")
                .contains("late record")
                .contains("operator=counts")
                .contains("ts=600")
                .contains("window=[0, 1000)")
                .contains("watermark=999")
                .contains("clicks[2]@78");
    }

    @Test
    void aRecordWithinTheAllowedLatenessFiresALatePaneAndIsNotLateData() {
        TestPublisher<StreamElement<String, Long>> source = TestPublisher.create();

        StepVerifier.create(source.flux().transform(countsPerSecond(Duration.ofMillis(500))))
                .then(() -> source.next(rec(500, 1), Watermark.of(999)))
                .assertNext(e -> assertThat(pane(e)).isEqualTo(new PaneInfo(PaneInfo.Timing.ON_TIME, 0, false)))
                .expectNext(Watermark.of(999))
                .then(() -> source.next(rec(600, 2)))
                .assertNext(e -> {
                    assertThat(pane(e)).isEqualTo(new PaneInfo(PaneInfo.Timing.LATE, 1, false));
                    assertThat(((WindowResult<?, ?>) ((StreamRecord<?, ?>) e).value()).value()).isEqualTo(2L);
                })
                .then(() -> assertThat(lateCount()).isZero())
                .then(() -> source.next(Watermark.of(1499)))    // window purged at 999 + 500
                .expectNext(Watermark.of(1499))
                .then(() -> source.next(rec(700, 3)))
                .assertNext(e -> assertThat(e).isInstanceOf(LateRecord.class))
                .then(() -> assertThat(lateCount()).isEqualTo(1.0))
                .then(source::complete)
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    private static PaneInfo pane(StreamElement<?, ?> e) {
        assertThat(e).isInstanceOf(StreamRecord.class);
        return ((WindowResult<?, ?>) ((StreamRecord<?, ?>) e).value()).pane();
    }
}
