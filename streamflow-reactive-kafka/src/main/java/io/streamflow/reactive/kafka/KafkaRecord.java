package io.streamflow.reactive.kafka;

import org.apache.kafka.common.serialization.Serializer;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A record to produce to Kafka, already serialised: the checkpointed sink keeps it in the
 * checkpoint's outbox until the checkpoint is durable, so it is plain bytes. Build one from a
 * pipeline record with {@link KafkaSink#serializing(String, Serializer, Serializer)}.
 *
 * @param topic     the target topic
 * @param partition the target partition, or {@code null} for the producer's partitioner (by key)
 * @param key       the key bytes, or {@code null}
 * @param value     the value bytes, or {@code null} (a tombstone)
 * @param timestamp the record's timestamp in epoch milliseconds, or {@code null} for the time of
 *                  sending
 * @param headers   the headers in order (an empty map for none); a {@code null} header value is kept
 */
public record KafkaRecord(String topic, Integer partition, byte[] key, byte[] value, Long timestamp,
                          Map<String, byte[]> headers) {

    /**
     * Validates and copies the headers.
     *
     * @param topic     the target topic, not blank
     * @param partition the target partition, {@code >= 0}, or {@code null}
     * @param key       the key bytes, or {@code null}
     * @param value     the value bytes, or {@code null}
     * @param timestamp epoch milliseconds, {@code >= 0}, or {@code null}
     * @param headers   the headers; {@code null} for none
     * @throws IllegalArgumentException if the topic is blank, or the partition or timestamp negative
     */
    public KafkaRecord {
        Objects.requireNonNull(topic, "topic");
        if (topic.isBlank()) {
            throw new IllegalArgumentException("topic must not be blank");
        }
        if (partition != null && partition < 0) {
            throw new IllegalArgumentException("partition must be >= 0, was " + partition);
        }
        if (timestamp != null && timestamp < 0) {
            throw new IllegalArgumentException("a Kafka timestamp must be >= 0, was " + timestamp);
        }
        headers = headers == null || headers.isEmpty() ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /**
     * A record for the producer's partitioner, with no timestamp of its own and no headers.
     *
     * @param topic the target topic
     * @param key   the key bytes, or {@code null}
     * @param value the value bytes, or {@code null}
     * @return the record
     */
    public static KafkaRecord of(String topic, byte[] key, byte[] value) {
        return new KafkaRecord(topic, null, key, value, null, Map.of());
    }

    /** Compares the bytes of key, value and headers, not the arrays' identity. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KafkaRecord r)) {
            return false;
        }
        if (!topic.equals(r.topic) || !Objects.equals(partition, r.partition) || !Arrays.equals(key, r.key)
                || !Arrays.equals(value, r.value) || !Objects.equals(timestamp, r.timestamp)
                || headers.size() != r.headers.size()) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : headers.entrySet()) {
            if (!r.headers.containsKey(e.getKey()) || !Arrays.equals(e.getValue(), r.headers.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** Hashes the bytes of key, value and headers. */
    @Override
    public int hashCode() {
        int h = Objects.hash(topic, partition, timestamp);
        h = 31 * h + Arrays.hashCode(key);
        h = 31 * h + Arrays.hashCode(value);
        for (Map.Entry<String, byte[]> e : headers.entrySet()) {
            h = 31 * h + e.getKey().hashCode() ^ Arrays.hashCode(e.getValue());
        }
        return h;
    }

    /** Shows the sizes of key and value, not their bytes. */
    @Override
    public String toString() {
        return "KafkaRecord{topic=" + topic + (partition == null ? "" : ", partition=" + partition) + ", key="
                + (key == null ? "null" : key.length + " bytes") + ", value="
                + (value == null ? "null" : value.length + " bytes") + (timestamp == null ? "" : ", ts=" + timestamp)
                + (headers.isEmpty() ? "" : ", headers=" + headers.keySet()) + "}";
    }
}
