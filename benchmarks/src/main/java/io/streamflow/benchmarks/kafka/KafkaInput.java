package io.streamflow.benchmarks.kafka;

import io.streamflow.benchmarks.BenchEvents;
import io.streamflow.benchmarks.Checksum;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The input of the Kafka cells and what every system must make of it.
 * <p>
 * Events: {@code keys} distinct String keys (the hex form of {@link BenchEvents#keyId}), chosen
 * uniformly at random; event time advances evenly at {@code eventsPerSecond} from
 * {@link BenchEvents#START}, and each event's timestamp (its Kafka record timestamp) is moved back
 * by a uniform random amount in {@code [0, disorderMillis]}; the value is a number 1–1000 as text,
 * which no system reads. The producer's partitioner spreads the keys over the topic's partitions,
 * so each key lives in one partition (Kafka Streams can count per key without a repartition topic).
 * <p>
 * After the events, every partition gets one end marker: key {@link #endKey endKey(partition)}
 * (a key per partition: StreamFlow shards keyed state by source partition, so a key must come
 * from one partition), timestamp past the
 * last window's end plus the disorder bound. It moves every system's event time (the watermark,
 * Kafka Streams' stream time) past every window of the events, so all of them close, and tells the
 * systems that the input is over. No system counts it; its own window never closes.
 * <p>
 * Output of every system: one record per key and 1 s tumbling window, key
 * {@code "<key>@<window start>"} (UTF-8), value the count as an 8-byte big-endian long (Kafka's
 * {@code LongSerializer}). {@link #reference} computes the counts directly from the events, and
 * {@link #verify} compares what a {@code read_committed} reader sees in an output topic with them.
 */
public final class KafkaInput {

    /** Prefix of the end markers' keys (no generated key starts with it: they are hex digits). */
    static final String END = "~end-";

    /** Window size of the cells: 1 s tumbling. */
    public static final long WINDOW_MILLIS = 1000;

    /**
     * @param events          number of events (end markers not included)
     * @param keys            distinct keys
     * @param partitions      partitions of the input topic
     * @param disorderMillis  maximum out-of-orderness in ms
     * @param eventsPerSecond events per event-time second
     * @param seed            random seed
     */
    public record Spec(int events, int keys, int partitions, long disorderMillis, long eventsPerSecond, long seed) {
        public Spec {
            if (events < 1 || keys < 1 || partitions < 1 || disorderMillis < 0 || eventsPerSecond < 1) {
                throw new IllegalArgumentException("bad spec " + this);
            }
        }

        /**
         * The harness's input: {@code events} over {@code keys} keys in 8 partitions, 100 ms of
         * disorder, and an event-time rate that spreads them over about 12 windows.
         */
        public static Spec of(int events, int keys) {
            return new Spec(events, keys, 8, 100, Math.max(1, events / 12), 42);
        }

        /** Timestamp of the end markers: past the last window's end plus the disorder bound. */
        long endTimestamp() {
            long last = BenchEvents.START + (long) (events - 1) * 1000 / eventsPerSecond;
            return Math.floorDiv(last, WINDOW_MILLIS) * WINDOW_MILLIS + WINDOW_MILLIS + disorderMillis + 1;
        }

        @Override
        public String toString() {
            return String.format("%,d events, %,d keys, %d partitions, %d ms disorder, %,d events/s of event time, seed %d",
                    events, keys, partitions, disorderMillis, eventsPerSecond, seed);
        }
    }

    /** The event sequence as columns: key index, timestamp, value. */
    record Events(Spec spec, String[] keyNames, int[] keys, long[] timestamps, int[] values) {
        int size() {
            return keys.length;
        }
    }

    private KafkaInput() {
    }

    /** The key of partition {@code p}'s end marker. */
    static String endKey(int p) {
        return END + p;
    }

    /** Whether {@code key} is an end marker's. */
    static boolean isEnd(Object key) {
        return key instanceof String s && s.startsWith(END);
    }

    /** The key name of key number {@code i}. */
    static String keyName(int i) {
        return Long.toHexString(BenchEvents.keyId(i));
    }

    static Events generate(Spec spec) {
        String[] names = new String[spec.keys()];
        for (int i = 0; i < names.length; i++) {
            names[i] = keyName(i);
        }
        int n = spec.events();
        int[] keys = new int[n];
        long[] ts = new long[n];
        int[] values = new int[n];
        SplittableRandom rnd = new SplittableRandom(spec.seed());
        for (int i = 0; i < n; i++) {
            keys[i] = rnd.nextInt(spec.keys());
            long base = BenchEvents.START + (long) i * 1000 / spec.eventsPerSecond();
            ts[i] = spec.disorderMillis() == 0 ? base : base - rnd.nextLong(spec.disorderMillis() + 1);
            values[i] = 1 + rnd.nextInt(1000);
        }
        return new Events(spec, names, keys, ts, values);
    }

    /** Start of the 1 s window holding {@code timestamp}. */
    static long windowStart(long timestamp) {
        return timestamp - Math.floorMod(timestamp, WINDOW_MILLIS);
    }

    /** The output key of a result. */
    static String resultKey(String key, long windowStart) {
        return key + "@" + windowStart;
    }

    /**
     * The reference: the count per output key ({@code "<key>@<window start>"}), computed directly
     * from the events with a hash map, as a batch.
     */
    public static Map<String, Long> reference(Spec spec) {
        Events ev = generate(spec);
        Map<String, Long> counts = new HashMap<>();
        for (int i = 0; i < ev.size(); i++) {
            counts.merge(resultKey(ev.keyNames()[ev.keys()[i]], windowStart(ev.timestamps()[i])), 1L, Long::sum);
        }
        return counts;
    }

    /**
     * Writes the events and then one end marker per partition into {@code topic} (which must exist
     * with {@code spec.partitions()} partitions), and waits until Kafka has acknowledged all.
     *
     * @return the offset of each partition's end marker (so also its number of events)
     */
    public static Map<Integer, Long> fill(Map<String, Object> clientProperties, String topic, Spec spec) {
        Events ev = generate(spec);
        Map<String, Object> props = new HashMap<>(clientProperties);
        props.put("linger.ms", "20");
        props.put("batch.size", Integer.toString(256 * 1024));
        props.put("acks", "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            String[] values = new String[1001];
            for (int v = 1; v <= 1000; v++) {
                values[v] = Integer.toString(v);
            }
            for (int i = 0; i < ev.size(); i++) {
                producer.send(new ProducerRecord<>(topic, null, ev.timestamps()[i], ev.keyNames()[ev.keys()[i]],
                        values[ev.values()[i]]));
            }
            List<Future<org.apache.kafka.clients.producer.RecordMetadata>> markers = new ArrayList<>();
            for (int p = 0; p < spec.partitions(); p++) {
                markers.add(producer.send(new ProducerRecord<>(topic, p, spec.endTimestamp(), endKey(p), "end")));
            }
            producer.flush();
            Map<Integer, Long> ends = new HashMap<>();
            for (Future<org.apache.kafka.clients.producer.RecordMetadata> f : markers) {
                org.apache.kafka.clients.producer.RecordMetadata m = get(f);
                ends.put(m.partition(), m.offset());
            }
            return ends;
        }
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get(120, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("sending the input failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending the input", e);
        }
    }

    /**
     * How an output topic compares with the reference.
     *
     * @param results    results read
     * @param missing    reference keys without a result
     * @param duplicated reference keys with more than one result
     * @param wrong      results whose count differs from the reference, or whose key is not in it
     * @param checksum   the results' order-independent checksum
     */
    public record Verdict(long results, long missing, long duplicated, long wrong, Checksum checksum) {
        /** @return whether the output is exactly the reference */
        public boolean ok() {
            return missing == 0 && duplicated == 0 && wrong == 0;
        }

        @Override
        public String toString() {
            return String.format("%,d results: %,d missing, %,d duplicated, %,d wrong (%s)", results, missing,
                    duplicated, wrong, checksum);
        }
    }

    /** The checksum of a result: its output key's bytes and its count. */
    static void addTo(Checksum c, String resultKey, long count) {
        long h = 0;
        for (int i = 0; i < resultKey.length(); i++) {
            h = Checksum.mix(h ^ resultKey.charAt(i));
        }
        c.addRow(h, count);
    }

    /** The checksum of the reference, to compare with a {@link Verdict#checksum()}. */
    public static Checksum checksum(Map<String, Long> reference) {
        Checksum c = new Checksum();
        reference.forEach((k, v) -> addTo(c, k, v));
        return c;
    }

    /** Compares results (output key → counts in the order read) with the reference. */
    static Verdict compare(Map<String, List<Long>> output, Map<String, Long> reference) {
        long results = 0;
        long missing = 0;
        long duplicated = 0;
        long wrong = 0;
        Checksum c = new Checksum();
        for (Map.Entry<String, List<Long>> e : output.entrySet()) {
            Long expected = reference.get(e.getKey());
            for (long v : e.getValue()) {
                results++;
                addTo(c, e.getKey(), v);
                if (expected == null || v != expected) {
                    wrong++;
                }
            }
            if (expected != null && e.getValue().size() > 1) {
                duplicated++;
            }
        }
        for (String k : reference.keySet()) {
            if (!output.containsKey(k)) {
                missing++;
            }
        }
        return new Verdict(results, missing, duplicated, wrong, c);
    }

    /**
     * Reads everything a {@code read_committed} consumer sees in {@code topic} and compares it with
     * the reference.
     */
    public static Verdict verify(Map<String, Object> clientProperties, String topic, Map<String, Long> reference) {
        return compare(readCommitted(clientProperties, topic, Duration.ofSeconds(120)), reference);
    }

    /** Everything a {@code read_committed} consumer sees in {@code topic}: output key → counts in order. */
    static Map<String, List<Long>> readCommitted(Map<String, Object> clientProperties, String topic,
                                                 Duration timeout) {
        Map<String, Object> props = new HashMap<>(clientProperties);
        props.put("isolation.level", "read_committed");
        props.put("max.poll.records", "10000");
        Map<String, List<Long>> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // for read_committed the end offsets are the last stable offsets: nothing open is waited for
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topic + " took longer than " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>(1))
                            .add(ByteBuffer.wrap(r.value()).getLong());
                }
            }
        }
        return out;
    }
}
