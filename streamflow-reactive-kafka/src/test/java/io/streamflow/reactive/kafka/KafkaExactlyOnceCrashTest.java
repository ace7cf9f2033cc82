package io.streamflow.reactive.kafka;

import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.test.ChildJvm;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once into Kafka under SIGKILL: {@link KafkaCrashPipeline} runs in a child JVM and is
 * killed with SIGKILL ({@code -Dkafka.crash.kills=N}, default 12) in every phase of a run: start-up
 * and restore, right after the store opened, while processing, and after the input ended (the
 * final checkpoint's transaction). Twice the broker itself is killed and restarted while the
 * pipeline runs. After a last run to the end, a {@code read_committed} reader must see exactly
 * the reference model's results: none missing, none twice.
 */
class KafkaExactlyOnceCrashTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final int KILLS = Integer.getInteger("kafka.crash.kills", 12);
    private static final Duration LINE_TIMEOUT = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    /** Counts per "key@windowStart" of the records that are not late, computed in one pass. */
    static Map<String, Long> reference() {
        Map<String, Long> out = new TreeMap<>();
        long max = Long.MIN_VALUE;
        for (long n = 0; n < KafkaCrashPipeline.RECORDS; n++) {
            StreamRecord<String, Long> r = KafkaCrashPipeline.record(n);
            long start = Math.floorDiv(r.timestamp(), 1000) * 1000;
            long watermark = max == Long.MIN_VALUE ? Long.MIN_VALUE : max - KafkaCrashPipeline.DISORDER - 1;
            if (start + 999 > watermark) {
                out.merge(r.key() + "@" + start, 1L, Long::sum);
            }
            max = Math.max(max, r.timestamp());
        }
        return out;
    }

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void resultsReachReadCommittedReadersExactlyOnceAfterSigkillsOfThePipelineAndTheBroker(KafkaBroker broker)
            throws Exception {
        long seed = Long.getLong("kafka.crash.seed", System.nanoTime());
        System.out.println("KafkaExactlyOnceCrashTest seed=" + seed + " kills=" + KILLS
                + " (replay with -Dkafka.crash.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        broker.createTopic("crash-counts", 3);
        Path checkpoints = dir.resolve("checkpoints");
        Map<String, Integer> phases = new TreeMap<>();
        int kills = 0;
        int brokerKills = 0;
        int runs = 0;
        while (kills < KILLS) {
            runs++;
            boolean killBroker = brokerKills < 2 && kills == 3 + 4 * brokerKills;
            String phase = killBroker ? "processing" : kills >= KILLS - 2 ? "input-done" : switch (rnd.nextInt(10)) {
                case 0, 1 -> "startup";
                case 2 -> "opened";
                default -> "processing";
            };
            boolean killed;
            try (ChildJvm run = start(broker, checkpoints, 20 + rnd.nextInt(80))) {
                if (killBroker) {
                    // the broker dies under the running pipeline and comes back
                    run.awaitLine("progress " + KafkaCrashPipeline.PROGRESS, LINE_TIMEOUT);
                    broker.kill();
                    broker.restart();
                    brokerKills++;
                    phase = "processing, broker killed";
                    killed = run.killWhenSaid("progress " + 2 * KafkaCrashPipeline.PROGRESS, Duration.ZERO);
                } else {
                    killed = switch (phase) {
                        case "startup" -> run.killAfter(Duration.ofMillis(rnd.nextInt(1500)));
                        case "opened" -> run.killWhenSaid("opened", Duration.ofMillis(rnd.nextInt(50)));
                        case "processing" -> run.killWhenSaid("progress "
                                + (1 + rnd.nextInt(3)) * KafkaCrashPipeline.PROGRESS, Duration.ZERO);
                        default -> run.killWhenSaid("input-done", Duration.ofMillis(rnd.nextInt(40)));
                    };
                }
                System.out.println("KafkaExactlyOnceCrashTest run " + runs + ": " + (killed ? "killed in " + phase
                        : "ended by itself before " + phase + ", exit " + run.exitValue()));
            }
            if (killed) {
                kills++;
                phases.merge(phase, 1, Integer::sum);
            }
            assertThat(runs).as("runs for " + KILLS + " kills").isLessThan(4 * KILLS);
        }
        try (ChildJvm last = start(broker, checkpoints, 50)) {
            assertThat(last.awaitExit(Duration.ofMinutes(3))).as("last run ends").isTrue();
            assertThat(last.exitValue()).as("last run exit code, output:\n" + last.output()).isZero();
        }

        String summary = checkOnce(reference(), KafkaSinkTest.readCommitted(broker, "crash-counts"));
        System.out.println("KafkaExactlyOnceCrashTest: " + summary + "; " + kills + " kills over " + runs
                + " runs, by phase " + phases + ", broker killed " + brokerKills + " times");
    }

    /**
     * Compares what a {@code read_committed} reader saw with the expected results: each must be
     * there once with its value, and nothing else. @return a one-line summary
     */
    static String checkOnce(Map<String, Long> expected, Map<String, List<Long>> seen) {
        List<String> missing = new ArrayList<>();
        List<String> duplicated = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            List<Long> got = seen.get(e.getKey());
            if (got == null) {
                missing.add(e.getKey());
            } else if (got.size() > 1) {
                duplicated.add(e.getKey() + " " + got);
            } else if (!got.get(0).equals(e.getValue())) {
                wrong.add(e.getKey() + " expected " + e.getValue() + " got " + got.get(0));
            }
        }
        List<String> unexpected = seen.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        String summary = expected.size() + " results expected; missing " + missing.size() + ", duplicated "
                + duplicated.size() + ", wrong " + wrong.size() + ", unexpected " + unexpected.size();
        assertThat(missing).as(summary + " | missing results").isEmpty();
        assertThat(duplicated).as(summary + " | duplicated results").isEmpty();
        assertThat(wrong).as(summary + " | wrong results").isEmpty();
        assertThat(unexpected).as(summary + " | unexpected results").isEmpty();
        return summary;
    }

    private ChildJvm start(KafkaBroker broker, Path checkpoints, long intervalMillis) {
        return ChildJvm.start(KafkaCrashPipeline.class, List.of("-Xmx256m"), broker.bootstrapServers(),
                checkpoints.toString(), "crash-counts", Long.toString(intervalMillis));
    }
}
