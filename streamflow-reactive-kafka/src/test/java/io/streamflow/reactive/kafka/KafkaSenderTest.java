package io.streamflow.reactive.kafka;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The non-transactional {@link KafkaSender} and the {@link DeadLetterTopic} writer on a real
 * broker: every record arrives once with its key, headers and timestamp, in order per partition,
 * at the offsets the results report; in-flight records stay within the bound and upstream is asked
 * only as results are taken; a record the topic refuses fails the flux with its coordinates, or
 * becomes a dead letter while the others go on; completion waits for the broker's acknowledgements;
 * cancel closes the producer and accounts for every element; dead letters reach a dead-letter
 * topic with the original bytes and Kafka Connect's error headers, from a plain and a checkpointed
 * pipeline.
 */
class KafkaSenderTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final long BASE = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Every record in {@code topic}, partition by partition, in offset order. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaBroker broker, String topic) {
        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        props.put("isolation.level", "read_committed");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("reading " + topic + " in time").isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static long endOffsets(KafkaBroker broker, String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(broker.clientProperties(),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private static Map<String, String> headers(ConsumerRecord<byte[], byte[]> r) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Header h : r.headers()) {
            out.put(h.key(), text(h.value()));
        }
        return out;
    }

    private static Map<String, Object> props(KafkaBroker broker) {
        return new HashMap<>(broker.clientProperties());
    }

    /**
     * Producer settings for a topic whose {@code max.message.bytes} is 2000: batches of at most 1 KiB.
     * With the default 16 KiB, the client would put the oversized record in a batch with others, split
     * a refused batch by {@code batch.size} again, and every record of it would expire together.
     */
    private static Map<String, Object> smallBatches(KafkaBroker broker) {
        Map<String, Object> p = props(broker);
        p.put("batch.size", 1024);
        return p;
    }

    @Test
    void everyRecordArrivesOnceWithItsKeyHeadersAndTimestampInOrderPerPartitionAtTheReportedOffsets(
            KafkaBroker broker) {
        System.out.println("KafkaSenderTest seed " + SEED + " (replay with -Dseed=" + SEED + ")");
        broker.createTopic("sent-a", 3);
        broker.createTopic("sent-b", 2);
        Random random = new Random(SEED);
        int n = 3_000;
        List<KafkaRecord> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String topic = random.nextInt(3) == 0 ? "sent-b" : "sent-a";
            Integer partition = random.nextInt(4) == 0 ? random.nextInt(topic.equals("sent-a") ? 3 : 2) : null;
            Long ts = random.nextInt(5) == 0 ? null : BASE + random.nextInt(100_000);
            records.add(new KafkaRecord(topic, partition, utf8("k" + random.nextInt(20)), utf8("v" + i), ts,
                    Map.of("seq", utf8(Integer.toString(i)), "kind", utf8(topic))));
        }
        List<SendResult<KafkaRecord>> results = new CopyOnWriteArrayList<>();
        // upstream on a non-blocking thread: sending from it would trip BlockHound
        StepVerifier.create(Flux.fromIterable(records).publishOn(Schedulers.parallel(), 16)
                        .transform(KafkaSender.create(props(broker)).maxInFlight(64).send()))
                .recordWith(() -> results)
                .expectNextCount(n)
                .expectComplete()
                .verify(Duration.ofSeconds(120));

