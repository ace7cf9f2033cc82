package io.streamflow.reactive.http.internal.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.StreamFlowMeters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.test.scheduler.VirtualTimeScheduler;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class StatusSamplerTest {

    private static final long T0 = 1_700_000_000_000L;

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicLong watermark = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong partition0 = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong partition1 = new AtomicLong(Long.MIN_VALUE);
    private StatusSampler sampler;

    @AfterEach
    void stop() {
        if (sampler != null) {
            sampler.close();
        }
        time.dispose();
    }

    private Counter counter(StreamFlowMeters m, String operator) {
        return Counter.builder(m.meterName()).tag("pipeline", "orders").tag("operator", operator).register(registry);
    }

    /** The meters a watermark operator "wm" (two partitions) and a window operator "counts" register. */
    private void operators() {
        for (String op : List.of("wm", "counts")) {
            counter(StreamFlowMeters.RECORDS_IN, op);
            counter(StreamFlowMeters.RECORDS_OUT, op);
            counter(StreamFlowMeters.RECORDS_LATE, op);
            counter(StreamFlowMeters.RECORDS_DEAD_LETTER, op);
            Gauge.builder(StreamFlowMeters.WATERMARK.meterName(), watermark, a -> (double) a.get())
                    .tag("pipeline", "orders").tag("operator", op).register(registry);
            Gauge.builder(StreamFlowMeters.WATERMARK_LAG.meterName(), watermark, this::lag)
                    .tag("pipeline", "orders").tag("operator", op).register(registry);
        }
        int p = 0;
        for (AtomicLong part : List.of(partition0, partition1)) {
            String id = Integer.toString(p++);
            Gauge.builder(StreamFlowMeters.PARTITION_WATERMARK.meterName(), part, a -> (double) a.get())
                    .tag("pipeline", "orders").tag("operator", "wm").tag("partition", id).register(registry);
            Gauge.builder(StreamFlowMeters.PARTITION_WATERMARK_LAG.meterName(), part, this::lag)
                    .tag("pipeline", "orders").tag("operator", "wm").tag("partition", id).register(registry);
        }
        // another pipeline's meters must not be counted
        Counter.builder(StreamFlowMeters.RECORDS_IN.meterName()).tag("pipeline", "other").tag("operator", "wm")
                .register(registry).increment(1_000_000);
    }

    private double lag(AtomicLong w) {
        long v = w.get();
        return v == Long.MIN_VALUE ? Double.NaN : time.now(TimeUnit.MILLISECONDS) - v;
    }

    private StatusSampler sampler(MonitoredPipeline p, Duration maxLag, Duration maxAge) {
        time.advanceTimeTo(java.time.Instant.ofEpochMilli(T0));
        return new StatusSampler(registry, List.of(p), time, Duration.ofSeconds(1), maxLag, maxAge);
    }

    @Test
    void shouldComputeRatesWatermarksAndCountsFromTheMetersOncePerTick() {
        operators();
        sampler = sampler(new MonitoredPipeline("orders", null), null, null);
        List<StatusSnapshot> seen = new CopyOnWriteArrayList<>();
        Disposable d = sampler.snapshots().subscribe(seen::add);
        sampler.start();
        assertThat(seen).hasSize(1);
        StatusSnapshot.Pipeline first = seen.get(0).pipelines().get(0);
        assertThat(first.recordsInPerSecond()).as("no rate before a second sample").isNull();
        assertThat(first.watermark()).as("no watermark yet").isNull();
        assertThat(first.checkpoints()).isNull();

        counter(StreamFlowMeters.RECORDS_IN, "wm").increment(500);
        counter(StreamFlowMeters.RECORDS_OUT, "wm").increment(500);
        // an operator after a flatMap sees more records than the source gave: not the pipeline's intake
        counter(StreamFlowMeters.RECORDS_IN, "counts").increment(1000);
        counter(StreamFlowMeters.RECORDS_OUT, "counts").increment(7);
        counter(StreamFlowMeters.RECORDS_LATE, "counts").increment(3);
        counter(StreamFlowMeters.RECORDS_DEAD_LETTER, "wm").increment(2);
        watermark.set(T0 - 4_000);
        partition0.set(T0 - 4_000);
        partition1.set(T0 - 1_000);
        time.advanceTimeBy(Duration.ofMillis(999));
        assertThat(seen).as("no snapshot before the tick").hasSize(1);
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(seen).hasSize(2);

        StatusSnapshot s = seen.get(1);
        assertThat(s.time()).isEqualTo(T0 + 1_000);
        assertThat(s.status()).isEqualTo("UP");
        StatusSnapshot.Pipeline p = s.pipelines().get(0);
        assertThat(p.name()).isEqualTo("orders");
        assertThat(p.state()).isEqualTo("UNTRACKED");
        assertThat(p.recordsIn()).as("entry operator: the one with partition watermarks").isEqualTo(500);
        assertThat(p.recordsInPerSecond()).isEqualTo(500.0);
        assertThat(p.watermark()).isEqualTo(T0 - 4_000);
        assertThat(p.watermarkLagMs()).isEqualTo(5_000);
        assertThat(p.late()).isEqualTo(3);
        assertThat(p.deadLetters()).isEqualTo(2);
        assertThat(p.operators()).extracting(StatusSnapshot.Operator::name).containsExactly("counts", "wm");
        StatusSnapshot.Operator counts = p.operators().get(0);
        assertThat(counts.recordsIn()).isEqualTo(1000);
        assertThat(counts.inPerSecond()).isEqualTo(1000.0);
        assertThat(counts.outPerSecond()).isEqualTo(7.0);
        assertThat(p.partitions()).containsExactly(
                new StatusSnapshot.Partition("wm", "0", T0 - 4_000, 5_000L),
                new StatusSnapshot.Partition("wm", "1", T0 - 1_000, 2_000L));

        counter(StreamFlowMeters.RECORDS_IN, "wm").increment(250);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(seen.get(2).pipelines().get(0).recordsInPerSecond()).isEqualTo(250.0);
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(seen.get(3).pipelines().get(0).recordsInPerSecond()).isEqualTo(0.0);

        JsonNode json = JsonErrors.JSON.readTree(JsonErrors.JSON.writeValueAsString(seen.get(1)));
        assertThat(json.get("pipelines").get(0).get("recordsInPerSecond").asDouble()).isEqualTo(500.0);
        assertThat(json.get("pipelines").get(0).get("partitions").get(1).get("lagMs").asLong()).isEqualTo(2_000);

        sampler.close();
        time.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(seen).as("no tick after close").hasSize(4);
        d.dispose();
    }

    @Test
    void shouldKeepTheCheckpointHistoryAndAgeAndGoDownWhenTheLastCheckpointIsTooOld() {
        operators();
        Counter completed = Counter.builder("streamflow.checkpoints").tag("result", "completed")
                .tag("pipeline", "orders").register(registry);
        Counter failed = Counter.builder("streamflow.checkpoints").tag("result", "failed")
                .tag("pipeline", "orders").register(registry);
        Timer duration = Timer.builder("streamflow.checkpoint.duration").tag("pipeline", "orders").register(registry);
        sampler = new StatusSampler(registry, List.of(withCheckpointing("orders")), time, Duration.ofSeconds(1),
                null, Duration.ofSeconds(3));
        time.advanceTimeTo(java.time.Instant.ofEpochMilli(T0));
        List<StatusSnapshot> seen = new CopyOnWriteArrayList<>();
        Disposable d = sampler.snapshots().subscribe(seen::add);
        sampler.start();
        assertThat(seen.get(0).pipelines().get(0).checkpoints().lastAgeMs()).isNull();

        time.advanceTimeBy(Duration.ofSeconds(2));
        completed.increment();
        duration.record(120, TimeUnit.MILLISECONDS);
        time.advanceTimeBy(Duration.ofSeconds(1));
        completed.increment(2);
        duration.record(30, TimeUnit.MILLISECONDS);
        duration.record(50, TimeUnit.MILLISECONDS);
        time.advanceTimeBy(Duration.ofSeconds(1));

        StatusSnapshot.Checkpoints cps = seen.get(seen.size() - 1).pipelines().get(0).checkpoints();
        assertThat(cps.completed()).isEqualTo(3);
        assertThat(cps.failed()).isZero();
        assertThat(cps.lastAgeMs()).isZero();
        assertThat(cps.history()).containsExactly(
                new StatusSnapshot.CheckpointEvent(1, T0 + 3_000, 120.0),
                new StatusSnapshot.CheckpointEvent(3, T0 + 4_000, 40.0));
        assertThat(cps.meanDurationMs()).isCloseTo(66.67, org.assertj.core.data.Offset.offset(0.01));
        assertThat(sampler.health(true).get("status").asString()).isEqualTo("UP");

        time.advanceTimeBy(Duration.ofSeconds(4));
        StatusSnapshot.Pipeline late = seen.get(seen.size() - 1).pipelines().get(0);
        assertThat(late.checkpoints().lastAgeMs()).isEqualTo(4_000);
        assertThat(late.status()).isEqualTo("DOWN");
        assertThat(late.problems()).containsExactly(
                "the last checkpoint completed 4000 ms ago, more than the maximum age of 3000 ms");
        ObjectNode health = sampler.health(true);
        assertThat(health.get("status").asString()).isEqualTo("DOWN");
        assertThat(health.get("pipelines").get("orders").get("lastCheckpointAgeMs").asLong()).isEqualTo(4_000);

        completed.increment();
        assertThat(sampler.health(true).get("status").asString()).as("a new checkpoint brings it up").isEqualTo("UP");

        failed.increment();
        ObjectNode afterFailure = sampler.health(true);
        assertThat(afterFailure.get("status").asString()).isEqualTo("DOWN");
        assertThat(afterFailure.get("pipelines").get("orders").get("problems").get(0).asString())
                .isEqualTo("the last checkpoint failed");
        d.dispose();
    }

    @Test
    void shouldGoDownWhenNoCheckpointCompletesWithinTheMaximumAgeFromTheStart() {
        Counter.builder("streamflow.checkpoints").tag("result", "completed").tag("pipeline", "orders")
                .register(registry);
        sampler = new StatusSampler(registry, List.of(withCheckpointing("orders")), time, Duration.ofSeconds(1),
                null, Duration.ofSeconds(10));
        sampler.start();
        time.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(sampler.health(true).get("status").asString()).isEqualTo("UP");
        time.advanceTimeBy(Duration.ofSeconds(1));
        ObjectNode health = sampler.health(true);
        assertThat(health.get("status").asString()).isEqualTo("DOWN");
        assertThat(health.get("pipelines").get("orders").get("problems").get(0).asString()).isEqualTo(
                "no checkpoint completed in the 11000 ms since the server started, more than the maximum age of "
                        + "10000 ms");
    }

    @Test
    void shouldGoDownWhenTheWatermarkLagExceedsTheMaximumOrATrackedRunEnds() {
        operators();
        MonitoredPipeline orders = new MonitoredPipeline("orders", null);
        sampler = sampler(orders, Duration.ofSeconds(10), null);
        watermark.set(T0 - 10_000);
        assertThat(sampler.health(true).get("status").asString()).isEqualTo("UP");
        time.advanceTimeBy(Duration.ofMillis(1));
        ObjectNode health = sampler.health(true);
        assertThat(health.get("status").asString()).isEqualTo("DOWN");
        assertThat(health.get("pipelines").get("orders").get("watermarkLagMs").asLong()).isEqualTo(10_001);
        assertThat(health.get("pipelines").get("orders").get("problems").get(0).asString())
                .isEqualTo("watermark lag 10001 ms exceeds the maximum of 10000 ms");

        watermark.set(T0);
        Sinks.Empty<Void> run = Sinks.empty();
        Disposable d = orders.track(run.asMono()).subscribe();
        ObjectNode running = sampler.health(true);
        assertThat(running.get("status").asString()).isEqualTo("UP");
        assertThat(running.get("pipelines").get("orders").get("running").asBoolean()).isTrue();
        run.tryEmitEmpty();
        ObjectNode done = sampler.health(true);
        assertThat(done.get("status").asString()).isEqualTo("DOWN");
        assertThat(done.get("pipelines").get("orders").get("state").asString()).isEqualTo("COMPLETED");
        assertThat(sampler.sample().pipelines().get(0).problems())
                .containsExactly("the pipeline is not running: completed");
        d.dispose();
    }

    /** A pipeline with checkpoints; the sampler reads only their meters, so no Checkpointing is opened. */
    private static MonitoredPipeline withCheckpointing(String name) {
        return new MonitoredPipeline(name, true, Optional::empty);
    }
}
