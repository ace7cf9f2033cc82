package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code Checkpointing.Builder.commitOutputPromptly}: output makes a checkpoint due at once, or at
 * the end of the pause after the previous one, instead of at the interval (one hour here, on a
 * virtual clock that only the test moves). Without the option the same output waits for the
 * interval.
 */
class PromptOutputCheckpointTest {

    @TempDir
    Path dir;

    /** One delivered checkpoint: its id and its records. */
    record Delivered(long id, List<String> records) {
    }

    /** A pipeline from a sink the test emits into: 1 s tumbling counts per key, into a recording outbox sink. */
    private static final class Run implements AutoCloseable {
        final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        final Sinks.Many<StreamRecord<String, Long>> input = Sinks.many().unicast().onBackpressureBuffer();
        final List<Delivered> delivered = new CopyOnWriteArrayList<>();
        final AtomicInteger results = new AtomicInteger();
        final Checkpointing cp;
        final Disposable running;

        Run(Path dir, Duration promptPause) {
            Checkpointing.Builder b = Checkpointing.builder(dir).interval(Duration.ofHours(1)).scheduler(clock);
            if (promptPause != null) {
                b.commitOutputPromptly(promptPause);
            }
            cp = b.open();
            running = EventStream.of(cp.source("in", positions -> input.asFlux(),
                            WatermarkStrategy.<String, Long>forMonotonousTimestamps()))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofSeconds(1))).name("counts")
                    .aggregate(Aggregations.<Long>count())
                    .elements()
                    .doOnNext(e -> {
                        if (e instanceof StreamRecord<?, ?>) {
                            results.incrementAndGet(); // the result is about to enter the outbox
                        }
                    })
                    .as(cp.sink((id, records) -> delivered.add(new Delivered(id, List.copyOf(records))),
                            (StreamRecord<String, WindowResult<String, Long>> r) ->
                                    r.value().key() + "@" + r.value().start() + "=" + r.value().value()))
                    .subscribe();
        }

        void emit(String key, long time) {
            input.emitNext(StreamRecord.of(key, time, time), Sinks.EmitFailureHandler.FAIL_FAST);
        }

        @Override
        public void close() {
            running.dispose();
            cp.close();
        }
    }

    @Test
    void outputIsCheckpointedAtOnceAndAgainAfterThePauseNotAtTheInterval() throws Exception {
        try (Run run = new Run(dir, Duration.ofMillis(100))) {
            run.emit("a", 0);
            run.emit("a", 500);
            run.emit("b", 900);
            run.emit("a", 1_500); // closes [0, 1 s): two results
            await(() -> run.delivered.size() == 1, "the first results' checkpoint");
            assertThat(run.delivered.get(0).records()).containsExactlyInAnyOrder("a@0=2", "b@0=1");
            assertThat(run.clock.now(TimeUnit.MILLISECONDS)).as("virtual time").isZero();

            run.emit("b", 2_500); // closes [1 s, 2 s): one result, within the pause after that checkpoint
            await(() -> run.results.get() == 3, "the second window's result reaching the sink");
            Thread.sleep(300);
            assertThat(run.delivered).as("delivered before the pause is over").hasSize(1);
            run.clock.advanceTimeBy(Duration.ofMillis(99));
            Thread.sleep(200);
            assertThat(run.delivered).as("delivered 1 ms before the pause is over").hasSize(1);
            run.clock.advanceTimeBy(Duration.ofMillis(1));
            await(() -> run.delivered.size() == 2, "the second result's checkpoint at the end of the pause");
            assertThat(run.delivered.get(1).records()).containsExactly("a@1000=1");

            // no output, no checkpoint for it: nothing more is delivered (the interval is an hour)
            run.clock.advanceTimeBy(Duration.ofSeconds(10));
            Thread.sleep(200);
            assertThat(run.delivered).hasSize(2);

            // the pause is long over: the next output is checkpointed at once again
            run.emit("c", 3_100);
            await(() -> run.delivered.size() == 3, "the third results' checkpoint");
            assertThat(run.delivered.get(2).records()).containsExactly("b@2000=1");
            assertThat(run.delivered.stream().map(Delivered::id).toList()).isSorted().doesNotHaveDuplicates();
        }
    }

    @Test
    void withoutTheOptionOutputWaitsForTheInterval() throws Exception {
        try (Run run = new Run(dir, null)) {
            run.emit("a", 0);
            run.emit("a", 1_500);
            await(() -> run.results.get() == 1, "the first result reaching the sink");
            Thread.sleep(300);
            run.clock.advanceTimeBy(Duration.ofMinutes(59));
            Thread.sleep(200);
            assertThat(run.delivered).as("delivered before the interval").isEmpty();
            run.clock.advanceTimeBy(Duration.ofMinutes(1));
            await(() -> run.delivered.size() == 1, "the checkpoint at the interval");
            assertThat(run.delivered.get(0).records()).containsExactly("a@0=1");
        }
    }

    @Test
    void aNegativePauseIsRefused() {
        Checkpointing.Builder b = Checkpointing.builder(dir);
        assertThatThrownBy(() -> b.commitOutputPromptly(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minPause");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }
}
