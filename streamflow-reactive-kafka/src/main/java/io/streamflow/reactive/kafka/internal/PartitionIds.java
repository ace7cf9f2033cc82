package io.streamflow.reactive.kafka.internal;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * The partition id of a Kafka topic partition, its {@code Origin.partition()}: by it watermarks are
 * generated, keyed state is sharded and checkpoint positions are kept, so it must be the same
 * after a restart.
 * <ul>
 * <li>With a topic list: {@code index << 16 | partition}, {@code index} the topic's place in the list.</li>
 * <li>With a topic pattern: {@code hash << 12 | partition}, {@code hash} the low
 * {@value #TOPIC_HASH_BITS} bits of the CRC-32 of the topic name's UTF-8 bytes, so that it does not
 * depend on which topics exist or in what order they were found. Partitions {@code >= }
 * {@value #MAX_PATTERN_PARTITIONS} and two matched topics with the same hash are errors, reported
 * by {@link #register(String)}.</li>
 * </ul>
 * Thread-safe.
 */
public final class PartitionIds {

    /** Bits of a topic pattern's partition ids that hold the topic hash. */
    public static final int TOPIC_HASH_BITS = 19;
    /** Partitions per topic a topic pattern gives ids to: partitions 0 to 4095. */
    public static final int MAX_PATTERN_PARTITIONS = 1 << (31 - TOPIC_HASH_BITS);

    private final List<String> topics;
    private final Pattern pattern;
    /** Pattern subscription: hash → the first topic seen with it. */
    private final Map<Integer, String> byHash = new ConcurrentHashMap<>();

    /**
     * @param topics  the topic list, or {@code null} with a pattern
     * @param pattern the topic pattern, or {@code null} with a list
     */
    public PartitionIds(List<String> topics, Pattern pattern) {
        this.topics = topics;
        this.pattern = pattern;
    }

    /**
     * @param topic a topic name
     * @return the low {@value #TOPIC_HASH_BITS} bits of the CRC-32 of its UTF-8 bytes
     */
    public static int topicHash(String topic) {
        CRC32 crc = new CRC32();
        crc.update(topic.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() & ((1 << TOPIC_HASH_BITS) - 1));
    }

    /**
     * @param topic     the topic
     * @param partition its partition
     * @return the partition id
     */
    public int id(String topic, int partition) {
        if (pattern == null) {
            return topics.indexOf(topic) << 16 | partition;
        }
        return topicHash(topic) << (31 - TOPIC_HASH_BITS) | partition;
    }

    /**
     * Checks that a topic matched by the pattern has an id of its own.
     *
     * @param topic a matched topic
     * @throws IllegalStateException if another matched topic has the same hash
     */
    /**
     * The Kafka partition number of a partition id of {@code topic}: the inverse of
     * {@link #id(String, int)}.
     *
     * @param topic the topic name
     * @param id    a partition id
     * @return the partition number, or -1 when {@code id} is not an id of a partition of {@code topic}
     */
    public int partition(String topic, int id) {
        if (id < 0) {
            return -1;
        }
        if (pattern == null) {
            int index = topics.indexOf(topic);
            return index >= 0 && id >>> 16 == index ? id & 0xFFFF : -1;
        }
        int bits = 31 - TOPIC_HASH_BITS;
        return id >>> bits == topicHash(topic) ? id & ((1 << bits) - 1) : -1;
    }

    public void register(String topic) {
        if (pattern == null) {
            return;
        }
        int hash = topicHash(topic);
        String other = byHash.putIfAbsent(hash, topic);
        if (other != null && !other.equals(topic)) {
            throw new IllegalStateException("topics '" + other + "' and '" + topic + "', both matched by the pattern '"
                    + pattern + "', have the same topic hash " + hash + ", so their partitions would share partition "
                    + "ids (and watermarks, state shards and checkpoint positions): subscribe to a fixed list with "
                    + "topics(...), or narrow the pattern");
        }
    }

    /**
     * Checks a topic's partition: with a pattern it must be below {@value #MAX_PATTERN_PARTITIONS}.
     *
     * @param topic     the topic
     * @param partition the partition
     * @throws IllegalStateException if the partition has no id
     */
    public void checkPartition(String topic, int partition) {
        register(topic);
        if (pattern != null && partition >= MAX_PATTERN_PARTITIONS) {
            throw new IllegalStateException("partition " + partition + " of topic '" + topic + "' (matched by the "
                    + "pattern '" + pattern + "') has no partition id: a topic pattern gives ids to partitions 0 to "
                    + (MAX_PATTERN_PARTITIONS - 1) + "; subscribe to a fixed list with topics(...)");
        }
    }

    /**
     * @param matched topics the consumer found for the pattern
     * @throws IllegalStateException if two of them have the same hash
     */
    public void registerAll(Collection<String> matched) {
        for (String t : matched) {
            register(t);
        }
    }

    /** @return the topics or the pattern, for messages */
    public String describe() {
        return pattern == null ? topics.toString() : "pattern '" + pattern + "'";
    }
}
