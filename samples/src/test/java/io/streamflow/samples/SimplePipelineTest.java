package io.streamflow.samples;

import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class SimplePipelineTest {

    private static StreamRecord<String, Long> reading(long value, long ts, long position) {
        return StreamRecord.of("reading", value, ts, Origin.of("test", 0, position));
    }

    @Test
    void keeps_only_values_above_fifty_and_doubles_them_keeping_key_time_and_origin() {
        Flux<StreamRecord<String, Long>> input = Flux.just(
                reading(10, 1_000, 0),
                reading(51, 1_001, 1),
                reading(50, 1_002, 2),
                reading(99, 1_003, 3),
                reading(0, 1_004, 4));

        List<StreamRecord<String, Long>> out = SimplePipeline.pipeline(input).records().collectList().block();

        assertThat(out).containsExactly(
                reading(102, 1_001, 1),
                reading(198, 1_003, 3));
    }

    @Test
    void the_generator_emits_one_event_per_millisecond_of_processing_time() {
        // event n arrives at (n + 1) ms; values 0 37 74 11 48 85 22 59 96 33: n = 2, 5, 7, 8 pass
        StepVerifier.withVirtualTime(() -> SimplePipeline.pipeline(
                        SimplePipeline.source(10, Schedulers.parallel())).values())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(2))
                .thenAwait(Duration.ofMillis(1)).expectNext(148L)
                .expectNoEvent(Duration.ofMillis(2))
                .thenAwait(Duration.ofMillis(1)).expectNext(170L)
                .expectNoEvent(Duration.ofMillis(1))
                .thenAwait(Duration.ofMillis(1)).expectNext(118L)
                .thenAwait(Duration.ofMillis(1)).expectNext(192L)
                .expectNoEvent(Duration.ofNanos(999_999))
                .thenAwait(Duration.ofNanos(1))
                .verifyComplete();
    }

    @Test
    void a_thousand_generated_events_take_one_second_of_virtual_time() {
        // 49 of every 100 values are above 50, so 490 in all; the last event (n = 999, value 63) at 1 s
        StepVerifier.withVirtualTime(() -> SimplePipeline.pipeline(
                        SimplePipeline.source(1_000, Schedulers.parallel())).values())
                .expectSubscription()
                .thenAwait(Duration.ofMillis(999))
                .expectNextCount(489)
                .expectNoEvent(Duration.ofNanos(999_999))
                .thenAwait(Duration.ofNanos(1))
                .expectNext(126L)
                .verifyComplete();
    }

    @Test
    void generated_event_n_has_value_n_times_37_modulo_100_at_start_plus_n_milliseconds() {
        StepVerifier.withVirtualTime(() -> SimplePipeline.source(3, Schedulers.parallel()))
                .expectSubscription()
                .thenAwait(Duration.ofMillis(3))
                .expectNext(
                        StreamRecord.of("reading", 0L, SimplePipeline.START_MILLIS, Origin.of("generator", 0, 0)),
                        StreamRecord.of("reading", 37L, SimplePipeline.START_MILLIS + 1, Origin.of("generator", 0, 1)),
                        StreamRecord.of("reading", 74L, SimplePipeline.START_MILLIS + 2, Origin.of("generator", 0, 2)))
                .verifyComplete();
    }

    @Test
    void prints_the_generator_position_the_event_time_and_the_doubled_value() {
        StreamRecord<String, Long> r = StreamRecord.of("reading", 148L, SimplePipeline.START_MILLIS + 2,
                Origin.of("generator", 0, 2));

        assertThat(SimplePipeline.format(r)).isEqualTo("#2     ts=1700000000002 value=148");
    }
}
