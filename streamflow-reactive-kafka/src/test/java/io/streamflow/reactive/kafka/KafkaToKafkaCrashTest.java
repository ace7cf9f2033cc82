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
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kafka → keyed tumbling and session windows → Kafka, exactly-once under SIGKILL:
 * {@link KafkaToKafkaPipeline} runs two checkpointed pipelines over a pre-filled 3-partition topic
 * in a child JVM, each with a {@link KafkaSource} subscribed in its consumer group and a
 * {@link KafkaSink}. The child is killed with SIGKILL {@code -Dkafka.k2k.kills=N} times (default
 * {@value #DEFAULT_KILLS}; a few hundred for a long run), at points spread over every phase of a
 * run (see {@link Phase}): JVM start-up and restore, just after the restore, while processing, in
 * the middle of a checkpoint's delivery, and after the input ended. Within the same series, once
 * each: the broker is killed with SIGKILL and restarted under the running pipelines, the broker is
 * frozen with SIGSTOP for longer than the consumers' session timeout, and the pipeline JVM itself
 * is frozen that long. After a last run to the end, a {@code read_committed} reader must see
 * exactly the results of a reference model computed here from the produced records (counts per
 * key and 1 s window; sessions per key, records at most the gap apart in one session): none
 * missing, none twice, none with another count.
 * <p>
 * The seed is printed; replay a run with {@code -Dkafka.k2k.seed=<seed>}.
 */
class KafkaToKafkaCrashTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final int DEFAULT_KILLS = 24;
    private static final int KILLS = Integer.getInteger("kafka.k2k.kills", DEFAULT_KILLS);
    private static final int KEYS_PER_PARTITION = 40;
    private static final Duration LINE_TIMEOUT = Duration.ofMinutes(3);
    /** Longer than {@link KafkaToKafkaPipeline#SESSION_TIMEOUT_MILLIS}, so the group loses its members. */
    private static final Duration FREEZE = Duration.ofMillis(2L * KafkaToKafkaPipeline.SESSION_TIMEOUT_MILLIS);

    /** Where a run is killed, and what else happens in it. */
    enum Phase {
        /** a random time after the JVM started: start-up, opening and restoring the checkpoints, joining the groups */
        STARTUP,
        /** just after the checkpoints were restored: redelivery, subscription, alignment, the first records */
        RESTORED,
        /** after a random number of records */
        PROCESSING,
        /** while a checkpoint's output is delivered: between the checkpoint's commit and its Kafka transaction */
        DELIVERY,
        /** after the input ended: the final windows, checkpoints and transactions */
        INPUT_DONE,
        /** the broker is killed and restarted while the pipelines run; then the pipeline is killed */
        BROKER_KILLED,
        /** the broker is frozen for longer than the session timeout; then the pipeline is killed */
        BROKER_FROZEN,
        /** the pipeline JVM is frozen for longer than the session timeout; then it is killed */
        PIPELINE_FROZEN
    }

    /** The produced input: partition, timestamp and key of each record. */
    record Input(int partition, long timestamp, String key) {
    }

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    void tumblingAndSessionResultsAreExactlyOnceAfterSigkillsAndBrokerFaults(KafkaBroker broker) throws Exception {
        long seed = Long.getLong("kafka.k2k.seed", System.nanoTime());
        System.out.println("KafkaToKafkaCrashTest seed=" + seed + " kills=" + KILLS
                + " (replay with -Dkafka.k2k.seed=" + seed + " -Dkafka.k2k.kills=" + KILLS + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        broker.createTopic("k2k-in", KafkaToKafkaPipeline.PARTITIONS);
        broker.createTopic("k2k-tumbling", 2);
        broker.createTopic("k2k-sessions", 2);
        List<Input> input = produce(broker, rnd);
        long total = 2L * input.size(); // both pipelines read every record

        List<Phase> plan = plan(rnd, KILLS);
        // a processing kill comes after 1 to 3 steps: on average the series reads about half the input
        // before its kills after the end of the input, however many kills it has
        long step = Math.max(100, total / (4L * Math.max(1, plan.size())));
        System.out.println("KafkaToKafkaCrashTest plan " + plan + ", progress step " + step);

        Path checkpoints = dir.resolve("checkpoints");
        Map<Phase, Integer> phases = new EnumMap<>(Phase.class);
        int runs = 0;
        int next = 0;
        boolean inputDone = false;
        while (next < plan.size()) {
            runs++;
            assertThat(runs).as("runs for " + plan.size() + " kills").isLessThanOrEqualTo(3 * plan.size() + 10);
            Phase phase = plan.get(next);
            if (inputDone && needsInput(phase)) {
                // only when a long series read the whole input before its planned end
                phase = rnd.nextBoolean() ? Phase.RESTORED : Phase.INPUT_DONE;
            }
            boolean killed;
            try (ChildJvm run = start(broker, checkpoints, 20 + rnd.nextInt(80), step)) {
                killed = switch (phase) {
                    case STARTUP -> run.killAfter(Duration.ofMillis(rnd.nextInt(2_500)));
                    case RESTORED -> run.killWhenSaid("opened", Duration.ofMillis(rnd.nextInt(60)));
                    case PROCESSING -> run.killWhenSaid("progress " + (1 + rnd.nextInt(3)) * step, Duration.ZERO);
                    case DELIVERY -> {
                        int skip = rnd.nextInt(4);
                        boolean reached = run.awaitLine(l -> l.startsWith("delivering "), LINE_TIMEOUT).isPresent();
                        for (int i = 0; i < skip && reached; i++) {
                            reached = run.awaitLine(l -> l.startsWith("delivering "), LINE_TIMEOUT).isPresent();
                        }
                        yield reached && run.killAfter(Duration.ofMillis(rnd.nextInt(30)));
                    }
                    case INPUT_DONE -> run.killWhenSaid("input-done", Duration.ofMillis(rnd.nextInt(40)));
                    case BROKER_KILLED -> {
                        if (!run.awaitLine("progress " + step, LINE_TIMEOUT)) {
                            yield false;
                        }
                        broker.kill();
                        broker.restart();
                        yield afterwards(run);
                    }
                    case BROKER_FROZEN -> {
                        if (!run.awaitLine("progress " + step, LINE_TIMEOUT)) {
                            yield false;
                        }
                        broker.pause();
                        try {
                            // wall-clock time on purpose: the broker's session timers run on it
                            Thread.sleep(FREEZE.toMillis());
                        } finally {
                            broker.resume();
                        }
                        yield afterwards(run);
                    }
                    case PIPELINE_FROZEN -> {
                        if (!run.awaitLine("progress " + step, LINE_TIMEOUT)) {
                            yield false;
                        }
                        run.pause();
                        try {
                            Thread.sleep(FREEZE.toMillis());
                        } finally {
                            run.resume();
                        }
                        yield afterwards(run);
                    }
                };
                String said = run.output();
                System.out.println("KafkaToKafkaCrashTest run " + runs + ": " + (killed ? "killed in " + phase
                        : "ended by itself before " + phase + ", exit " + run.exitValue()));
                if (!killed) {
                    assertThat(run.exitValue()).as("exit code of run " + runs + ", output:\n" + said).isZero();
                    inputDone |= said.contains("input-done\n") || said.contains("input-done\r\n");
                }
            }
            if (killed) {
                phases.merge(phase, 1, Integer::sum);
                next++;
            }
        }
        try (ChildJvm last = start(broker, checkpoints, 50, step)) {
            assertThat(last.awaitExit(Duration.ofMinutes(5))).as("last run ends").isTrue();
            assertThat(last.exitValue()).as("last run exit code, output:\n" + last.output()).isZero();
        }

        String tumbling = KafkaExactlyOnceCrashTest.checkOnce(tumblingReference(input),
                KafkaSinkTest.readCommitted(broker, "k2k-tumbling"));
        String sessions = KafkaExactlyOnceCrashTest.checkOnce(sessionReference(input),
                KafkaSinkTest.readCommitted(broker, "k2k-sessions"));
        System.out.println("KafkaToKafkaCrashTest: tumbling: " + tumbling + "; sessions: " + sessions + "; "
                + plan.size() + " kills over " + runs + " runs, by phase " + phases + " (seed " + seed + ")");
    }

    /**
     * The kills, in order: the phases in proportion (at least one of each), shuffled; the three
     * fault injections at a third, a half and two thirds of the way; the kills after the end of
     * the input last, since nothing but a restore follows them.
     */
    static List<Phase> plan(SplittableRandom rnd, int kills) {
        int atTheEnd = Math.max(2, kills / 8);
        int middle = Math.max(5, kills - atTheEnd - 3);
        List<Phase> plan = new ArrayList<>();
        Phase[] spread = {Phase.STARTUP, Phase.RESTORED, Phase.PROCESSING, Phase.PROCESSING, Phase.DELIVERY,
                Phase.DELIVERY};
        for (int i = 0; i < middle; i++) {
            plan.add(i < 4 ? List.of(Phase.STARTUP, Phase.RESTORED, Phase.PROCESSING, Phase.DELIVERY).get(i)
                    : spread[rnd.nextInt(spread.length)]);
        }
        Collections.shuffle(plan, new java.util.Random(rnd.nextLong()));
        plan.add(middle / 3, Phase.BROKER_KILLED);
        plan.add(plan.size() / 2, Phase.BROKER_FROZEN);
        plan.add(2 * plan.size() / 3, Phase.PIPELINE_FROZEN);
        for (int i = 0; i < atTheEnd; i++) {
            plan.add(Phase.INPUT_DONE);
        }
        return plan;
    }

    private static boolean needsInput(Phase phase) {
        return phase == Phase.PROCESSING || phase == Phase.DELIVERY || phase == Phase.BROKER_KILLED
                || phase == Phase.BROKER_FROZEN || phase == Phase.PIPELINE_FROZEN;
    }

    /** After a fault: the pipelines deliver a checkpoint and read on, then they are killed. */
    private static boolean afterwards(ChildJvm run) {
        return run.awaitLine(l -> l.startsWith("delivered "), LINE_TIMEOUT).isPresent()
                && run.awaitLine(l -> l.startsWith("progress "), LINE_TIMEOUT).isPresent()
                && run.kill();
    }

    /**
     * Fills the input topic: per partition p, {@link KafkaToKafkaPipeline#PER_PARTITION} records
     * 2 + p ms apart in event time, each up to {@link KafkaToKafkaPipeline#DISORDER} ms earlier at
     * random, keys of their own per partition.
     */
    private static List<Input> produce(KafkaBroker broker, SplittableRandom rnd) throws Exception {
        List<Input> input = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(broker.clientProperties(),
                new StringSerializer(), new StringSerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (int p = 0; p < KafkaToKafkaPipeline.PARTITIONS; p++) {
                for (int i = 0; i < KafkaToKafkaPipeline.PER_PARTITION; i++) {
                    long ts = 1_000 + (long) i * (2 + p) - rnd.nextLong(KafkaToKafkaPipeline.DISORDER + 1);
                    String key = "p" + p + "k" + rnd.nextInt(KEYS_PER_PARTITION);
                    sent.add(producer.send(new ProducerRecord<>("k2k-in", p, ts, key, "v")));
                    input.add(new Input(p, ts, key));
                }
            }
            for (Future<?> f : sent) {
                f.get(60, TimeUnit.SECONDS);
            }
        }
        return input;
    }

    /**
     * Counts per {@code "key@start"} of 1 s windows. No record is late: within a partition a record
     * is at most the disorder bound older than the newest before it, so the watermark (the
     * minimum over the partitions) never passes it.
     */
    static Map<String, Long> tumblingReference(List<Input> input) {
        Map<String, Long> out = new TreeMap<>();
        for (Input r : input) {
            out.merge(r.key() + "@" + Math.floorDiv(r.timestamp(), 1000) * 1000, 1L, Long::sum);
        }
        return out;
    }

    /**
     * Counts per {@code "key@start-end"} of the sessions: per key, the records sorted by time, a new
     * session wherever two neighbours are more than the gap apart; a session spans
     * {@code [first, last + gap)}.
     */
    static Map<String, Long> sessionReference(List<Input> input) {
        Map<String, List<Long>> byKey = new TreeMap<>();
        for (Input r : input) {
            byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.timestamp());
        }
        Map<String, Long> out = new TreeMap<>();
        long gap = KafkaToKafkaPipeline.GAP_MILLIS;
        byKey.forEach((key, times) -> {
            Collections.sort(times);
            long first = times.get(0);
            long count = 0;
            long last = first;
            for (long t : times) {
                if (t - last > gap) {
                    out.put(key + "@" + first + "-" + (last + gap), count);
                    first = t;
                    count = 0;
                }
                count++;
                last = t;
            }
            out.put(key + "@" + first + "-" + (last + gap), count);
        });
        return out;
    }

    private static ChildJvm start(KafkaBroker broker, Path checkpoints, long intervalMillis, long step) {
        return ChildJvm.start(KafkaToKafkaPipeline.class, List.of("-Xmx256m",
                "-Dkafka.k2k.static=" + System.getProperty("kafka.k2k.static", "true")), broker.bootstrapServers(),
                checkpoints.toString(), "k2k-in", "k2k-tumbling", "k2k-sessions", Long.toString(intervalMillis),
                Long.toString(step));
    }
}
