package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Operator and source names identify state across restarts: a changed pipeline whose names match
 * resumes its state exactly, and every mismatch is a clear error that names what does not match.
 */
class CheckpointNamingTest {

    @TempDir
    Path dir;

    /** A failure of the source after {@code failAfter} records (0: never). */
    private static Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> input(Path file, long failAfter) {
        return input(file, failAfter, new AtomicBoolean(true));
    }

    /**
     * A failure of the source at the first record after {@code failAfter} records (0: never) once
     * {@code delivered} is set, so that the failed run has a checkpoint however slowly its timer runs.
     */
    private static Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> input(Path file, long failAfter,
                                                                                          AtomicBoolean delivered) {
        Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> lines = Checkpointing.resumeFileLines(file);
        AtomicLong read = new AtomicLong();
        return positions -> lines.apply(positions).doOnNext(r -> {
            if (failAfter > 0 && read.incrementAndGet() >= failAfter && delivered.get()) {
                throw new IllegalStateException("source failed on purpose");
            }
        });
    }

    /** {@code sink}, setting {@code delivered} once it delivered a checkpoint with records. */
    private static <T> OutboxSink<T> flagging(OutboxSink<T> sink, AtomicBoolean delivered) {
        return new OutboxSink<>() {
            @Override
            public void deliver(long checkpointId, List<T> records) throws IOException {
                sink.deliver(checkpointId, records);
                delivered.compareAndSet(false, !records.isEmpty());
            }

            @Override
            public void deliver(Delivery delivery, List<T> records) throws IOException {
                sink.deliver(delivery, records);
                delivered.compareAndSet(false, !records.isEmpty());
            }

            @Override
            public Optional<List<Delivery>> deliveries() throws IOException {
                return sink.deliveries();
            }
        };
    }

    private static WatermarkStrategy<Void, String> watermarks() {
        return WatermarkStrategy.<Void, String>forBoundedOutOfOrderness(Duration.ofMillis(CrashPipeline.BOUND_MILLIS))
                .withTimestampAssigner(r -> Long.parseLong(r.value().substring(0, r.value().indexOf(','))));
    }

    /**
     * The crash test's counting pipeline with the given source and operator name; {@code changed}
     * adds a stateless step in front of the window, as a new version of the application would.
     */
    private static void run(Path input, long failAfter, Path checkpoints, Path output, String sourceName,
                            String operatorName, boolean changed) {
        AtomicBoolean delivered = new AtomicBoolean();
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(5)).open()) {
            EventStream<Void, String> stream = EventStream.of(cp.source(sourceName, input(input, failAfter, delivered),
                    watermarks()));
            if (changed) {
                stream = stream.filter(line -> !line.isEmpty()).map(String::trim);
            }
            stream.settings(OperatorSettings.named(operatorName).withStateBackend(cp.stateBackend()))
                    .keyBy(line -> line.substring(line.indexOf(',') + 1))
                    .window(Windows.tumbling(Duration.ofMillis(CrashPipeline.WINDOW_MILLIS)))
                    .name(operatorName)
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(flagging(StreamSinks.exactlyOnceFiles(output), delivered), CrashPipeline::format))
                    .block();
        }
    }

    private Path writeInput(int n) throws Exception {
        List<String> lines = CheckpointCrashTest.input(new SplittableRandom(11), n);
        Path file = dir.resolve("input.txt");
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    @Test
    void changedPipelineWithTheSameNamesResumesItsStateExactly() throws Exception {
        Path file = writeInput(40_000);
        Map<String, Long> expected = CheckpointCrashTest.reference(Files.readAllLines(file));
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");

        Throwable failure = catchThrowable(() -> run(file, 25_000, checkpoints, output, "input", "counts", false));
        assertThat(failure).hasStackTraceContaining("source failed on purpose");
        List<CheckpointInfo> before = Checkpointing.list(checkpoints);
        assertThat(before).as("checkpoints of the failed run").isNotEmpty();
        CheckpointInfo last = before.get(before.size() - 1);
        assertThat(last.positions().get("input").values()).allSatisfy(offset -> assertThat(offset).isPositive());
        assertThat(CheckpointWriteFailureTest.results(output)).as("delivered before the failure").isNotEmpty();

        run(file, 0, checkpoints, output, "input", "counts", true);
        assertThat(CheckpointWriteFailureTest.results(output)).isEqualTo(expected);
    }

    @Test
    void twoStatefulOperatorsWithOneNameAreAnError() throws Exception {
        Path file = writeInput(1_000);
        try (Checkpointing cp = Checkpointing.builder(dir.resolve("ck")).interval(Duration.ZERO).open()) {
            EventStream<String, String> keyed = EventStream.of(cp.source("input", input(file, 0), watermarks()))
                    .settings(OperatorSettings.named("same").withStateBackend(cp.stateBackend()))
                    .keyBy(line -> line.substring(line.indexOf(',') + 1));
            assertThatThrownBy(() -> Flux.merge(
                            keyed.window(Windows.tumbling(Duration.ofSeconds(1))).name("same")
                                    .aggregate(Aggregations.count()).values(),
                            keyed.window(Windows.tumbling(Duration.ofSeconds(2))).name("same")
                                    .aggregate(Aggregations.count()).values())
                    .then().block())
                    .hasStackTraceContaining("two operators named 'same'")
                    .hasStackTraceContaining("give each stateful operator its own name");
        }
    }

    @Test
    void restoredStateOfAnOperatorThePipelineNoLongerHasIsAnError() throws Exception {
        Path file = writeInput(20_000);
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");
        catchThrowable(() -> run(file, 12_000, checkpoints, output, "input", "counts", false));
        assertThat(Checkpointing.list(checkpoints)).isNotEmpty();
        assertThat(Checkpointing.list(checkpoints).get(Checkpointing.list(checkpoints).size() - 1).operators())
                .contains("counts");
        Map<String, Long> delivered = CheckpointWriteFailureTest.results(output);

        assertThatThrownBy(() -> run(file, 0, checkpoints, output, "input", "tallies", false))
                .hasStackTraceContaining("has state of operator(s) [counts] that this pipeline does not have")
                .hasStackTraceContaining("tallies")
                .hasStackTraceContaining("rename the operators back");
        assertThat(CheckpointWriteFailureTest.results(output)).as("nothing delivered by the rejected run")
                .isEqualTo(delivered);

        // With the name back, the run resumes and completes exactly.
        run(file, 0, checkpoints, output, "input", "counts", false);
        assertThat(CheckpointWriteFailureTest.results(output))
                .isEqualTo(CheckpointCrashTest.reference(Files.readAllLines(file)));
    }

    @Test
    void positionsOfAnotherSourceNameAreAnError() throws Exception {
        Path file = writeInput(20_000);
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");
        catchThrowable(() -> run(file, 12_000, checkpoints, output, "input", "counts", false));
        assertThat(Checkpointing.list(checkpoints)).isNotEmpty();

        assertThatThrownBy(() -> run(file, 0, checkpoints, output, "lines", "counts", false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has positions for source(s) [input]")
                .hasMessageContaining("this pipeline's source is named 'lines'");
    }
}
