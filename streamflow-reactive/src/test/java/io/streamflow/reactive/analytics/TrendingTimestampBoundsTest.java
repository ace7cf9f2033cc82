package io.streamflow.reactive.analytics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.window.TimeWindow;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Trending intervals near the ends of the {@code long} range: a record whose interval would not fit
 * goes to the dead-letter output (it is not mistaken for a late record), the intervals that fit
 * are ranked, and under the fail policy the pipeline fails with the same message.
 */
class TrendingTimestampBoundsTest {

    private static final long MIN = Long.MIN_VALUE;
    private static final long MAX = Long.MAX_VALUE;
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private static StreamRecord<String, Double> rec(String key, long ts, long position) {
        return StreamRecord.of(key, 1.0, ts, Origin.of("src", 0, position));
    }

    private Function<Flux<StreamElement<String, Double>>, Flux<StreamElement<TimeWindow, Ranking<String, Double>>>>
    trending(ErrorPolicy policy) {
        return Analytics.trending(Duration.ofMillis(100), Duration.ofMillis(10), 3, 0.01, (Double v) -> v,
                Comparator.<String>naturalOrder(), OperatorSettings.named("trending").withPipeline("p")
                        .withMeterRegistry(registry).withErrorPolicy(policy));
    }

    private static String ranking(StreamElement<?, ?> e) {
        Ranking<?, ?> r = (Ranking<?, ?>) ((StreamRecord<?, ?>) e).value();
        return r.start() + ".." + r.end() + " " + r.entries().stream().map(x -> String.valueOf(x.key())).toList();
    }

    @Test
    void aRecordWhoseIntervalWouldNotFitGoesToTheDeadLetterOutputAndTheOthersAreRanked() {
        // 10 ms intervals: the last one that ends by MAX is [MAX - 17, MAX - 7)
        List<StreamElement<String, Double>> input = List.of(rec("a", 1_000, 1), rec("b", MAX - 7, 2), rec("c", MAX, 3),
                rec("d", MIN, 4), Watermark.of(1_009), rec("e", MAX - 8, 5), Watermark.end());

        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.fromIterable(input)
                .transform(trending(ErrorPolicy.deadLetter())).collectList().block(TIMEOUT);

        assertThat(out).filteredOn(e -> e instanceof StreamRecord).map(TrendingTimestampBoundsTest::ranking)
                .containsExactly("1000..1010 [a]", (MAX - 17) + ".." + (MAX - 7) + " [e]");
        List<DeadLetter<?, ?>> dead = out.stream().filter(e -> e instanceof DeadLetter)
                .<DeadLetter<?, ?>>map(e -> (DeadLetter<?, ?>) e).toList();
        assertThat(dead).extracting(DeadLetter::origin).containsExactly(Origin.of("src", 0, 2), Origin.of("src", 0, 3),
                Origin.of("src", 0, 4));
        assertThat(dead.get(0).error()).hasMessage("timestamp " + (MAX - 7) + " of " + input.get(1)
                + " cannot be used in operator 'trending': its interval of 10 ms would not fit in the range of a long; "
                + "this operator takes timestamps in [" + (MIN + 8) + ", " + (MAX - 8) + "]");
        assertThat(dead.get(1).error()).hasMessageContaining("Long.MAX_VALUE is the end-of-input watermark");
        assertThat(dead.get(2).error()).hasMessageContaining("Long.MIN_VALUE is StreamRecord.NO_TIMESTAMP");
        assertThat(registry.get("streamflow.records.dead.letter").tag("operator", "trending").counter().count())
                .isEqualTo(3.0);
        assertThat(registry.get("streamflow.records.late").tag("operator", "trending").counter().count()).isZero();

        StepVerifier.create(Flux.fromIterable(input).transform(trending(ErrorPolicy.fail())))
                .expectErrorSatisfies(e -> assertThat(e).hasMessage(dead.get(0).error().getMessage()))
                .verify(TIMEOUT);
    }
}
