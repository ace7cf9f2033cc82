package io.streamflow.reactive.kafka;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.kafka.internal.PollLoop;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerConfig;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.test.StepVerifier;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka source on a real broker: records keep their topic, partition, offset, timestamp and
 * headers, and windows over them match a reference; a slow subscriber pauses partitions and
 * bounds the buffers while the member stays in its group; poison records become dead letters;
 * resume positions are honoured; cancelling closes the consumer and commits what was delivered.
 */
class KafkaSourceTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create(KafkaBrokerConfig.defaults()
            .withSaslPlain(Map.of("alice", "alice-secret")));

    private static final long SEED = Long.getLong("seed", System.nanoTime());

    private static Map<String, Object> props(KafkaBroker broker, String group) {
        Map<String, Object> p = new HashMap<>(broker.clientProperties());
        p.put("auto.offset.reset", "earliest");
        if (group != null) {
            p.put("group.id", group);
        }
        return p;
    }

    /**
     * The tests' producer: idempotent with one request in flight per connection, so that a batch
     * retried after a lost response is always the newest the broker has and is recognised as a
     * duplicate (with several in flight, such a retry behind later batches was refused as out of
     * order sequence until the batch expired).
     */
    private static KafkaProducer<String, String> producer(KafkaBroker broker) {
        Map<String, Object> props = new java.util.HashMap<>(broker.clientProperties());
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    /**
     * The send's metadata; when the broker never acknowledged it, an error with the end of the
     * broker's log, to tell a broker that stalled from one that refused.
     */
    private static RecordMetadata acknowledged(Future<RecordMetadata> send, KafkaBroker broker)
            throws InterruptedException {
        try {
            return send.get();
        } catch (ExecutionException e) {
            String tail;
            try {
                List<String> lines = java.nio.file.Files.readAllLines(broker.logFile(), StandardCharsets.UTF_8);
                tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
            } catch (java.io.IOException io) {
                tail = "(broker log unreadable: " + io + ")";
            }
            throw new AssertionError("a test record was not acknowledged: " + e.getCause() + "\nbroker log tail:\n"
                    + tail, e);
        }
    }

    private static RecordMetadata send(KafkaProducer<String, String> producer, ProducerRecord<String, String> r) {
        try {
            return producer.send(r).get();
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(condition::getAsBoolean);
    }

    @Test
    void recordsKeepTheirOriginTimestampAndHeadersAndWindowedCountsMatchAReference(KafkaBroker broker)
            throws Exception {
        System.out.println("KafkaSourceTest seed " + SEED + " (replay with -Dseed=" + SEED + ")");
        broker.createTopic("clicks", 3);
        Random random = new Random(SEED);
        int perPartition = 1_000;
        long base = 1_700_000_000_000L;
        Map<String, ProducerRecord<String, String>> produced = new HashMap<>();
        Map<String, Long> reference = new TreeMap<>();
        try (KafkaProducer<String, String> producer = producer(broker)) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            List<ProducerRecord<String, String>> records = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                long rate = 5 + p * 4;
                for (int i = 0; i < perPartition; i++) {
                    // out of order by up to 1 s within a partition, different speeds across partitions
                    long ts = base + i * rate + random.nextInt(1_000);
                    String key = "p" + p + "-k" + random.nextInt(7); // keyed topic: a key stays in its partition
                    ProducerRecord<String, String> r = new ProducerRecord<>("clicks", p, ts, key, p + "-" + i);
                    r.headers().add(new RecordHeader("trace", ("t" + i).getBytes(StandardCharsets.UTF_8)));
                    records.add(r);
                    sent.add(producer.send(r));
                    reference.merge(key + "@" + (ts - Math.floorMod(ts, 1_000L)), 1L, Long::sum);
                }
            }
            for (int p = 0; p < 3; p++) {
                // far ahead: moves every partition's watermark past all windows above
                sent.add(producer.send(new ProducerRecord<>("clicks", p, base + 10_000_000L, "end" + p, "end")));
            }
            for (int i = 0; i < records.size(); i++) {
                RecordMetadata m = acknowledged(sent.get(i), broker);
                produced.put(m.partition() + "@" + m.offset(), records.get(i));
            }
        }

        // the records as they come out of the source
        List<StreamElement<String, String>> read = KafkaSource.strings(props(broker, null)).assign("clicks", 0, 1, 2)
                .flux().take(3 * perPartition + 3).collectList().block(Duration.ofSeconds(60));
        assertThat(read).hasSize(3 * perPartition + 3).allMatch(StreamElement::isRecord);
        Set<String> seen = ConcurrentHashMap.newKeySet();
        for (StreamElement<String, String> e : read) {
            StreamRecord<String, String> r = (StreamRecord<String, String>) e;
            String at = r.origin().partition() + "@" + r.origin().position();
            if (r.value().equals("end")) {
                assertThat(r.origin().position()).isEqualTo(perPartition);
                continue;
            }
            ProducerRecord<String, String> p = produced.get(at);
            assertThat(p).as("produced record at " + at).isNotNull();
            assertThat(seen.add(at)).as("once: " + at).isTrue();
            assertThat(r.origin().source()).isEqualTo("clicks");
            assertThat(r.key()).isEqualTo(p.key());
            assertThat(r.value()).isEqualTo(p.value());
            assertThat(r.timestamp()).isEqualTo(p.timestamp());
            assertThat(r.headers()).isEqualTo(Map.of("trace", new String(p.headers().lastHeader("trace").value(),
                    StandardCharsets.UTF_8)));
        }

        // windowed counts over the group subscription, with per-partition watermarks
        Map<String, Long> counts = new TreeMap<>();
        EventStream.from(KafkaSource.strings(props(broker, "window-counter")).topic("clicks").flux(),
                        WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ofSeconds(2)))
                .window(Windows.tumbling(Duration.ofSeconds(1)))
                .aggregate(Aggregations.<String>count())
                .elements()
                .filter(StreamElement::isRecord)
                .map(e -> ((StreamRecord<String, WindowResult<String, Long>>) e).value())
                .take(reference.size())
                .doOnNext(w -> assertThat(counts.put(w.key() + "@" + w.start(), w.value())).as("one pane per window")
                        .isNull())
                .blockLast(Duration.ofSeconds(60));
        assertThat(seen).hasSize(3 * perPartition);
        assertThat(counts).isEqualTo(reference);
    }

    @Test
    void aSlowSubscriberPausesPartitionsAndBoundsTheBuffersWhileTheMemberStaysInItsGroup(KafkaBroker broker)
            throws Exception {
        broker.createTopic("burst", 2);
        int records = 3_000;
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>("burst", i % 2, "k" + i, "v" + i));
            }
        }
        Map<String, Object> props = props(broker, "slow");
        props.put("max.poll.records", 50);
        props.put("max.poll.interval.ms", 2_000);
        AtomicReference<PollLoop<String, String>> loop = new AtomicReference<>();
        List<StreamRecord<String, String>> got = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        BaseSubscriber<StreamElement<String, String>> slow = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
            }

            @Override
            protected void hookOnNext(StreamElement<String, String> value) {
                got.add((StreamRecord<String, String>) value);
            }

            @Override
            protected void hookOnError(Throwable throwable) {
                failed.set(throwable);
            }
        };
        KafkaSource.strings(props).topic("burst").bufferPerPartition(100).flux(null, loop::set).subscribe(slow);
        await("partitions paused while nothing is requested", () -> loop.get().pausedPartitions().size() == 2);
        long start = System.nanoTime();
        boolean sawPause = false;
        while (got.size() < records) {
            assertThat(failed.get()).isNull();
            assertThat(System.nanoTime() - start).as("slow reading in time").isLessThan(Duration.ofSeconds(60).toNanos());
            slow.request(20);
            // a reader that is slow in wall-clock time: the point is to outlast max.poll.interval.ms of a
            // real consumer, which virtual time cannot stand in for
            Thread.sleep(20);
            sawPause |= !loop.get().pausedPartitions().isEmpty();
            assertThat(loop.get().buffered()).isLessThanOrEqualTo(2 * (100 + 50 - 1));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        slow.cancel();
        assertThat(took).as("longer than max.poll.interval.ms").isGreaterThan(Duration.ofMillis(2_500));
        assertThat(sawPause).isTrue();
        assertThat(loop.get().maxBufferedPerPartition()).isLessThanOrEqualTo(100 + 50 - 1);
        // every record once, in offset order per partition: the member was never dropped from the group
        Map<Integer, List<Long>> offsets = new TreeMap<>();
        for (StreamRecord<String, String> r : got) {
            offsets.computeIfAbsent(r.origin().partition(), p -> new ArrayList<>()).add(r.origin().position());
        }
        assertThat(offsets.keySet()).containsExactly(0, 1);
        for (List<Long> o : offsets.values()) {
            assertThat(o).hasSize(records / 2);
            for (int i = 0; i < o.size(); i++) {
                assertThat(o.get(i)).isEqualTo(i);
            }
        }
    }

    @Test
    void undecodableNullAndOversizedRecordsBecomeDeadLettersAtTheirOffsetsAndTheSourceGoesOn(KafkaBroker broker) {
        broker.createTopic("poison", 1);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (String v : new String[] {"a", "bad", null, "b", "x".repeat(200), "c"}) {
                send(producer, new ProducerRecord<>("poison", 0, "key", v));
            }
            ProducerRecord<String, String> bigHeader = new ProducerRecord<>("poison", 0, "key", "d");
            bigHeader.headers().add("h", "y".repeat(100).getBytes(StandardCharsets.UTF_8));
            send(producer, bigHeader);
        }
        Deserializer<String> strict = new Deserializer<>() {
            private final StringDeserializer text = new StringDeserializer();

            @Override
            public String deserialize(String topic, byte[] data) {
                String s = text.deserialize(topic, data);
                if ("bad".equals(s)) {
                    throw new IllegalArgumentException("not a value: " + s);
                }
                return s;
            }
        };
        KafkaSource<String, String> source = KafkaSource.create(props(broker, null), new StringDeserializer(), strict)
                .assign("poison", 0).maxRecordBytes(100);
        StepVerifier.create(source.flux())
                .assertNext(e -> assertThat(((StreamRecord<String, String>) e).value()).isEqualTo("a"))
                .assertNext(e -> {
                    DeadLetter<String, String> d = (DeadLetter<String, String>) e;
                    assertThat(d.origin().toString()).isEqualTo("poison[0]@1");
                    assertThat(d.error()).hasMessageContaining("topic poison, partition 0, offset 1")
                            .hasMessageContaining("cannot decode the value").hasRootCauseMessage("not a value: bad");
                    KafkaRecord in = (KafkaRecord) d.input();
                    assertThat(in.topic()).isEqualTo("poison");
                    assertThat(in.partition()).isZero();
                    assertThat(new String(in.key(), StandardCharsets.UTF_8)).isEqualTo("key");
                    assertThat(new String(in.value(), StandardCharsets.UTF_8)).isEqualTo("bad");
                })
                .assertNext(e -> {
                    DeadLetter<String, String> d = (DeadLetter<String, String>) e;
                    assertThat(d.origin().toString()).isEqualTo("poison[0]@2");
                    assertThat(d.error()).hasMessageContaining("null value");
                    assertThat(((KafkaRecord) d.input()).value()).isNull();
                })
                .assertNext(e -> assertThat(((StreamRecord<String, String>) e).origin().position()).isEqualTo(3))
                .assertNext(e -> {
                    DeadLetter<String, String> d = (DeadLetter<String, String>) e;
                    assertThat(d.origin().toString()).isEqualTo("poison[0]@4");
                    assertThat(d.error()).hasMessageContaining("more than the limit of 100");
                    assertThat(((KafkaRecord) d.input()).value()).hasSize(200);
                })
                .assertNext(e -> assertThat(((StreamRecord<String, String>) e).value()).isEqualTo("c"))
                .assertNext(e -> {
                    // 3 + 1 bytes of key and value, 1 + 100 of header name and value: the limit counts headers
                    DeadLetter<String, String> d = (DeadLetter<String, String>) e;
                    assertThat(d.origin().toString()).isEqualTo("poison[0]@6");
                    assertThat(d.error()).hasMessageContaining("has 105 bytes of key, value and headers");
                    assertThat(((KafkaRecord) d.input()).headers().get("h")).hasSize(100);
                })
                .thenCancel()
                .verify(Duration.ofSeconds(30));
    }

    @Test
    void theResumeFunctionStartsEachPartitionAfterItsLastConsumedOffset(KafkaBroker broker) {
        broker.createTopic("resume", 2);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 20; i++) {
                send(producer, new ProducerRecord<>("resume", i % 2, "k", "v" + i));
            }
        }
        List<StreamElement<String, String>> read = KafkaSource.strings(props(broker, null)).assign("resume", 0, 1)
                .resume().apply(Map.of(0, 4L)).take(15).collectList().block(Duration.ofSeconds(30));
        Map<Integer, List<Long>> offsets = new TreeMap<>();
        for (StreamElement<String, String> e : read) {
            StreamRecord<String, String> r = (StreamRecord<String, String>) e;
            offsets.computeIfAbsent(r.origin().partition(), p -> new ArrayList<>()).add(r.origin().position());
        }
        assertThat(offsets).isEqualTo(Map.of(0, List.of(5L, 6L, 7L, 8L, 9L),
                1, List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L)));
    }

    @Test
    void cancellingClosesTheConsumerEndsThePollThreadAndCommitsWhatWasDelivered(KafkaBroker broker)
            throws Exception {
        broker.createTopic("cancel", 1);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 30; i++) {
                send(producer, new ProducerRecord<>("cancel", 0, "k", "v" + i));
            }
        }
        AtomicReference<PollLoop<String, String>> loop = new AtomicReference<>();
        List<StreamElement<String, String>> read = KafkaSource.strings(props(broker, "cancelling")).topic("cancel")
                .commitInterval(Duration.ofHours(1)).flux(null, loop::set)
                .take(12).collectList().block(Duration.ofSeconds(30));
        assertThat(read).hasSize(12);
        assertThat(loop.get().thread().getName()).startsWith("streamflow-kafka-poll-");
        await("poll thread ended", () -> !loop.get().thread().isAlive());
        assertThat(loop.get().isClosed()).isTrue();
        try (KafkaConsumer<String, String> check = new KafkaConsumer<>(props(broker, "cancelling"),
                new StringDeserializer(), new StringDeserializer())) {
            Map<TopicPartition, OffsetAndMetadata> committed = check.committed(Set.of(new TopicPartition("cancel", 0)));
            assertThat(committed.get(new TopicPartition("cancel", 0)).offset()).isEqualTo(12);
        }
    }

    @Test
    void aPartitionWithoutRecordsHoldsNeitherDeliveryNorTheWindowsBack(KafkaBroker broker) {
        broker.createTopic("sparse", 2);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 10; i++) {
                send(producer, new ProducerRecord<>("sparse", 0, 1_000L * i, "k", "v" + i));
            }
        }
        List<WindowResult<String, Long>> windows = EventStream.from(KafkaSource.strings(props(broker, "sparse-counter"))
                                .topic("sparse").alignTimeout(Duration.ofSeconds(60)).flux(),
                        WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ZERO))
                .window(Windows.tumbling(Duration.ofSeconds(1)))
                .aggregate(Aggregations.<String>count())
                .elements()
                .filter(StreamElement::isRecord)
                .map(e -> ((StreamRecord<String, WindowResult<String, Long>>) e).value())
                .take(9)
                .collectList().block(Duration.ofSeconds(30));
        assertThat(windows).extracting(WindowResult::start).containsExactly(0L, 1_000L, 2_000L, 3_000L, 4_000L,
                5_000L, 6_000L, 7_000L, 8_000L);
        assertThat(windows).extracting(WindowResult::value).containsOnly(1L);
    }

    @Test
    void aFailedAuthenticationFailsTheFluxWithTheTopicAndTheCause(KafkaBroker broker) throws Exception {
        AtomicReference<PollLoop<String, String>> loop = new AtomicReference<>();
        Map<String, Object> wrong = new HashMap<>(broker.clientProperties("alice", "not-the-secret"));
        StepVerifier.create(KafkaSource.strings(wrong).assign("nowhere", 0).flux(null, loop::set))
                .expectErrorSatisfies(t -> assertThat(t).hasMessageContaining("Kafka source on [nowhere] failed")
                        .hasCauseInstanceOf(AuthenticationException.class))
                .verify(Duration.ofSeconds(30));
        await("poll thread ended", () -> !loop.get().thread().isAlive());
        assertThat(loop.get().isClosed()).isTrue();
    }

    @Test
    void aSecondMemberTakesOverPartitionsAndTogetherTheyReadEveryRecord(KafkaBroker broker) throws Exception {
        broker.createTopic("shared", 2);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 200; i++) {
                send(producer, new ProducerRecord<>("shared", i % 2, "k" + i, "first-" + i));
            }
        }
        KafkaSource<String, String> source = KafkaSource.strings(props(broker, "sharing")).topic("shared")
                .commitInterval(Duration.ZERO);
        Set<String> a = ConcurrentHashMap.newKeySet();
        Set<String> b = ConcurrentHashMap.newKeySet();
        AtomicReference<PollLoop<String, String>> loopA = new AtomicReference<>();
        AtomicReference<PollLoop<String, String>> loopB = new AtomicReference<>();
        List<Integer> releasedByFirst = new CopyOnWriteArrayList<>();
        reactor.core.Disposable first = source.flux(null, loopA::set)
                .doOnNext(e -> {
                    if (e instanceof io.streamflow.reactive.InputStatus<?, ?> st && st.isReleased()) {
                        releasedByFirst.add(st.partition());
                    }
                })
                .filter(StreamElement::isRecord)
                .subscribe(e -> a.add(((StreamRecord<String, String>) e).value()));
        await("the first member read the first batch", () -> a.size() == 200);
        reactor.core.Disposable second = source.flux(null, loopB::set).filter(StreamElement::isRecord)
                .subscribe(e -> b.add(((StreamRecord<String, String>) e).value()));
        try {
            await("the group rebalanced: one partition each", () -> loopA.get().assignedPartitions().size() == 1
                    && loopB.get().assignedPartitions().size() == 1);
            try (KafkaProducer<String, String> producer = producer(broker)) {
                for (int i = 0; i < 200; i++) {
                    send(producer, new ProducerRecord<>("shared", i % 2, "k" + i, "second-" + i));
                }
            }
            await("both members together read the second batch", () -> {
                Set<String> all = new java.util.HashSet<>(a);
                all.addAll(b);
                return all.stream().filter(v -> v.startsWith("second-")).count() == 200;
            });
            assertThat(a).anyMatch(v -> v.startsWith("second-"));
            assertThat(b).anyMatch(v -> v.startsWith("second-"));
            // the eager rebalance revoked both partitions from the first member and gave one back: only
            // the one that moved is released (the one kept holds its watermark)
            int moved = loopB.get().assignedPartitions().iterator().next();
            assertThat(releasedByFirst).as("partitions released by the first member").containsExactly(moved);
        } finally {
            first.dispose();
            second.dispose();
        }
    }

    private static long position(StreamElement<?, ?> e) {
        return e instanceof StreamRecord<?, ?> r ? r.origin().position()
                : e instanceof DeadLetter<?, ?> d ? d.origin().position() : -1;
    }

    /** One run of a checkpointed pipeline over partition 0 of "checkpointed", up to offset {@code last}. */
    private static List<DeadLetter<?, ?>> runCheckpointed(KafkaBroker broker, Path checkpoints, Path output, long last) {
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        KafkaSource<String, String> source = KafkaSource.strings(props(broker, null)).assign("checkpointed", 0);
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).open()) {
            EventStream.of(cp.source("checkpointed",
                            positions -> source.resume().apply(positions).takeUntil(e -> position(e) >= last),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ZERO)))
                    .onDeadLetter(d -> d.doOnNext(dead::add))
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output), (StreamRecord<String, String> r) -> r.value()))
                    .block(Duration.ofSeconds(60));
        }
        return new ArrayList<>(dead);
    }

    @Test
    void aCheckpointedPipelineKeepsTheOffsetsAndResumesAfterTheLastConsumedRecordOrDeadLetter(KafkaBroker broker,
            @TempDir Path dir) throws Exception {
        broker.createTopic("checkpointed", 1);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 10; i++) {
                send(producer, new ProducerRecord<>("checkpointed", 0, 1_000L * i, "k", i == 5 ? null : "v" + i));
            }
        }
        Path checkpoints = dir.resolve("checkpoints");
        Path output = dir.resolve("out");
        List<DeadLetter<?, ?>> first = runCheckpointed(broker, checkpoints, output, 5);
        assertThat(first).singleElement().satisfies(d -> assertThat(d.origin().position()).isEqualTo(5));
        List<CheckpointInfo> infos = Checkpointing.list(checkpoints);
        assertThat(infos.get(infos.size() - 1).positions()).isEqualTo(Map.of("checkpointed", Map.of(0, 5L)));

        assertThat(runCheckpointed(broker, checkpoints, output, 9)).as("the dead letter is not read again").isEmpty();
        List<String> lines = new ArrayList<>();
        try (java.util.stream.Stream<Path> parts = Files.list(output)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                lines.addAll(Files.readAllLines(part, StandardCharsets.UTF_8));
            }
        }
        assertThat(lines).containsExactly("v0", "v1", "v2", "v3", "v4", "v6", "v7", "v8", "v9");
    }

    @Test
    void severalTopicsGetDistinctPartitionIdsThatTheResumePositionsUse(KafkaBroker broker) {
        broker.createTopic("alpha", 1);
        broker.createTopic("beta", 2);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 5; i++) {
                send(producer, new ProducerRecord<>("alpha", 0, "a", "a0-" + i));
                send(producer, new ProducerRecord<>("beta", 0, "b", "b0-" + i));
                send(producer, new ProducerRecord<>("beta", 1, "c", "b1-" + i));
            }
        }
        List<StreamElement<String, String>> read = KafkaSource.strings(props(broker, "several")).topics("alpha", "beta")
                .resume().apply(Map.of(1 << 16 | 1, 2L)).filter(StreamElement::isRecord).take(12).collectList().block(Duration.ofSeconds(30));
        Map<String, List<String>> byOrigin = new TreeMap<>();
        for (StreamElement<String, String> e : read) {
            StreamRecord<String, String> r = (StreamRecord<String, String>) e;
            byOrigin.computeIfAbsent(r.origin().source() + "/" + r.origin().partition(), k -> new ArrayList<>())
                    .add(r.origin().position() + ":" + r.value());
        }
        assertThat(byOrigin).isEqualTo(Map.of(
                "alpha/0", List.of("0:a0-0", "1:a0-1", "2:a0-2", "3:a0-3", "4:a0-4"),
                "beta/65536", List.of("0:b0-0", "1:b0-1", "2:b0-2", "3:b0-3", "4:b0-4"),
                "beta/65537", List.of("3:b1-3", "4:b1-4")));
    }

    @Test
    void aCheckpointedPipelineCommitsToTheGroupOnlyTheOffsetsOfDeliveredCheckpoints(KafkaBroker broker,
            @TempDir Path dir) throws Exception {
        broker.createTopic("lagged", 1);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 10; i++) {
                send(producer, new ProducerRecord<>("lagged", 0, 1_000L * i, "k", "v" + i));
            }
        }
        KafkaSource<String, String> source = KafkaSource.strings(props(broker, "lag-watch")).topic("lagged");
        List<Map<Integer, Long>> deliveries = new CopyOnWriteArrayList<>();
        io.streamflow.reactive.OutboxSink<String> committing = source.committingOffsets("lagged",
                StreamSinks.exactlyOnceFiles(dir.resolve("out")));
        io.streamflow.reactive.OutboxSink<String> watched = new io.streamflow.reactive.OutboxSink<>() {
            @Override
            public void deliver(long checkpointId, List<String> records) {
                throw new AssertionError("the pipeline calls deliver(Delivery, records)");
            }

            @Override
            public void deliver(Delivery delivery, List<String> records) throws java.io.IOException {
                committing.deliver(delivery, records);
                deliveries.add(delivery.positions().get("lagged"));
            }

            @Override
            public java.util.Optional<List<Delivery>> deliveries() throws java.io.IOException {
                return committing.deliveries();
            }
        };
        TopicPartition lagged = new TopicPartition("lagged", 0);
        try (Checkpointing cp = Checkpointing.builder(dir.resolve("checkpoints")).interval(Duration.ZERO).open();
             KafkaConsumer<String, String> check = new KafkaConsumer<>(props(broker, "lag-watch"),
                     new StringDeserializer(), new StringDeserializer())) {
            reactor.core.Disposable pipeline = EventStream.of(cp.source("lagged",
                            positions -> source.resume().apply(positions).doOnNext(e -> {
                                if (position(e) == 6) {
                                    cp.checkpointNow().subscribe();
                                }
                            }),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ZERO)))
                    .elements()
                    .as(cp.sink(watched, (StreamRecord<String, String> r) -> r.value()))
                    .subscribe();
            await("a checkpoint delivered", () -> !deliveries.isEmpty());
            // cancelled, without a final checkpoint: the group gets the delivered checkpoint's
            // offsets, not those of the records consumed after it
            pipeline.dispose();
            await("the group's offset committed", () -> check.committed(Set.of(lagged)).get(lagged) != null);
            assertThat(deliveries).singleElement().satisfies(p -> assertThat(p).containsOnlyKeys(0));
            long checkpointed = deliveries.get(0).get(0);
            assertThat(checkpointed).isBetween(5L, 9L);
            assertThat(check.committed(Set.of(lagged)).get(lagged).offset()).isEqualTo(checkpointed + 1);
        }
    }

    // ---- topic patterns ----

    /** The reference for pattern partition ids, written from the documented rule, not from the code. */
    private static int patternId(String topic, int partition) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(topic.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % (1 << 19)) * 4096 + partition;
    }

    @Test
    void aTopicPatternReadsEveryMatchingTopicAlsoOneCreatedLaterWithPartitionIdsFromTheTopicName(KafkaBroker broker) {
        broker.createTopic("metrics.cpu", 2);
        broker.createTopic("logs.cpu", 1);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 4; i++) {
                send(producer, new ProducerRecord<>("metrics.cpu", i % 2, "k", "cpu-" + i));
                send(producer, new ProducerRecord<>("logs.cpu", 0, "k", "log-" + i));
            }
        }
        Map<String, Object> props = props(broker, "pattern-reader");
        props.put("metadata.max.age.ms", 500); // finds new topics within half a second
        Map<String, Integer> ids = new ConcurrentHashMap<>();
        List<String> values = new CopyOnWriteArrayList<>();
        reactor.core.Disposable reading = KafkaSource.strings(props).topicPattern("metrics\\..*").flux()
                .filter(StreamElement::isRecord)
                .subscribe(e -> {
                    StreamRecord<String, String> r = (StreamRecord<String, String>) e;
                    values.add(r.value());
                    ids.put(r.origin().source() + "/" + r.value(), r.origin().partition());
                });
        try {
            await("the matching topic read", () -> values.size() == 4);
            broker.createTopic("metrics.disk", 3);
            try (KafkaProducer<String, String> producer = producer(broker)) {
                for (int i = 0; i < 6; i++) {
                    send(producer, new ProducerRecord<>("metrics.disk", i % 3, "k", "disk-" + i));
                    send(producer, new ProducerRecord<>("logs.cpu", 0, "k", "log-late-" + i));
                }
            }
            await("the topic created after the subscription read", () -> values.size() == 10);
        } finally {
            reading.dispose();
        }
        assertThat(values).allMatch(v -> v.startsWith("cpu-") || v.startsWith("disk-")).doesNotHaveDuplicates();
        Map<String, Integer> expected = new HashMap<>();
        for (int i = 0; i < 4; i++) {
            expected.put("metrics.cpu/cpu-" + i, patternId("metrics.cpu", i % 2));
        }
        for (int i = 0; i < 6; i++) {
            expected.put("metrics.disk/disk-" + i, patternId("metrics.disk", i % 3));
        }
        assertThat(ids).isEqualTo(expected);
    }

    @Test
    void twoMatchedTopicsWithTheSameTopicHashFailTheFluxNamingBoth(KafkaBroker broker) {
        // two names whose 19-bit topic hashes collide, found by trying names in order
        Map<Integer, String> seen = new HashMap<>();
        String first = null;
        String second = null;
        for (int i = 0; second == null; i++) {
            String name = "clash-" + i;
            String other = seen.putIfAbsent(patternId(name, 0), name);
            if (other != null) {
                first = other;
                second = name;
            }
        }
        broker.createTopic(first, 1);
        broker.createTopic(second, 1);
        String a = first;
        String b = second;
        // the consumer may find one topic first, take its partition and give it back (a release marker)
        StepVerifier.create(KafkaSource.strings(props(broker, "clashing")).topicPattern("clash-.*").flux()
                        .filter(e -> !(e instanceof io.streamflow.reactive.InputStatus<?, ?>)))
                .expectErrorSatisfies(t -> assertThat(t.getCause()).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("'" + a + "'").hasMessageContaining("'" + b + "'")
                        .hasMessageContaining("same topic hash"))
                .verify(Duration.ofSeconds(60));
    }

    // ---- rebalance: released partitions ----

    @Test
    void partitionsRevokedInARebalanceAreReleasedSoWindowsFireWithoutIdlenessAndMatchTheReference(KafkaBroker broker) {
        broker.createTopic("moving", 2);
        long size = 1_000;
        Random random = new Random(SEED);
        Map<String, Long> reference = new TreeMap<>();
        try (KafkaProducer<String, String> producer = producer(broker)) {
            // first half: event time 0 to 10.5 s on both partitions, so the second member joins mid-window
            for (int i = 0; i < 1_050; i++) {
                for (int p = 0; p < 2; p++) {
                    long ts = i * 10L + random.nextInt(50);
                    String key = "p" + p + "-k" + random.nextInt(3);
                    send(producer, new ProducerRecord<>("moving", p, ts, key, "v"));
                    reference.merge(key + "@" + (ts - ts % size), 1L, Long::sum);
                }
            }
        }
        KafkaSource<String, String> source = KafkaSource.strings(props(broker, "moving-counter")).topic("moving")
                .commitInterval(Duration.ZERO);
        Map<String, Long> counts = new ConcurrentHashMap<>();
        List<List<Long>> watermarks = List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        java.util.concurrent.atomic.AtomicInteger readByFirst = new java.util.concurrent.atomic.AtomicInteger();
        AtomicReference<PollLoop<String, String>> loopA = new AtomicReference<>();
        AtomicReference<PollLoop<String, String>> loopB = new AtomicReference<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        java.util.function.Function<Integer, reactor.core.Disposable> member = m -> EventStream.from(
                        source.flux(null, (m == 0 ? loopA : loopB)::set).doOnNext(e -> {
                            if (m == 0 && e.isRecord()) {
                                readByFirst.incrementAndGet();
                            }
                        }),
                        WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ofMillis(100)))
                .window(Windows.tumbling(Duration.ofMillis(size)))
                .aggregate(Aggregations.<String>count())
                .elements()
                .subscribe(e -> {
                    if (e instanceof io.streamflow.reactive.Watermark<?, ?> w) {
                        watermarks.get(m).add(w.timestamp());
                    } else if (e instanceof StreamRecord<?, ?> r) {
                        WindowResult<?, ?> w = (WindowResult<?, ?>) r.value();
                        counts.merge(w.key() + "@" + w.start(), (Long) w.value(), Long::sum);
                    }
                }, failed::set);
        reactor.core.Disposable first = member.apply(0);
        reactor.core.Disposable second = null;
        try {
            await("the first member read the first half", () -> readByFirst.get() == 2_100);
            second = member.apply(1);
            await("one partition each", () -> loopA.get().assignedPartitions().size() == 1
                    && loopB.get().assignedPartitions().size() == 1);
            try (KafkaProducer<String, String> producer = producer(broker)) {
                // second half: 10.5 s to 20 s, then a record far ahead on each partition closes every window
                for (int i = 1_050; i < 2_000; i++) {
                    for (int p = 0; p < 2; p++) {
                        long ts = i * 10L + random.nextInt(50);
                        String key = "p" + p + "-k" + random.nextInt(3);
                        send(producer, new ProducerRecord<>("moving", p, ts, key, "v"));
                        reference.merge(key + "@" + (ts - ts % size), 1L, Long::sum);
                    }
                }
                for (int p = 0; p < 2; p++) {
                    send(producer, new ProducerRecord<>("moving", p, 1_000_000L, "end", "v"));
                }
            }
            // no idleness: without the release, the first member's revoked partition would hold its
            // watermark below 10.5 s for ever, and its windows after that would never fire
            Awaitility.await("every window fired in one of the members").atMost(Duration.ofSeconds(90))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> failed.get() != null || counts.keySet().containsAll(reference.keySet())
                            && reference.entrySet().stream().allMatch(en -> en.getValue().equals(counts.get(en.getKey()))));
        } finally {
            first.dispose();
            if (second != null) {
                second.dispose();
            }
        }
        assertThat(failed.get()).isNull();
        Map<String, Long> results = new TreeMap<>(counts);
        results.keySet().removeIf(k -> k.startsWith("end@"));
        assertThat(results).isEqualTo(reference);
        for (List<Long> w : watermarks) {
            for (int i = 1; i < w.size(); i++) {
                assertThat(w.get(i)).as("watermarks downstream never go back").isGreaterThan(w.get(i - 1));
            }
        }
        assertThat(watermarks.get(0)).as("the first member's watermark passed the second half").anyMatch(
                w -> w >= 19_999);
    }

    // ---- semantics over several partitions ----

    @Test
    void outOfOrderPartitionsWithDifferentDelaysAndOneThatGoesIdleGiveTheReferenceCounts(KafkaBroker broker)
            throws Exception {
        broker.createTopic("delays", 4);
        Random random = new Random(SEED + 1);
        long bound = 500;
        Map<String, Long> reference = new TreeMap<>();
        int records = 0;
        try (KafkaProducer<String, String> producer = producer(broker)) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                long delay = p * 1_500L; // partition p runs p * 1.5 s behind in event time
                int count = p == 3 ? 40 : 800; // partition 3 stops early: it goes idle
                for (int i = 0; i < count; i++) {
                    // out of order within the partition by less than the bound: no record is late
                    long ts = 10_000 + i * 25L - delay + random.nextInt((int) bound);
                    String key = "p" + p + "-k" + random.nextInt(5); // a keyed topic: a key stays in its partition
                    sent.add(producer.send(new ProducerRecord<>("delays", p, ts, key, "v")));
                    reference.merge(key + "@" + (ts - Math.floorMod(ts, 1_000L)), 1L, Long::sum);
                    records++;
                }
            }
            for (Future<RecordMetadata> f : sent) {
                acknowledged(f, broker);
            }
        }
        Map<String, Long> counts = new ConcurrentHashMap<>();
        List<Object> late = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        long expected = records;
        // partition 3 has nothing after its 40 records: only its idleness lets the watermark pass it
        reactor.core.Disposable pipeline = EventStream.from(
                        KafkaSource.strings(props(broker, null)).assign("delays", 0, 1, 2, 3).flux(),
                        WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ofMillis(bound))
                                .withIdleness(Duration.ofSeconds(2)))
                .onLateData(l -> l.doOnNext(late::add))
                .window(Windows.tumbling(Duration.ofSeconds(1)))
                .aggregate(Aggregations.<String>count())
                .elements()
                .filter(StreamElement::isRecord)
                .map(e -> ((StreamRecord<String, WindowResult<String, Long>>) e).value())
                .filter(w -> !w.key().startsWith("end"))
                .subscribe(w -> {
                    if (counts.put(w.key() + "@" + w.start(), w.value()) != null) {
                        failed.set(new AssertionError("two panes for " + w));
                    }
                }, failed::set);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            // records far ahead on the partitions that go on keep them active (an input whose partitions
            // are all idle holds its watermark), until partition 3 is idle and every window fired
            Awaitility.await("every window fired").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        for (int p = 0; p < 3; p++) {
                            producer.send(new ProducerRecord<>("delays", p, 10_000_000L, "end" + p, "v"));
                        }
                        return failed.get() != null
                                || counts.values().stream().mapToLong(Long::longValue).sum() + late.size() >= expected;
                    });
        } finally {
            pipeline.dispose();
        }
        assertThat(failed.get()).isNull();
        assertThat(late).as("late records").isEmpty();
        assertThat(counts).isEqualTo(reference);
    }

    @Test
    void theSourceMetersShowPausedPartitionsAndTheLagPerPartition(KafkaBroker broker) {
        broker.createTopic("metered", 2);
        try (KafkaProducer<String, String> producer = producer(broker)) {
            for (int i = 0; i < 300; i++) {
                send(producer, new ProducerRecord<>("metered", i % 2, "k", "v" + i));
            }
        }
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        List<StreamElement<String, String>> got = new CopyOnWriteArrayList<>();
        BaseSubscriber<StreamElement<String, String>> reader = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
            }

            @Override
            protected void hookOnNext(StreamElement<String, String> value) {
                got.add(value);
            }
        };
        KafkaSource.strings(props(broker, null)).assign("metered", 0, 1).bufferPerPartition(10)
                .metrics("metered-test", registry).flux().subscribe(reader);
        try {
            java.util.function.Function<Integer, Double> lag = p -> {
                io.micrometer.core.instrument.Gauge g = registry.find("streamflow.kafka.source.lag")
                        .tag("topic", "metered").tag("partition", Integer.toString(p)).gauge();
                return g == null ? -1 : g.value();
            };
            await("both partitions paused with nothing requested, all 150 records of each behind",
                    () -> registry.get("streamflow.kafka.source.paused.partitions").gauge().value() == 2
                            && lag.apply(0) == 150 && lag.apply(1) == 150);
            assertThat(registry.get("streamflow.kafka.source.pauses").counter().count()).isGreaterThanOrEqualTo(2);
            reader.request(100);
            await("100 handed downstream", () -> got.size() == 100);
            await("the lag is what was not handed downstream", () -> lag.apply(0) + lag.apply(1) == 200);
            reader.request(Long.MAX_VALUE);
            await("all read, no lag, nothing paused", () -> got.size() == 300 && lag.apply(0) == 0
                    && lag.apply(1) == 0 && registry.get("streamflow.kafka.source.paused.partitions").gauge().value() == 0);
            assertThat(registry.get("streamflow.kafka.source.records").tag("partition", "0").counter().count())
                    .isEqualTo(150);
            assertThat(registry.get("streamflow.kafka.source.records").tag("partition", "1").counter().count())
                    .isEqualTo(150);
        } finally {
            reader.dispose();
        }
    }

    @Test
    void stringsDecodeUtf8StrictlyAndNeverReplaceBadBytes() {
        assertThat(io.streamflow.reactive.kafka.internal.Utf8.decode("grüße €".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("grüße €");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.streamflow.reactive.kafka.internal.Utf8.decode(
                        new byte[] {'a', 'b', (byte) 0xE2, (byte) 0x82}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid UTF-8")
                .hasMessageContaining("at index 2");
        // what Kafka's own deserializer does with the same bytes: U+FFFD, silently
        assertThat(new StringDeserializer().deserialize("t", new byte[] {'a', 'b', (byte) 0xE2, (byte) 0x82}))
                .contains("\uFFFD");
    }
}
