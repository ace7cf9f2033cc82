package io.streamflow.reactive;

import io.streamflow.reactive.StreamSinks.IfExists;
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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
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
 * The built-in sinks: what a file sink does with an existing file, and that an {@link Error} thrown
 * by a format function (on the sink's worker thread) terminates the pipeline instead of leaving it
 * waiting forever.
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

    // ------------------------------------------------------------------ existing files

    @Test
    void aFileSinkRefusesToOverwriteANonEmptyFileSaysHowToAppendOrReplaceAndLeavesTheFileAsItWas()
            throws IOException {
        Path out = Files.writeString(dir.resolve("out.txt"), "from an earlier run\n");

        StepVerifier.create(run(3, StreamSinks.fileLines(out, r -> "new " + r.value())))
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(UncheckedIOException.class)
                        .hasCauseInstanceOf(FileAlreadyExistsException.class)
                        .hasMessageContaining("refusing to overwrite " + out)
                        .hasMessageContaining("IfExists.APPEND")
                        .hasMessageContaining("IfExists.REPLACE")
                        .hasMessageContaining("exactlyOnceFiles"))
                .verify(TIMEOUT);

        assertThat(Files.readAllLines(out)).containsExactly("from an earlier run");
    }

    @Test
    void aTextLinesSinkRefusesToOverwriteANonEmptyFileToo() throws IOException {
        Path out = Files.writeString(dir.resolve("dead.txt"), "dead letter of an earlier run\n");

        StepVerifier.create(Flux.just("a", "b").as(StreamSinks.<String>textLines(out, s -> s)))
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("refusing to overwrite " + out))
                .verify(TIMEOUT);

        assertThat(Files.readAllLines(out)).containsExactly("dead letter of an earlier run");
    }

    @Test
    void aFileSinkWritesAMissingOrEmptyFileWhateverTheChoice() throws IOException {
        Path missing = dir.resolve("missing.txt");
        Path empty = Files.createFile(dir.resolve("empty.txt"));

        run(2, StreamSinks.fileLines(missing, r -> "v" + r.value())).block(TIMEOUT);
        run(2, StreamSinks.fileLines(empty, r -> "v" + r.value())).block(TIMEOUT);

        assertThat(Files.readAllLines(missing)).containsExactly("v0", "v1");
        assertThat(Files.readAllLines(empty)).containsExactly("v0", "v1");
    }

    @Test
    void aFileSinkThatAppendsKeepsTheLinesOfEarlierRuns() throws IOException {
        Path out = dir.resolve("out.txt");

        run(2, StreamSinks.fileLines(out, r -> "first " + r.value(), IfExists.APPEND)).block(TIMEOUT);
        run(2, StreamSinks.fileLines(out, r -> "second " + r.value(), IfExists.APPEND)).block(TIMEOUT);

        assertThat(Files.readAllLines(out)).containsExactly("first 0", "first 1", "second 0", "second 1");
    }

    @Test
    void aFileSinkThatReplacesWritesTheFileAnew() throws IOException {
        Path out = Files.writeString(dir.resolve("out.txt"), "old 0\nold 1\nold 2\n");

        run(1, StreamSinks.fileLines(out, r -> "new " + r.value(), IfExists.REPLACE)).block(TIMEOUT);

        assertThat(Files.readAllLines(out)).containsExactly("new 0");
    }

    @Test
    void deadLettersWrittenByAnEarlierRunSurviveARestartThatAppends() throws IOException {
        Path dead = dir.resolve("dead.txt");
        Supplier<Mono<Void>> pipeline = () -> EventStream.fromRecords(records(6))
                .errorPolicy(ErrorPolicy.deadLetter())
                .map(v -> {
                    if (v % 3 == 0) {
                        throw new IllegalArgumentException("bad " + v);
                    }
                    return v;
                })
                .onDeadLetter(StreamSinks.textLines(dead, d -> d.error().getMessage(), IfExists.APPEND))
                .sink(records -> records.then());

        pipeline.get().block(TIMEOUT);
        pipeline.get().block(TIMEOUT); // the restarted pipeline replays its input

        assertThat(Files.readAllLines(dead)).containsExactly("bad 0", "bad 3", "bad 0", "bad 3");
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
