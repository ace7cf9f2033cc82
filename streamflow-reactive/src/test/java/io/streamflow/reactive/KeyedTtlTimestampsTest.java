package io.streamflow.reactive;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keyed operators with a time-to-live near the ends of the {@code long} range: an expiry
 * {@code timestamp + ttl} saturates instead of wrapping around (which made a fresh entry expire at
 * once, or a record look late), and a timestamp that is not an event time goes to the dead-letter
 * output.
 */
class KeyedTtlTimestampsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final long MIN = Long.MIN_VALUE;
    private static final long MAX = Long.MAX_VALUE;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private static StreamRecord<String, Long> rec(long ts, long position) {
        return StreamRecord.of("k", position, ts, Origin.of("src", 0, position));
    }

    private static Watermark<String, Long> wm(long ts) {
        return Watermark.of(ts);
    }

    private double deadLetters(String operator) {
        Counter c = registry.find("streamflow.records.dead.letter").tag("operator", operator).tag("pipeline", "p")
                .counter();
        return c == null ? 0 : c.count();
    }


    private OperatorSettings settings(String name) {
        return OperatorSettings.named(name).withPipeline("p").withMeterRegistry(registry)
                .withErrorPolicy(ErrorPolicy.deadLetter());
    }

    @Test
    void deduplicateNearLongMaxValueDoesNotOverflowItsExpiryAndDeadLettersTheEnd() {
        StreamRecord<String, Long> end = rec(MAX, 3);
        StreamRecord<String, Long> none = rec(MIN, 4);

        StepVerifier.create(Flux.<StreamElement<String, Long>>just(wm(1_000), rec(MAX - 5, 1), rec(MAX - 4, 2),
                                end, none, Watermark.end())
                        .transform(KeyedOperators.<String, Long, String>deduplicate(StreamRecord::key,
                                Duration.ofMillis(10), settings("dedup"))))
                .expectNext(wm(1_000))
                .expectNext(rec(MAX - 5, 1))                    // not late: MAX - 5 + 10 saturates, it does not wrap
                .assertNext(e -> assertThat(((DeadLetter<?, ?>) e).error())
                        .hasMessageContaining("cannot be used in operator 'dedup': Long.MAX_VALUE is the end-of-input"))
                .assertNext(e -> assertThat(((DeadLetter<?, ?>) e).input()).isEqualTo(none))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(registry.get("streamflow.records.deduplicated").tag("operator", "dedup").counter().count())
                .isEqualTo(1.0);
        assertThat(deadLetters("dedup")).isEqualTo(2.0);
    }

    @Test
    void aRunningAggregateKeepsTheStateOfAKeyNearLongMaxValueUntilItsTtlHasPassed() {
        StepVerifier.create(Flux.<StreamElement<String, Long>>just(rec(MAX - 5, 1), wm(2_000), rec(MAX - 4, 2))
                        .transform(KeyedOperators.<String, Long, Aggregations.LongAcc, Long>runningAggregate(
                                Aggregations.count(), Duration.ofMillis(10), settings("running"))))
                .expectNext(StreamRecord.of("k", 1L, MAX - 5, Origin.of("src", 0, 1)), wm(2_000))
                .expectNext(StreamRecord.of("k", 2L, MAX - 4, Origin.of("src", 0, 2)))
                .expectComplete()
                .verify(TIMEOUT);
    }
}
