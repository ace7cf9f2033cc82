package io.streamflow.samples;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.kafka.KafkaRecord;
import io.streamflow.reactive.kafka.KafkaSink;
import io.streamflow.reactive.kafka.KafkaSource;
import io.streamflow.samples.FraudDetection.Reason;
import io.streamflow.samples.FraudDetection.Transaction;
import io.streamflow.samples.FraudDetection.Verdict;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Fraud alerts from Kafka to Kafka, exactly once: the checks of {@link FraudDetection} in a
 * checkpointed pipeline from the topic {@value #TRANSACTIONS} to the topic {@value #ALERTS}.
 * <ol>
 *   <li>Uses the cluster given by {@code --bootstrap host:port} (or the system property
 *   {@value SampleKafka#BOOTSTRAP_PROPERTY}), or starts the test kit's broker for the run (see
 *   {@link SampleKafka});</li>
 *   <li>creates {@value #TRANSACTIONS} and {@value #ALERTS} ({@value #PARTITIONS} partitions each)
 *   unless they exist;</li>
 *   <li>produces a seeded stream of card transactions ({@link #transactions}), each a record keyed
 *   by card (so a card's transactions share a partition, as {@link FraudDetection} requires), with
 *   the value {@code id,card,amountCents} and the transaction's event time as Kafka timestamp;</li>
 *   <li>runs a checkpointed pipeline: a {@link KafkaSource} over this run's records of
 *   {@value #TRANSACTIONS}, its offsets kept in the checkpoints ({@code resume()} behind
 *   {@link Checkpointing#source}), with per-partition watermarks of
 *   {@link FraudDetection#MAX_OUT_OF_ORDERNESS} (the source hands every partition's first record over
 *   first, oldest first) → {@link FraudDetection#check} with its state in the
 *   checkpoints → the alerts only → {@link KafkaSink#exactlyOnce}: each checkpoint's alerts are one
 *   Kafka transaction into {@value #ALERTS} (key: the card; value: the alert as JSON, see
 *   {@link Alert}), together with the checkpoint's delivery record in {@value #DELIVERIES}; after
 *   each delivered checkpoint the consumer group {@value #GROUP} gets its offsets;</li>
 *   <li>reads this run's alerts back from {@value #ALERTS} with {@code isolation.level=read_committed}
 *   and prints them in event-time order ({@link Verdict#toString()}), then a summary line;</li>
 *   <li>stops the broker if it started one.</li>
 * </ol>
 * Each run is a new pipeline: a new checkpoint directory (a temporary one, deleted at the end) and
 * a new transactional id ({@code kafka-fraud-alerts-<random>}), so runs against one cluster do not
 * take each other's deliveries for their own.
 * <p>
 * Arguments (optional): {@code [--bootstrap host:port] [transactions (default 600)] [seed (default 42)]}.
 * Run with {@code mvn -q -pl samples -am compile exec:java -Dexec.mainClass=io.streamflow.samples.KafkaFraudAlerts}.
 */
public final class KafkaFraudAlerts {

    public static final String TRANSACTIONS = "transactions";
    public static final String ALERTS = "fraud-alerts";
    /** Where the sink keeps its delivery records, shared by all runs (each reads those of its own id). */
    public static final String DELIVERIES = ALERTS + KafkaSink.DELIVERIES_SUFFIX;
    public static final String GROUP = "kafka-fraud-alerts";
    public static final int PARTITIONS = 3;
    /** A checkpoint, and so a Kafka transaction of alerts, every this often (in {@code main}). */
    public static final Duration CHECKPOINT_INTERVAL = Duration.ofMillis(500);
    /** The longest the pipeline may take. */
    public static final Duration TIMEOUT = Duration.ofMinutes(5);
    /** Nominal time between two transactions. */
    public static final long SPACING_MILLIS = 500;

    private static final long MINUTE = 60_000;
    private static final int CARDS = 200;
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private KafkaFraudAlerts() {
    }

    public static void main(String[] args) throws IOException {
        SampleKafka.Args a = SampleKafka.Args.parse(args);
        long count = a.longArg(0, 600);
        long seed = a.longArg(1, 42L);
        Path checkpoints = Files.createTempDirectory("kafka-fraud-alerts");
        try (SampleKafka kafka = SampleKafka.open(a.bootstrap(), System.out)) {
            run(kafka, transactions(count, seed, startFor(count, System.currentTimeMillis())), checkpoints,
                    CHECKPOINT_INTERVAL, System.out);
        } finally {
            deleteRecursively(checkpoints);
        }
    }

    /**
     * An alert as it is written to {@value #ALERTS}, as JSON:
     * {@code {"id":"tx-00042","card":"card-017","amountCents":1250000,"time":"2026-12-07T23:55:21Z",
     * "timestamp":1796687721000,"inLastMinute":4,"reasons":["LARGE_AMOUNT","BURST"]}}.
     *
     * @param id           the transaction's id
     * @param card         its card
     * @param amountCents  its amount in cents
     * @param time         its event time, ISO-8601 (for people; {@code timestamp} is the same)
     * @param timestamp    its event time, epoch millis
     * @param inLastMinute the card's transactions in the minute ending with it
     * @param reasons      why it is alerted
     */
    public record Alert(String id, String card, long amountCents, String time, long timestamp, long inLastMinute,
                        List<Reason> reasons) {

        /** @return the alert of an alerting verdict */
        public static Alert of(Verdict v) {
            Transaction t = v.transaction();
            return new Alert(t.id(), t.card(), t.amountCents(), Instant.ofEpochMilli(t.timestamp()).toString(),
                    t.timestamp(), v.inLastMinute(), List.copyOf(v.reasons()));
        }

        /** @return the verdict this alert stands for */
        public Verdict verdict() {
            return new Verdict(new Transaction(id, card, amountCents, timestamp), inLastMinute,
                    reasons.isEmpty() ? EnumSet.noneOf(Reason.class) : EnumSet.copyOf(reasons));
        }

        /** @return the JSON bytes (UTF-8) */
        public byte[] toJson() {
            return JSON.writeValueAsBytes(this);
        }

        /** @return the alert of these JSON bytes */
        public static Alert fromJson(byte[] json) {
            return JSON.readValue(json, Alert.class);
        }
    }

    /**
     * What a run did.
     *
     * @param transactions        transactions produced
     * @param alerts              this run's alerts read back from {@value #ALERTS}, in event-time order
     * @param kafkaTransactions   Kafka transactions the sink committed
     * @param transactionalId     the sink's transactional id
     */
    public record Summary(SampleKafka.Produced transactions, List<Verdict> alerts, long kafkaTransactions,
                          String transactionalId) {
    }

    /**
     * The first transaction's nominal minute for {@code count} transactions that end at least a minute
     * before {@code nowMillis}: a whole minute, recent enough for any broker's timestamp checks and
     * retention.
     */
    public static long startFor(long count, long nowMillis) {
        long start = nowMillis - MINUTE - 3_000 - count * SPACING_MILLIS;
        return start - Math.floorMod(start, MINUTE);
    }

    /**
     * Seeded card transactions, in the order they are produced. Transaction {@code n} (id
     * {@code tx-<n>}) is nominally at {@code startMillis + 3 s + n * 500 ms}, up to 3 s early, so
     * out of order, but always within {@link FraudDetection#MAX_OUT_OF_ORDERNESS} of the newest
     * earlier one: none is late. Most are by one of 200 cards ({@code card-000} ...), for 1.00 to
     * 500.00; one in 100 is over 10,000.00 and one in 200 exactly 10,000.00 (which passes). And
     * every 50 s a stolen card ({@code card-9xx}) makes 5 transactions within 2.5 s: the 4th and
     * 5th are bursts.
     */
    public static List<Transaction> transactions(long count, long seed, long startMillis) {
        List<Transaction> out = new ArrayList<>((int) Math.min(count, 1 << 20));
        for (long n = 0; n < count; n++) {
            SplittableRandom rnd = new SplittableRandom(seed ^ (n * 0x9E3779B97F4A7C15L));
            long ts = startMillis + 3_000 + n * SPACING_MILLIS - rnd.nextLong(3_001);
            String card;
            if (n % 100 < 5) {
                card = String.format(Locale.ROOT, "card-9%02d", (n / 100) % 100);
            } else {
                card = String.format(Locale.ROOT, "card-%03d", rnd.nextInt(CARDS));
            }
            int kind = rnd.nextInt(200);
            long amount = kind < 2 ? FraudDetection.LARGE_AMOUNT_CENTS + 1 + rnd.nextLong(4_000_000)
                    : kind == 2 ? FraudDetection.LARGE_AMOUNT_CENTS
                    : 100 + rnd.nextLong(49_901);
            out.add(new Transaction(String.format(Locale.ROOT, "tx-%05d", n), card, amount, ts));
        }
        return out;
    }

    /**
     * Produces {@code transactions} to {@value #TRANSACTIONS} on {@code kafka}, runs the checkpointed
     * pipeline (checkpoints in {@code checkpoints}, which should be empty, every
     * {@code checkpointInterval}) into {@value #ALERTS}, then
     * reads this run's alerts back with {@code read_committed} and prints them, with {@code --} lines
     * about the run, to {@code out}.
     *
     * @return what was produced and read back
     */
    public static Summary run(SampleKafka kafka, List<Transaction> transactions, Path checkpoints,
                              Duration checkpointInterval, PrintStream out) {
        kafka.createTopic(TRANSACTIONS, PARTITIONS);
        kafka.createTopic(ALERTS, PARTITIONS);
        Map<TopicPartition, Long> alertsBefore = endOffsets(kafka.bootstrapServers());
        SampleKafka.Produced produced = kafka.produce(TRANSACTIONS, transactions.stream()
                .map(t -> new ProducerRecord<>(TRANSACTIONS, null, t.timestamp(), t.card(),
                        t.id() + "," + t.card() + "," + t.amountCents()))
                .toList());
        out.println("-- produced " + produced.records() + " transactions to " + TRANSACTIONS + " (partitions and "
                + "offsets " + produced.first() + " to " + produced.last() + ")");

        String transactionalId = "kafka-fraud-alerts-" + Long.toHexString(new SecureRandom().nextLong());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        KafkaSource<String, String> source = KafkaSource.strings(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                        "group.id", GROUP, "auto.offset.reset", "earliest"))
                .assign(TRANSACTIONS, produced.partitions());
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(checkpointInterval).open();
             KafkaSink sink = KafkaSink.exactlyOnce(Map.of("bootstrap.servers", kafka.bootstrapServers()),
                             transactionalId)
                     .deliveriesTopic(DELIVERIES)
                     .metrics("kafka-fraud-alerts", registry)) {
            // a first start reads from this run's first record (the source hands every partition's first
            // one over first, oldest first); a restart reads after the checkpoint's offsets, and the
            // watermark assigner restores the partitions' watermarks
            EventStream<String, Transaction> txs = EventStream.of(cp.source(TRANSACTIONS,
                            positions -> SampleKafka.untilLastRecord(source.resume().apply(
                                    positions.isEmpty() ? produced.startPositions() : positions), produced),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(
                                    FraudDetection.MAX_OUT_OF_ORDERNESS)))
                    .mapRecord(r -> r.withValue(parse(r)));
            FraudDetection.check(txs, OperatorSettings.named("fraud").withStateBackend(cp.stateBackend()))
                    .filter(Verdict::isAlert)
                    .elements()
                    .as(cp.sink(source.committingOffsets(TRANSACTIONS, sink),
                            (StreamRecord<String, Verdict> r) -> new KafkaRecord(ALERTS, null,
                                    r.value().transaction().card().getBytes(StandardCharsets.UTF_8),
                                    Alert.of(r.value()).toJson(), r.timestamp(), Map.of())))
                    .block(TIMEOUT);
        }
        long kafkaTransactions = (long) registry.get("streamflow.kafka.transactions").tag("result", "committed")
                .counter().count();

        List<Verdict> alerts = readAlerts(kafka.bootstrapServers(), alertsBefore);
        alerts.forEach(out::println);
        out.println("-- " + produced.records() + " transactions checked, " + alerts.size() + " alerts read from "
                + ALERTS + " (read_committed), delivered in " + kafkaTransactions + " Kafka transactions by "
                + transactionalId);
        out.flush();
        return new Summary(produced, alerts, kafkaTransactions, transactionalId);
    }

    /** {@code id,card,amountCents} at the record's timestamp. */
    static Transaction parse(StreamRecord<String, String> r) {
        String[] f = r.value().split(",", -1);
        if (f.length != 3) {
            throw new IllegalArgumentException("a transaction is id,card,amountCents, got '" + r.value() + "'");
        }
        return new Transaction(f[0], f[1], Long.parseLong(f[2]), r.timestamp());
    }

    private static KafkaConsumer<byte[], byte[]> readCommittedConsumer(String servers) {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", servers);
        props.put("isolation.level", "read_committed");
        props.put("enable.auto.commit", "false");
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> alertPartitions(KafkaConsumer<?, ?> consumer) {
        return consumer.partitionsFor(ALERTS).stream().map(p -> new TopicPartition(ALERTS, p.partition())).toList();
    }

    /** The end of {@value #ALERTS} for read_committed readers, per partition: where this run's alerts start. */
    static Map<TopicPartition, Long> endOffsets(String servers) {
        try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(servers)) {
            return consumer.endOffsets(alertPartitions(consumer), TIMEOUT);
        }
    }

    /**
     * The alerts a {@code read_committed} reader finds in {@value #ALERTS} from {@code from} to the
     * current end, sorted by event time and id.
     */
    static List<Verdict> readAlerts(String servers, Map<TopicPartition, Long> from) {
        List<Verdict> alerts = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(servers)) {
            List<TopicPartition> partitions = alertPartitions(consumer);
            consumer.assign(partitions);
            for (TopicPartition tp : partitions) {
                consumer.seek(tp, from.getOrDefault(tp, 0L));
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + ALERTS + " up to " + end + " within " + TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    alerts.add(Alert.fromJson(r.value()).verdict());
                }
            }
        }
        alerts.sort(Comparator.comparingLong((Verdict v) -> v.transaction().timestamp())
                .thenComparing(v -> v.transaction().id()));
        return alerts;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
