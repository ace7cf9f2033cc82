package io.streamflow.samples;

import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import io.streamflow.samples.FraudDetection.Reason;
import io.streamflow.samples.FraudDetection.Transaction;
import io.streamflow.samples.FraudDetection.Verdict;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link KafkaFraudAlerts} against a real broker: the alerts a {@code read_committed} reader finds in
 * {@code fraud-alerts} are, each once, those that the fraud rule gives for the transactions in the
 * {@code transactions} topic, computed here one transaction at a time; and they are what the sample
 * prints.
 */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class KafkaFraudAlertsTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    /** Checkpoints, and so Kafka transactions, far more often than in the sample's main. */
    private static final Duration CHECKPOINTS = Duration.ofMillis(50);

    @TempDir
    Path dir;

    /** A transaction as it is in the topic, with its partition and offset. */
    private record InKafka(Transaction transaction, int partition, long offset) {
    }

    private record Run(KafkaFraudAlerts.Summary summary, List<String> lines, String text) {
    }

    private static Run run(KafkaBroker broker, List<Transaction> transactions, Path checkpoints) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        KafkaFraudAlerts.Summary summary;
        try (SampleKafka kafka = SampleKafka.open(broker.bootstrapServers(), out)) {
            summary = KafkaFraudAlerts.run(kafka, transactions, checkpoints, CHECKPOINTS, out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        return new Run(summary, text.lines().toList(), text);
    }

    /** The end offsets of fraud-alerts for read_committed readers (empty before the topic exists). */
    private static Map<TopicPartition, Long> alertsEnd(KafkaBroker broker) {
        try (KafkaConsumer<byte[], byte[]> consumer = readCommitted(broker)) {
            List<TopicPartition> partitions = consumer.listTopics().containsKey(KafkaFraudAlerts.ALERTS)
                    ? consumer.partitionsFor(KafkaFraudAlerts.ALERTS).stream()
                    .map(p -> new TopicPartition(KafkaFraudAlerts.ALERTS, p.partition())).toList()
                    : List.of();
            return partitions.isEmpty() ? Map.of() : consumer.endOffsets(partitions);
        }
    }

    private static KafkaConsumer<byte[], byte[]> readCommitted(KafkaBroker broker) {
        Map<String, Object> props = new HashMap<>(broker.clientProperties());
        props.put("isolation.level", "read_committed");
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** Every alert a read_committed reader finds in fraud-alerts after {@code from}, as verdicts, in the order read. */
    private static List<Verdict> alertsAfter(KafkaBroker broker, Map<TopicPartition, Long> from) {
        List<Verdict> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = readCommitted(broker)) {
            List<TopicPartition> partitions = consumer.partitionsFor(KafkaFraudAlerts.ALERTS).stream()
                    .map(p -> new TopicPartition(KafkaFraudAlerts.ALERTS, p.partition())).toList();
            consumer.assign(partitions);
            partitions.forEach(tp -> consumer.seek(tp, from.getOrDefault(tp, 0L)));
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertThat(System.nanoTime()).as("reading the alerts in time").isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    KafkaFraudAlerts.Alert alert = KafkaFraudAlerts.Alert.fromJson(r.value());
                    assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(alert.card());
                    assertThat(r.timestamp()).isEqualTo(alert.timestamp());
                    out.add(alert.verdict());
                }
            }
        }
        return out;
    }

    /** The transactions of one run as a plain consumer finds them in the topic, between the run's offsets. */
    private static List<InKafka> transactionsInKafka(KafkaBroker broker, SampleKafka.Produced produced) {
        List<InKafka> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(broker.clientProperties(),
                new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = produced.first().keySet().stream()
                    .map(p -> new TopicPartition(KafkaFraudAlerts.TRANSACTIONS, p)).toList();
            consumer.assign(partitions);
            partitions.forEach(tp -> consumer.seek(tp, produced.first().get(tp.partition())));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) <= produced.last().get(tp.partition()))) {
                assertThat(System.nanoTime()).as("reading the transactions back in time").isLessThan(deadline);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() <= produced.last().get(r.partition())) {
                        String[] f = r.value().split(",");
                        assertThat(f[1]).as("key and card").isEqualTo(r.key());
                        out.add(new InKafka(new Transaction(f[0], f[1], Long.parseLong(f[2]), r.timestamp()),
                                r.partition(), r.offset()));
                    }
                }
            }
        }
        return out;
    }

    /**
     * The reference: the rule applied to each transaction by counting, for its card, the
     * transactions with a timestamp in {@code (t - 60 s, t]}; the alerting verdicts, sorted like the
     * sample prints them.
     */
    static List<Verdict> referenceAlerts(List<Transaction> transactions) {
        List<Verdict> alerts = new ArrayList<>();
        for (Transaction t : transactions) {
            long inLastMinute = transactions.stream().filter(o -> o.card().equals(t.card())
                    && o.timestamp() > t.timestamp() - 60_000 && o.timestamp() <= t.timestamp()).count();
            EnumSet<Reason> reasons = EnumSet.noneOf(Reason.class);
            if (t.amountCents() > 1_000_000) {
                reasons.add(Reason.LARGE_AMOUNT);
            }
            if (inLastMinute > 3) {
                reasons.add(Reason.BURST);
            }
            if (!reasons.isEmpty()) {
                alerts.add(new Verdict(t, inLastMinute, reasons));
            }
        }
        alerts.sort(Comparator.comparingLong((Verdict v) -> v.transaction().timestamp())
                .thenComparing(v -> v.transaction().id()));
        return alerts;
    }

    /**
     * In each partition, in offset order, no transaction is at or behind the watermark of those
     * before it (newest timestamp - 5 s - 1 ms): so, with every partition known to the watermark
     * before its first record (the source hands every partition's first record over first, oldest
     * first), none can be late
     * whatever order the partitions are read in, and the reference needs no LATE reason.
     */
    private static void assertNoneCanBeLate(List<InKafka> inKafka) {
        Map<Integer, Long> newest = new HashMap<>();
        inKafka.stream().sorted(Comparator.comparingInt(InKafka::partition).thenComparingLong(InKafka::offset))
                .forEach(k -> {
                    Long max = newest.get(k.partition());
                    if (max != null) {
                        assertThat(k.transaction().timestamp()).as(k.toString())
                                .isGreaterThan(max - FraudDetection.MAX_OUT_OF_ORDERNESS.toMillis() - 1);
                    }
                    newest.merge(k.partition(), k.transaction().timestamp(), Math::max);
                });
    }

    @Test
    void the_alerts_in_fraud_alerts_are_those_of_the_rule_each_once_and_are_printed(KafkaBroker broker) {
        System.out.println("KafkaFraudAlertsTest seed " + SEED + " (replay with -Dseed=" + SEED + ")");
        List<Transaction> transactions = KafkaFraudAlerts.transactions(3_000, SEED,
                KafkaFraudAlerts.startFor(3_000, System.currentTimeMillis()));
        Map<TopicPartition, Long> before = alertsEnd(broker);

        Run run = run(broker, transactions, dir.resolve("checkpoints"));

        List<InKafka> inKafka = transactionsInKafka(broker, run.summary().transactions());
        assertThat(inKafka).extracting(InKafka::transaction).containsExactlyInAnyOrderElementsOf(transactions);
        assertThat(inKafka.stream().collect(java.util.stream.Collectors.groupingBy(k -> k.transaction().card(),
                java.util.stream.Collectors.mapping(InKafka::partition, java.util.stream.Collectors.toSet()))))
                .as("each card in one partition").allSatisfy((card, partitions) -> assertThat(partitions).hasSize(1));
        assertNoneCanBeLate(inKafka);
        List<Verdict> reference = referenceAlerts(inKafka.stream().map(InKafka::transaction).toList());
        // the input exercises both reasons, both together, and the 10,000.00 edge that passes
        assertThat(reference).anyMatch(v -> v.reasons().equals(Set.of(Reason.BURST)))
                .anyMatch(v -> v.reasons().equals(Set.of(Reason.LARGE_AMOUNT)));
        assertThat(transactions).anyMatch(t -> t.amountCents() == FraudDetection.LARGE_AMOUNT_CENTS);
        assertThat(reference.size()).isLessThan(transactions.size() / 5);

        // what a read_committed reader of its own finds: each alert once, nothing else
        List<Verdict> inAlerts = alertsAfter(broker, before);
        assertThat(inAlerts).extracting(v -> v.transaction().id()).doesNotHaveDuplicates();
        assertThat(inAlerts).containsExactlyInAnyOrderElementsOf(reference);
        // what the sample read back and printed
        assertThat(run.summary().alerts()).containsExactlyElementsOf(reference);
        List<String> printedAlerts = run.lines().stream().filter(l -> !l.startsWith("--")).toList();
        assertThat(printedAlerts).as(run.text()).containsExactlyElementsOf(reference.stream().map(Verdict::toString).toList());
        assertThat(run.lines()).last().asString().startsWith("-- 3000 transactions checked, " + reference.size()
                + " alerts read from fraud-alerts (read_committed), delivered in ");
        assertThat(run.summary().kafkaTransactions()).as("a Kafka transaction per checkpoint with alerts")
                .isGreaterThan(1);
    }

    @Test
    void a_second_run_on_the_same_topics_alerts_only_on_its_own_transactions(KafkaBroker broker) {
        long start = KafkaFraudAlerts.startFor(1_000, System.currentTimeMillis());
        List<Transaction> first = KafkaFraudAlerts.transactions(1_000, SEED + 1, start);
        // the same ids and cards, other amounts and times: none of the first run's alerts is right for it
        List<Transaction> second = KafkaFraudAlerts.transactions(1_000, SEED + 2, start);

        Run one = run(broker, first, dir.resolve("one"));
        Map<TopicPartition, Long> between = alertsEnd(broker);
        Run two = run(broker, second, dir.resolve("two"));

        assertThat(two.summary().transactionalId()).isNotEqualTo(one.summary().transactionalId());
        List<Verdict> secondReference = referenceAlerts(
                transactionsInKafka(broker, two.summary().transactions()).stream().map(InKafka::transaction).toList());
        assertThat(secondReference).isNotEqualTo(referenceAlerts(first));
        assertThat(two.summary().alerts()).containsExactlyElementsOf(secondReference);
        assertThat(alertsAfter(broker, between)).containsExactlyInAnyOrderElementsOf(secondReference);
        assertThat(one.summary().alerts()).containsExactlyElementsOf(referenceAlerts(first));
    }

    @Test
    void an_alert_goes_to_kafka_as_json_and_comes_back_as_the_same_verdict() {
        Verdict v = new Verdict(new Transaction("tx-00042", "card-017", 1_250_000, 1_796_687_721_000L), 4,
                EnumSet.of(Reason.LARGE_AMOUNT, Reason.BURST));

        byte[] json = KafkaFraudAlerts.Alert.of(v).toJson();

        assertThat(new String(json, StandardCharsets.UTF_8)).isEqualTo("{\"id\":\"tx-00042\",\"card\":\"card-017\","
                + "\"amountCents\":1250000,\"time\":\"2026-12-07T23:55:21Z\",\"timestamp\":1796687721000,"
                + "\"inLastMinute\":4,\"reasons\":[\"LARGE_AMOUNT\",\"BURST\"]}");
        assertThat(KafkaFraudAlerts.Alert.fromJson(json).verdict()).isEqualTo(v);
    }
}
