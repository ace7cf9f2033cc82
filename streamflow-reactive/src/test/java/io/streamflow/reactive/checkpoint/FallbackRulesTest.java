package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.internal.store.CheckpointStore;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The rules of a restart after a checkpoint fallback, in-process: a replay that does not give what
 * the sink holds stops the pipeline before it delivers anything; a sink that keeps no delivery
 * records refuses a fallback unless redelivery is accepted; a finished pipeline whose state is lost
 * delivers nothing again; sinks of one pipeline that delivered different checkpoints before a crash
 * are caught up each to its own; committed output for a side-output sink the pipeline no longer
 * has is an error, never dropped.
 */
class FallbackRulesTest {

    @TempDir
    Path dir;

    private Path input(int n, long seed) throws IOException {
        Path file = dir.resolve("input.txt");
        Files.write(file, CrashOutput.input(new SplittableRandom(seed), n), StandardCharsets.UTF_8);
        return file;
    }

    /** The crash test's pipeline with its main sink and format, its source failing after {@code failAfter} records. */
    private static void run(Path input, long failAfter, Path checkpoints, Function<Checkpointing.Builder,
            Checkpointing.Builder> options, OutboxSink<String> results,
                            Function<StreamRecord<String, WindowResult<String, Long>>, String> format,
                            OutboxSink<String> dead) {
        run(input, failAfter, 0, checkpoints, options, results, format, dead);
    }

