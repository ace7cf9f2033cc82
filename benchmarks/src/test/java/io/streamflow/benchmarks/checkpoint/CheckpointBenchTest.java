package io.streamflow.benchmarks.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The checkpoint benchmark on a small state: its phases, its recovery check and its report. */
class CheckpointBenchTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void smallRunMeasuresEveryPhaseAndRecoversTheState() throws Exception {
        CheckpointBench.Result r = CheckpointBench.run(dir.resolve("work"), 8, 100, "-Xmx256m", "-Xmx128m");

        assertThat(r.buildPhases()).extracting(p -> p.get("name"))
                .containsExactly("build", "full-change", "1%-random", "1%-range");
        for (Map<String, String> p : r.buildPhases()) {
            assertThat(p.get("checkpoints")).as(p.get("name")).isEqualTo("1");
            assertThat(Long.parseLong(p.get("written_bytes"))).as(p.get("name")).isPositive();
        }
        long random = Long.parseLong(r.buildPhases().get(2).get("written_bytes"));
        long range = Long.parseLong(r.buildPhases().get(3).get("written_bytes"));
        long full = Long.parseLong(r.buildPhases().get(1).get("written_bytes"));
        // a checkpoint writes the pages that changed: 1% of the keys in one range is a few pages,
        // at random they are spread over many, and a full change rewrites them all
        assertThat(range).isLessThan(random);
        assertThat(random).isLessThan(full);
        assertThat(range * 10).isLessThan(full);

        assertThat(r.firstOutput()).containsEntry("key", "k0")
                .containsEntry("count", Long.toString(StateChild.countOfKey0AfterBuild(r.keys()) + 1));
        assertThat(r.spawnToFirstOutputMs()).isPositive();
        assertThat(Long.parseLong(r.recoverEnd().get("checkpoints"))).isGreaterThanOrEqualTo(2);
        assertThat(r.fsyncMbPerS()).isPositive();

        Path doc = dir.resolve("doc.md");
        Files.writeString(doc, "before\n" + CheckpointBench.BEGIN + "\nold\n" + CheckpointBench.END + "\nafter\n");
        CheckpointBench.write(r, dir.resolve("out"), doc.toString());
        String text = Files.readString(doc);
        assertThat(text).startsWith("before\n").endsWith("after\n").doesNotContain("\nold\n")
                .contains("| 1%-range | ").contains("Recovery with");
        assertThat(dir.resolve("out").resolve("checkpoints.json")).exists();
        assertThat(dir.resolve("work")).doesNotExist();
    }
}
