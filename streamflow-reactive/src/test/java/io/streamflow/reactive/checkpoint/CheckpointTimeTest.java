package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A checkpoint's time comes from the checkpointing scheduler, like every other processing time. */
class CheckpointTimeTest {

    @TempDir
    Path dir;

    @Test
    void aCheckpointIsStampedWithTheSchedulersTimeNotTheWallClock() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        clock.advanceTimeTo(Instant.ofEpochMilli(1_234_567));
        try (Checkpointing cp = Checkpointing.builder(dir).interval(Duration.ZERO).scheduler(clock).open()) {
            EventStream.of(cp.source("numbers", Checkpointing.resumeGenerator(100, n -> StreamRecord.of(n % 3, n, n)),
                            WatermarkStrategy.<Long, Long>forMonotonousTimestamps()))
                    .elements()
                    .as(cp.sink((id, records) -> { }, r -> r.value().toString()))
                    .block(Duration.ofSeconds(10));
        }
        List<CheckpointInfo> checkpoints = Checkpointing.list(dir);
        assertThat(checkpoints).isNotEmpty();
        assertThat(checkpoints).allSatisfy(c -> assertThat(c.time()).isEqualTo(Instant.ofEpochMilli(1_234_567)));
    }
}