    /** As above; with {@code checkpointEvery > 0} a checkpoint is also asked for every that many records. */
    private static void run(Path input, long failAfter, long checkpointEvery, Path checkpoints,
                            Function<Checkpointing.Builder, Checkpointing.Builder> options, OutboxSink<String> results,
                            Function<StreamRecord<String, WindowResult<String, Long>>, String> format,
                            OutboxSink<String> dead) {
        Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> lines = Checkpointing.resumeFileLines(input);
        AtomicLong read = new AtomicLong();
        try (Checkpointing cp = options.apply(Checkpointing.builder(checkpoints).interval(Duration.ofMillis(5))).open()) {
            WatermarkStrategy<Void, String> strategy = WatermarkStrategy
                    .<Void, String>forBoundedOutOfOrderness(Duration.ofMillis(CrashPipeline.BOUND_MILLIS))
                    .withTimestampAssigner(r -> Long.parseLong(r.value().substring(0, r.value().indexOf(','))));
            Checkpointing.SideOutputs sides = dead == null ? Checkpointing.sideOutputs() : Checkpointing.sideOutputs()
                    .deadLetters(dead, d -> d.origin().position() + ":" + ((StreamRecord<?, ?>) d.input()).value());
            Function<Flux<StreamElement<String, WindowResult<String, Long>>>, Mono<Void>> sink =
                    cp.sink(results, format, sides);
            EventStream.of(cp.source("input", positions -> lines.apply(positions).doOnNext(r -> {
                        long n = read.incrementAndGet();
                        if (n == failAfter) {
                            throw new IllegalStateException("source failed on purpose");
                        }
                        if (checkpointEvery > 0 && n % checkpointEvery == 0) {
                            cp.checkpointNow().subscribe();
                        }
                    }), strategy))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend())
                            .withErrorPolicy(ErrorPolicy.deadLetter()))
                    .keyBy(CrashPipeline::key)
                    .window(Windows.tumbling(Duration.ofMillis(CrashPipeline.WINDOW_MILLIS)))
                    .name("counts")
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(sink)
                    .block();
        }
    }

    private static Map<String, String> snapshot(Path output) throws IOException {
        Map<String, String> out = new HashMap<>();
        if (Files.exists(output)) {
            try (Stream<Path> files = Files.list(output)) {
                for (Path f : files.toList()) {
                    String content = Files.readString(f);
                    if (f.getFileName().toString().endsWith(".delivery")) {
                        assertThat(content).as("positions in " + f).contains("\nposition 0 ");
                    }
                    out.put(f.getFileName().toString(), content);
                }
            }
        }
        return out;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aReplayThatDiffersFromWhatTheSinkHoldsStopsThePipelineBeforeItDeliversAnything() throws Exception {
        Path file = input(20_000, 3);
        Path checkpoints = dir.resolve("ck");
        Path out = dir.resolve("out");
        assertThat(catchThrowable(() -> run(file, 12_000, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out),
                CrashPipeline::format, null))).hasStackTraceContaining("source failed on purpose");
        Map<String, String> before = snapshot(out);
        assertThat(before).isNotEmpty();
        Files.delete(checkpoints.resolve(CheckpointStore.FILE));

        // the same input, but every result formatted differently: not what the sink holds
        assertThatThrownBy(() -> run(file, 0, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out),
                r -> CrashPipeline.format(r) + " ", null))
                .hasStackTraceContaining("the replay produced")
                .hasStackTraceContaining("nothing was delivered")
                .hasStackTraceContaining("Restore the checkpoint directory from a copy");
        assertThat(snapshot(out)).as("nothing delivered by the rejected run").isEqualTo(before);

        // the pipeline as it was goes on exactly-once
        run(file, 0, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out), CrashPipeline::format, null);
        Map<String, Long> expected = CrashOutput.expected(Files.readAllLines(file)).counts();
        assertThat(CheckpointWriteFailureTest.results(out)).isEqualTo(expected);
    }

    /** A sink that keeps no delivery records: it holds the lines of each id in memory. */
    static final class PlainSink implements OutboxSink<String> {
        final Map<Long, List<String>> parts = new HashMap<>();

        @Override
        public void deliver(long checkpointId, List<String> records) {
            parts.put(checkpointId, List.copyOf(records));
        }

        long lines() {
            return parts.values().stream().mapToLong(List::size).sum();
        }
    }

    @Test
    void aSinkWithoutDeliveryRecordsRefusesAFallbackUnlessRedeliveryIsAccepted() throws Exception {
        Path file = input(20_000, 4);
        Path checkpoints = dir.resolve("ck");
        PlainSink sink = new PlainSink();
        // a checkpoint every 2,000 records, so that some are delivered before the failure however fast the run
        catchThrowable(() -> run(file, 12_000, 2_000, checkpoints, b -> b, sink, CrashPipeline::format, null));
        long delivered = sink.lines();
        assertThat(delivered).isPositive();
        Files.delete(checkpoints.resolve(CheckpointStore.FILE));

        assertThatThrownBy(() -> run(file, 0, checkpoints, b -> b, sink, CrashPipeline::format, null))
                .hasStackTraceContaining("does not keep delivery records")
                .hasStackTraceContaining("acceptRedeliveryAfterFallback");
        assertThat(sink.lines()).as("nothing delivered by the refused run").isEqualTo(delivered);

        run(file, 0, checkpoints, Checkpointing.Builder::acceptRedeliveryAfterFallback, sink, CrashPipeline::format,
                null);
        int expected = CrashOutput.expected(Files.readAllLines(file)).counts().size();
        // at-least-once, as accepted: every result, those of the lost checkpoints again under new ids
        assertThat(sink.lines()).isGreaterThan(expected);
        assertThat(sink.parts.values().stream().flatMap(List::stream).distinct().count()).isEqualTo(expected);
    }

    @Test
    void aFinishedPipelineWhoseCheckpointDirectoryIsLostDeliversNothingAgain() throws Exception {
        Path file = input(15_000, 5);
        Path checkpoints = dir.resolve("ck");
        Path out = dir.resolve("out");
        run(file, 0, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out), CrashPipeline::format, null);
        Map<String, String> before = snapshot(out);
        Map<String, Long> expected = CrashOutput.expected(Files.readAllLines(file)).counts();
        assertThat(CheckpointWriteFailureTest.results(out)).isEqualTo(expected);

        deleteTree(checkpoints);
        run(file, 0, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out), CrashPipeline::format, null);
        assertThat(snapshot(out)).as("the replay matched the parts and wrote none").isEqualTo(before);
        long lastId = Checkpointing.list(checkpoints).get(Checkpointing.list(checkpoints).size() - 1).id();
        long maxPart = before.keySet().stream().filter(n -> n.startsWith("part-"))
                .mapToLong(n -> Long.parseLong(n.substring(5, 25))).max().orElseThrow();
        assertThat(lastId).as("new checkpoint ids come after every delivered one").isGreaterThan(maxPart);

        // lines added to the input after it was finished: the replay cannot end where the output did
        deleteTree(checkpoints);
        Files.writeString(file, "99999999,k1\n", StandardOpenOption.APPEND);
        assertThatThrownBy(() -> run(file, 0, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out),
                CrashPipeline::format, null))
                .hasStackTraceContaining("the input ended at positions")
                .hasStackTraceContaining("the input changed since");
        assertThat(snapshot(out)).isEqualTo(before);
    }

    /** Delegates to a sink that keeps records, failing the delivery of one checkpoint with output once. */
    static final class FailOnce implements OutboxSink<String> {
        final OutboxSink<String> inner;
        final AtomicInteger deliveriesLeft;

        FailOnce(OutboxSink<String> inner, int failAt) {
            this.inner = inner;
            this.deliveriesLeft = new AtomicInteger(failAt);
        }

        @Override
        public void deliver(long checkpointId, List<String> records) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void deliver(Delivery delivery, List<String> records) throws IOException {
            if (!records.isEmpty() && deliveriesLeft.decrementAndGet() == 0) {
                throw new IOException("disk gone on purpose");
            }
            inner.deliver(delivery, records);
        }

        @Override
        public Optional<List<Delivery>> deliveries() throws IOException {
            return inner.deliveries();
        }
    }

    @Test
    void sinksThatDeliveredDifferentCheckpointsBeforeACrashAreEachCaughtUpToTheirOwn() throws Exception {
        // a poison line every 1,000 and a checkpoint asked for every 1,500 records: dead letters in many checkpoints
        List<String> lines = new ArrayList<>(CrashOutput.input(new SplittableRandom(6), 30_000, false));
        for (int i = 500; i < lines.size(); i += 1000) {
            lines.set(i, lines.get(i).replace(",k", ",!poison"));
        }
        Path file = dir.resolve("input.txt");
        Files.write(file, lines, StandardCharsets.UTF_8);
        Path checkpoints = dir.resolve("ck");
        Path out = dir.resolve("out");
        // the results of a checkpoint are delivered, its dead letters fail: the sinks now hold different checkpoints
        Throwable failure = catchThrowable(() -> run(file, 0, 1_500, checkpoints, b -> b.interval(Duration.ZERO),
                StreamSinks.exactlyOnceFiles(out.resolve("results")), CrashPipeline::format,
                new FailOnce(StreamSinks.exactlyOnceFiles(out.resolve("dead")), 4)));
        assertThat(failure).hasStackTraceContaining("disk gone on purpose");

        // the dead letters stay in the committed outbox: a pipeline without their sink must not drop them
        assertThatThrownBy(() -> run(file, 0, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out.resolve("results")),
                CrashPipeline::format, null))
                .hasStackTraceContaining("dead letters to deliver")
                .hasStackTraceContaining("Checkpointing.sideOutputs().deadLetters");

        Files.delete(checkpoints.resolve(CheckpointStore.FILE));
        run(file, 0, checkpoints, b -> b, StreamSinks.exactlyOnceFiles(out.resolve("results")), CrashPipeline::format,
                StreamSinks.exactlyOnceFiles(out.resolve("dead")));
        CrashOutput.Expected expected = CrashOutput.expected(Files.readAllLines(file));
        Files.createDirectories(out.resolve("late"));
        CrashOutput.Actual actual = CrashOutput.read(out);
        assertThat(actual.counts()).isEqualTo(expected.counts());
        assertThat(actual.duplicated()).isEmpty();
        assertThat(actual.dead()).isEqualTo(expected.dead());
        assertThat(actual.duplicatedSide()).isEmpty();
        List<String> dead = new ArrayList<>(CrashOutput.lines(out.resolve("dead")));
        assertThat(dead).hasSize(expected.dead().size());
    }

    @Test
    void everyDeliveryIsACommittedCheckpointWithItsPositionsAlsoWhenOneIsAskedForAsTheInputEnds() throws Exception {
        for (int round = 0; round < 20; round++) {
            Path ck = dir.resolve("race-ck-" + round);
            Path out = dir.resolve("race-out-" + round);
            OutboxSink<String> sink = StreamSinks.exactlyOnceFiles(out);
            try (Checkpointing cp = Checkpointing.builder(ck).interval(Duration.ZERO).open()) {
                // a checkpoint asked for when the source completes: its barrier may never be injected
                EventStream.of(cp.source("numbers", positions -> Checkpointing.<Long, Long>resumeGenerator(2_000,
                                        n -> StreamRecord.of(n % 5, n, n, io.streamflow.reactive.Origin.of("gen", 0, n))).apply(positions)
                                        .doOnNext(r -> {
                                            if (r.value() % 500 == 0) {
                                                cp.checkpointNow().subscribe();
                                            }
                                        })
                                        .doOnComplete(() -> cp.checkpointNow().subscribe()),
                                WatermarkStrategy.<Long, Long>forMonotonousTimestamps()))
                        .elements()
                        .as(cp.sink(sink, r -> r.value().toString()))
                        .block(Duration.ofSeconds(20));
            }
            Map<Long, Map<Integer, Long>> checkpoints = new HashMap<>();
            for (io.streamflow.reactive.CheckpointInfo c : Checkpointing.list(ck)) {
                checkpoints.put(c.id(), c.positions().get("numbers"));
            }
            long lines = 0;
            for (OutboxSink.Delivery d : sink.deliveries().orElseThrow()) {
                assertThat(checkpoints).as("round " + round + ": delivery " + d + " is a committed checkpoint")
                        .containsKey(d.checkpointId());
                assertThat(d.positions().get("numbers")).as("round " + round + ": positions of " + d)
                        .isEqualTo(checkpoints.get(d.checkpointId()));
                lines += d.records();
            }
            assertThat(lines).isEqualTo(2_000);
        }
    }
}
