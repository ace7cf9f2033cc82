package io.streamflow.reactive.kafka;

import io.streamflow.reactive.test.ChildJvm;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bounded memory under a burst: a topic holds a backlog more than twice the size of the heap of
 * the JVM that reads it ({@value #HEAP_MB} MB), and {@link KafkaBurstReader} reads it there with a
 * {@link KafkaSource} whose subscriber is far slower than the consumer fetches. Were the source to
 * keep fetching what nobody asked for, the backlog would not fit; instead its partitions are
 * paused while their buffers are full, each buffer stays within {@code bufferPerPartition +
 * max.poll.records - 1} records, there is no {@link OutOfMemoryError} (the JVM would exit), the
 * member stays in its group for the whole read (one member id, seen from outside through the
 * admin client, though the read takes longer than {@code max.poll.interval.ms}), and every record
 * arrives once, in offset order per partition.
 */
class KafkaSourceBurstTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    static final int HEAP_MB = 64;
    private static final int PARTITIONS = 3;
    private static final int PER_PARTITION = 3_000;
    private static final int VALUE_BYTES = 16 * 1024;
    private static final int BUFFER_PER_PARTITION = 128;
    private static final int MAX_POLL_RECORDS = 32;
    private static final int MAX_POLL_INTERVAL_MS = 3_000;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aBacklogLargerThanTheHeapIsReadBySlowSubscriberWithPausedPartitionsAndBoundedBuffersInOrderOnce(
            KafkaBroker broker) throws Exception {
        broker.createTopic("burst", PARTITIONS);
        long backlog = produce(broker);
        System.out.println("KafkaSourceBurstTest: backlog of " + PARTITIONS * PER_PARTITION + " records, "
                + backlog / (1024 * 1024) + " MB, for a heap of " + HEAP_MB + " MB");

        Set<String> members = new LinkedHashSet<>();
        String report;
        try (ChildJvm reader = ChildJvm.start(KafkaBurstReader.class,
                List.of("-Xmx" + HEAP_MB + "m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError"),
                broker.bootstrapServers(), "burst", Integer.toString(PARTITIONS), Integer.toString(PER_PARTITION),
                Integer.toString(BUFFER_PER_PARTITION), Integer.toString(MAX_POLL_RECORDS),
                Integer.toString(MAX_POLL_INTERVAL_MS), "10");
             Admin admin = Admin.create(broker.clientProperties())) {
            // the group's members, seen from outside while the reader reads
            while (reader.isAlive()) {
                members.addAll(memberIds(admin));
                reader.awaitExit(Duration.ofMillis(200));
            }
            assertThat(reader.exitValue()).as("reader exit code, output:\n" + reader.output()).isZero();
            report = reader.awaitLine(l -> l.startsWith("report "), Duration.ofSeconds(10))
                    .orElseThrow(() -> new AssertionError("no report; output:\n" + reader.output()));
        }
        System.out.println("KafkaSourceBurstTest: " + report + " members=" + members);
        Map<String, Long> r = parse(report);
        assertThat(r.get("received")).isEqualTo((long) PARTITIONS * PER_PARTITION);
        assertThat(r.get("pausedSamples")).as("samples with paused partitions").isPositive();
        assertThat(r.get("maxPaused")).as("at most, partitions paused at once").isEqualTo(PARTITIONS);
        long bound = BUFFER_PER_PARTITION + MAX_POLL_RECORDS - 1;
        assertThat(r.get("maxBufferedPerPartition")).as("a partition's buffer, at most")
                .isPositive().isLessThanOrEqualTo(bound);
        assertThat(r.get("maxBuffered")).as("all buffers together, at most").isLessThanOrEqualTo(PARTITIONS * bound);
        assertThat(r.get("heapMax")).as("the backlog does not fit in the heap").isLessThan(backlog / 2);
        assertThat(r.get("tookMillis")).as("slower than max.poll.interval.ms").isGreaterThan(MAX_POLL_INTERVAL_MS);
        assertThat(members).as("member ids of the reader's group during the read").hasSize(1);
    }

    /** Fills the topic; @return the bytes of the values */
    private static long produce(KafkaBroker broker) throws Exception {
        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        props.put("batch.size", 512 * 1024);
        props.put("linger.ms", 20);
        long bytes = 0;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new ByteArraySerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (int o = 0; o < PER_PARTITION; o++) {
                for (int p = 0; p < PARTITIONS; p++) {
                    sent.add(producer.send(new ProducerRecord<>("burst", p, "k" + o,
                            KafkaBurstReader.value(p, o, VALUE_BYTES))));
                    bytes += VALUE_BYTES;
                }
            }
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        return bytes;
    }

    private static List<String> memberIds(Admin admin) throws InterruptedException {
        try {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of("burst-reader"))
                    .describedGroups().get("burst-reader").get(10, TimeUnit.SECONDS);
            return group.members().stream().map(MemberDescription::consumerId).toList();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return List.of();
            }
            throw new AssertionError(e);
        } catch (java.util.concurrent.TimeoutException e) {
            return List.of();
        }
    }

    private static Map<String, Long> parse(String report) {
        Map<String, Long> out = new HashMap<>();
        for (String kv : report.substring("report ".length()).split(" ")) {
            String[] p = kv.split("=", 2);
            out.put(p[0], Long.parseLong(p[1]));
        }
        return out;
    }
}
