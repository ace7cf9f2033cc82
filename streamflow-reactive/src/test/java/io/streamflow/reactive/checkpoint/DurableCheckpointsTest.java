package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Sinks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code Checkpointing.durable()} tells listeners of each checkpoint once it is durable, with the
 * source positions it holds, before its output is delivered, and completes on close.
 */
class DurableCheckpointsTest {

    @TempDir
    Path dir;

    @Test
    void everyCheckpointIsAnnouncedOnceDurableWithItsPositionsBeforeItsOutputIsDelivered() throws Exception {
        List<CheckpointInfo> durable = new CopyOnWriteArrayList<>();
        List<Long> deliveredWhenAnnounced = new ArrayList<>();
        List<Long> delivered = new CopyOnWriteArrayList<>();
        AtomicBoolean completed = new AtomicBoolean();
        try (Checkpointing cp = Checkpointing.builder(dir).interval(Duration.ZERO).open()) {
            cp.durable().subscribe(c -> {
                durable.add(c);
                deliveredWhenAnnounced.add((long) delivered.size());
            }, e -> { }, () -> completed.set(true));
            // records in three rounds, each followed by a checkpoint asked for and awaited
            Sinks.Many<StreamRecord<Long, Long>> input = Sinks.many().unicast().onBackpressureBuffer();
            var done = EventStream.of(cp.source("numbers", positions -> input.asFlux(),
                            WatermarkStrategy.<Long, Long>forMonotonousTimestamps()))
                    .elements()
                    .as(cp.sink((id, records) -> delivered.add(id), r -> r.value().toString()))
                    .toFuture();
            for (long n = 0; n < 3_000; n++) {
                input.emitNext(StreamRecord.of(n % 7, n, n, Origin.of("numbers", 0, n)), Sinks.EmitFailureHandler.FAIL_FAST);
                if (n % 1_000 == 999 && n < 2_999) {
                    cp.checkpointNow().block(Duration.ofSeconds(30));
                }
            }
            input.emitComplete(Sinks.EmitFailureHandler.FAIL_FAST);
            done.get(30, TimeUnit.SECONDS); // the final checkpoint, at the end of the input
            assertThat(completed).as("completes only on close").isFalse();
        }
        assertThat(completed).as("completes on close").isTrue();

        // the store lists its checkpoints once closed
        List<CheckpointInfo> listed = Checkpointing.list(dir);
        assertThat(durable).as("announced: every checkpoint that was committed, in order")
                .extracting(CheckpointInfo::id).containsExactlyElementsOf(
                        listed.stream().map(CheckpointInfo::id).toList());
        assertThat(durable).extracting(c -> c.positions().get("numbers"))
                .containsExactlyElementsOf(listed.stream().map(c -> c.positions().get("numbers")).toList());
        assertThat(durable.get(durable.size() - 1).positions()).isEqualTo(Map.of("numbers", Map.of(0, 2_999L)));
        assertThat(durable).as("two checkpoints asked for and the final one").hasSize(3);
        for (int i = 0; i < durable.size(); i++) {
            assertThat(deliveredWhenAnnounced.get(i)).as("deliveries made before checkpoint %d was announced",
                    durable.get(i).id()).isLessThanOrEqualTo(i);
        }
    }
}
