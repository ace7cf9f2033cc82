package io.streamflow.reactive.kafka;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile records end to end on a broker of their own (a 5 MB record among them): invalid JSON,
 * invalid UTF-8, tombstones, an oversized value and bad headers mixed with good records, through
 * JSON values into windows; every bad record is a dead letter with its coordinates and the
 * original bytes, and every input is accounted for.
 */
class KafkaSourceHostileRecordsTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final long SEED = Long.getLong("seed", System.nanoTime());

    private static Map<String, Object> props(KafkaBroker broker) {
        Map<String, Object> p = new HashMap<>(broker.clientProperties());
        p.put("auto.offset.reset", "earliest");
        return p;
    }

    @Test
    void hostileRecordsBecomeDeadLettersWithTheirCoordinatesAndEveryInputIsAccountedFor(KafkaBroker broker)
            throws Exception {
        int fiveMb = 5 * 1024 * 1024;
        broker.createTopic("hostile", 2, Map.of("max.message.bytes", Integer.toString(fiveMb + 1024 * 1024)));
        Map<String, Object> producerProps = new HashMap<>(broker.clientProperties());
        producerProps.put("max.request.size", fiveMb + 1024 * 1024);
        byte[] notUtf8 = {'"', (byte) 0xC3, (byte) 0x28, '"'};
        Map<Long, String> badByOffset0 = new TreeMap<>();
        List<String> kinds = new ArrayList<>();
        int good = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            System.out.println("KafkaSourceHostileRecordsTest seed " + SEED + " (replay with -Dseed=" + SEED + ")");
            Random random = new Random(SEED);
            for (int i = 0; i < 400; i++) {
                int p = i % 2;
                long ts = 1_000L * (i / 20) + random.nextInt(200);
                ProducerRecord<byte[], byte[]> r;
                String kind = i == 200 ? "five-mb" : i % 13 == 5 ? List.of("invalid-json", "invalid-utf8-value", "invalid-utf8-key",
                        "tombstone", "header-not-utf8", "header-null", "header-twice").get((i / 13) % 7)
                        : "good";
                byte[] json = ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8);
                byte[] key = ("p" + p + "-k" + i % 3).getBytes(StandardCharsets.UTF_8); // keyed by partition
                r = switch (kind) {
                    case "invalid-json" -> new ProducerRecord<>("hostile", p, ts, key, "{\"n\":".getBytes(
                            StandardCharsets.UTF_8));
                    case "invalid-utf8-value" -> new ProducerRecord<>("hostile", p, ts, key, notUtf8);
                    case "invalid-utf8-key" -> new ProducerRecord<>("hostile", p, ts, new byte[] {(byte) 0xFF}, json);
                    case "tombstone" -> new ProducerRecord<>("hostile", p, ts, key, (byte[]) null);
                    case "five-mb" -> {
                        byte[] big = new byte[fiveMb];
                        java.util.Arrays.fill(big, (byte) 'x');
                        big[0] = '"';
                        big[big.length - 1] = '"';
                        yield new ProducerRecord<>("hostile", p, ts, key, big);
                    }
                    default -> new ProducerRecord<>("hostile", p, ts, key, json);
                };
                switch (kind) {
                    case "header-not-utf8" -> r.headers().add("trace", new byte[] {(byte) 0xC0});
                    case "header-null" -> r.headers().add("trace", null);
                    case "header-twice" -> {
                        r.headers().add("trace", "a".getBytes(StandardCharsets.UTF_8));
                        r.headers().add("trace", "b".getBytes(StandardCharsets.UTF_8));
                    }
                    default -> r.headers().add("trace", ("t" + i).getBytes(StandardCharsets.UTF_8));
                }
                RecordMetadata m = producer.send(r).get();
                kinds.add(kind);
                if (kind.equals("good")) {
                    good++;
                } else {
                    badByOffset0.put((long) m.partition() << 32 | m.offset(), kind);
                }
            }
            for (int p = 0; p < 2; p++) {
                // far ahead on each partition: closes every window above
                producer.send(new ProducerRecord<>("hostile", p, 10_000_000L, ("end" + p).getBytes(StandardCharsets.UTF_8),
                        "{\"n\":-1}".getBytes(StandardCharsets.UTF_8))).get();
            }
        }
        int inputs = kinds.size();
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        List<Object> late = new CopyOnWriteArrayList<>();
        Map<String, Long> counts = new ConcurrentHashMap<>();
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        KafkaSource<String, io.streamflow.reactive.Event> source = KafkaSource.json(props(broker),
                        io.streamflow.reactive.json.JsonDecoder.events().withoutTimestampField())
                .assign("hostile", 0, 1).metrics("hostile-test", registry);
        int goodInputs = good;
        AtomicReference<Throwable> failed = new AtomicReference<>();
        reactor.core.Disposable pipeline = EventStream.from(source.flux(),
                        WatermarkStrategy.<String, io.streamflow.reactive.Event>forBoundedOutOfOrderness(
                                Duration.ofMillis(100)))
                .onDeadLetter(d -> d.doOnNext(dead::add))
                .onLateData(l -> l.doOnNext(late::add))
                .window(Windows.tumbling(Duration.ofSeconds(1)))
                .aggregate(Aggregations.<io.streamflow.reactive.Event>count())
                .elements()
                .subscribe(e -> {
                    if (e instanceof StreamRecord<?, ?> r) {
                        WindowResult<?, ?> w = (WindowResult<?, ?>) r.value();
                        if (!w.key().toString().startsWith("end")) {
                            counts.merge(w.key() + "@" + w.start(), (Long) w.value(), Long::sum);
                        }
                    }
                }, failed::set);
        try {
            Awaitility.await("every input counted, a dead letter or late").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> failed.get() != null || counts.values().stream().mapToLong(Long::longValue).sum()
                            + dead.size() + late.size() >= inputs);
        } finally {
            pipeline.dispose();
        }
        assertThat(failed.get()).isNull();
        long counted = counts.values().stream().mapToLong(Long::longValue).sum();
        assertThat(counted + dead.size() + late.size()).as("inputs = counted + dead letters + late").isEqualTo(inputs);
        assertThat(counted + late.size()).isEqualTo(goodInputs);
        Map<Long, String> deadByOffset = new TreeMap<>();
        for (DeadLetter<?, ?> d : dead) {
            KafkaRecord in = (KafkaRecord) d.input();
            long at = (long) in.partition() << 32 | d.origin().position();
            deadByOffset.put(at, badByOffset0.get(at));
            assertThat(d.error()).hasMessageContaining("topic hostile, partition " + in.partition() + ", offset "
                    + d.origin().position());
            String kind = badByOffset0.get(at);
            assertThat(kind).as("a dead letter at a bad record: " + d.error().getMessage()).isNotNull();
            switch (kind) {
                case "five-mb" -> {
                    assertThat(in.value()).hasSize(fiveMb);
                    assertThat(d.error()).hasMessageContaining("more than the limit");
                }
                case "invalid-utf8-value" -> assertThat(in.value()).isEqualTo(notUtf8);
                case "invalid-utf8-key" -> assertThat(d.error()).hasMessageContaining("cannot decode the key")
                        .hasMessageContaining("not valid UTF-8");
                case "invalid-json" -> assertThat(d.error()).hasMessageContaining("cannot decode the value")
                        .hasCauseInstanceOf(io.streamflow.reactive.json.JsonDecodingException.class);
                case "tombstone" -> assertThat(in.value()).isNull();
                case "header-not-utf8" -> assertThat(d.error()).hasMessageContaining("header 'trace'")
                        .hasMessageContaining("not valid UTF-8");
                case "header-null" -> assertThat(d.error()).hasMessageContaining("header 'trace' has a null value");
                case "header-twice" -> assertThat(d.error()).hasMessageContaining("occurs more than once");
                default -> throw new AssertionError(kind);
            }
        }
        assertThat(deadByOffset).isEqualTo(badByOffset0);
        assertThat(registry.get("streamflow.kafka.source.dead.letters").counter().count()).isEqualTo(dead.size());
        double recordsIn = registry.find("streamflow.kafka.source.records").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
        assertThat(recordsIn).isEqualTo(goodInputs + 2);
        assertThat(registry.find("streamflow.kafka.source.records").counters()).hasSize(2);
    }
}
