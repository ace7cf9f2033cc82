package io.streamflow.reactive.kafka;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.publisher.Flux;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Kafka → Kafka exactly-once, run in a child JVM by {@link KafkaToKafkaCrashTest}: the records of
 * partitions 0..{@value #PARTITIONS}-1 of the input topic (a checkpointed {@link KafkaSource}, its
 * offsets in the checkpoints) → count per key in 1 s tumbling windows → {@link KafkaSink}
 * exactly-once into the output topic, key {@code "key@windowStart"}, value the count. The input
 * ends at offset {@value #PER_PARTITION} - 1 of every partition. It prints {@code opened},
 * {@code progress <n>} every {@value #PROGRESS} records read by this run, {@code input-done} and
 * {@code done}.
 * <p>
 * Arguments: bootstrap servers, checkpoint directory, input topic, output topic, checkpoint
 * interval in ms.
 */
public final class KafkaToKafkaPipeline {

    static final int PARTITIONS = 3;
    static final int PER_PARTITION = 40_000;
    static final int PROGRESS = 10_000;
    static final long DISORDER = 50;

    private KafkaToKafkaPipeline() {
    }

    public static void main(String[] args) {
        String servers = args[0];
        Path checkpoints = Path.of(args[1]);
        String input = args[2];
        String output = args[3];
        long interval = Long.parseLong(args[4]);
        AtomicLong read = new AtomicLong();
        KafkaSource<String, String> source = KafkaSource.strings(Map.of("bootstrap.servers", servers,
                "group.id", "kafka-to-kafka", "auto.offset.reset", "earliest")).assign(input, 0, 1, 2);
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(interval)).open();
             KafkaSink kafka = KafkaSink.exactlyOnce(Map.of("bootstrap.servers", servers), "kafka-to-kafka")) {
            say("opened");
            EventStream.of(cp.source("input", positions -> untilTheEnd(positions, source.resume().apply(positions))
                                    .doOnNext(e -> {
                                        if (read.incrementAndGet() % PROGRESS == 0) {
                                            say("progress " + read.get());
                                        }
                                    })
                                    .doOnComplete(() -> say("input-done")),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ofMillis(DISORDER))))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofSeconds(1))).name("counts")
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(source.committingOffsets("input", kafka),
                            (StreamRecord<String, WindowResult<String, Long>> r) -> KafkaRecord.of(output,
                                    (r.key() + "@" + r.value().start()).getBytes(StandardCharsets.UTF_8),
                                    ByteBuffer.allocate(8).putLong(r.value().value()).array())))
                    .block();
        }
        say("done");
    }

    /** The elements up to offset PER_PARTITION - 1 of every partition; the Kafka source itself never ends. */
    static Flux<StreamElement<String, String>> untilTheEnd(Map<Integer, Long> positions,
                                                           Flux<StreamElement<String, String>> elements) {
        Set<Integer> done = new HashSet<>();
        positions.forEach((p, at) -> {
            if (at >= PER_PARTITION - 1) {
                done.add(p);
            }
        });
        if (done.size() == PARTITIONS) {
            return Flux.empty();
        }
        return elements.takeUntil(e -> {
            Origin o = e instanceof StreamRecord<?, ?> r ? r.origin() : ((DeadLetter<?, ?>) e).origin();
            if (o.position() >= PER_PARTITION - 1) {
                done.add(o.partition());
            }
            return done.size() == PARTITIONS;
        });
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
