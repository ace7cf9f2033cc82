package io.streamflow.reactive.internal;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The drain-loop base of every stateful operator, through a minimal operator that emits each input twice. */
class StreamOperatorSubscriberTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<Object> droppedNext = new CopyOnWriteArrayList<>();
    private final List<Throwable> droppedErrors = new CopyOnWriteArrayList<>();
    private final List<Long> upstreamRequests = new CopyOnWriteArrayList<>();
    private final List<String> cleared = new CopyOnWriteArrayList<>();

    @BeforeEach
    void installDroppedHooks() {
        Hooks.onNextDropped(droppedNext::add);
        Hooks.onErrorDropped(droppedErrors::add);
    }

    @AfterEach
    void resetDroppedHooks() {
        Hooks.resetOnNextDropped();
        Hooks.resetOnErrorDropped();
    }

    /** An input that makes {@link Twice} throw a {@link StackOverflowError}. */
    private static final int STACK_OVERFLOW = -2;

    /** Emits every input twice; throws on a negative input. */
    private final class Twice extends StreamOperatorSubscriber<Integer, Integer> {
        Twice(CoreSubscriber<? super Integer> actual, int prefetch) {
            super(actual, prefetch);
        }

        @Override
        protected void onInput(Integer input) {
            if (input == STACK_OVERFLOW) {
                throw new StackOverflowError("input " + input);
            }
            if (input < 0) {
                throw new IllegalArgumentException("negative input " + input);
            }
            emit(input);
            emit(input);
        }

        @Override
        protected void clearState() {
            cleared.add("cleared");
        }
    }

    private Flux<Integer> twice(Flux<Integer> source, int prefetch) {
        // hidden: these tests are about pushed inputs and prefetch, which a fused source bypasses
        return new LiftedFlux<Integer, Integer>(source.hide().doOnRequest(upstreamRequests::add),
                actual -> new Twice(actual, prefetch));
    }

    @Test
    void upstreamIsAskedForThePrefetchAndThenReplenishedInBatchesOfThreeQuarters() {
        StepVerifier.create(twice(Flux.range(1, 20), 8))
                .expectNextCount(40)
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(upstreamRequests.get(0)).isEqualTo(8);
        assertThat(upstreamRequests.subList(1, upstreamRequests.size())).containsOnly(6L);
        assertThat(cleared).as("clearState once, on completion").containsExactly("cleared");
    }

    @Test
    void outputsAreEmittedOnlyAsRequestedAndInOrder() {
        StepVerifier.create(twice(Flux.just(1, 2, 3), 4), 0)
                .expectSubscription()
                .thenRequest(3)
                .expectNext(1, 1, 2)
                .thenRequest(3)
                .expectNext(2, 3, 3)
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void aThrowingInputCancelsUpstreamDiscardsWhatWasQueuedAndFails() {
        TestPublisher<Integer> source = TestPublisher.create();
        List<Object> discarded = new CopyOnWriteArrayList<>();

        StepVerifier.create(twice(source.flux(), 8).doOnDiscard(Object.class, discarded::add), 0)
                .then(() -> source.next(1, -1, 5))    // 1 is processed, -1 and 5 wait for demand
                .thenRequest(2)                       // delivers 1, 1; then -1 throws
                .expectNext(1, 1)
                .expectErrorSatisfies(e -> assertThat(e).hasMessage("negative input -1"))
                .verify(TIMEOUT);

        source.assertCancelled();
        assertThat(discarded).containsExactly(5);
        assertThat(cleared).containsExactly("cleared");
        assertThat(droppedNext).isEmpty();
        assertThat(droppedErrors).isEmpty();
    }

    @Test
    void aJvmFatalErrorThrownOnAWorkerThreadFailsDownstreamWithAnExceptionCarryingItInsteadOfHanging() {
        TestPublisher<Integer> source = TestPublisher.create();
        Scheduler worker = Schedulers.newSingle("upstream");
        try {
            // onNext runs on the worker: the error used to escape there, and nothing reached downstream
            StepVerifier.create(twice(source.flux().publishOn(worker), 8))
                    .then(() -> source.next(1, STACK_OVERFLOW, 5))
                    .expectNext(1, 1)
                    .expectErrorSatisfies(e -> assertThat(e)
                            .isInstanceOf(FatalErrorException.class)
                            .hasCauseInstanceOf(StackOverflowError.class)
                            .hasMessageContaining("operator Twice failed with java.lang.StackOverflowError: input -2"))
                    .verify(TIMEOUT);
        } finally {
            worker.dispose();
        }

        source.assertCancelled();
        assertThat(cleared).containsExactly("cleared");
        assertThat(droppedErrors).isEmpty();
    }

    @Test
    void whatAnUpstreamSendsAfterAUserFunctionFailedGoesToTheDroppedHooks() {
        TestPublisher<Integer> source = TestPublisher.createNoncompliant(TestPublisher.Violation.DEFER_CANCELLATION);

        StepVerifier.create(twice(source.flux(), 8))
                .then(() -> source.next(-1))
                .expectErrorMessage("negative input -1")
                .verify(TIMEOUT);
        source.next(3);
        source.error(new IllegalStateException("late error"));

        assertThat(droppedNext).containsExactly(3);
        assertThat(droppedErrors).singleElement().satisfies(e -> assertThat(e).hasMessage("late error"));
    }

    @Test
    void anUpstreamErrorIsDeliveredWithoutWaitingForDemandAndDiscardsBufferedOutputs() {
        TestPublisher<Integer> source = TestPublisher.create();
        List<Object> discarded = new CopyOnWriteArrayList<>();

        StepVerifier.create(twice(source.flux(), 8).doOnDiscard(Object.class, discarded::add), 0)
                .then(() -> source.next(7))
                .then(() -> source.error(new IllegalStateException("upstream failed")))
                .expectErrorMessage("upstream failed")
                .verify(TIMEOUT);

        assertThat(discarded).containsExactly(7, 7);
        assertThat(droppedErrors).isEmpty();
    }

    @Test
    void signalsAfterTerminationGoToTheDroppedHooks() {
        TestPublisher<Integer> source = TestPublisher.createNoncompliant(TestPublisher.Violation.CLEANUP_ON_TERMINATE);

        StepVerifier.create(twice(source.flux(), 8))
                .then(source::complete)
                .expectComplete()
                .verify(TIMEOUT);
        source.next(9);
        source.error(new IllegalStateException("late error"));

        assertThat(droppedNext).containsExactly(9);
        assertThat(droppedErrors).singleElement().satisfies(e -> assertThat(e).hasMessage("late error"));
    }
}
