package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A record with a poison timestamp in a checkpointed file pipeline (the crash test's counting
 * pipeline with dead letters routed and the watermark guard on): it goes to the dead-letter output
 * once, the pipeline carries on, and a restart neither crashes on it nor reads it again, because
 * its position counts as consumed.
 */
class PoisonTimestampCheckpointTest {

    private static final String MAX = Long.toString(Long.MAX_VALUE);
    private static final String MIN = Long.toString(Long.MIN_VALUE);
    private static final String NEAR_MAX = Long.toString(Long.MAX_VALUE - 1);

    @TempDir
    Path dir;

    private static WatermarkStrategy<Void, String> watermarks() {
        return WatermarkStrategy.<Void, String>forBoundedOutOfOrderness(Duration.ofMillis(CrashPipeline.BOUND_MILLIS))
                .withTimestampAssigner(r -> Long.parseLong(r.value().substring(0, r.value().indexOf(','))))
                .withErrorPolicy(ErrorPolicy.deadLetter())
                .withMaxTimestampAhead(Duration.ofDays(1));
    }

    /** The input lines, failing on purpose at record {@code failAfter} (0: never). */
    private static Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> input(Path file, long failAfter) {
        Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> lines = Checkpointing.resumeFileLines(file);
        AtomicLong read = new AtomicLong();
        return positions -> lines.apply(positions).doOnNext(r -> {
            if (read.incrementAndGet() == failAfter) {
                throw new IllegalStateException("source failed on purpose");
            }
        });
    }

    /** One run of the counting pipeline; dead letters go to {@code deadLetters}. */
    private static void run(Path input, long failAfter, Path checkpoints, Path output, List<DeadLetter<?, ?>> deadLetters) {
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(5)).open()) {
            EventStream.of(cp.source("input", input(input, failAfter), watermarks()))
                    .onDeadLetter(dead -> dead.doOnNext(deadLetters::add))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .keyBy(line -> line.substring(line.indexOf(',') + 1))
                    .window(Windows.tumbling(Duration.ofMillis(CrashPipeline.WINDOW_MILLIS)))
                    .name("counts")
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output), CrashPipeline::format))
                    .block();
        }
    }

    private static List<String> values(List<DeadLetter<?, ?>> deadLetters) {
        return deadLetters.stream().map(d -> (String) ((StreamRecord<?, ?>) d.input()).value()).toList();
    }

    /** The byte offset at which line {@code index} starts. */
    private static long offsetOf(List<String> lines, int index) {
        long offset = 0;
        for (int i = 0; i < index; i++) {
            offset += lines.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
        }
        return offset;
    }

    @Test
    void poisonTimestampsAreDeadLetteredOnceAndARestartAfterACrashResumesWithoutThem() throws Exception {
        List<String> valid = CheckpointCrashTest.input(new SplittableRandom(19), 30_000);
        List<String> lines = new ArrayList<>(valid);
        lines.add(100, MAX + ",k1");
        lines.add(200, MIN + ",k2");
        lines.add(300, NEAR_MAX + ",k3"); // a valid long, but centuries ahead: the guard rejects it
        Path file = dir.resolve("input.txt");
        Files.write(file, lines, StandardCharsets.UTF_8);
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");
        List<DeadLetter<?, ?>> first = new CopyOnWriteArrayList<>();

        Throwable failure = catchThrowable(() -> run(file, 20_000, checkpoints, output, first));

        assertThat(failure).as("only the failure on purpose").hasStackTraceContaining("source failed on purpose");
        assertThat(values(first)).containsExactly(MAX + ",k1", MIN + ",k2", NEAR_MAX + ",k3");
        assertThat(first).allSatisfy(d -> assertThat(d.operator()).isEqualTo("watermarks"));
        assertThat(first.get(0).origin().position()).isEqualTo(offsetOf(lines, 100));
        assertThat(first.get(0).error()).hasMessageContaining("Long.MAX_VALUE is the end-of-input watermark");
        assertThat(first.get(2).error()).hasMessageContaining("WatermarkStrategy.withMaxTimestampAhead");
        List<CheckpointInfo> checkpointed = Checkpointing.list(checkpoints);
        assertThat(checkpointed).isNotEmpty();
        long resumeAfter = checkpointed.get(checkpointed.size() - 1).positions().get("input").get(0);
        assertThat(resumeAfter).as("the last checkpoint is past the poison records")
                .isGreaterThan(offsetOf(lines, 300));

        List<DeadLetter<?, ?>> second = new CopyOnWriteArrayList<>();
        run(file, 0, checkpoints, output, second);

        assertThat(second).as("dead letters of the restarted run").isEmpty();
        assertThat(CheckpointWriteFailureTest.results(output)).isEqualTo(CheckpointCrashTest.reference(valid));
    }

    @Test
    void aPoisonRecordAtTheEndOfTheInputIsNotReadAgainByARestart() throws Exception {
        List<String> valid = CheckpointCrashTest.input(new SplittableRandom(23), 2_000);
        List<String> lines = new ArrayList<>(valid);
        lines.add(MAX + ",k1");
        Path file = dir.resolve("input.txt");
        Files.write(file, lines, StandardCharsets.UTF_8);
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");
        List<DeadLetter<?, ?>> first = new CopyOnWriteArrayList<>();

        run(file, 0, checkpoints, output, first);

        assertThat(values(first)).containsExactly(MAX + ",k1");
        List<CheckpointInfo> checkpointed = Checkpointing.list(checkpoints);
        assertThat(checkpointed.get(checkpointed.size() - 1).positions().get("input"))
                .as("the final checkpoint counts the dead-lettered last line as read")
                .containsEntry(0, offsetOf(lines, lines.size() - 1));
        Map<String, Long> results = CheckpointWriteFailureTest.results(output);
        assertThat(results).isEqualTo(CheckpointCrashTest.reference(valid));

        List<DeadLetter<?, ?>> second = new CopyOnWriteArrayList<>();
        run(file, 0, checkpoints, output, second);

        assertThat(second).as("dead letters of the restarted run").isEmpty();
        assertThat(CheckpointWriteFailureTest.results(output)).isEqualTo(results);
    }

    @Test
    void anInputOfOnlyPoisonRecordsIsNotReadAgainByARestart() throws Exception {
        Path file = dir.resolve("input.txt");
        Files.write(file, List.of(MAX + ",k1", MIN + ",k2"), StandardCharsets.UTF_8);
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");
        List<DeadLetter<?, ?>> first = new CopyOnWriteArrayList<>();

        run(file, 0, checkpoints, output, first);

        assertThat(values(first)).containsExactly(MAX + ",k1", MIN + ",k2");
        List<CheckpointInfo> checkpointed = Checkpointing.list(checkpoints);
        assertThat(checkpointed.get(checkpointed.size() - 1).positions().get("input"))
                .containsEntry(0, (long) (MAX + ",k1").length() + 1);

        List<DeadLetter<?, ?>> second = new CopyOnWriteArrayList<>();
        run(file, 0, checkpoints, output, second);

        assertThat(second).as("dead letters of the restarted run").isEmpty();
        assertThat(CheckpointWriteFailureTest.results(output)).isEmpty();
    }
}
