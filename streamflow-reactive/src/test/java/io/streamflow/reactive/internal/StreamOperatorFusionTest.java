package io.streamflow.reactive.internal;

import org.junit.jupiter.api.Test;
import reactor.core.CoreSubscriber;
import reactor.core.Fuseable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Synchronous fusion of the operator base: an operator pulls its inputs from a fused source with
 * {@code poll()}, only while downstream has demand, and an operator that offers it is itself pulled
 * by the next one, on the puller's thread; a thread barrier is refused.
 */
class StreamOperatorFusionTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<String> cleared = new CopyOnWriteArrayList<>();
    private final List<Long> upstreamRequests = new CopyOnWriteArrayList<>();
    private final AtomicLong generated = new AtomicLong();

    /** An input that makes {@link Twice} throw an {@link OutOfMemoryError}. */
    private static final int FATAL = -2;

    /** Emits every input twice (the second time plus {@code add}); throws on a negative input. */
    private final class Twice extends StreamOperatorSubscriber<Integer, Integer> {
        private final String name;
        private final int add;
        private final boolean offers;

        Twice(CoreSubscriber<? super Integer> actual, String name, int add, boolean offers) {
            super(actual, 4);
            this.name = name;
            this.add = add;
            this.offers = offers;
        }

        @Override
        protected void onInput(Integer input) {
            if (input == FATAL) {
                throw new OutOfMemoryError("input " + input);
            }
            if (input < 0) {
                throw new IllegalArgumentException("negative input " + input);
            }
            emit(input);
            emit(input + add);
        }

        @Override
        protected boolean offersSyncFusion() {
            return offers;
        }

        @Override
        protected void clearState() {
            cleared.add(name);
        }
    }

    private Flux<Integer> twice(Flux<Integer> source, String name, int add, boolean offers) {
        return new LiftedFlux<Integer, Integer>(source, actual -> new Twice(actual, name, add, offers));
    }

    /** The generator source (fuseable), counting the elements it made, with requests recorded. */
    private Flux<Integer> generator(int n, int failAt) {
        return new GeneratorFlux<Integer>(0, n, i -> {
            generated.incrementAndGet();
            return i == failAt ? -1 : (int) i;
        }).doOnRequest(upstreamRequests::add);
    }

    private static List<Integer> twiceOf(int n, int add) {
        return IntStream.range(0, n).boxed().flatMap(i -> java.util.stream.Stream.of(i, i + add)).toList();
    }

    @Test
    void theGeneratorOffersSynchronousFusion() {
        StepVerifier.create(generator(3, -1))
                .expectFusion(Fuseable.SYNC)
                .expectNext(0, 1, 2)
                .verifyComplete();
    }

    @Test
    void aFusedSourceIsPulledOnlyWhileDownstreamHasDemandAndNeverAsked() {
        StepVerifier.create(twice(generator(10, -1), "a", 0, false), 0)
                .expectSubscription()
                .then(() -> assertThat(generated.get()).as("no demand: nothing pulled").isZero())
                .thenRequest(3)
                .expectNext(0, 0, 1)
                .then(() -> assertThat(generated.get()).as("two inputs make three outputs").isEqualTo(2))
                .thenRequest(Long.MAX_VALUE)
                .expectNextSequence(List.of(1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9))
                .verifyComplete();
        assertThat(upstreamRequests).as("a fused source gets no request").isEmpty();
        assertThat(cleared).containsExactly("a");
    }

    @Test
    void anOperatorThatOffersFusionIsPulledByTheNextOnTheSameThread() {
        Flux<Integer> chain = twice(twice(generator(50, -1), "first", 100, true), "second", 1000, false);
        List<Integer> expected = twiceOf(50, 100).stream().flatMap(i -> java.util.stream.Stream.of(i, i + 1000))
                .toList();
        StepVerifier.create(chain, 7)
                .expectNextSequence(expected.subList(0, 7))
                .thenRequest(Long.MAX_VALUE)
                .expectNextSequence(expected.subList(7, expected.size()))
                .verifyComplete();
        assertThat(upstreamRequests).isEmpty();
        assertThat(cleared).containsExactlyInAnyOrder("first", "second");
        assertThat(generated.get()).isEqualTo(50);
    }

    @Test
    void fusionIsOfferedOnlyWithoutAThreadBarrierAndOnlyWhenTheOperatorSaysSo() {
        StepVerifier.create(twice(generator(3, -1), "offers", 0, true))
                .expectFusion(Fuseable.SYNC, Fuseable.SYNC)
                .expectNext(0, 0, 1, 1, 2, 2)
                .verifyComplete();
        StepVerifier.create(twice(generator(3, -1), "barrier", 0, true))
                .expectFusion(Fuseable.SYNC | Fuseable.THREAD_BARRIER, Fuseable.NONE)
                .expectNext(0, 0, 1, 1, 2, 2)
                .verifyComplete();
        StepVerifier.create(twice(generator(3, -1), "declines", 0, false))
                .expectNoFusionSupport()
                .expectNext(0, 0, 1, 1, 2, 2)
                .verifyComplete();
        StepVerifier.create(twice(generator(3, -1).hide(), "pushed", 0, true))
                .expectNoFusionSupport()
                .expectNext(0, 0, 1, 1, 2, 2)
                .verifyComplete();
    }

    @Test
    void behindAThreadBarrierTheOperatorIsPushedAndStillDeliversEverythingInOrder() {
        Scheduler s = Schedulers.newSingle("downstream");
        try {
            Flux<Integer> flux = twice(generator(300, -1), "first", 1, true).publishOn(s, 16);
            StepVerifier.create(flux)
                    .expectNextSequence(twiceOf(300, 1))
                    .verifyComplete();
            assertThat(cleared).containsExactly("first");
        } finally {
            s.dispose();
        }
    }

    @Test
    void aFailureInAPulledOperatorOrItsSourceFailsTheChainAndClearsEveryState() {
        StepVerifier.create(twice(twice(generator(20, 5), "first", 0, true), "second", 0, false))
                .expectNextCount(4 * 5)
                .expectErrorMessage("negative input -1")
                .verify(TIMEOUT);
        assertThat(cleared).containsExactlyInAnyOrder("first", "second");

        cleared.clear();
        Flux<Integer> nullFromFactory = new GeneratorFlux<Integer>(0, 5, i -> i == 2 ? null : (int) i);
        StepVerifier.create(twice(nullFromFactory, "a", 0, false))
                .expectNext(0, 0, 1, 1)
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(NullPointerException.class)
                        .hasMessageContaining("returned null"))
                .verify(TIMEOUT);
        assertThat(cleared).containsExactly("a");
    }

    @Test
    void aJvmFatalErrorInAnOperatorPulledByAReactorConsumerFailsTheChainCarriedByAnException() {
        Flux<Integer> source = new GeneratorFlux<Integer>(0, 5, i -> i == 2 ? FATAL : (int) i);

        // StepVerifier pulls with poll(), as a fused Reactor operator would
        StepVerifier.create(twice(source, "first", 0, true))
                .expectFusion(Fuseable.SYNC, Fuseable.SYNC)
                .expectNext(0, 0, 1, 1)
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(FatalErrorException.class)
                        .hasCauseInstanceOf(OutOfMemoryError.class)
                        .hasMessageContaining("operator Twice"))
                .verify(TIMEOUT);
        assertThat(cleared).containsExactly("first");
    }

    @Test
    void cancellingAPulledChainStopsPullingAndClearsEveryState() {
        StepVerifier.create(twice(twice(generator(1_000, -1), "first", 0, true), "second", 0, false), 10)
                .expectNextCount(10)
                .thenCancel()
                .verify(TIMEOUT);
        assertThat(cleared).containsExactlyInAnyOrder("first", "second");
        assertThat(generated.get()).as("pulled only for the demand").isLessThanOrEqualTo(4);
    }

    /** Emits only the inputs that are multiples of ten: most inputs produce no output. */
    private final class EveryTenth extends StreamOperatorSubscriber<Integer, Integer> {
        EveryTenth(CoreSubscriber<? super Integer> actual) {
            super(actual, 4);
        }

        @Override
        protected void onInput(Integer input) {
            if (input % 10 == 0) {
                emit(input);
            }
        }
    }

    @Test
    void anOperatorThatAbsorbsInputsStopsPullingWhenDownstreamDemandIsMet() {
        Flux<Integer> flux = new LiftedFlux<Integer, Integer>(generator(100, -1), EveryTenth::new);
        StepVerifier.create(flux, 1)
                .expectNext(0)
                .then(() -> assertThat(generated.get())
                        .as("demand met: no input is pulled ahead (a pushed operator would take its prefetch)")
                        .isEqualTo(1))
                .thenRequest(2)
                .expectNext(10, 20)
                .then(() -> assertThat(generated.get()).isEqualTo(21))
                .thenRequest(Long.MAX_VALUE)
                .expectNext(30, 40, 50, 60, 70, 80, 90)
                .verifyComplete();
    }
}
