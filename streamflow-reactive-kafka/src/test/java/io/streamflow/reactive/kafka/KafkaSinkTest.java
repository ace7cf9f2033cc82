package io.streamflow.reactive.kafka;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.internal.store.CheckpointStore;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The exactly-once Kafka sink on a real broker: a checkpointed pipeline's output reaches
 * {@code read_committed} readers once; a checkpoint delivered again is skipped; a newer instance
 * fences an older one; a pipeline whose checkpoint directory is lost catches up to what Kafka
 * holds instead of producing it again; an aborted transaction stays invisible.
 */
class KafkaSinkTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    @TempDir
    Path dir;

    private static final int RECORDS = 20_000;
    private static final int KEYS = 50;

    /** Record n: key "k" + n % KEYS, event time n ms, position n. */
    private static StreamRecord<String, Long> record(long n) {
        return StreamRecord.of("k" + (n % KEYS), n, n, Origin.of("numbers", 0, n));
    }

    /** Counts per "key@windowStart" in 1 s windows of records 0 .. RECORDS-1, computed directly. */
    private static Map<String, Long> reference() {
        Map<String, Long> out = new TreeMap<>();
        for (long n = 0; n < RECORDS; n++) {
            out.merge("k" + (n % KEYS) + "@" + (n / 1000) * 1000, 1L, Long::sum);
        }
        return out;
    }

    private void run(Path checkpoints, KafkaSink sink, String topic, long checkpointEvery) {
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).open()) {
            EventStream.of(cp.source("numbers", positions -> Checkpointing.resumeGenerator(RECORDS,
                                    KafkaSinkTest::record).apply(positions)
                                    .doOnNext(r -> {
                                        if (((StreamRecord<?, ?>) r).origin().position() % checkpointEvery == 0) {
                                            cp.checkpointNow().subscribe();
                                        }
                                    }),
                            WatermarkStrategy.<String, Long>forMonotonousTimestamps()))
                    .window(Windows.tumbling(Duration.ofSeconds(1))).name("counts")
                    .aggregate(Aggregations.<Long>count())
                    .elements()
                    .as(cp.sink(sink, (StreamRecord<String, WindowResult<String, Long>> r) -> new KafkaRecord(topic, null,
                            (r.key() + "@" + r.value().start()).getBytes(StandardCharsets.UTF_8),
                            ByteBuffer.allocate(8).putLong(r.value().value()).array(), r.timestamp(), Map.of())))
                    .block(Duration.ofSeconds(60));
        }
    }

    /** Everything a read_committed consumer sees in {@code topic}, as key → values (8-byte long values). */
    static Map<String, List<Long>> readCommitted(KafkaBroker broker, String topic) {
        Map<String, List<Long>> out = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaSenderTest.readAll(broker, topic)) {
            out.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>())
                    .add(ByteBuffer.wrap(r.value()).getLong());
        }
        return out;
    }

    private static Map<String, Long> once(Map<String, List<Long>> seen) {
        Map<String, Long> out = new TreeMap<>();
        seen.forEach((k, v) -> {
            assertThat(v).as("results for " + k).hasSize(1);
            out.put(k, v.get(0));
        });
        return out;
    }

    @Test
    void aCheckpointedPipelinesResultsReachReadCommittedReadersExactlyOnce(KafkaBroker broker) {
        broker.createTopic("counts-a", 3);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (KafkaSink sink = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-a")
                .metrics("counting", registry)) {
            run(dir.resolve("ck"), sink, "counts-a", 3_000);
        }
        assertThat(once(readCommitted(broker, "counts-a"))).isEqualTo(reference());
        double transactions = registry.get("streamflow.kafka.transactions").tags("pipeline", "counting",
                "sink", "pipeline-a", "result", "committed").counter().count();
        try (KafkaSink reader = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-a")) {
            // how many checkpoints there were depends on how requests coalesce under load; each
            // committed transaction wrote exactly one delivery record
            assertThat(transactions).as("a committed transaction per delivery record")
                    .isEqualTo(reader.deliveries().orElseThrow().size()).isGreaterThanOrEqualTo(1);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(registry.get("streamflow.kafka.transaction.duration").timer().count())
                .isEqualTo((long) transactions);
        assertThat(registry.get("streamflow.kafka.transactions").tag("result", "aborted").counter().count()).isZero();
    }

    @Test
    void aPipelineThatLostItsCheckpointDirectoryCatchesUpToWhatKafkaHoldsInsteadOfProducingItAgain(
            KafkaBroker broker) throws IOException {
        broker.createTopic("counts-b", 2);
        try (KafkaSink sink = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-b")) {
            run(dir.resolve("ck"), sink, "counts-b", 2_000);
        }
        Map<String, List<Long>> before = readCommitted(broker, "counts-b");
        Files.delete(dir.resolve("ck").resolve(CheckpointStore.FILE));
        try (KafkaSink sink = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-b")) {
            assertThat(sink.deliveries().orElseThrow()).as("delivery records in Kafka").hasSizeGreaterThan(3);
            run(dir.resolve("ck"), sink, "counts-b", 2_000);
        }
        assertThat(readCommitted(broker, "counts-b")).isEqualTo(before);
        assertThat(once(before)).isEqualTo(reference());
    }

    private static KafkaRecord text(String topic, String key, long value) {
        return KafkaRecord.of(topic, key.getBytes(StandardCharsets.UTF_8), ByteBuffer.allocate(8).putLong(value).array());
    }

    @Test
    void aCheckpointDeliveredAgainAfterACrashIsSkippedAndANewerInstanceFencesTheOlder(KafkaBroker broker)
            throws IOException {
        broker.createTopic("counts-c", 1);
        OutboxSink.Delivery seven = new OutboxSink.Delivery(7, Map.of("numbers", Map.of(0, 70L)), 2, 0, false);
        try (KafkaSink first = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-c")) {
            assertThat(first.deliveries().orElseThrow()).isEmpty();
            first.deliver(seven, List.of(text("counts-c", "a", 1), text("counts-c", "b", 2)));
            // a restarted pipeline delivers the same checkpoint again
            try (KafkaSink second = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-c")) {
                assertThat(second.deliveries().orElseThrow()).containsExactly(seven);
                second.deliver(seven, List.of(text("counts-c", "a", 1), text("counts-c", "b", 2)));
                // the older instance was fenced when the newer one started
                OutboxSink.Delivery eight = new OutboxSink.Delivery(8, Map.of("numbers", Map.of(0, 80L)), 1, 0, false);
                assertThatThrownBy(() -> first.deliver(eight, List.of(text("counts-c", "z", 9))))
                        .isInstanceOf(IOException.class).hasMessageContaining("took over");
                second.deliver(eight, List.of(text("counts-c", "c", 3)));
            }
        }
        assertThat(readCommitted(broker, "counts-c")).isEqualTo(Map.of("a", List.of(1L), "b", List.of(2L),
                "c", List.of(3L)));
    }

    @Test
    void aSinkSharedByTwoOutputsOfAPipelineRefusesTheSecondInsteadOfSkippingIt(KafkaBroker broker) throws IOException {
        broker.createTopic("counts-e", 1);
        try (KafkaSink sink = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-e")) {
            sink.deliveries();
            // the records of checkpoint 3, then its dead letters through the same sink
            sink.deliver(new OutboxSink.Delivery(3, Map.of("numbers", Map.of(0, 30L)), 2, 11, false),
                    List.of(text("counts-e", "a", 1), text("counts-e", "b", 2)));
            OutboxSink.Delivery deadLetters = new OutboxSink.Delivery(3, Map.of("numbers", Map.of(0, 30L)), 1, 22, false);
            assertThatThrownBy(() -> sink.deliver(deadLetters, List.of(text("counts-e", "dead", 9))))
                    .isInstanceOf(IOException.class).hasMessageContaining("one output")
                    .hasMessageContaining("transactional id of their own");
        }
        assertThat(readCommitted(broker, "counts-e")).isEqualTo(Map.of("a", List.of(1L), "b", List.of(2L)));
    }

    @Test
    void aTransactionThatFailsIsAbortedAndNothingOfItIsVisible(KafkaBroker broker) throws IOException {
        broker.createTopic("counts-d", 1);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (KafkaSink sink = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-d")
                .timeout(Duration.ofSeconds(5)).metrics("failing", registry)) {
            sink.deliveries();
            OutboxSink.Delivery one = new OutboxSink.Delivery(1, Map.of("numbers", Map.of(0, 10L)), 2, 0, false);
            // partition 5 does not exist: that send fails, and with it the whole transaction
            KafkaRecord bad = new KafkaRecord("counts-d", 5, "x".getBytes(StandardCharsets.UTF_8), new byte[8], null,
                    Map.of());
            assertThatThrownBy(() -> sink.deliver(one, List.of(text("counts-d", "a", 1), bad)))
                    .isInstanceOf(IOException.class).hasMessageContaining("checkpoint 1");
        }
        assertThat(registry.get("streamflow.kafka.transactions").tag("result", "aborted").counter().count())
                .isEqualTo(1);
        try (KafkaSink again = KafkaSink.exactlyOnce(broker.clientProperties(), "pipeline-d")) {
            assertThat(again.deliveries().orElseThrow()).as("no delivery record of the aborted one").isEmpty();
        }
        assertThat(readCommitted(broker, "counts-d")).isEmpty();
    }
}
