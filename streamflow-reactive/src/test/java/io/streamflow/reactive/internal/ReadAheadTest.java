package io.streamflow.reactive.internal;

import org.junit.jupiter.api.Test;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Read-ahead of the drain-loop base from a synchronously fused upstream: inputs pulled in batches
 * before their turn, processed in order, with barriers (here: input 0) ending a batch, upstream
 * failures delivered after the inputs pulled before them, and the batch discarded on cancel.
 */
class ReadAheadTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<String> log = new CopyOnWriteArrayList<>();

    /** Logs read-ahead and processing; input 0 ends a batch; turns read-ahead off at input {@code offAt}. */
    private final class Logging extends StreamOperatorSubscriber<Integer, Integer> {
        private final int batch;
        private final int offAt;

        Logging(CoreSubscriber<? super Integer> actual, int batch, int offAt) {
            super(actual, 8);
            this.batch = batch;
            this.offAt = offAt;
        }

        @Override
        protected void onStart() {
            readAhead(batch);
        }

        @Override
        protected boolean onReadAhead(Integer input) {
            log.add("ahead " + input);
            return input != 0;
        }

        @Override
        protected void readAheadDone() {
            log.add("done");
        }

        @Override
        protected void onInput(Integer input) {
            log.add("in " + input);
            if (input == offAt) {
                readAhead(0);
            }
            emit(input);
        }
    }

    private Flux<Integer> logging(Flux<Integer> fusedSource, int batch, int offAt) {
        return new LiftedFlux<Integer, Integer>(fusedSource, actual -> new Logging(actual, batch, offAt));
    }

    @Test
    void inputsArePulledInBatchesAndProcessedInOrder() {
        StepVerifier.create(logging(Flux.range(1, 7), 3, -1))
                .expectNext(1, 2, 3, 4, 5, 6, 7)
                .verifyComplete();

        assertThat(log).containsExactly(
                "ahead 1", "ahead 2", "ahead 3", "done", "in 1", "in 2", "in 3",
                "ahead 4", "ahead 5", "ahead 6", "done", "in 4", "in 5", "in 6",
                "ahead 7", "done", "in 7");
    }

    @Test
    void anInputThatStopsReadAheadIsProcessedBeforeAnythingAfterItIsPulled() {
        StepVerifier.create(logging(Flux.just(1, 0, 2, 3), 4, -1))
                .expectNext(1, 0, 2, 3)
                .verifyComplete();

        assertThat(log).containsExactly(
                "ahead 1", "ahead 0", "done", "in 1", "in 0",
                "ahead 2", "ahead 3", "done", "in 2", "in 3");
    }

    @Test
    void anUpstreamFailureMetWhileReadingAheadComesAfterTheInputsPulledBeforeIt() {
        IllegalStateException failure = new IllegalStateException("source failed at 4");
        Flux<Integer> source = Flux.range(1, 10).map(i -> {
            if (i == 4) {
                throw failure;
            }
            return i;
        });

        StepVerifier.create(logging(source, 8, -1))
                .expectNext(1, 2, 3)
                .expectErrorSatisfies(e -> assertThat(e).isSameAs(failure))
                .verify(TIMEOUT);

        assertThat(log).containsExactly("ahead 1", "ahead 2", "ahead 3", "done", "in 1", "in 2", "in 3");
    }

    @Test
    void readAheadPullsOneBatchWhateverTheDemandAndCancelDiscardsIt() {
        AtomicInteger pulled = new AtomicInteger();
        List<Object> discarded = new CopyOnWriteArrayList<>();
        Flux<Integer> source = Flux.range(1, 100).map(i -> {
            pulled.incrementAndGet();
            return i;
        });

        StepVerifier.create(logging(source, 4, -1).doOnDiscard(Integer.class, discarded::add), 0)
                .expectSubscription()
                .then(() -> assertThat(pulled).as("nothing pulled without demand").hasValue(0))
                .thenRequest(1)
                .expectNext(1)
                .then(() -> assertThat(pulled).as("one batch").hasValue(4))
                .thenCancel()
                .verify(TIMEOUT);

        assertThat(discarded).containsExactly(2, 3, 4);
        assertThat(log).containsExactly("ahead 1", "ahead 2", "ahead 3", "ahead 4", "done", "in 1");
    }

    @Test
    void turningReadAheadOffFinishesTheBatchThenPullsOneInputAtATime() {
        StepVerifier.create(logging(Flux.range(1, 6), 3, 2))
                .expectNext(1, 2, 3, 4, 5, 6)
                .verifyComplete();

        assertThat(log).containsExactly(
                "ahead 1", "ahead 2", "ahead 3", "done", "in 1", "in 2", "in 3", "in 4", "in 5", "in 6");
    }
}
