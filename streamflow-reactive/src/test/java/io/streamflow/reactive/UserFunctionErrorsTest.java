package io.streamflow.reactive;

import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An {@link Error} thrown by a user function inside an operator, on a worker thread, terminates the
 * pipeline: Reactor throws JVM-fatal errors ({@link OutOfMemoryError}, {@link StackOverflowError},
 * {@link LinkageError}) instead of signalling them, which used to leave the pipeline waiting forever.
 * Such an error is never a dead letter.
 */
class UserFunctionErrorsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<Throwable> droppedErrors = new CopyOnWriteArrayList<>();

    @BeforeEach
    void installDroppedHook() {
        Hooks.onErrorDropped(droppedErrors::add);
    }

    @AfterEach
    void resetDroppedHook() {
        Hooks.resetOnErrorDropped();
    }

    static Stream<Supplier<Error>> errors() {
        return StreamSinksTest.errors();
    }

    static Stream<Supplier<Error>> jvmFatalErrors() {
        return StreamSinksTest.errors().filter(e -> Exceptions.isJvmFatal(e.get()));
    }

    /** Records 0..99 with timestamps 0..99, delivered on a bounded-elastic worker thread. */
    private static EventStream<String, Long> input() {
        return EventStream.from(Flux.range(0, 100)
                        .map(i -> StreamRecord.of("k" + (i % 4), (long) i, (long) i))
                        .publishOn(Schedulers.boundedElastic()),
                WatermarkStrategy.<String, Long>forMonotonousTimestamps());
    }

    private void verifyFailsWith(Flux<?> pipeline, Error thrown, String where) {
        StepVerifier.create(pipeline)
                .thenConsumeWhile(x -> true)
                .expectErrorSatisfies(e -> StreamSinksTest.assertCarries(e, thrown, where))
                .verify(TIMEOUT);
        assertThat(droppedErrors).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void anErrorThrownByAMapFunctionFailsThePipeline(Supplier<Error> error) {
        Error thrown = error.get();
        Flux<Long> pipeline = input()
                .map(v -> {
                    if (v == 50) {
                        throw thrown;
                    }
                    return v;
                })
                .values();

        verifyFailsWith(pipeline, thrown, "operator 'map-1'");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jvmFatalErrors")
    void aJvmFatalErrorIsNotADeadLetterButFailsThePipelineEvenWithRetries(Supplier<Error> error) {
        Error thrown = error.get();
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        Flux<Long> pipeline = input()
                .errorPolicy(ErrorPolicy.retryThenDeadLetter(2))
                .filter(v -> {
                    if (v == 50) {
                        throw thrown;
                    }
                    return true;
                })
                .onDeadLetter(d -> d.doOnNext(dead::add))
                .values();

        verifyFailsWith(pipeline, thrown, "operator 'filter-1'");
        assertThat(dead).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jvmFatalErrors")
    void aJvmFatalErrorOfARetryIsNotADeadLetterEither(Supplier<Error> error) {
        Error thrown = error.get();
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        Flux<Long> pipeline = input()
                .errorPolicy(ErrorPolicy.retryThenDeadLetter(2))
                .map(new java.util.function.Function<Long, Long>() {
                    int calls;

                    @Override
                    public Long apply(Long v) {
                        if (v == 50 && calls++ > 0) { // the first call fails normally, its retry fatally
                            throw thrown;
                        } else if (v == 50) {
                            throw new IllegalArgumentException("bad value " + v);
                        }
                        return v;
                    }
                })
                .onDeadLetter(d -> d.doOnNext(dead::add))
                .values();

        verifyFailsWith(pipeline, thrown, "operator 'map-1'");
        assertThat(dead).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void anErrorThrownWhileAddingToAWindowFailsThePipeline(Supplier<Error> error) {
        Error thrown = error.get();
        Flux<?> pipeline = input()
                .window(Windows.tumbling(Duration.ofMillis(10)))
                .aggregate(Aggregations.<Long>sumLong(v -> {
                    if (v == 50) {
                        throw thrown;
                    }
                    return v;
                }))
                .values();

        verifyFailsWith(pipeline, thrown, "operator ");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void anErrorThrownByAWindowResultOnOneOfTwoParallelRailsFailsThePipeline(Supplier<Error> error) {
        Error thrown = error.get();
        AggregateFunction<Long, long[], Long> failingResult = new AggregateFunction<>() {
            @Override
            public long[] createAccumulator() {
                return new long[2];
            }

            @Override
            public long[] add(long[] acc, Long value) {
                acc[0] += value;
                acc[1] |= value == 50 ? 1 : 0;
                return acc;
            }

            @Override
            public long[] merge(long[] a, long[] b) {
                a[0] += b[0];
                a[1] |= b[1];
                return a;
            }

            @Override
            public Long result(long[] acc) {
                if (acc[1] != 0) { // one window of one key, so one rail fails
                    throw thrown;
                }
                return acc[0];
            }
        };
        Flux<?> pipeline = input()
                .window(Windows.tumbling(Duration.ofMillis(20)))
                .parallelism(2)
                .aggregate(failingResult)
                .values();

        verifyFailsWith(pipeline, thrown, "operator ");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void anErrorThrownByARunningAggregateFailsThePipeline(Supplier<Error> error) {
        Error thrown = error.get();
        Flux<?> pipeline = input()
                .runningAggregate(Aggregations.<Long>sumLong(v -> {
                    if (v == 50) {
                        throw thrown;
                    }
                    return v;
                }), null)
                .values();

        verifyFailsWith(pipeline, thrown, "operator ");
    }
}
