package io.streamflow.reactive;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The built-in sinks: an {@link Error} thrown by a format function (on the sink's worker thread)
 * terminates the pipeline instead of leaving it waiting forever.
 */
class StreamSinksTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private static Flux<StreamRecord<String, Integer>> records(int n) {
        return Flux.range(0, n).map(i -> StreamRecord.of("k", i, i));
    }

    private static Mono<Void> run(int n, Function<Flux<StreamRecord<String, Integer>>, Mono<Void>> sink) {
        return EventStream.fromRecords(records(n)).sink(sink);
    }

    // ------------------------------------------------------------------ errors in format functions

    static Stream<Supplier<Error>> errors() {
        return Stream.of(
                named("OutOfMemoryError", () -> new OutOfMemoryError("test")),
                named("StackOverflowError", () -> new StackOverflowError("test")),
                named("AssertionError", () -> new AssertionError("test")),
                named("NoClassDefFoundError", () -> new NoClassDefFoundError("test")));
    }

    private static Supplier<Error> named(String name, Supplier<Error> error) {
        return new Supplier<>() {
            @Override
            public Error get() {
                return error.get();
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void anErrorThrownByTheFormatFunctionOfAFileSinkFailsThePipelineWithThatError(Supplier<Error> error) {
        Error thrown = error.get();
        Mono<Void> pipeline = run(100, StreamSinks.fileLines(dir.resolve("out.txt"), r -> {
            if (r.value() == 42) {
                throw thrown;
            }
            return String.valueOf(r.value());
        }));

        StepVerifier.create(pipeline)
                .expectErrorSatisfies(e -> assertCarries(e, thrown, "StreamSinks.textLines(" + dir.resolve("out.txt")))
                .verify(TIMEOUT);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void anErrorThrownByTheFormatFunctionOfAPrintStreamSinkFailsThePipelineWithThatError(Supplier<Error> error) {
        Error thrown = error.get();
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Mono<Void> pipeline = run(100, StreamSinks.printStream(out, r -> {
            if (r.value() == 42) {
                throw thrown;
            }
            return String.valueOf(r.value());
        }));

        StepVerifier.create(pipeline)
                .expectErrorSatisfies(e -> assertCarries(e, thrown, "StreamSinks.printStream"))
                .verify(TIMEOUT);
    }

    @Test
    void blockThrowsAnExceptionCarryingTheOutOfMemoryErrorOfAFileSink() {
        OutOfMemoryError oom = new OutOfMemoryError("test");
        Mono<Void> pipeline = run(10, StreamSinks.fileLines(dir.resolve("out.txt"), r -> {
            throw oom;
        }));

        Throwable e = catchThrowable(() -> pipeline.block(TIMEOUT));

        assertThat(e).hasCause(oom).hasMessageContaining("the pipeline stopped");
    }

    /**
     * {@code e} is {@code thrown} itself (an error Reactor signals) or an exception that carries it
     * as its cause and names {@code where} (a JVM-fatal error, which Reactor would throw instead).
     */
    static void assertCarries(Throwable e, Error thrown, String where) {
        if (e == thrown) {
            assertThat(Exceptions.isJvmFatal(thrown)).as("signalled as it is: " + e).isFalse();
            return;
        }
        assertThat(e).hasCause(thrown).hasMessageContaining(where).hasMessageContaining("the JVM may be unusable");
    }

    @Test
    void theLinesBeforeAFailingFormatFunctionAreWrittenAndTheFileIsClosed() throws IOException {
        Path out = dir.resolve("out.txt");

        StepVerifier.create(run(5, StreamSinks.fileLines(out, r -> {
                    if (r.value() == 3) {
                        throw new StackOverflowError("test");
                    }
                    return "v" + r.value();
                })))
                .expectError()
                .verify(TIMEOUT);

        assertThat(Files.readAllLines(out)).isEqualTo(List.of("v0", "v1", "v2"));
    }
}
