package io.streamflow.reactive.kafka;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerConfig;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka module's smoke subset against the older broker line (3.9.x), which the library's 3.9
 * client also supports: {@link KafkaSource} reads a topic subscribed in a consumer group, and a
 * checkpointed pipeline from it delivers its windowed counts through {@link KafkaSink#exactlyOnce}
 * so that a {@code read_committed} reader sees each once. The broker's class path comes from the system property the build sets to the file
 * the 3.9 broker module writes.
 */
class Kafka39SmokeTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create(KafkaBrokerConfig.defaults()
            .withClassPathFile(Path.of(System.getProperty("streamflow.test.kafka.broker.39.classpath.file",
                    "the system property streamflow.test.kafka.broker.39.classpath.file is not set"))));

    private static final long SEED = Long.getLong("seed", System.nanoTime());

    private static Map<String, Object> consumerProps(KafkaBroker broker, String group) {
        Map<String, Object> p = new HashMap<>(broker.clientProperties());
        p.put("group.id", group);
        p.put("auto.offset.reset", "earliest");
        return p;
    }

    /** Produces {@code perPartition} records to each partition; @return "partition@offset" → the record */
    private static Map<String, ProducerRecord<String, String>> produce(KafkaBroker broker, String topic,
                                                                       int partitions, int perPartition,
                                                                       SplittableRandom rnd) throws Exception {
        Map<String, ProducerRecord<String, String>> out = new TreeMap<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProperties(),
                new StringSerializer(), new StringSerializer())) {
            List<ProducerRecord<String, String>> records = new ArrayList<>();
            List<Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < perPartition; i++) {
                    // out of order by up to 20 ms within a partition
                    long ts = 1_000 + 3L * i - rnd.nextInt(21);
                    ProducerRecord<String, String> r = new ProducerRecord<>(topic, p, ts, "p" + p + "k" + rnd.nextInt(5),
                            p + "-" + i);
                    records.add(r);
                    sent.add(producer.send(r));
                }
            }
            for (int i = 0; i < records.size(); i++) {
                var m = sent.get(i).get(60, TimeUnit.SECONDS);
                out.put(m.partition() + "@" + m.offset(), records.get(i));
            }
        }
        return out;
    }

    @Test
    void theBrokerIsAThreeNineBroker(KafkaBroker broker) throws Exception {
        assertThat(Files.readString(broker.logFile())).containsPattern("Kafka version: 3\\.9\\.\\d+");
    }

    @Test
    void kafkaSourceReadsEveryRecordOnceThroughGroupSubscription(KafkaBroker broker) throws Exception {
        System.out.println("Kafka39SmokeTest seed " + SEED + " (replay with -Dseed=" + SEED + ")");
        broker.createTopic("smoke-in", 2);
        Map<String, ProducerRecord<String, String>> produced = produce(broker, "smoke-in", 2, 500,
                new SplittableRandom(SEED));

        List<StreamElement<String, String>> read = KafkaSource.strings(consumerProps(broker, "smoke-readers"))
                .topic("smoke-in").flux().take(produced.size()).collectList().block(Duration.ofSeconds(90));

        Map<String, String> seen = new TreeMap<>();
        for (StreamElement<String, String> e : read) {
            StreamRecord<String, String> r = (StreamRecord<String, String>) e;
            String at = r.origin().partition() + "@" + r.origin().position();
            assertThat(seen.put(at, r.key() + "=" + r.value() + "@" + r.timestamp())).as("read twice: " + at).isNull();
        }
        Map<String, String> expected = new TreeMap<>();
        produced.forEach((at, r) -> expected.put(at, r.key() + "=" + r.value() + "@" + r.timestamp()));
        assertThat(seen).isEqualTo(expected);
    }

    @Test
    void aCheckpointedPipelineDeliversItsWindowedCountsExactlyOnceToReadCommittedReaders(KafkaBroker broker,
            @TempDir Path dir) throws Exception {
        broker.createTopic("smoke-events", 2);
        broker.createTopic("smoke-counts", 2);
        Map<String, ProducerRecord<String, String>> produced = produce(broker, "smoke-events", 2, 2_000,
                new SplittableRandom(SEED + 1));
        Map<String, Long> reference = new TreeMap<>();
        produced.values().forEach(r -> reference.merge(r.key() + "@" + Math.floorDiv(r.timestamp(), 1000) * 1000,
                1L, Long::sum));

        KafkaSource<String, String> source = KafkaSource.strings(consumerProps(broker, "smoke-pipeline"))
                .topic("smoke-events");
        try (Checkpointing cp = Checkpointing.builder(dir.resolve("checkpoints"))
                .interval(Duration.ofMillis(100)).open();
             KafkaSink sink = KafkaSink.exactlyOnce(broker.clientProperties(), "smoke-pipeline")) {
            EventStream.of(cp.source("events", positions -> untilOffset(source.resume().apply(positions), 2_000 - 1),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ofMillis(20))))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofSeconds(1)))
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(source.committingOffsets("events", sink),
                            (StreamRecord<String, WindowResult<String, Long>> r) -> KafkaRecord.of("smoke-counts",
                                    (r.key() + "@" + r.value().start()).getBytes(StandardCharsets.UTF_8),
                                    ByteBuffer.allocate(8).putLong(r.value().value()).array())))
                    .block(Duration.ofMinutes(2));
        }

        Map<String, List<Long>> seen = KafkaSinkTest.readCommitted(broker, "smoke-counts");
        String summary = KafkaExactlyOnceCrashTest.checkOnce(reference, seen);
        System.out.println("Kafka39SmokeTest: " + summary);
    }

    /** The elements up to offset {@code last} of every partition of a 2-partition topic. */
    private static Flux<StreamElement<String, String>> untilOffset(Flux<StreamElement<String, String>> elements,
                                                                   long last) {
        Set<Integer> done = new HashSet<>();
        return elements.takeUntil(e -> {
            Origin o = ((StreamRecord<?, ?>) e).origin();
            if (o.position() >= last) {
                done.add(o.partition());
            }
            return done.size() == 2;
        });
    }
}
