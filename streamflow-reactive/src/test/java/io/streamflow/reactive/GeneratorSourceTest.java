package io.streamflow.reactive;

import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class GeneratorSourceTest {

    private static StreamRecord<String, Long> record(long n) {
        return StreamRecord.of("k" + (n % 3), n, 1_000 + n);
    }

    @Test
    void emitsExactlyWhatIsRequested() {
        AtomicLong made = new AtomicLong();
        StepVerifier.create(StreamSources.generator(5, 10, 0, n -> {
                    made.incrementAndGet();
                    return record(n);
                }, Schedulers.immediate()), 0)
                .expectSubscription()
                .then(() -> assertThat(made).hasValue(0))
                .thenRequest(2)
                .expectNext(record(5), record(6))
                .then(() -> assertThat(made).hasValue(2))
                .thenRequest(7)
                .expectNextCount(7)
                .then(() -> assertThat(made).hasValue(9))
                .thenRequest(5)
                .expectNext(record(14))
                .verifyComplete();
    }

    @Test
    void unboundedDemandRunsToTheEnd() {
        StepVerifier.create(StreamSources.generator(1000, 0, GeneratorSourceTest::record, Schedulers.immediate()))
                .expectNextCount(1000)
                .verifyComplete();
        StepVerifier.create(StreamSources.generator(0, 0, GeneratorSourceTest::record, Schedulers.immediate()))
                .verifyComplete();
    }

    @Test
    void aThrowingOrNullFactoryEndsWithAClearError() {
        StepVerifier.create(StreamSources.generator(10, 0, n -> {
                    if (n == 3) {
                        throw new IllegalStateException("broken record 3");
                    }
                    return record(n);
                }, Schedulers.immediate()))
                .expectNextCount(3)
                .verifyErrorMessage("broken record 3");
        StepVerifier.create(StreamSources.<String, Long>generator(10, 0, n -> n == 1 ? null : record(n),
                        Schedulers.immediate()))
                .expectNextCount(1)
                .verifyErrorSatisfies(e -> assertThat(e).hasMessageContaining("factory returned null"));
    }

    @Test
    void cancelStopsTheGenerator() {
        AtomicLong made = new AtomicLong();
        StepVerifier.create(StreamSources.generator(1_000_000, 0, n -> {
                    made.incrementAndGet();
                    return record(n);
                }, Schedulers.immediate()).take(4))
                .expectNextCount(4)
                .verifyComplete();
        assertThat(made.get()).isEqualTo(4);
    }
}
