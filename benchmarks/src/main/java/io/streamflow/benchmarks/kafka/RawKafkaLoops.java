package io.streamflow.benchmarks.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The ceilings of the Kafka cells: hand-written loops on the plain Kafka clients, one thread.
 */
final class RawKafkaLoops {

    private RawKafkaLoops() {
    }

    static Map<String, Object> consumerProperties(KafkaSystem.RunSpec spec) {
        Map<String, Object> props = new HashMap<>(spec.clientProperties());
        props.put("group.id", spec.runId());
        props.put("auto.offset.reset", "earliest");
        props.put("enable.auto.commit", "false");
        return props;
    }

    /** Reads the input and counts its records, nothing else. */
    static KafkaSystem.RunResult consume(KafkaSystem.RunSpec spec) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties(spec),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(spec.input()));
            Set<Integer> ended = new HashSet<>();
            long first = 0;
            long records = 0;
            while (ended.size() < spec.partitions()) {
                ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
                if (first == 0 && !polled.isEmpty()) {
                    first = System.nanoTime();
                }
                for (ConsumerRecord<String, String> r : polled) {
                    records++;
                    if (KafkaInput.isEnd(r.key())) {
                        ended.add(r.partition());
                    }
                }
            }
            return new KafkaSystem.RunResult(System.nanoTime() - first, records);
        }
    }

    /** Per partition: the open windows (start → key → count) and the largest timestamp seen. */
    private static final class PartitionState {
        final TreeMap<Long, HashMap<String, long[]>> windows = new TreeMap<>();
        long maxTimestamp = Long.MIN_VALUE;
    }

    /**
     * Reads the input, counts per key and 1 s window with a watermark per partition (each key
     * lives in one partition), produces each window's counts once the partition's watermark
     * ({@code max timestamp - disorder - 1}) reached the window's last millisecond, and every
     * interval flushes the producer, then commits the consumed offsets (at-least-once).
     */
    static KafkaSystem.RunResult consumeCountProduce(KafkaSystem.RunSpec spec) {
        long bound = spec.disorderMillis();
        long intervalNanos = spec.interval().toNanos();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties(spec),
                new StringDeserializer(), new StringDeserializer());
             KafkaProducer<String, Long> producer = new KafkaProducer<>(new HashMap<>(spec.clientProperties()),
                     new StringSerializer(), new LongSerializer())) {
            consumer.subscribe(List.of(spec.input()));
            Map<Integer, PartitionState> partitions = new HashMap<>();
            Set<Integer> ended = new HashSet<>();
            long first = 0;
            long records = 0;
            long lastCommit = System.nanoTime();
            while (ended.size() < spec.partitions()) {
                ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
                if (first == 0 && !polled.isEmpty()) {
                    first = System.nanoTime();
                }
                for (ConsumerRecord<String, String> r : polled) {
                    records++;
                    PartitionState p = partitions.computeIfAbsent(r.partition(), k -> new PartitionState());
                    long ts = r.timestamp();
                    if (KafkaInput.isEnd(r.key())) {
                        ended.add(r.partition());
                    } else {
                        long start = KafkaInput.windowStart(ts);
                        p.windows.computeIfAbsent(start, s -> new HashMap<>()).computeIfAbsent(r.key(),
                                k -> new long[1])[0]++;
                    }
                    if (ts > p.maxTimestamp) {
                        p.maxTimestamp = ts;
                        // windows whose last millisecond the watermark reached: end - 1 <= max - bound - 1
                        for (Iterator<Map.Entry<Long, HashMap<String, long[]>>> it = p.windows.entrySet().iterator();
                             it.hasNext(); ) {
                            Map.Entry<Long, HashMap<String, long[]>> w = it.next();
                            if (w.getKey() + KafkaInput.WINDOW_MILLIS + bound > ts) {
                                break;
                            }
                            long start = w.getKey();
                            for (Map.Entry<String, long[]> c : w.getValue().entrySet()) {
                                producer.send(new ProducerRecord<>(spec.output(), null, start,
                                        KafkaInput.resultKey(c.getKey(), start), c.getValue()[0]));
                            }
                            it.remove();
                        }
                    }
                }
                long now = System.nanoTime();
                if (now - lastCommit >= intervalNanos) {
                    producer.flush();
                    consumer.commitSync();
                    lastCommit = now;
                }
            }
            producer.flush();
            consumer.commitSync();
            return new KafkaSystem.RunResult(System.nanoTime() - first, records);
        }
    }
}
