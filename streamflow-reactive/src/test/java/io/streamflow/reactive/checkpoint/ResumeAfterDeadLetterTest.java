package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.LineFile;
import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.FileLinesOptions;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A checkpoint taken when the last line consumed was a dead letter resumes after that line: the
 * restarted pipeline neither reads it again (a second dead letter) nor skips the line after it.
 * A file line's position is the byte offset of its start, for records and dead letters alike.
 */
class ResumeAfterDeadLetterTest {

    private static final FileLinesOptions OPTIONS = FileLinesOptions.defaults().maxLineBytes(64);

    @TempDir
    Path dir;

    static Stream<Arguments> badLastLines() {
        return Stream.of(
                Arguments.of("not UTF-8 (dead letter of the source)", LineFile.bytesOf("3,", 0xFF, 0xFE)),
                Arguments.of("too long (dead letter of the source)", LineFile.bytesOf("3," + "x".repeat(100))),
                Arguments.of("no timestamp (dead letter of the watermark strategy)", LineFile.bytesOf("three,c")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badLastLines")
    void aRestartAfterACheckpointWhoseLastLineWasADeadLetterReadsOnlyTheLinesAfterIt(String what, byte[] bad)
            throws IOException {
        Path file = dir.resolve("input.txt");
        Files.write(file, concat(LineFile.bytesOf("1,a\n2,b\n"), bad, LineFile.bytesOf("\n")));
        long badOffset = 8;
        Path checkpoints = dir.resolve("checkpoints");
        Path output = dir.resolve("out");

        List<DeadLetter<?, ?>> first = run(file, checkpoints, output);

        assertThat(first).singleElement().satisfies(d -> assertThat(d.origin().position()).isEqualTo(badOffset));
        List<CheckpointInfo> checkpointsAfterFirst = Checkpointing.list(checkpoints);
        assertThat(checkpointsAfterFirst).isNotEmpty();
        assertThat(checkpointsAfterFirst.get(checkpointsAfterFirst.size() - 1).positions())
                .as("the final checkpoint stands at the dead-lettered line")
                .isEqualTo(Map.of("input", Map.of(0, badOffset)));

        Files.write(file, LineFile.bytesOf("4,d\n5,e\n"), StandardOpenOption.APPEND);
        List<DeadLetter<?, ?>> second = run(file, checkpoints, output);

        assertThat(second).as("the dead-lettered line is not read again").isEmpty();
        assertThat(delivered(output)).as("every record delivered exactly once")
                .containsExactly("1,a", "2,b", "4,d", "5,e");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badLastLines")
    void aFileWhoseOnlyLineIsADeadLetterResumesAfterIt(String what, byte[] bad) throws IOException {
        Path file = dir.resolve("input.txt");
        Files.write(file, concat(bad, LineFile.bytesOf("\n")));
        Path checkpoints = dir.resolve("checkpoints");
        Path output = dir.resolve("out");

        assertThat(run(file, checkpoints, output)).hasSize(1);
        Files.write(file, LineFile.bytesOf("4,d\n"), StandardOpenOption.APPEND);

        assertThat(run(file, checkpoints, output)).isEmpty();
        assertThat(delivered(output)).containsExactly("4,d");
    }

    /** One run of a checkpointed pipeline over the file's lines; returns its dead letters. */
    private static List<DeadLetter<?, ?>> run(Path file, Path checkpoints, Path output) {
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        WatermarkStrategy<Void, String> strategy = WatermarkStrategy
                .<Void, String>forBoundedOutOfOrderness(Duration.ZERO)
                .withTimestampAssigner(r -> Long.parseLong(r.value().substring(0, r.value().indexOf(','))))
                .withErrorPolicy(ErrorPolicy.deadLetter());
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).open()) {
            EventStream.of(cp.source("input", Checkpointing.resumeFileLines(file, OPTIONS), strategy))
                    .onDeadLetter(d -> d.doOnNext(dead::add))
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output), (StreamRecord<Void, String> r) -> r.value()))
                    .block(Duration.ofSeconds(60));
        }
        return new ArrayList<>(dead);
    }

    private static List<String> delivered(Path output) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> parts = Files.list(output)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                lines.addAll(Files.readAllLines(part, StandardCharsets.UTF_8));
            }
        }
        return lines;
    }


    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
