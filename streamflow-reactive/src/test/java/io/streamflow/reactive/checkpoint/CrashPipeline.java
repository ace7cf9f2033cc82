package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.Checkpointing;
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
 * The pipeline of the crash test, run in a child JVM: lines {@code "timestamp,key"} of a file →
 * bounded out-of-orderness watermarks (100 ms) → count per key in 1 s tumbling windows →
 * exactly-once part files with lines {@code "key,windowStart,count"}. It prints
 * {@code progress <n>} every {@value #PROGRESS} source records, so the test can kill it at a random
 * point of its work, and {@code done} when it completed.
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
                System.out.println("progress " + n);
                System.out.flush();
            }
        });
        System.out.println("done");
        System.out.flush();
    }

    /** Runs the pipeline to its end; {@code onRead} sees every source record. */
    static void run(Path input, Path checkpoints, Path output, long intervalMillis,
                    Consumer<StreamElement<Void, String>> onRead) {
        Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> lines = Checkpointing.resumeFileLines(input);
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(intervalMillis))
                .pipeline("crash-test").open()) {
            WatermarkStrategy<Void, String> strategy = WatermarkStrategy
                    .<Void, String>forBoundedOutOfOrderness(Duration.ofMillis(BOUND_MILLIS))
                    .withTimestampAssigner(r -> Long.parseLong(r.value().substring(0, r.value().indexOf(','))));
            EventStream.of(cp.source("input", positions -> lines.apply(positions).doOnNext(onRead), strategy))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .keyBy(line -> line.substring(line.indexOf(',') + 1))
                    .window(Windows.tumbling(Duration.ofMillis(WINDOW_MILLIS)))
                    .name("counts")
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output), CrashPipeline::format))
                    .block();
        }
    }

    static String format(StreamRecord<String, WindowResult<String, Long>> r) {
        WindowResult<String, Long> w = r.value();
        return w.key() + "," + w.start() + "," + w.value();
    }
}
