package io.streamflow.reactive.kafka;

import io.streamflow.reactive.test.ChildJvm;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kafka → window → Kafka exactly-once under SIGKILL: {@link KafkaToKafkaPipeline} reads a
 * pre-filled 3-partition topic through a checkpointed {@link KafkaSource} and writes windowed
 * counts through {@link KafkaSink}; it is killed with SIGKILL ({@code -Dkafka.k2k.kills=N}, default
 * 8) in start-up and restore, right after the store opened, while processing and after the input
 * ended, and once the broker is killed and restarted under it. A {@code read_committed} reader must
 * then see exactly the reference counts of the input: none missing, none twice.
 */
class KafkaToKafkaCrashTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final int KILLS = Integer.getInteger("kafka.k2k.kills", 8);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void kafkaToKafkaResultsAreExactlyOnceAfterSigkills(KafkaBroker broker) throws Exception {
        long seed = Long.getLong("kafka.k2k.seed", System.nanoTime());
        System.out.println("KafkaToKafkaCrashTest seed=" + seed + " kills=" + KILLS
                + " (replay with -Dkafka.k2k.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        broker.createTopic("k2k-in", KafkaToKafkaPipeline.PARTITIONS);
        broker.createTopic("k2k-out", 2);
        Map<String, Long> expected = new TreeMap<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProperties(),
                new StringSerializer(), new StringSerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (int p = 0; p < KafkaToKafkaPipeline.PARTITIONS; p++) {
                for (int i = 0; i < KafkaToKafkaPipeline.PER_PARTITION; i++) {
                    // each partition at its own pace, out of order by up to the bound
                    long ts = 1_000 + (long) i * (2 + p) - rnd.nextLong(KafkaToKafkaPipeline.DISORDER + 1);
                    String key = "p" + p + "k" + rnd.nextInt(40);
                    sent.add(producer.send(new ProducerRecord<>("k2k-in", p, ts, key, "v")));
                    expected.merge(key + "@" + Math.floorDiv(ts, 1000) * 1000, 1L, Long::sum);
                }
            }
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }

        Path checkpoints = dir.resolve("checkpoints");
        Map<String, Integer> phases = new TreeMap<>();
        int kills = 0;
        int runs = 0;
        boolean brokerKilled = false;
        while (kills < KILLS) {
            runs++;
            String phase = kills == 2 && !brokerKilled ? "broker" : kills >= KILLS - 1 ? "input-done"
                    : switch (rnd.nextInt(10)) {
                        case 0, 1 -> "startup";
                        case 2 -> "opened";
                        default -> "processing";
                    };
            ChildJvm run = start(broker, checkpoints, 20 + rnd.nextInt(80));
            boolean killed = switch (phase) {
                case "broker" -> {
                    if (!run.awaitLine("progress " + KafkaToKafkaPipeline.PROGRESS, Duration.ofMinutes(3))) {
                        yield false;
                    }
                    broker.kill();
                    broker.restart();
                    brokerKilled = true;
                    yield run.killWhenSaid("progress " + 2 * KafkaToKafkaPipeline.PROGRESS, Duration.ZERO);
                }
                case "startup" -> run.killAfter(Duration.ofMillis(rnd.nextInt(2500)));
                case "opened" -> run.killWhenSaid("opened", Duration.ofMillis(rnd.nextInt(50)));
                case "processing" -> run.killWhenSaid("progress " + (1 + rnd.nextInt(3)) * KafkaToKafkaPipeline.PROGRESS,
                        Duration.ZERO);
                default -> run.killWhenSaid("input-done", Duration.ofMillis(rnd.nextInt(40)));
            };
            System.out.println("KafkaToKafkaCrashTest run " + runs + ": " + (killed ? "killed in " + phase
                    : "ended by itself before " + phase + ", exit " + run.exitValue()));
            if (killed) {
                kills++;
                phases.merge(phase, 1, Integer::sum);
            } else {
                assertThat(run.exitValue()).as("exit code of run " + runs + ", output:\n" + run.output()).isZero();
            }
            assertThat(runs).as("runs for " + KILLS + " kills").isLessThan(4 * KILLS);
        }
        try (ChildJvm last = start(broker, checkpoints, 50)) {
            assertThat(last.awaitExit(Duration.ofMinutes(3))).as("last run ends").isTrue();
            assertThat(last.exitValue()).as("last run exit code, output:\n" + last.output()).isZero();
        }

        String summary = KafkaExactlyOnceCrashTest.checkOnce(expected, KafkaSinkTest.readCommitted(broker, "k2k-out"));
        System.out.println("KafkaToKafkaCrashTest: " + summary + "; " + kills + " kills over " + runs
                + " runs, by phase " + phases);
    }

    private ChildJvm start(KafkaBroker broker, Path checkpoints, long intervalMillis) {
        return ChildJvm.start(KafkaToKafkaPipeline.class, List.of("-Xmx256m"), broker.bootstrapServers(),
                checkpoints.toString(), "k2k-in", "k2k-out", Long.toString(intervalMillis));
    }
}
