package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.internal.store.CheckpointStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A checkpoint whose write fails (a disk that fills up) is never acknowledged: the pipeline fails
 * with a clear error, the checkpoint's output is not delivered, and once there is space again a
 * restart resumes from the previous checkpoint and delivers every result exactly once.
 */
class CheckpointWriteFailureTest {

    @TempDir
    Path dir;

    @BeforeEach
    void fullDisk() {
        DiskFullFileSystem.register();
        CheckpointStore.useFileSystem(DiskFullFileSystem.SCHEME);
    }

    @AfterEach
    void normalDisk() {
        CheckpointStore.useFileSystem(null);
        DiskFullFileSystem.budget.set(Long.MAX_VALUE);
    }

    @Test
    void diskFullDuringACheckpointFailsClearlyAndLosesNothing() throws Exception {
        SplittableRandom rnd = new SplittableRandom(7);
        List<String> lines = CheckpointCrashTest.input(rnd, 60_000);
        Path input = dir.resolve("input.txt");
        Files.write(input, lines, StandardCharsets.UTF_8);
        Map<String, Long> expected = CheckpointCrashTest.reference(lines);
        // what a whole run writes, to fill the disk at points spread over it
        long plenty = Long.MAX_VALUE / 2;
        DiskFullFileSystem.budget.set(plenty);
        CrashPipeline.run(input, dir.resolve("ck-measure"), dir.resolve("out-measure"), 5, r -> { });
        long total = plenty - DiskFullFileSystem.budget.get();
        assertThat(total).as("bytes a whole run writes").isGreaterThan(100_000);
        assertThat(results(dir.resolve("out-measure").resolve("results"))).isEqualTo(expected);
        // (checkpoints come every 5 ms of wall time, so what a run writes varies: the last point stays well inside it)
        for (double fraction : new double[] {0.03, 0.1, 0.2, 0.35}) {
            long budget = (long) (total * fraction);
            Path checkpoints = dir.resolve("ck-" + budget);
            Path output = dir.resolve("out-" + budget);
            DiskFullFileSystem.budget.set(budget);
            long failuresBefore = DiskFullFileSystem.failures.get();
            Throwable error = catchThrowable(() -> CrashPipeline.run(input, checkpoints, output, 5, r -> { }));
            assertThat(DiskFullFileSystem.failures.get()).as("the disk filled up (budget " + budget + ")")
                    .isGreaterThan(failuresBefore);
            assertThat(error).as("budget " + budget).isNotNull();
            Throwable cause = error;
            while (cause != null && !(cause instanceof Checkpointing.CheckpointException)) {
                cause = cause.getCause();
            }
            assertThat(cause).as("error " + error).isInstanceOf(Checkpointing.CheckpointException.class);
            assertThat(cause.getMessage()).contains("could not be written").contains("Nothing of it was acknowledged");
            String message = cause.getMessage();
            long failedId = Long.parseLong(message.substring("checkpoint ".length(),
                    message.indexOf(' ', "checkpoint ".length())));
            assertThat(output.resolve("results").resolve(String.format("part-%020d.txt", failedId))).doesNotExist();
            Map<String, Long> partial = results(output.resolve("results"));
            assertThat(expected).containsAllEntriesOf(partial);

            DiskFullFileSystem.budget.set(Long.MAX_VALUE);
            CrashPipeline.run(input, checkpoints, output, 5, r -> { });
            assertThat(results(output.resolve("results"))).as("budget " + budget).isEqualTo(expected);
            CrashOutput.check("disk full after " + budget + " bytes", CrashOutput.expected(lines), CrashOutput.read(output));
        }
    }

    /** Results of the part files; a result delivered twice fails the test. */
    static Map<String, Long> results(Path output) throws Exception {
        Map<String, Long> out = new HashMap<>();
        if (!Files.exists(output)) {
            return out;
        }
        try (Stream<Path> parts = Files.list(output)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                for (String l : Files.readAllLines(part, StandardCharsets.UTF_8)) {
                    int c = l.lastIndexOf(',');
                    Long before = out.put(l.substring(0, c), Long.parseLong(l.substring(c + 1)));
                    assertThat(before).as("result delivered twice: " + l).isNull();
                }
            }
        }
        return out;
    }
}