        Map<String, ConsumerRecord<byte[], byte[]>> bySeq = new HashMap<>();
        Map<String, Long> lastSeqPerPartition = new HashMap<>();
        for (String topic : List.of("sent-a", "sent-b")) {
            for (ConsumerRecord<byte[], byte[]> r : readAll(broker, topic)) {
                String seq = text(r.headers().lastHeader("seq").value());
                assertThat(bySeq.put(seq, r)).as("record " + seq + " once").isNull();
                Long previous = lastSeqPerPartition.put(r.topic() + "-" + r.partition(), Long.parseLong(seq));
                assertThat(previous == null || previous < Long.parseLong(seq))
                        .as("order in " + r.topic() + "-" + r.partition() + " at " + seq).isTrue();
            }
        }
        assertThat(bySeq).hasSize(n);
        assertThat(results).hasSize(n).allMatch(SendResult::isSent);
        for (SendResult<KafkaRecord> result : results) {
            KafkaRecord sent = result.input();
            ConsumerRecord<byte[], byte[]> read = bySeq.get(text(sent.headers().get("seq")));
            assertThat(read.topic()).isEqualTo(sent.topic()).isEqualTo(result.topic());
            assertThat(read.partition()).isEqualTo(result.partition());
            assertThat(read.offset()).isEqualTo(result.offset());
            if (sent.partition() != null) {
                assertThat(read.partition()).isEqualTo(sent.partition());
            }
            assertThat(read.key()).isEqualTo(sent.key());
            assertThat(read.value()).isEqualTo(sent.value());
            assertThat(headers(read)).isEqualTo(Map.of("seq", text(sent.headers().get("seq")), "kind", sent.topic()));
            if (sent.timestamp() != null) {
                assertThat(read.timestamp()).isEqualTo(sent.timestamp()).isEqualTo(result.timestamp());
            } else {
                assertThat(read.timestamp()).as("the time of sending").isGreaterThan(BASE + 100_000);
            }
        }
    }

    @Test
    void inFlightElementsStayWithinTheBoundAndUpstreamIsAskedOnlyAsResultsAreTaken(KafkaBroker broker) {
        broker.createTopic("bounded", 2);
        int max = 8;
        int n = 200;
        AtomicLong requested = new AtomicLong();
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        Flux<SendResult<KafkaRecord>> results = Flux.range(0, n)
                .doOnRequest(r -> requested.addAndGet(r))
                .map(i -> KafkaRecord.of("bounded", utf8("k" + i), utf8("v" + i)))
                .transform(KafkaSender.create(props(broker)).maxInFlight(max).send())
                .doOnNext(r -> mostInFlight.accumulateAndGet((int) (requested.get() - taken.incrementAndGet()),
                        Math::max));
        StepVerifier.FirstStep<SendResult<KafkaRecord>> step = StepVerifier.create(results, 0);
        step.then(() -> {
                    // no downstream demand: the sender takes max elements, sends them, and waits
                    Awaitility.await("the first records sent").atMost(Duration.ofSeconds(60))
                            .until(() -> endOffsets(broker, "bounded") == max);
                    Awaitility.await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(30))
                            .until(() -> requested.get() == max && endOffsets(broker, "bounded") == max);
                })
                .thenRequest(1)
                .expectNextCount(1)
                .then(() -> Awaitility.await("one more requested").atMost(Duration.ofSeconds(30))
                        .until(() -> requested.get() == max + 1))
                .thenRequest(Long.MAX_VALUE)
                .expectNextCount(n - 1)
                .expectComplete()
                .verify(Duration.ofSeconds(120));
        assertThat(mostInFlight.get()).as("elements between upstream and downstream").isLessThanOrEqualTo(max);
        assertThat(requested.get()).isLessThanOrEqualTo(n + max);
        assertThat(readAll(broker, "bounded")).hasSize(n);
    }

    /** A record from a source whose value is {@code size} bytes, for topic {@code topic}. */
    private static KafkaRecord sized(StreamRecord<String, Integer> r, String topic) {
        byte[] value = new byte[r.value()];
        value[0] = (byte) r.origin().position();
        return new KafkaRecord(topic, null, utf8(r.key()), value, r.timestamp(), Map.of());
    }

    private static StreamRecord<String, Integer> order(long position, int size) {
        return StreamRecord.of("o" + position, size, BASE + position, Origin.of("orders", 2, position));
    }

    @Test
    void aRecordTheTopicCannotAcceptFailsTheFluxWithItsTopicAndWhereItCameFrom(KafkaBroker broker) {
        broker.createTopic("small-a", 1, Map.of("max.message.bytes", "2000"));
        Flux<StreamRecord<String, Integer>> orders = Flux.range(0, 20).map(i -> order(40 + i, i == 5 ? 10_000 : 100));
        StepVerifier.create(orders.transform(KafkaSender.create(smallBatches(broker)).send(
                        (StreamRecord<String, Integer> r) -> sized(r, "small-a"))))
                .thenConsumeWhile(SendResult::isSent)
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(KafkaSendException.class)
                            .hasMessageContaining("topic 'small-a'").hasMessageContaining("orders[2]@45")
                            .hasCauseInstanceOf(RecordTooLargeException.class);
                    KafkaSendException k = (KafkaSendException) e;
                    assertThat(k.topic()).isEqualTo("small-a");
                    assertThat(k.origin()).isEqualTo(Origin.of("orders", 2, 45));
                })
                .verify(Duration.ofSeconds(120));
    }

    @Test
    void underTheDeadLetterPolicyARefusedRecordBecomesADeadLetterWhileTheOthersGoOnInOrder(KafkaBroker broker) {
        broker.createTopic("small-b", 1, Map.of("max.message.bytes", "2000"));
        broker.createTopic("small-b.dlq", 1);
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        List<SendResult<StreamRecord<String, Integer>>> results = Flux.range(0, 50)
                .map(i -> order(100 + i, i == 10 || i == 30 ? 10_000 : 100 + i))
                .transform(KafkaSender.create(smallBatches(broker)).errorPolicy(ErrorPolicy.deadLetter())
                        .metrics("orders", registry)
                        .send((StreamRecord<String, Integer> r) -> sized(r, "small-b")))
                .collectList().block(Duration.ofSeconds(120));
        assertThat(results).hasSize(50);
        java.util.function.Function<String, Double> counted = result -> registry.get("streamflow.kafka.sender.records")
                .tags("pipeline", "orders", "sender", "KafkaSender", "result", result).counter().count();
        assertThat(counted.apply("sent")).isEqualTo(48);
        assertThat(counted.apply("dead_letter")).isEqualTo(2);
        assertThat(counted.apply("failed")).isZero();
        List<SendResult<StreamRecord<String, Integer>>> dead = results.stream().filter(r -> !r.isSent()).toList();
        assertThat(dead).extracting(r -> r.input().origin().position()).containsExactlyInAnyOrder(110L, 130L);
        for (SendResult<StreamRecord<String, Integer>> d : dead) {
            DeadLetter<?, ?> letter = d.deadLetter();
            assertThat(letter.input()).isSameAs(d.input());
            assertThat(letter.origin()).isEqualTo(d.input().origin());
            assertThat(letter.operator()).isEqualTo("KafkaSender");
            assertThat(letter.error()).isInstanceOf(KafkaSendException.class).hasMessageContaining("topic 'small-b'")
                    .hasMessageContaining("orders[2]@" + d.input().origin().position())
                    .hasCauseInstanceOf(RecordTooLargeException.class);
            assertThat(d.topic()).isEqualTo("small-b");
            assertThat(d.offset()).isEqualTo(-1);
        }
        List<Long> inTopic = readAll(broker, "small-b").stream().map(r -> (long) (r.value()[0] & 0xFF)).toList();
        List<Long> expected = new ArrayList<>();
        for (long p = 100; p < 150; p++) {
            if (p != 110 && p != 130) {
                expected.add(p);
            }
        }
        assertThat(inTopic).as("the others, in their order").isEqualTo(expected);

        // the dead letters on to a dead-letter topic: a StreamRecord input becomes text, with the error headers
        DeadLetterTopic dlq = DeadLetterTopic.of("small-b.dlq");
        StepVerifier.create(Flux.fromIterable(dead).map(SendResult::deadLetter)
                        .transform(KafkaSender.create(props(broker)).send(dlq::toRecord)))
                .expectNextCount(2).expectComplete().verify(Duration.ofSeconds(60));
        List<ConsumerRecord<byte[], byte[]>> letters = readAll(broker, "small-b.dlq");
        assertThat(letters).extracting(r -> text(r.key())).containsExactlyInAnyOrder("o110", "o130");
        for (ConsumerRecord<byte[], byte[]> r : letters) {
            long position = Long.parseLong(text(r.key()).substring(1));
            assertThat(text(r.value())).isEqualTo("10000");
            assertThat(r.timestamp()).isEqualTo(BASE + position);
            Map<String, String> h = headers(r);
            assertThat(h).containsEntry("__connect.errors.topic", "orders")
                    .containsEntry("__connect.errors.partition", "2")
                    .containsEntry("__connect.errors.offset", Long.toString(position))
                    .containsEntry("__connect.errors.exception.class.name", KafkaSendException.class.getName())
                    .containsEntry("__streamflow.errors.operator", "KafkaSender");
            assertThat(h.get("__connect.errors.exception.message")).contains("small-b", "orders[2]@" + position);
            assertThat(h.get("__connect.errors.exception.stacktrace"))
                    .startsWith(KafkaSendException.class.getName() + ": ")
                    .contains("Caused by: " + RecordTooLargeException.class.getName());
        }
    }

    @Test
    void completionWaitsUntilTheBrokerHasAcknowledgedEveryRecord(KafkaBroker broker) {
        broker.createTopic("acked", 1);
        int n = 20;
        AtomicBoolean completed = new AtomicBoolean();
        AtomicInteger results = new AtomicInteger();
        KafkaSender sender = KafkaSender.create(props(broker));
        broker.pause();
        try {
            Flux.range(0, n).map(i -> KafkaRecord.of("acked", null, utf8("v" + i)))
                    .transform(sender.send())
                    .subscribe(r -> results.incrementAndGet(), e -> { }, () -> completed.set(true));
            Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> !completed.get() && results.get() == 0);
        } finally {
            broker.resume();
        }
        Awaitility.await("completion").atMost(Duration.ofSeconds(120)).untilTrue(completed);
        assertThat(results.get()).isEqualTo(n);
        assertThat(endOffsets(broker, "acked")).isEqualTo(n);
    }

    @Test
    void cancelClosesTheProducerAndEveryElementIsSentOrDiscarded(KafkaBroker broker) {
        broker.createTopic("cancelled", 2);
        int max = 16;
        AtomicInteger emitted = new AtomicInteger();
        AtomicBoolean upstreamCancelled = new AtomicBoolean();
        List<Object> discarded = new CopyOnWriteArrayList<>();
        Map<String, Object> props = props(broker);
        props.put("client.id", "cancel-test");
        Flux<Integer> endless = Flux.<Integer, Integer>generate(() -> 0, (i, sink) -> {
            sink.next(i);
            return i + 1;
        }).doOnNext(i -> emitted.incrementAndGet()).doOnCancel(() -> upstreamCancelled.set(true));
        StepVerifier.create(endless.map(i -> KafkaRecord.of("cancelled", utf8("k" + i), utf8("v" + i)))
                        .transform(KafkaSender.create(props).maxInFlight(max).send())
                        .doOnDiscard(Object.class, discarded::add)
                        .take(50))
                .expectNextCount(50)
                .expectComplete()
                .verify(Duration.ofSeconds(120));
        assertThat(upstreamCancelled).isTrue();
        Awaitility.await("the producer's network thread ended").atMost(Duration.ofSeconds(60))
                .until(() -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().contains("cancel-test")));
        long inTopic = readAll(broker, "cancelled").size();
        long discardedRecords = discarded.stream().filter(KafkaRecord.class::isInstance).count();
        assertThat(emitted.get()).as("requested at most max beyond the results taken").isLessThanOrEqualTo(50 + max);
        assertThat(inTopic).isBetween(50L, 50L + max);
        assertThat(inTopic + discardedRecords).as("every element sent or discarded").isEqualTo(emitted.get());
    }

    @Test
    void deadLettersWithAndWithoutAKafkaRecordInputReachTheDeadLetterTopicWithConnectHeaders(KafkaBroker broker) {
        broker.createTopic("plain-out", 1);
        broker.createTopic("plain.dlq", 1);
        DeadLetterTopic dlq = DeadLetterTopic.of("plain.dlq");
        KafkaSender sender = KafkaSender.create(props(broker));
        // a plain pipeline: a user function that throws on every fifth value, its dead letters routed to the topic
        EventStream.fromRecords(Flux.range(0, 20).map(i -> StreamRecord.of("u" + i, (long) i, BASE + i,
                        Map.of("trace", "t" + i), Origin.of("in.txt", 0, 10L * i))))
                .errorPolicy(ErrorPolicy.deadLetter())
                .map(v -> {
                    if (v % 5 == 3) {
                        throw new IllegalStateException("no " + v);
                    }
                    return v;
                })
                .onDeadLetter(dead -> dead.transform(sender.send(dlq::toRecord)))
                .sink(records -> records.transform(sender.send((StreamRecord<String, Long> r) -> KafkaRecord.of(
                        "plain-out", utf8(r.key()), utf8(Long.toString(r.value()))))))
                .block(Duration.ofSeconds(120));
        // and dead letters as the Kafka source makes them: the original record as input, or no input
        byte[] binary = {(byte) 0xC3, 0x28, 0, (byte) 0xFF};
        KafkaRecord original = new KafkaRecord("clicks", 1, utf8("user-7"), binary, BASE + 7,
                Map.of("trace", utf8("c7"), "__connect.errors.topic", utf8("stale")));
        DeadLetter<?, ?> fromKafka = new DeadLetter<>(original, Origin.of("clicks", 1, 17), "KafkaSource",
                new IllegalArgumentException("cannot decode the value of clicks[1]@17"));
        DeadLetter<?, ?> noInput = new DeadLetter<>(null, Origin.NONE, "somewhere", new IllegalStateException());
        StepVerifier.create(Flux.just(fromKafka, noInput).transform(sender.send(dlq::toRecord)))
                .expectNextCount(2).expectComplete().verify(Duration.ofSeconds(60));

        assertThat(readAll(broker, "plain-out")).hasSize(16);
        List<ConsumerRecord<byte[], byte[]>> letters = readAll(broker, "plain.dlq");
        assertThat(letters).hasSize(6);
        for (ConsumerRecord<byte[], byte[]> r : letters.subList(0, 4)) {
            long v = Long.parseLong(text(r.value()));
            assertThat(v % 5).isEqualTo(3);
            assertThat(text(r.key())).isEqualTo("u" + v);
            assertThat(r.timestamp()).isEqualTo(BASE + v);
            Map<String, String> h = headers(r);
            assertThat(h).containsEntry("trace", "t" + v)
                    .containsEntry("__connect.errors.topic", "in.txt")
                    .containsEntry("__connect.errors.partition", "0")
                    .containsEntry("__connect.errors.offset", Long.toString(10 * v))
                    .containsEntry("__connect.errors.exception.class.name", IllegalStateException.class.getName())
                    .containsEntry("__connect.errors.exception.message", "no " + v);
            assertThat(h.get("__streamflow.errors.operator")).startsWith("map");
            assertThat(h.get("__connect.errors.exception.stacktrace"))
                    .startsWith("java.lang.IllegalStateException: no " + v).contains("\tat ");
        }
        ConsumerRecord<byte[], byte[]> k = letters.get(4);
        assertThat(k.key()).isEqualTo(utf8("user-7"));
        assertThat(k.value()).isEqualTo(binary);
        assertThat(k.timestamp()).isEqualTo(BASE + 7);
        assertThat(headers(k)).containsEntry("trace", "c7")
                .containsEntry("__connect.errors.topic", "clicks")
                .containsEntry("__connect.errors.partition", "1")
                .containsEntry("__connect.errors.offset", "17")
                .containsEntry("__connect.errors.exception.class.name", IllegalArgumentException.class.getName())
                .containsEntry("__connect.errors.exception.message", "cannot decode the value of clicks[1]@17")
                .containsEntry("__streamflow.errors.operator", "KafkaSource");
        assertThat(k.headers().headers("__connect.errors.topic")).as("the stale header replaced").hasSize(1);
        ConsumerRecord<byte[], byte[]> none = letters.get(5);
        assertThat(none.key()).isNull();
        assertThat(none.value()).isNull();
        assertThat(headers(none)).doesNotContainKeys("__connect.errors.topic", "__connect.errors.partition",
                        "__connect.errors.offset")
                .containsEntry("__connect.errors.exception.class.name", IllegalStateException.class.getName())
                .containsEntry("__streamflow.errors.operator", "somewhere");
        assertThat(none.headers().lastHeader("__connect.errors.exception.message").value()).isNull();
    }

    @Test
    void aCheckpointedPipelineWritesItsDeadLettersToTheDeadLetterTopicExactlyOnce(KafkaBroker broker) {
        broker.createTopic("ck-out", 2);
        broker.createTopic("ck.dlq", 1);
        int n = 5_000;
        DeadLetterTopic dlq = DeadLetterTopic.of("ck.dlq");
        try (Checkpointing cp = Checkpointing.builder(dir.resolve("ck")).interval(Duration.ofMillis(200)).open();
             KafkaSink out = KafkaSink.exactlyOnce(props(broker), "ck-pipeline");
             KafkaSink deadLetters = KafkaSink.exactlyOnce(props(broker), "ck-pipeline-dead-letters")) {
            EventStream.of(cp.source("numbers", positions -> Checkpointing.resumeGenerator(n,
                            i -> StreamRecord.of("k" + i % 7, i, i, Origin.of("numbers", 0, i))).apply(positions),
                            io.streamflow.reactive.WatermarkStrategy.<String, Long>forMonotonousTimestamps()))
                    .errorPolicy(ErrorPolicy.deadLetter())
                    .map(v -> {
                        if (v % 97 == 0) {
                            throw new ArithmeticException("no multiples of 97: " + v);
                        }
                        return v;
                    })
                    .elements()
                    .as(cp.sink(out, (StreamRecord<String, Long> r) -> KafkaRecord.of("ck-out", utf8(r.key()),
                                    utf8(Long.toString(r.value()))),
                            Checkpointing.sideOutputs().deadLetters(deadLetters, dlq::toRecord)))
                    .block(Duration.ofSeconds(120));
        }
        List<Long> expected = new ArrayList<>();
        for (long i = 0; i < n; i += 97) {
            expected.add(i);
        }
        List<ConsumerRecord<byte[], byte[]>> letters = readAll(broker, "ck.dlq");
        assertThat(letters).extracting(r -> Long.parseLong(text(r.value()))).isEqualTo(expected);
        for (ConsumerRecord<byte[], byte[]> r : letters) {
            assertThat(headers(r)).containsEntry("__connect.errors.topic", "numbers")
                    .containsEntry("__connect.errors.offset", text(r.value()))
                    .containsEntry("__connect.errors.exception.class.name", ArithmeticException.class.getName());
        }
        assertThat(readAll(broker, "ck-out")).hasSize(n - expected.size());
    }
}
