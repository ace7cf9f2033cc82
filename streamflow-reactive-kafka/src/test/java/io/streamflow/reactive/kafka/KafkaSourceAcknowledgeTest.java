package io.streamflow.reactive.kafka;

import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.kafka.internal.PollLoop;
import io.streamflow.reactive.test.ChildJvm;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acknowledging {@link KafkaSource#flux()} on a real broker: a source → {@link KafkaSender}
 * pipeline killed with SIGKILL while the sender holds records in flight loses none of them when
 * the source commits acknowledged elements only (and loses them when it commits what it handed
 * downstream); out-of-order acknowledgements commit the contiguous prefix, and a rebalance commits
 * it and goes back to it; the unacknowledged limit pauses the partition.
 */
class KafkaSourceAcknowledgeTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final Duration LINE_TIMEOUT = Duration.ofSeconds(90);

    private static Map<String, Object> props(KafkaBroker broker, String group) {
        Map<String, Object> p = new HashMap<>(broker.clientProperties());
        p.put("auto.offset.reset", "earliest");
        p.put("group.id", group);
        return p;
    }

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(condition::getAsBoolean);
    }

    /** Writes {@code perPartition} records with values {@code "v<partition>-<i>"} to each partition. */
    private static Set<String> produce(KafkaBroker broker, String topic, int partitions, int perPartition)
            throws ExecutionException, InterruptedException {
        Set<String> values = new HashSet<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProperties(),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < perPartition; i++) {
                for (int p = 0; p < partitions; p++) {
                    String v = "v" + p + "-" + i;
                    producer.send(new ProducerRecord<>(topic, p, "k" + p, v));
                    values.add(v);
                }
            }
            producer.flush();
            producer.send(new ProducerRecord<>(topic, 0, "k0", "v0-" + perPartition)).get();
            values.add("v0-" + perPartition);
        }
        return values;
    }

    /** The group's committed offsets per partition number of {@code topic}. */
    private static Map<Integer, Long> committed(Admin admin, String group, String topic) {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            Map<Integer, Long> out = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (tp.topic().equals(topic) && o != null) {
                    out.put(tp.partition(), o.offset());
                }
            });
            return out;
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    private static long sum(Map<Integer, Long> offsets) {
        return offsets.values().stream().mapToLong(Long::longValue).sum();
    }

    private static long records(Admin admin, String topic) {
        try {
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
            partitions.forEach(p -> latest.put(new TopicPartition(topic, p.partition()),
                    org.apache.kafka.clients.admin.OffsetSpec.latest()));
            return admin.listOffsets(latest).all().get().values().stream().mapToLong(r -> r.offset()).sum();
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    /** What a kill in the middle and a second run to the end left in the output topic. */
    private record Outcome(int input, int output, int missing, int duplicates, long committedAtKill,
                           long outputAtKill, long handedAtKill) {
    }

    /**
     * Runs the copying pipeline in a child JVM with a slow sender, kills it with SIGKILL once the
     * group has committed offsets while records are in flight ({@code killWhen}), runs it again in
     * this JVM (acknowledged) until the group's offsets reach the end of the input, and compares
     * the output topic with the input.
     */
    private static Outcome killMidwayAndRunAgain(KafkaBroker broker, String name, boolean acknowledged)
            throws Exception {
        String input = name + "-in";
        String output = name + "-out";
        String group = name + "-copier";
        broker.createTopic(input, 2);
        broker.createTopic(output, 2);
        Set<String> values = produce(broker, input, 2, 500);
        long committedAtKill;
        long outputAtKill;
        long handedAtKill;
        try (Admin admin = Admin.create(broker.clientProperties())) {
            try (ChildJvm run = ChildJvm.start(KafkaAckPipeline.class, List.of("-Xmx256m"),
                    broker.bootstrapServers(), input, output, group, acknowledged ? "acknowledged" : "plain",
                    "1500")) {
                assertThat(run.awaitLine("results 200", LINE_TIMEOUT)).as("progress, output:\n" + run.output())
                        .isTrue();
                // the sender asked for more as it emitted results: records handed over and lingering
                assertThat(run.awaitLine("handed 300", LINE_TIMEOUT)).as("records in flight, output:\n"
                        + run.output()).isTrue();
                if (acknowledged) {
                    // the acknowledged results are committed; the records in flight are not: for a while
                    // (several commit intervals), the group's offsets never run ahead of the output
                    await("acknowledged results committed", () -> sum(committed(admin, group, input)) >= 200);
                    Awaitility.await("the committed offsets stay within the output").during(Duration.ofSeconds(1))
                            .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                            .failFast("the group committed records whose sends were not acknowledged",
                                    () -> sum(committed(admin, group, input)) > records(admin, output))
                            .until(() -> true);
                } else {
                    // the source committed records whose sends are still lingering in the producer
                    await("offsets committed past the output", () -> sum(committed(admin, group, input))
                            > records(admin, output));
                }
                committedAtKill = sum(committed(admin, group, input));
                outputAtKill = records(admin, output);
                handedAtKill = run.output().lines().filter(l -> l.startsWith("handed ")).mapToLong(
                        l -> Long.parseLong(l.substring("handed ".length()))).max().orElse(0);
                assertThat(run.kill()).as("killed").isTrue();
            }
            if (acknowledged) {
                // measured in this order (the output only grows): nothing committed is missing from it
                assertThat(committedAtKill).isLessThanOrEqualTo(outputAtKill);
            }
            // the second run: the same static member, acknowledged, until the input is consumed
            Disposable second = KafkaAckPipeline.pipeline(broker.bootstrapServers(), input, output, group, true, 0,
                    new AtomicLong(), new AtomicLong()).subscribe();
            try {
                await("second run consumed the input", () -> sum(committed(admin, group, input)) == values.size());
            } finally {
                second.dispose();
            }
        }
        List<String> copied = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaSenderTest.readAll(broker, output)) {
            copied.add(new String(r.value(), StandardCharsets.UTF_8));
        }
        Set<String> distinct = new HashSet<>(copied);
        int missing = (int) values.stream().filter(v -> !distinct.contains(v)).count();
        Outcome outcome = new Outcome(values.size(), copied.size(), missing, copied.size() - distinct.size(),
                committedAtKill, outputAtKill, handedAtKill);
        System.out.println("KafkaSourceAcknowledgeTest " + (acknowledged ? "acknowledged" : "plain") + ": "
                + outcome);
        assertThat(distinct).as("only input records in the output").isSubsetOf(values);
        return outcome;
    }

    @Test
    void anAcknowledgedPipelineKilledWithSendsInFlightLosesNoRecordAndReadsTheUnacknowledgedAgain(
            KafkaBroker broker) throws Exception {
        Outcome o = killMidwayAndRunAgain(broker, "acked", true);
        assertThat(o.missing()).as("records lost: " + o).isZero();
        // the records in flight at the kill were read again (their sends may or may not have landed)
        assertThat(o.committedAtKill()).as("committed behind what was handed to the sender: " + o)
                .isLessThan(o.handedAtKill());
    }

    @Test
    void aPlainFluxPipelineKilledWithSendsInFlightLosesThemBecauseItsOffsetsWereCommitted(KafkaBroker broker)
            throws Exception {
        // what acknowledged() is for: the same scenario, the source committing what it handed downstream
        Outcome o = killMidwayAndRunAgain(broker, "plain", false);
        assertThat(o.missing()).as("records lost: " + o).isPositive();
    }

    @Test
    void outOfOrderAcknowledgementsCommitTheContiguousPrefixAndARebalanceGoesBackToIt(KafkaBroker broker)
            throws Exception {
        broker.createTopic("ooo", 2);
        produce(broker, "ooo", 2, 20); // 21 records in partition 0, 20 in partition 1
        KafkaSource<String, String> source = KafkaSource.strings(props(broker, "ooo-group")).topic("ooo")
                .commitInterval(Duration.ofMillis(50)).acknowledged();
        AtomicReference<PollLoop<String, String>> loop = new AtomicReference<>();
        List<StreamElement<String, String>> first = new CopyOnWriteArrayList<>();
        Disposable a = source.flux(null, loop::set).subscribe(first::add);
        List<StreamElement<String, String>> second = new CopyOnWriteArrayList<>();
        Disposable b = null;
        try (Admin admin = Admin.create(broker.clientProperties())) {
            await("every record read", () -> first.size() == 41);
            assertThat(loop.get().unacknowledged()).isEqualTo(41);
            for (long offset : new long[] {0, 1, 2, 5, 6, 9}) {
                source.acknowledge(io.streamflow.reactive.Origin.of("ooo", 0, offset));
            }
            // a copy shares the routing; acknowledging an element acknowledges its origin
            source.topic("ooo").acknowledge(record(first, 1, 3));
            source.acknowledge(record(first, 1, 4));
            await("the prefix of partition 0 committed", () -> committed(admin, "ooo-group", "ooo")
                    .equals(Map.of(0, 3L, 1, 0L)));
            assertThat(loop.get().unacknowledged()).isEqualTo(41 - 8);
            source.acknowledge(record(first, 0, 4));
            source.acknowledge(record(first, 0, 3));
            source.acknowledge(record(first, 0, 3)); // twice: ignored
            await("0 to 6 acknowledged", () -> committed(admin, "ooo-group", "ooo").equals(Map.of(0, 7L, 1, 0L)));
            assertThat(loop.get().unacknowledged()).isEqualTo(41 - 10);

            // a second member: the first one's partitions are revoked and committed at the prefix, and
            // whoever gets a partition reads it again from its first unacknowledged record
            b = source.flux().subscribe(second::add);
            await("the second member reads", () -> second.stream().anyMatch(StreamElement::isRecord));
            await("both partitions read again", () -> firstReadAgain(first, second, 0) != null
                    && firstReadAgain(first, second, 1) != null);
            assertThat(firstReadAgain(first, second, 0)).isEqualTo(7L);
            assertThat(firstReadAgain(first, second, 1)).isEqualTo(0L);
            assertThat(committed(admin, "ooo-group", "ooo")).isEqualTo(Map.of(0, 7L, 1, 0L));
            // the first member releases (for the watermark downstream) only the partition that moved
            for (int p = 0; p < 2; p++) {
                boolean moved = second.stream().anyMatch(isRecordOf(p));
                assertThat(first.contains(InputStatus.released(p))).as("partition " + p + " released").isEqualTo(moved);
            }
        } finally {
            a.dispose();
            if (b != null) {
                b.dispose();
            }
        }
    }

    private static StreamRecord<String, String> record(List<StreamElement<String, String>> read, int partition,
                                                       long offset) {
        return read.stream().filter(e -> e instanceof StreamRecord<String, String> r
                        && r.origin().partition() == partition && r.origin().position() == offset)
                .map(e -> (StreamRecord<String, String>) e).findFirst().orElseThrow();
    }

    private static java.util.function.Predicate<StreamElement<String, String>> isRecordOf(int partition) {
        return e -> e instanceof StreamRecord<String, String> r && r.origin().partition() == partition;
    }

    /**
     * The offset of the first record of {@code partition} read again after the second member joined:
     * by the first member after the 41 records it read at first (it keeps the partition and goes back
     * to its first unacknowledged record), or else by the second member (it took the partition).
     */
    private static Long firstReadAgain(List<StreamElement<String, String>> first,
                                       List<StreamElement<String, String>> second, int partition) {
        List<StreamElement<String, String>> records = first.stream().filter(StreamElement::isRecord).toList();
        for (int i = 41; i < records.size(); i++) {
            if (records.get(i) instanceof StreamRecord<String, String> r && r.origin().partition() == partition) {
                return r.origin().position();
            }
        }
        for (StreamElement<String, String> e : second) {
            if (e instanceof StreamRecord<String, String> r && r.origin().partition() == partition) {
                return r.origin().position();
            }
        }
        return null;
    }

    @Test
    void thePartitionIsPausedAtTheUnacknowledgedLimitAndGoesOnAsAcknowledgementsCome(KafkaBroker broker)
            throws Exception {
        broker.createTopic("limit", 1);
        produce(broker, "limit", 1, 49); // 50 records
        KafkaSource<String, String> source = KafkaSource.strings(props(broker, "limit-group")).topic("limit")
                .commitInterval(Duration.ofMillis(50)).acknowledged().maxUnacknowledged(5);
        AtomicReference<PollLoop<String, String>> loop = new AtomicReference<>();
        List<StreamRecord<String, String>> got = new CopyOnWriteArrayList<>();
        AtomicReference<Boolean> ackOnArrival = new AtomicReference<>(false);
        BaseSubscriber<StreamElement<String, String>> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            protected void hookOnNext(StreamElement<String, String> value) {
                got.add((StreamRecord<String, String>) value);
                if (ackOnArrival.get()) {
                    source.acknowledge(value);
                }
            }
        };
        source.flux(null, loop::set).subscribe(subscriber);
        try (Admin admin = Admin.create(broker.clientProperties())) {
            await("paused with 5 unacknowledged while there is demand", () -> got.size() == 5
                    && loop.get().pausedPartitions().equals(Set.of(0)));
            assertThat(loop.get().unacknowledged()).isEqualTo(5);
            assertThat(got).hasSize(5);
            source.acknowledge(got.get(1));
            source.acknowledge(got.get(0));
            // the poll thread pauses the partition again on its next round after handing the two over
            await("two more, then paused again", () -> got.size() == 7 && loop.get().unacknowledged() == 5
                    && loop.get().pausedPartitions().equals(Set.of(0)));
            assertThat(got).as("nothing beyond the limit while paused").hasSize(7);
            await("the prefix committed", () -> committed(admin, "limit-group", "limit").equals(Map.of(0, 2L)));
            ackOnArrival.set(true);
            got.forEach(source::acknowledge);
            await("all read and committed", () -> got.size() == 50
                    && committed(admin, "limit-group", "limit").equals(Map.of(0, 50L)));
            for (int i = 0; i < got.size(); i++) {
                assertThat(got.get(i).origin().position()).isEqualTo(i);
            }
        } finally {
            subscriber.dispose();
        }
    }
}
