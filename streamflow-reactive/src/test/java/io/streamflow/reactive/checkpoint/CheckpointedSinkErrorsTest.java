package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A JVM-fatal error in the checkpointed sink (its format function, or the {@link OutboxSink} it
 * delivers to) terminates the pipeline with that error instead of leaving it waiting forever.
 */
class CheckpointedSinkErrorsTest {

    @TempDir
    Path dir;

    private Throwable run(OutboxSink<String> sink, Function<StreamRecord<Long, Long>, String> format) {
        try (Checkpointing cp = Checkpointing.builder(dir).interval(Duration.ZERO).open()) {
            return catchThrowable(() -> EventStream.of(cp.source("numbers",
                            Checkpointing.resumeGenerator(1_000, n -> StreamRecord.of(n % 7, n, n)),
                            WatermarkStrategy.<Long, Long>forMonotonousTimestamps()))
                    .elements()
                    .as(cp.sink(sink, format))
                    .block(Duration.ofSeconds(20)));
        }
    }

    private static Throwable root(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    @Test
    void anOutOfMemoryErrorInTheFormatFunctionFailsThePipeline() {
        Throwable error = run((id, records) -> { }, r -> {
            if (r.value() == 500) {
                throw new OutOfMemoryError("format ran out on purpose");
            }
            return r.value().toString();
        });
        assertThat(error).isNotNull();
        assertThat(error).as("not a timeout of block()").isNotInstanceOf(IllegalStateException.class);
        assertThat(root(error)).isInstanceOf(OutOfMemoryError.class).hasMessage("format ran out on purpose");
    }

    @Test
    void aStackOverflowErrorInTheOutboxSinkFailsThePipeline() {
        Throwable error = run((id, records) -> {
            throw new StackOverflowError("deliver overflowed on purpose");
        }, r -> r.value().toString());
        assertThat(error).isNotNull();
        assertThat(root(error)).isInstanceOf(StackOverflowError.class).hasMessage("deliver overflowed on purpose");
    }
}
