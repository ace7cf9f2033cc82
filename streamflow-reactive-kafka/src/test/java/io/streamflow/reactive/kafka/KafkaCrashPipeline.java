package io.streamflow.reactive.kafka;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The pipeline of the Kafka crash test, run in a child JVM: a generator of {@value #RECORDS}
 * records (key {@code "k" + random % KEYS}, event time advancing 1 ms per record with up to 50 ms
 * of disorder, seeded by the record's number) → count per key in 1 s tumbling windows →
 * {@link KafkaSink} exactly-once into a topic, key {@code "key@windowStart"}, value the count.
 * It prints {@code opened}, {@code progress <n>} every {@value #PROGRESS} records it reads,
 * {@code input-done} and {@code done}, so that a test can kill it in any phase.
 * <p>
 * Arguments: bootstrap servers, checkpoint directory, topic, checkpoint interval in ms.
 */
public final class KafkaCrashPipeline {

    static final int RECORDS = 300_000;
    static final int PROGRESS = 20_000;
    static final int KEYS = 200;
    static final long DISORDER = 50;

    private KafkaCrashPipeline() {
    }

    static StreamRecord<String, Long> record(long n) {
        SplittableRandom rnd = new SplittableRandom(n * 0x9E3779B97F4A7C15L);
        return StreamRecord.of("k" + rnd.nextInt(KEYS), n, 1_000 + n - rnd.nextLong(DISORDER + 1),
                Origin.of("generator", 0, n));
    }

    public static void main(String[] args) {
        String servers = args[0];
        Path checkpoints = Path.of(args[1]);
        String topic = args[2];
        long interval = Long.parseLong(args[3]);
        java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(interval)).open();
             KafkaSink kafka = KafkaSink.exactlyOnce(Map.of("bootstrap.servers", servers), "crash-test")) {
            say("opened");
            EventStream.of(cp.source("generator", positions -> Checkpointing.resumeGenerator(RECORDS,
                                    KafkaCrashPipeline::record).apply(positions)
                                    .doOnNext(r -> {
                                        long n = read.incrementAndGet(); // records read by this run
                                        if (n % PROGRESS == 0) {
                                            say("progress " + n);
                                        }
                                    })
                                    .doOnComplete(() -> say("input-done")),
                            WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ofMillis(DISORDER))))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofSeconds(1))).name("counts")
                    .aggregate(Aggregations.<Long>count())
                    .elements()
                    .as(cp.sink(kafka, (StreamRecord<String, WindowResult<String, Long>> r) -> KafkaRecord.of(topic,
                            (r.key() + "@" + r.value().start()).getBytes(StandardCharsets.UTF_8),
                            ByteBuffer.allocate(8).putLong(r.value().value()).array())))
                    .block();
        }
        say("done");
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
