package io.streamflow.samples;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CheckpointInspectorTest {

    @TempDir
    Path dir;

    @Test
    void listsEveryCheckpointWithPositionsOperatorsAndSizes() {
        Path checkpoints = dir.resolve("ck");
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).open()) {
            EventStream.of(cp.source("numbers", Checkpointing.resumeGenerator(1_000,
                                    n -> StreamRecord.of("k" + (n % 7), n, n * 10, Origin.of("numbers", 0, n))),
                            WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ZERO)))
                    .settings(OperatorSettings.named("sums").withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofSeconds(1)))
                    .name("sums")
                    .aggregate(Aggregations.sumLong(v -> v))
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(dir.resolve("out")), r -> r.value().toString()))
                    .block(Duration.ofSeconds(30));
        }
        List<CheckpointInfo> list = Checkpointing.list(checkpoints);
        assertThat(list).hasSize(1);
        CheckpointInfo last = list.get(0);
        assertThat(last.id()).isEqualTo(1);
        assertThat(last.positions()).containsEntry("numbers", java.util.Map.of(0, 999L));
        assertThat(last.operators()).contains("sums", "source:numbers");
        String text = CheckpointInspector.format(list);
        assertThat(text).contains("checkpoint 1 ").contains("source numbers: [0]@999").contains("sums");
        assertThat(CheckpointInspector.format(List.of())).isEqualTo("no checkpoints\n");
    }
}
