package io.streamflow.benchmarks.kafka;

import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * End-to-end latency of a Kafka system under an open-loop load: while the system runs (in its
 * worker), a producer in the harness sends events into a fresh input topic at a fixed rate, and a
 * {@code read_committed} reader in the harness notes when each result becomes visible.
 * <p>
 * Event {@code i} is due at {@code i / rate} after the start, computed from the start, never from
 * the previous send (a slow system or producer cannot hide its delay); its timestamp is its due
 * time in epoch milliseconds moved back by a uniform random amount in {@code [0, disorder]}. So
 * event time is the producer's clock, and the window {@code [s, s + 1 s)} can close at the earliest
 * when an event due at {@code s + 1 s + disorder} has been sent (before it, no event can carry a
 * timestamp that moves the watermark past the window). The latency of a result is the time the
 * reader first sees it minus that moment: produce time of the releasing event → visible to a
 * {@code read_committed} reader, without the disorder bound every system waits by design.
 * Results of windows that end in the first third of the run (start-up, group join) or that only
 * the end markers close are not recorded, but all results are checked against the counts of what
 * was sent.
 */
final class KafkaLatency {

    /** What a latency run measured. */
    record Result(KafkaSystem system, long rate, int seconds, long recorded, double p50Millis, double p99Millis,
                  double p999Millis, double maxMillis, double producerMaxLagMillis, KafkaInput.Verdict verdict,
                  String status) {
    }

    private KafkaLatency() {
    }

    /** The clock of producer and reader: epoch milliseconds with the resolution of {@code nanoTime}. */
    private static final class Clock {
        final long epochMillis = System.currentTimeMillis();
        final long nanos = System.nanoTime();

        double now() {
            return epochMillis + (System.nanoTime() - nanos) / 1e6;
        }
    }

    /**
     * Runs {@code system} through {@code runner} while producing {@code rate} events/s for
     * {@code seconds} into {@code input} (which exists with {@code partitions} partitions, as does
     * {@code output}).
     */
    static Result run(KafkaSystem system, Callable<KafkaSystem.RunResult> runner, Map<String, Object> client,
                      String input, String output, int keys, int partitions, long disorder, long rate, int seconds)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<KafkaSystem.RunResult> running = pool.submit(runner);
            Clock clock = new Clock();
            Map<String, Double> visible = new HashMap<>();
            Map<String, List<Long>> seen = new HashMap<>();
            StopFlag stop = new StopFlag();
            Future<?> reading = pool.submit(() -> read(client, output, clock, visible, seen, stop));

            // the open-loop producer, on this thread
            Map<String, Long> reference = new HashMap<>();
            String[] names = new String[keys];
            for (int i = 0; i < keys; i++) {
                names[i] = KafkaInput.keyName(i);
            }
            Map<String, Object> props = new HashMap<>(client);
            props.put("linger.ms", "1");
            SplittableRandom rnd = new SplittableRandom(42);
            long total = rate * seconds;
            double start = Math.ceil(clock.now()) + 200;
            double maxLag = 0;
            long lastTs = 0;
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                    new StringSerializer())) {
                for (long i = 0; i < total; ) {
                    double now = clock.now();
                    long due = (long) Math.min(total, Math.floor((now - start) * rate / 1000.0) + 1);
                    if (due <= i) {
                        LockSupport.parkNanos(100_000);
                        continue;
                    }
                    for (; i < due; i++) {
                        double scheduled = start + i * 1000.0 / rate;
                        maxLag = Math.max(maxLag, now - scheduled);
                        long ts = (long) scheduled - rnd.nextLong(disorder + 1);
                        String key = names[rnd.nextInt(keys)];
                        producer.send(new ProducerRecord<>(input, null, ts, key, "1"));
                        reference.merge(KafkaInput.resultKey(key, KafkaInput.windowStart(ts)), 1L, Long::sum);
                        lastTs = Math.max(lastTs, ts);
                    }
                }
                long endTs = KafkaInput.windowStart(lastTs) + KafkaInput.WINDOW_MILLIS + disorder + 1;
                for (int p = 0; p < partitions; p++) {
                    producer.send(new ProducerRecord<>(input, p, endTs, KafkaInput.endKey(p), "end"));
                }
                producer.flush();
            }
            running.get(10, TimeUnit.MINUTES);
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (countOf(seen) < reference.size() && System.nanoTime() < waitUntil) {
                Thread.sleep(50);
            }
            stop.stop = true;
            reading.get(2, TimeUnit.MINUTES);

            KafkaInput.Verdict verdict;
            synchronized (seen) {
                verdict = KafkaInput.compare(seen, reference);
            }
            Histogram h = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
            double warmEnd = start + seconds * 1000.0 / 3;
            double lastDue = start + (total - 1) * 1000.0 / rate;
            synchronized (seen) {
                for (Map.Entry<String, Double> e : visible.entrySet()) {
                    long windowStart = Long.parseLong(e.getKey().substring(e.getKey().lastIndexOf('@') + 1));
                    double releasedAt = windowStart + KafkaInput.WINDOW_MILLIS + disorder;
                    if (windowStart + KafkaInput.WINDOW_MILLIS <= warmEnd || releasedAt > lastDue) {
                        continue;
                    }
                    h.recordValue(Math.max(0, Math.round((e.getValue() - releasedAt) * 1000)));
                }
            }
            return new Result(system, rate, seconds, h.getTotalCount(), h.getValueAtPercentile(50) / 1e3,
                    h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3,
                    maxLag, verdict, verdict.ok() ? "ok" : "WRONG: " + verdict);
        } finally {
            pool.shutdownNow();
        }
    }

    /** A stop flag for the reader. */
    private static final class StopFlag {
        volatile boolean stop;
    }

    private static long countOf(Map<String, List<Long>> seen) {
        synchronized (seen) {
            return seen.size();
        }
    }

    private static Void read(Map<String, Object> client, String topic, Clock clock, Map<String, Double> visible,
                             Map<String, List<Long>> seen, StopFlag stop) {
        Map<String, Object> props = new HashMap<>(client);
        props.put("isolation.level", "read_committed");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (!stop.stop) {
                var polled = consumer.poll(Duration.ofMillis(5));
                if (polled.isEmpty()) {
                    continue;
                }
                double at = clock.now();
                synchronized (seen) {
                    for (ConsumerRecord<byte[], byte[]> r : polled) {
                        String key = new String(r.key(), StandardCharsets.UTF_8);
                        visible.putIfAbsent(key, at);
                        seen.computeIfAbsent(key, k -> new ArrayList<>(1)).add(ByteBuffer.wrap(r.value()).getLong());
                    }
                }
            }
        }
        return null;
    }
}
