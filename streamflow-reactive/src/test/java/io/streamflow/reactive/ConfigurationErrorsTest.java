package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Trigger;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** Configuration mistakes fail when the pipeline is built, with a message that says what to change. */
class ConfigurationErrorsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Test
    void aNegativeAllowedLatenessIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> WindowOperator.of(Windows.tumbling(Duration.ofSeconds(1)))
                        .allowedLateness(Duration.ofMillis(-1)))
                .withMessageContaining("allowed lateness must not be negative")
                .withMessageContaining("PT-0.001S");
    }

    @Test
    void aNegativeOutOfOrdernessIsRejectedWithAHint() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(-5)))
                .withMessageContaining("maxOutOfOrderness must not be negative")
                .withMessageContaining("PT-5S")
                .withMessageContaining("use Duration.ZERO");
    }

    @Test
    void aZeroIdleTimeoutIsRejectedWhenTheStrategyIsApplied() {
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withIdleness(Duration.ZERO);

        assertThatIllegalArgumentException()
                .isThrownBy(strategy::assign)
                .withMessageContaining("idleness timeout must be positive, was PT0S");
    }

    @Test
    void aNegativeIdleTimeoutIsRejectedWhenTheStrategyIsApplied() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                        .withIdleness(Duration.ofSeconds(-1)).assign())
                .withMessageContaining("idleness timeout must be positive, was PT-1S");
    }

    @Test
    void everyWatermarkStrategyMistakeIsReportedAtOnce() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                        .withIdleness(Duration.ZERO).withPeriodicEmit(Duration.ofMillis(-200)).assign())
                .withMessageContaining("idleness timeout must be positive")
                .withMessageContaining("periodic emit interval must be positive");
    }

    @Test
    void aCountWindowWithAnEarlyTriggerIsRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> WindowOperator.<String, Long>of(Windows.count(10))
                        .trigger(Trigger.onWatermark().withEarlyFiringsEvery(3))
                        .aggregate(Aggregations.count()))
                .withMessageContaining("count windows fire every 10 records and take no early trigger")
                .withMessageContaining("remove the early firing or use a global window");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> WindowOperator.<String, Long>of(Windows.count(10))
                        .trigger(Trigger.onWatermark().withEarlyFiringsEvery(Duration.ofSeconds(1)))
                        .aggregate(Aggregations.count()))
                .withMessageContaining("take no early trigger");
    }

    @Test
    void invalidWindowSizesAreRejectedAllAtOnce() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Windows.sliding(Duration.ofSeconds(1), Duration.ofSeconds(2)))
                .withMessageContaining("slide (2000 ms) must not be larger than size (1000 ms)");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Windows.tumbling(Duration.ZERO, Duration.ofMillis(-1)))
                .withMessageContaining("size must be at least 1 ms")
                .withMessageContaining("offset must be in");
    }

    @Test
    void nonPositiveTriggerAndSettingsValuesAreRejected() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Trigger.onWatermark().withEarlyFiringsEvery(0))
                .withMessageContaining("early firing count must be >= 1");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Trigger.onWatermark().withEarlyFiringsEvery(Duration.ZERO))
                .withMessageContaining("early firing interval must be at least 1 ms");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> OperatorSettings.named("x").withPrefetch(0))
                .withMessageContaining("prefetch must be >= 1");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> OperatorSettings.named(" "))
                .withMessageContaining("operator name must not be blank");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> StreamOperators.parallel(0, reactor.core.scheduler.Schedulers.parallel(),
                        Function.<Flux<StreamElement<String, Long>>>identity()))
                .withMessageContaining("rails must be >= 1");
    }

    @Test
    void aRecordWithoutAKeyReachingAWindowOperatorFailsWithAHintToKeyBy() {
        StepVerifier.create(Flux.<StreamElement<String, Long>>just(StreamRecord.of(null, 1L, 5L))
                        .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                                .name("clicks-per-second")
                                .settings(OperatorSettings.named("clicks-per-second")
                                        .withMeterRegistry(new SimpleMeterRegistry()))
                                .aggregate(Aggregations.count())))
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("record has no key")
                        .hasMessageContaining("'clicks-per-second'")
                        .hasMessageContaining("did you forget keyBy(...)"))
                .verify(TIMEOUT);
    }

    @Test
    void aRecordWithoutAKeyGoesToTheDeadLetterOutputWithTheDeadLetterPolicy() {
        StreamRecord<String, Long> keyless = StreamRecord.of(null, 1L, 5L);

        StepVerifier.create(Flux.<StreamElement<String, Long>>just(keyless, StreamRecord.of("k", 2L, 6L))
                        .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                                .settings(OperatorSettings.named("w").withErrorPolicy(ErrorPolicy.deadLetter())
                                        .withMeterRegistry(new SimpleMeterRegistry()))
                                .aggregate(Aggregations.count())))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
                    assertThat(d.input()).isEqualTo(keyless);
                    assertThat(d.error()).hasMessageContaining("did you forget keyBy(...)");
                }))
                .assertNext(e -> assertThat(e.isRecord()).isTrue())
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    /** Creates a null accumulator, or (with {@code nullFromAdd}) returns null from {@code add}. */
    private static io.streamflow.reactive.window.AggregateFunction<Long, long[], Long> nullAccumulator(
            boolean nullFromAdd) {
        return new io.streamflow.reactive.window.AggregateFunction<>() {
            public long[] createAccumulator() {
                return nullFromAdd ? new long[1] : null;
            }

            public long[] add(long[] a, Long v) {
                return nullFromAdd ? null : a;
            }

            public long[] merge(long[] a, long[] b) {
                return a;
            }

            public Long result(long[] a) {
                return a[0];
            }

            public String toString() {
                return "nullAccumulator";
            }
        };
    }

    @Test
    void aNullAccumulatorIsAClearErrorInEveryWindowLayout() {
        for (var assigner : java.util.List.of(Windows.tumbling(Duration.ofSeconds(1)),
                Windows.sliding(Duration.ofSeconds(1), Duration.ofMillis(250)), Windows.session(Duration.ofSeconds(1)),
                Windows.count(3))) {
            for (boolean fromAdd : new boolean[] {false, true}) {
                StepVerifier.create(Flux.<StreamElement<String, Long>>just(StreamRecord.of("k", 1L, 5L))
                                .transform(WindowOperator.<String, Long>of(assigner)
                                        .settings(OperatorSettings.named("w")
                                                .withMeterRegistry(new SimpleMeterRegistry()))
                                        .aggregate(nullAccumulator(fromAdd))))
                        .expectErrorSatisfies(e -> assertThat(e).as("%s, null from %s", assigner,
                                        fromAdd ? "add" : "createAccumulator")
                                .isInstanceOf(NullPointerException.class)
                                .hasMessageContaining("nullAccumulator")
                                .hasMessageContaining("'w'")
                                .hasMessageContaining("accumulators must not be null"))
                        .verify(TIMEOUT);
            }
        }
    }

    @Test
    void anAddThatReturnsNullSendsTheRecordToTheDeadLetterOutputWithThatPolicy() {
        StreamRecord<String, Long> r = StreamRecord.of("k", 1L, 5L);
        StepVerifier.create(Flux.<StreamElement<String, Long>>just(r)
                        .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                                .settings(OperatorSettings.named("w").withErrorPolicy(ErrorPolicy.deadLetter())
                                        .withMeterRegistry(new SimpleMeterRegistry()))
                                .aggregate(nullAccumulator(true))))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
                    assertThat(d.input()).isEqualTo(r);
                    assertThat(d.error()).hasMessageContaining("returned a null accumulator from add");
                }))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }
}
