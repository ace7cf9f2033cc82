package io.streamflow.benchmarks.kafka;

import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka cells on a real broker, small: every Kafka system reads the same seeded input topic
 * and its output, read back with {@code read_committed}, must equal the reference counts; the
 * latency run's output must equal the counts of what its producer sent; and the gate itself tells
 * a missing, a duplicated and a wrong result from the reference.
 */
class KafkaCellsTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    @TempDir
    Path dir;

    /** The reference, independently of {@link KafkaInput#reference}: a second, plain count over the generated events. */
    private static Map<String, Long> countDirectly(KafkaInput.Spec spec) {
        KafkaInput.Events ev = KafkaInput.generate(spec);
        Map<String, Long> counts = new HashMap<>();
        for (int i = 0; i < ev.size(); i++) {
            long t = ev.timestamps()[i];
            long start = Math.floorDiv(t, 1000) * 1000;
            counts.merge(KafkaInput.keyName(ev.keys()[i]) + "@" + start, 1L, Long::sum);
        }
        return counts;
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void everyKafkaSystemsOutputEqualsTheReference(KafkaBroker broker) throws Exception {
        KafkaCells.Settings settings = new KafkaCells.Settings(20_000, 300, List.of(KafkaSystem.values()), 1, 0,
                Duration.ofMillis(100), 0, false, List.of());
        KafkaCells.Results results = KafkaCells.run(broker, settings, dir);

        Map<String, Long> reference = countDirectly(results.input());
        assertThat(KafkaInput.reference(results.input())).isEqualTo(reference);
        // 20,000 events at 1,666 events/s of event time: 13 windows of up to 300 keys
        assertThat(reference).hasSizeGreaterThan(12 * 250);
        assertThat(results.rows()).extracting(r -> r.system()).containsExactly(KafkaSystem.values());
        for (KafkaCells.Row row : results.rows()) {
            assertThat(row.status()).as(row.system().id()).isEqualTo("ok");
            assertThat(row.rates()).as(row.system().id()).hasSize(1);
            assertThat(row.rates()[0]).as(row.system().id()).isPositive();
            if (row.system() != KafkaSystem.CONSUME) {
                assertThat(row.verdict().ok()).as(row.system().id() + ": " + row.verdict()).isTrue();
                assertThat(row.verdict().results()).as(row.system().id()).isEqualTo(reference.size());
                assertThat(row.verdict().checksum()).as(row.system().id()).isEqualTo(KafkaInput.checksum(reference));
            }
        }
        String md = KafkaCells.markdown(results);
        assertThat(md).contains("| streamflow-eos | exactly-once |").contains("equal to the reference");
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void theLatencyRunsOutputEqualsWhatItsProducerSentAndItsResultsAreTimed(KafkaBroker broker) throws Exception {
        broker.createTopic("lat-in", 4);
        broker.createTopic("lat-out", 4);
        KafkaLatency.Result r = KafkaLatency.run(KafkaSystem.STREAMFLOW_EOS,
                () -> KafkaWorker.runOnce(KafkaSystem.STREAMFLOW_EOS, broker.bootstrapServers(), "lat-in", "lat-out",
                        "latency-test", 4, 100, Duration.ofMillis(100), dir),
                broker.clientProperties(), "lat-in", "lat-out", 200, 4, 100, 2_000, 5);
        assertThat(r.status()).isEqualTo("ok");
        assertThat(r.verdict().ok()).as(r.verdict().toString()).isTrue();
        // 5 s at 2,000 events/s over 200 keys: windows after the first third and before the end markers are timed
        assertThat(r.recorded()).isGreaterThanOrEqualTo(200);
        assertThat(r.p50Millis()).isPositive();
        assertThat(r.p99Millis()).isGreaterThanOrEqualTo(r.p50Millis());
    }

    @Test
    void theGateTellsMissingDuplicatedAndWrongResultsFromTheReference() {
        Map<String, Long> reference = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 100; i++) {
            reference.put("k" + i + "@1000", 1 + (long) rnd.nextInt(50));
        }
        Map<String, List<Long>> exact = new HashMap<>();
        reference.forEach((k, v) -> exact.put(k, List.of(v)));
        assertThat(KafkaInput.compare(exact, reference).ok()).isTrue();
        assertThat(KafkaInput.compare(exact, reference).checksum()).isEqualTo(KafkaInput.checksum(reference));

        Map<String, List<Long>> missing = new HashMap<>(exact);
        missing.remove("k3@1000");
        assertThat(KafkaInput.compare(missing, reference).missing()).isEqualTo(1);

        Map<String, List<Long>> twice = new HashMap<>(exact);
        twice.put("k4@1000", List.of(reference.get("k4@1000"), reference.get("k4@1000")));
        KafkaInput.Verdict v = KafkaInput.compare(twice, reference);
        assertThat(v.duplicated()).isEqualTo(1);
        assertThat(v.ok()).isFalse();
        assertThat(v.checksum()).isNotEqualTo(KafkaInput.checksum(reference));

        Map<String, List<Long>> wrong = new HashMap<>(exact);
        wrong.put("k5@1000", List.of(reference.get("k5@1000") + 1));
        wrong.put("k5@2000", List.of(1L));
        assertThat(KafkaInput.compare(wrong, reference).wrong()).isEqualTo(2);
    }
}
