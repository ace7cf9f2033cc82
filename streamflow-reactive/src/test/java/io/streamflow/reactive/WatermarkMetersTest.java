package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The watermark operator counts the records it passes on in {@code streamflow.records.out}, and
 * {@code streamflow.watermark.lag} is processing time (the operator's scheduler) minus its
 * watermark, for the watermark operator and for a window.
 */
class WatermarkMetersTest {

    @Test
    void theWatermarkOperatorCountsWhatItPassesOnAndReportsItsLagInProcessingTime() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        clock.advanceTimeTo(java.time.Instant.ofEpochMilli(50_000));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(
                        Duration.ofMillis(100))
                .withScheduler(clock)
                .withErrorPolicy(ErrorPolicy.deadLetter())
                .withMetrics("p", "source", registry);
        Flux<StreamRecord<String, Long>> input = Flux.just(
                StreamRecord.of("a", 1L, 10_000), StreamRecord.of("b", 2L, 20_000),
                StreamRecord.of("a", 3L, Long.MAX_VALUE), // not an event time: a dead letter, not passed on
                StreamRecord.of("b", 4L, 30_000));
        OperatorSettings settings = OperatorSettings.named("p").withMeterRegistry(registry).withScheduler(clock);
        var elements = EventStream.from(input, strategy)
                .settings(settings)
                .window(Windows.tumbling(Duration.ofSeconds(1))).name("counts")
                .aggregate(Aggregations.count())
                .onDeadLetter(d -> d.then())
                .elements()
                .takeUntil(e -> e instanceof Watermark w && w.timestamp() == 29_899)
                .collectList().block(Duration.ofSeconds(10));
        assertThat(elements).isNotEmpty();

        assertThat(registry.get("streamflow.records.in").tag("operator", "source").counter().count()).isEqualTo(4);
        assertThat(registry.get("streamflow.records.out").tag("operator", "source").counter().count()).isEqualTo(3);
        assertThat(registry.get("streamflow.watermark").tag("operator", "source").gauge().value()).isEqualTo(29_899);
        assertThat(registry.get("streamflow.watermark.lag").tag("operator", "source").gauge().value())
                .isEqualTo(50_000 - 29_899);
        clock.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(registry.get("streamflow.watermark.lag").tag("operator", "source").gauge().value())
                .as("lag grows with processing time while the watermark stands").isEqualTo(55_000 - 29_899);
        assertThat(registry.get("streamflow.watermark.lag").tag("operator", "counts").gauge().value())
                .as("the window's lag, from its own watermark").isEqualTo(55_000 - 29_899);
    }

    @Test
    void thereIsNoLagBeforeTheFirstWatermark() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        EventStream.from(Flux.<StreamRecord<String, Long>>never(), WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                        .withMetrics("p", "idle", registry))
                .elements().subscribe().dispose();
        assertThat(registry.get("streamflow.watermark.lag").tag("operator", "idle").gauge().value()).isNaN();
    }

    @Test
    void eachSourcePartitionHasItsWatermarkAndLagUntilTheSourceReleasesIt() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        clock.advanceTimeTo(java.time.Instant.ofEpochMilli(60_000));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(
                        Duration.ofMillis(100))
                .withScheduler(clock)
                .withMetrics("p", "source", registry);
        reactor.core.publisher.Sinks.Many<StreamElement<String, Long>> input =
                reactor.core.publisher.Sinks.many().unicast().onBackpressureBuffer();
        java.util.List<StreamElement<String, Long>> out = new java.util.concurrent.CopyOnWriteArrayList<>();
        EventStream.from(input.asFlux(), strategy).elements().subscribe(out::add);
        input.tryEmitNext(StreamRecord.of("a", 1L, 10_000, java.util.Map.of(), Origin.of("t", 0, 0)));
        input.tryEmitNext(StreamRecord.of("b", 2L, 40_000, java.util.Map.of(), Origin.of("t", 3, 0)));
        input.tryEmitNext(StreamRecord.of("a", 3L, 12_000, java.util.Map.of(), Origin.of("t", 0, 1)));

        java.util.function.BiFunction<String, Integer, Double> gauge = (name, partition) -> registry.get(name)
                .tag("operator", "source").tag("partition", Integer.toString(partition)).gauge().value();
        assertThat(gauge.apply("streamflow.watermark.partition", 0)).isEqualTo(11_899);
        assertThat(gauge.apply("streamflow.watermark.partition", 3)).isEqualTo(39_899);
        assertThat(gauge.apply("streamflow.watermark.partition.lag", 0)).isEqualTo(60_000 - 11_899);
        assertThat(gauge.apply("streamflow.watermark.partition.lag", 3)).isEqualTo(60_000 - 39_899);
        assertThat(registry.get("streamflow.watermark").tag("operator", "source").gauge().value())
                .as("the operator's watermark is the minimum").isEqualTo(11_899);

        input.tryEmitNext(InputStatus.released(0));
        assertThat(registry.find("streamflow.watermark.partition").tag("partition", "0").gauge())
                .as("a released partition's meters are removed").isNull();
        assertThat(gauge.apply("streamflow.watermark.partition", 3)).isEqualTo(39_899);
        assertThat(registry.get("streamflow.watermark").tag("operator", "source").gauge().value()).isEqualTo(39_899);
    }
}
