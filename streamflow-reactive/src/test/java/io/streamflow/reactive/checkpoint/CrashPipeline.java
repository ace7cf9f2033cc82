package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.publisher.Flux;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The pipeline of the crash tests, run in a child JVM: lines {@code "timestamp,key"} of a file →
 * bounded out-of-orderness watermarks (100 ms) → key (a key starting with {@code '!'} makes the key
 * function throw: a dead letter) → count per key in 1 s tumbling windows → exactly-once part files
 * with lines {@code "key,windowStart,count"} in {@code output/results}; late records go, exactly
 * once too, to {@code output/late} as {@code "position:line"}, dead letters to {@code output/dead}
 * as {@code "position:line"}.
 * <p>
 * It prints {@code opened} once its checkpoint directory is open and restored,
 * {@code progress <n>} every {@value #PROGRESS} source records, {@code input-done} when the source
 * completed (the final checkpoint follows) and {@code done} at the end, so that a test can kill it
 * in any of these phases.
 * <p>
 * Arguments: input file, checkpoint directory, output directory, checkpoint interval in ms.
 */
public final class CrashPipeline {

    static final int PROGRESS = 5_000;
    static final long BOUND_MILLIS = 100;
    static final long WINDOW_MILLIS = 1_000;

    private CrashPipeline() {
    }

    public static void main(String[] args) {
        AtomicLong read = new AtomicLong();
        run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), Long.parseLong(args[3]), r -> {
            long n = read.incrementAndGet();
            if (n % PROGRESS == 0) {
                say("progress " + n);
            }
        });
        say("done");
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** Runs the pipeline to its end; {@code onRead} sees every source record. */
    static void run(Path input, Path checkpoints, Path output, long intervalMillis,
                    Consumer<StreamElement<Void, String>> onRead) {
        Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> lines = Checkpointing.resumeFileLines(input);
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(intervalMillis))
                .pipeline("crash-test").open()) {
            say("opened");
            WatermarkStrategy<Void, String> strategy = WatermarkStrategy
                    .<Void, String>forBoundedOutOfOrderness(Duration.ofMillis(BOUND_MILLIS))
                    .withTimestampAssigner(r -> Long.parseLong(r.value().substring(0, r.value().indexOf(','))));
            EventStream.of(cp.source("input", positions -> lines.apply(positions).doOnNext(onRead)
                            .doOnComplete(() -> say("input-done")), strategy))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend())
                            .withErrorPolicy(ErrorPolicy.deadLetter()))
                    .keyBy(CrashPipeline::key)
                    .window(Windows.tumbling(Duration.ofMillis(WINDOW_MILLIS)))
                    .name("counts")
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output.resolve("results")), CrashPipeline::format,
                            Checkpointing.sideOutputs()
                                    .lateRecords(StreamSinks.exactlyOnceFiles(output.resolve("late")),
                                            l -> l.record().origin().position() + ":" + l.record().value())
                                    .deadLetters(StreamSinks.exactlyOnceFiles(output.resolve("dead")),
                                            d -> d.origin().position() + ":" + ((StreamRecord<?, ?>) d.input()).value())))
                    .block();
        }
    }

    static String key(String line) {
        String key = line.substring(line.indexOf(',') + 1);
        if (key.startsWith("!")) {
            throw new IllegalArgumentException("poison key " + key);
        }
        return key;
    }

    static String format(StreamRecord<String, WindowResult<String, Long>> r) {
        WindowResult<String, Long> w = r.value();
        return w.key() + "," + w.start() + "," + w.value();
    }
}
