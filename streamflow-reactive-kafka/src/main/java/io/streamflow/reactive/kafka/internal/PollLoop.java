package io.streamflow.reactive.kafka.internal;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.kafka.KafkaRecord;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * One subscription to a Kafka source: a dedicated thread that owns the {@link KafkaConsumer} and a
 * drain loop that hands its records downstream as requested.
 * <p>
 * The poll thread is the only one that touches the consumer. Other threads only change
 * {@link #requested}, set {@link #cancelled} and drain the buffer. Before every poll the thread
 * pauses each partition whose buffer holds {@code bufferPerPartition} records or more, or holds
 * records while there is no demand, and resumes the others; it keeps polling while partitions are
 * paused, so the member stays in its group. A partition's buffer holds at most
 * {@code bufferPerPartition + max.poll.records - 1} records.
 * <p>
 * Records are read as bytes and decoded here, so an undecodable key, value or header, a {@code null}
 * value or a record larger than the limit becomes a {@link DeadLetter} at its offset, with the
 * record's bytes as a {@link KafkaRecord}, instead of failing the poll. A partition taken from this
 * member in a rebalance and not assigned back to it is followed by {@link InputStatus#released(int)},
 * after its last delivered element, so that the watermark assigner downstream forgets it. Without resume positions (no checkpoint), the offsets of delivered elements are
 * committed to the group every commit interval, on revocation and on close: at-least-once.
 * <p>
 * With {@link Settings#acknowledgements()} (and no resume positions), an element counts as
 * processed only once it is acknowledged: per partition, the offsets handed downstream and not yet
 * acknowledged are kept (in an {@link Acked}), the committed offset is the first of them (or the
 * one after the last handed downstream when all are acknowledged), and a partition revoked or lost
 * goes back to that offset when it is assigned again. Acknowledgements come from any thread through
 * a queue and are applied on the poll thread. A partition with {@code maxUnacknowledged} elements
 * unacknowledged gets no more handed downstream and is paused, as a full buffer is.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class PollLoop<K, V> implements Subscription, Runnable {

    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration POLL_WHILE_PAUSED = Duration.ofMillis(20);

    /** The source configuration one subscription needs. */
    public record Settings<K, V>(Map<String, Object> consumerProperties, Deserializer<K> keyDeserializer,
                                 ValueDecoder<K, V> valueDecoder, List<String> topics, Pattern topicPattern,
                                 int[] partitions, int maxRecordBytes, int bufferPerPartition, Duration commitInterval,
                                 Duration alignTimeout, Map<Integer, Long> resumeAfter,
                                 CheckpointCommits checkpointCommits, SourceMeters meters,
                                 Acknowledgements acknowledgements, int maxUnacknowledged) {
    }

    private record Buffered(TopicPartition partition, long offset, StreamElement<?, ?> element) {
    }

    private record Ack(TopicPartition partition, long offset) {
    }

    /**
     * One partition's elements handed downstream and not yet acknowledged. The drain records an
     * offset in {@link #handedOut} before it hands the element over; the poll thread moves them into
     * {@link #outstanding} before it applies acknowledgements, so an acknowledgement always finds
     * the offset it acknowledges.
     */
    private static final class Acked {
        final ConcurrentLinkedQueue<Long> handedOut = new ConcurrentLinkedQueue<>();
        /** Handed downstream and not yet acknowledged; read by the drain to stop at the limit. */
        final AtomicInteger unacknowledged = new AtomicInteger();
        // poll thread only
        final TreeSet<Long> outstanding = new TreeSet<>();
        long highest = -1;

        void absorb() {
            for (Long o = handedOut.poll(); o != null; o = handedOut.poll()) {
                outstanding.add(o);
                highest = Math.max(highest, o);
            }
        }

        void acknowledge(long offset) {
            if (outstanding.remove(offset)) {
                unacknowledged.decrementAndGet();
            }
        }

        /** The offset to commit: the first not acknowledged, or -1 when nothing was handed downstream. */
        long position() {
            return outstanding.isEmpty() ? (highest < 0 ? -1 : highest + 1) : outstanding.first();
        }
    }

    /** One partition's fetched, not yet delivered elements, in offset order. */
    private static final class PartitionBuffer {
        final ConcurrentLinkedQueue<Buffered> queue = new ConcurrentLinkedQueue<>();
        final AtomicInteger count = new AtomicInteger();
    }

    private final Settings<K, V> settings;
    private final CoreSubscriber<? super StreamElement<K, V>> actual;
    private final String operator;
    private final Thread thread;
    private final PartitionIds ids;
    /** Release markers of revoked partitions, delivered before any buffered record. */
    private final ConcurrentLinkedQueue<StreamElement<K, V>> control = new ConcurrentLinkedQueue<>();

    private final Map<TopicPartition, PartitionBuffer> buffers = new ConcurrentHashMap<>();
    /** Offset of the last element of each partition that was handed downstream. */
    private final Map<TopicPartition, Long> delivered = new ConcurrentHashMap<>();
    private final AtomicLong requested = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicInteger maxBuffered = new AtomicInteger();
    private final Set<TopicPartition> paused = ConcurrentHashMap.newKeySet();
    /** Per partition, in acknowledging mode, the elements handed downstream and not acknowledged. */
    private final Map<TopicPartition, Acked> acked = new ConcurrentHashMap<>();
    /** Acknowledgements from any thread, applied on the poll thread. */
    private final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    /** Positions of delivered checkpoints, to commit to the group on the poll thread. */
    private final ConcurrentLinkedQueue<Map<Integer, Long>> checkpointCommits = new ConcurrentLinkedQueue<>();

    private volatile boolean cancelled;
    private volatile boolean done;
    private volatile Throwable error;
    private volatile boolean closed;
    /** A configuration error found in a rebalance callback, which the consumer wraps. */
    private volatile RuntimeException fatal;
    private volatile Set<Integer> assigned = Set.of();
    /** Delivery held back until newly assigned partitions with records have fetched their first. */
    private volatile boolean gated;
    /** Drain only: the partition to take the next element from, round robin. */
    private int nextPartition;
    /**
     * Newly assigned partitions whose first fetched element has not been handed downstream yet: once
     * the alignment gate opens, their first elements go first, oldest Kafka timestamp first, so the
     * watermark assigner downstream knows every one of them before a younger one moves the watermark.
     */
    private final Set<TopicPartition> firstPending = ConcurrentHashMap.newKeySet();

    // poll thread only
    private KafkaConsumer<byte[], byte[]> consumer;
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private long lastCommitNanos;
    private final Set<TopicPartition> awaitingFirst = new HashSet<>();
    /**
     * Per partition revoked or lost in a rebalance, the offset of the first record it fetched and did
     * not hand downstream: the consumer keeps the fetch position of a partition that is assigned to
     * it again, past the records the revocation dropped, so a partition assigned again goes back here.
     */
    private final Map<TopicPartition, Long> rewind = new HashMap<>();
    /** Revoked or lost partitions whose release marker waits for the next assignment (poll thread). */
    private final Set<TopicPartition> toRelease = new HashSet<>();
    /** The offsets of the latest delivered checkpoint, per assigned partition. */
    private final Map<TopicPartition, OffsetAndMetadata> checkpointed = new HashMap<>();
    private long alignDeadlineNanos;

    /**
     * A subscription, not started.
     *
     * @param settings the source configuration
     * @param actual   the subscriber
     */
    public PollLoop(Settings<K, V> settings, CoreSubscriber<? super StreamElement<K, V>> actual) {
        this.settings = settings;
        this.actual = actual;
        this.ids = new PartitionIds(settings.topics(), settings.topicPattern());
        this.operator = "kafka-source:" + (settings.topicPattern() != null ? settings.topicPattern().pattern()
                : String.join(",", settings.topics()));
        this.thread = new Thread(this, "streamflow-kafka-poll-" + THREADS.incrementAndGet());
        this.thread.setDaemon(true);
    }

    /** Hands this subscription to the subscriber and starts the poll thread. */
    public void start() {
        actual.onSubscribe(this);
        thread.start();
    }

    // ---- the poll thread ----

    @Override
    public void run() {
        try {
            consumer = new KafkaConsumer<>(settings.consumerProperties(), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            if (settings.partitions() != null) {
                List<TopicPartition> tps = new ArrayList<>();
                for (int p : settings.partitions()) {
                    tps.add(new TopicPartition(settings.topics().get(0), p));
                }
                consumer.assign(tps);
                seekToResumePositions(tps);
                align(tps);
            } else if (settings.topicPattern() != null) {
                consumer.subscribe(settings.topicPattern(), new Rebalance());
            } else {
                consumer.subscribe(settings.topics(), new Rebalance());
            }
            lastCommitNanos = System.nanoTime();
            if (settings.checkpointCommits() != null) {
                settings.checkpointCommits().add(this);
            }
            if (acknowledging()) {
                settings.acknowledgements().add(this);
            }
            while (!cancelled) {
                applyAcknowledgements();
                Duration timeout = updatePauses() ? POLL_WHILE_PAUSED : POLL;
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = consumer.poll(timeout);
                } catch (WakeupException e) {
                    continue;
                }
                if (settings.topicPattern() != null) {
                    ids.registerAll(consumer.subscription());
                }
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    buffer(r);
                }
                if (gated && (awaitingFirst.isEmpty() || System.nanoTime() - alignDeadlineNanos > 0)) {
                    // those that fetched nothing in time are not waited for
                    firstPending.removeAll(awaitingFirst);
                    awaitingFirst.clear();
                    gated = false;
                }
                drain();
                commitIfDue(false);
                commitCheckpoints(false);
            }
        } catch (Throwable t) {
            if (!cancelled) {
                Throwable cause = fatal != null ? fatal : t;
                error = new IllegalStateException("Kafka source on " + ids.describe() + " failed: " + cause, cause);
                done = true;
            }
        } finally {
            close();
            drain();
        }
    }

    private void seekToResumePositions(Collection<TopicPartition> tps) {
        for (TopicPartition tp : tps) {
            Long last = settings.resumeAfter() == null ? null : settings.resumeAfter().get(id(tp.topic(), tp.partition()));
            if (last != null && last >= 0) {
                consumer.seek(tp, last + 1);
            }
        }
    }

    /**
     * Holds delivery back until each of the newly assigned partitions that has records has fetched
     * its first one, at most the align timeout: the watermark assigner downstream learns of a
     * partition from its first record, so a partition fetched later than the others would
     * otherwise find the watermark already moved on by them, and its records late.
     */
    private void align(Collection<TopicPartition> assigned) {
        if (assigned.isEmpty() || settings.alignTimeout().isZero()) {
            return;
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(assigned);
        for (TopicPartition tp : assigned) {
            Long e = end.get(tp);
            if (e != null && consumer.position(tp) < e) {
                awaitingFirst.add(tp);
                firstPending.add(tp);
            }
        }
        if (!awaitingFirst.isEmpty()) {
            alignDeadlineNanos = System.nanoTime() + settings.alignTimeout().toNanos();
            gated = true;
        }
    }

    /** Pauses and resumes partitions from buffer levels and demand; true if any is paused. */
    private boolean updatePauses() {
        Set<TopicPartition> toPause = new HashSet<>();
        Set<TopicPartition> toResume = new HashSet<>();
        boolean demand = requested.get() > 0;
        Set<Integer> now = new HashSet<>();
        // the consumer's own pause flags, not a copy of ours: it keeps them for a partition that a
        // rebalance revokes and assigns again, so a copy cleared on revocation would leave it paused
        Set<TopicPartition> consumerPaused = consumer.paused();
        for (TopicPartition tp : consumer.assignment()) {
            now.add(id(tp.topic(), tp.partition()));
            int n = buffer(tp).count.get();
            boolean shouldPause = n >= settings.bufferPerPartition() || (!demand && n > 0) || atLimit(tp);
            if (shouldPause && !consumerPaused.contains(tp)) {
                toPause.add(tp);
            } else if (!shouldPause && consumerPaused.contains(tp)) {
                toResume.add(tp);
            }
        }
        assigned = Set.copyOf(now);
        if (!toPause.isEmpty()) {
            consumer.pause(toPause);
        }
        if (!toResume.isEmpty()) {
            consumer.resume(toResume);
        }
        Set<TopicPartition> nowPaused = consumer.paused();
        int before = paused.size();
        paused.retainAll(nowPaused);
        paused.addAll(nowPaused);
        SourceMeters meters = settings.meters();
        if (meters != null) {
            meters.paused(paused.size() - before);
            for (TopicPartition tp : consumer.assignment()) {
                // the consumer's lag from its last fetch (end offset - position, no request) + what it buffered here
                java.util.OptionalLong lag = consumer.currentLag(tp);
                if (lag.isPresent()) {
                    meters.lag(tp, lag.getAsLong() + buffer(tp).count.get());
                }
            }
        }
        return !paused.isEmpty();
    }

    private PartitionBuffer buffer(TopicPartition tp) {
        return buffers.computeIfAbsent(tp, k -> new PartitionBuffer());
    }

    private void buffer(ConsumerRecord<byte[], byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        PartitionBuffer b = buffer(tp);
        b.queue.offer(new Buffered(tp, r.offset(), decode(r)));
        maxBuffered.accumulateAndGet(b.count.incrementAndGet(), Math::max);
        awaitingFirst.remove(tp);
    }

    private StreamElement<K, V> decode(ConsumerRecord<byte[], byte[]> r) {
        Origin origin = Origin.of(r.topic(), id(r.topic(), r.partition()), r.offset());
        long size = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
        for (Header h : r.headers()) {
            size += h.key().getBytes(StandardCharsets.UTF_8).length + (h.value() == null ? 0 : h.value().length);
        }
        if (size > settings.maxRecordBytes()) {
            return deadLetter(r, origin, "has " + size + " bytes of key, value and headers, more than the limit of "
                    + settings.maxRecordBytes(), null);
        }
        if (r.value() == null) {
            return deadLetter(r, origin, "has a null value (a tombstone)", null);
        }
        Map<String, String> headers = new HashMap<>();
        for (Header h : r.headers()) {
            if (h.value() == null) {
                return deadLetter(r, origin, "header '" + h.key() + "' has a null value, which cannot be carried as "
                        + "text", null);
            }
            String text;
            try {
                text = Utf8.decode(h.value());
            } catch (IllegalArgumentException e) {
                return deadLetter(r, origin, "the value of header '" + h.key() + "' is " + e.getMessage(), e);
            }
            if (headers.put(h.key(), text) != null) {
                return deadLetter(r, origin, "header '" + h.key() + "' occurs more than once; a record carries "
                        + "one value per header name", null);
            }
        }
        K key;
        try {
            key = r.key() == null ? null : settings.keyDeserializer().deserialize(r.topic(), r.headers(), r.key());
        } catch (RuntimeException e) {
            return deadLetter(r, origin, "cannot decode the key: " + e, e);
        }
        try {
            return settings.valueDecoder().decode(StreamRecord.of(key, r.value(), r.timestamp(), headers, origin),
                    r.headers());
        } catch (RuntimeException e) {
            return deadLetter(r, origin, "cannot decode the value: " + e, e);
        }
    }

    /**
     * A dead letter with the record as it is in Kafka (a {@link KafkaRecord}; for a header name that
     * occurs more than once, its last value) and an error naming topic, partition and offset.
     */
    private DeadLetter<K, V> deadLetter(ConsumerRecord<byte[], byte[]> r, Origin origin, String problem,
                                        Throwable cause) {
        Map<String, byte[]> headers = new LinkedHashMap<>();
        for (Header h : r.headers()) {
            headers.put(h.key(), h.value());
        }
        KafkaRecord input = new KafkaRecord(r.topic(), r.partition(), r.key(), r.value(),
                r.timestamp() < 0 ? null : r.timestamp(), headers);
        String message = "record at topic " + r.topic() + ", partition " + r.partition() + ", offset " + r.offset()
                + " (origin " + origin + "): " + problem;
        if (settings.meters() != null) {
            settings.meters().deadLetter();
        }
        return new DeadLetter<>(input, origin, operator, new IllegalArgumentException(message, cause));
    }

    /** The partition id of a topic's partition, see {@link PartitionIds}. */
    private int id(String topic, int partition) {
        return ids.id(topic, partition);
    }

    private boolean committing() {
        return settings.resumeAfter() == null && settings.consumerProperties().get("group.id") != null;
    }

    /** Whether elements count as processed only once acknowledged (not for a checkpointed source). */
    private boolean acknowledging() {
        return settings.acknowledgements() != null && settings.resumeAfter() == null;
    }

    /** Whether the partition has as many unacknowledged elements as it may have. Any thread. */
    private boolean atLimit(TopicPartition tp) {
        if (!acknowledging()) {
            return false;
        }
        Acked a = acked.get(tp);
        return a != null && a.unacknowledged.get() >= settings.maxUnacknowledged();
    }

    /**
     * An element with this origin was processed. Any thread: queued, applied on the poll thread to
     * a partition of this subscription, ignored for others.
     *
     * @param origin topic, partition id and offset of the element
     */
    void acknowledge(Origin origin) {
        int partition = ids.partition(origin.source(), origin.partition());
        if (partition >= 0) {
            acks.offer(new Ack(new TopicPartition(origin.source(), partition), origin.position()));
        }
    }

    /**
     * Applies the queued acknowledgements: first takes them from the queue, then the offsets handed
     * downstream, so that every offset an acknowledgement names (handed out before it was
     * acknowledged) is known. An acknowledgement of an offset not outstanding (acknowledged already,
     * from before a rebalance, or of a partition not assigned here) is ignored.
     */
    private void applyAcknowledgements() {
        if (!acknowledging()) {
            return;
        }
        List<Ack> taken = new ArrayList<>();
        for (Ack a = acks.poll(); a != null; a = acks.poll()) {
            taken.add(a);
        }
        for (Acked a : acked.values()) {
            a.absorb();
        }
        for (Ack a : taken) {
            Acked p = acked.get(a.partition());
            if (p != null) {
                p.acknowledge(a.offset());
            }
        }
    }

    /**
     * The offset to commit for a partition: the one after its last element handed downstream, or in
     * acknowledging mode its first element not acknowledged; {@code null} when there is none.
     */
    private Long nextToCommit(TopicPartition tp) {
        if (acknowledging()) {
            Acked a = acked.get(tp);
            if (a == null) {
                return null;
            }
            a.absorb();
            long position = a.position();
            return position < 0 ? null : position;
        }
        Long last = delivered.get(tp);
        return last == null ? null : last + 1;
    }

    private void commitIfDue(boolean force) {
        if (!committing()) {
            return;
        }
        long now = System.nanoTime();
        if (!force && now - lastCommitNanos < settings.commitInterval().toNanos()) {
            return;
        }
        lastCommitNanos = now;
        Map<TopicPartition, OffsetAndMetadata> offsets = pendingCommits(consumer.assignment());
        if (offsets.isEmpty()) {
            return;
        }
        if (force) {
            consumer.commitSync(offsets);
        } else {
            consumer.commitAsync(offsets, null);
        }
        offsets.forEach((tp, o) -> committed.put(tp, o.offset()));
    }

    private Map<TopicPartition, OffsetAndMetadata> pendingCommits(Collection<TopicPartition> tps) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : tps) {
            Long next = nextToCommit(tp);
            if (next != null && !next.equals(committed.get(tp))) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        }
        return offsets;
    }

    /**
     * Commits the positions of the checkpoints delivered since the last call, for the assigned
     * partitions; on close ({@code sync}) those of the latest delivered checkpoint again and
     * synchronously, so that an asynchronous commit still in flight is not lost.
     */
    private void commitCheckpoints(boolean sync) {
        boolean fresh = false;
        for (Map<Integer, Long> positions = checkpointCommits.poll(); positions != null;
             positions = checkpointCommits.poll()) {
            for (TopicPartition tp : consumer.assignment()) {
                Long last = positions.get(id(tp.topic(), tp.partition()));
                if (last != null && last >= 0) {
                    checkpointed.put(tp, new OffsetAndMetadata(last + 1));
                    fresh = true;
                }
            }
        }
        checkpointed.keySet().retainAll(consumer.assignment());
        if (checkpointed.isEmpty() || settings.consumerProperties().get("group.id") == null) {
            return;
        }
        if (sync) {
            consumer.commitSync(new HashMap<>(checkpointed));
        } else if (fresh) {
            consumer.commitAsync(new HashMap<>(checkpointed), null);
        }
    }

    /**
     * A checkpoint holding {@code positions} was delivered: its positions of this consumer's
     * partitions are committed to the group on the poll thread. Any thread.
     *
     * @param positions partition id → last consumed offset
     */
    void commitCheckpoint(Map<Integer, Long> positions) {
        checkpointCommits.offer(positions);
    }

    private void close() {
        if (settings.checkpointCommits() != null) {
            settings.checkpointCommits().remove(this);
        }
        if (acknowledging()) {
            settings.acknowledgements().remove(this);
        }
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c == null) {
            closed = true;
            return;
        }
        try {
            if (error == null) {
                applyAcknowledgements();
                commitIfDue(true);
                commitCheckpoints(true);
            }
        } catch (RuntimeException ignored) {
            // the group may be gone; at-least-once: the records are read again
        } finally {
            try {
                c.close(Duration.ofSeconds(5));
            } finally {
                if (settings.meters() != null) {
                    settings.meters().paused(-paused.size());
                    buffers.keySet().forEach(settings.meters()::revoked);
                }
                paused.clear();
                closed = true;
                buffers.clear();
            }
        }
    }

    /** Partitions taken from this member: their buffered records go, their delivered offsets are committed. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            handOver(revoked, true);
        }

        /** Partitions another member may own already (this one missed the group): nothing can be committed. */
        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            handOver(lost, false);
        }

        private void handOver(Collection<TopicPartition> revoked, boolean commit) {
            applyAcknowledgements();
            for (TopicPartition tp : revoked) {
                PartitionBuffer dropped = buffers.remove(tp);
                Buffered head = dropped == null ? null : dropped.queue.peek();
                if (dropped != null) {
                    dropped.queue.clear(); // a drain holding it delivers nothing of it after the marker
                }
                Long last = delivered.get(tp);
                // lost ones too: a member that missed the group (frozen past its session timeout) and
                // gets them back must not skip what it fetched and dropped
                if (acknowledging()) {
                    // back to the first element not acknowledged (the drain records an offset before
                    // it takes the element, so one it is taking now is outstanding or still the head)
                    Long next = nextToCommit(tp);
                    if (head != null && (next == null || head.offset() < next)) {
                        next = head.offset();
                    }
                    if (next != null) {
                        rewind.put(tp, next);
                    }
                } else if (head != null || last != null) {
                    rewind.put(tp, head != null ? head.offset() : last + 1);
                }
                firstPending.remove(tp);
                // released once the new assignment is known, and only if it goes to another member
                toRelease.add(tp);
            }
            awaitingFirst.removeAll(revoked);
            int unpaused = 0;
            for (TopicPartition tp : revoked) {
                unpaused += paused.remove(tp) ? 1 : 0;
                if (settings.meters() != null) {
                    settings.meters().revoked(tp);
                }
            }
            if (settings.meters() != null) {
                settings.meters().paused(-unpaused);
            }
            if (commit && committing()) {
                Map<TopicPartition, OffsetAndMetadata> offsets = pendingCommits(revoked);
                if (!offsets.isEmpty()) {
                    consumer.commitSync(offsets);
                }
            }
            for (TopicPartition tp : revoked) {
                delivered.remove(tp);
                committed.remove(tp);
                acked.remove(tp);
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            try {
                for (TopicPartition tp : assigned) {
                    ids.checkPartition(tp.topic(), tp.partition());
                }
            } catch (IllegalStateException e) {
                fatal = e;
                throw e;
            }
            // a partition revoked and now assigned again goes back to its first record not handed
            // downstream; one that went to another member meanwhile starts afresh
            rewind.keySet().retainAll(consumer.assignment());
            List<TopicPartition> fresh = new ArrayList<>();
            for (TopicPartition tp : assigned) {
                // starts counting afresh (a drain that raced the revocation may have left offsets)
                acked.remove(tp);
                Long next = rewind.remove(tp);
                if (next != null) {
                    consumer.seek(tp, next);
                } else {
                    fresh.add(tp);
                }
            }
            seekToResumePositions(fresh);
            // after their last delivered element: the assigner downstream forgets the partitions that
            // left this member. One revoked and assigned again (an eager rebalance, or a member that
            // lost the group and rejoined) keeps its watermark there, so the other partitions cannot
            // race ahead of it while it is fetched again and make its records late.
            Set<TopicPartition> now = consumer.assignment();
            for (TopicPartition tp : toRelease) {
                if (!now.contains(tp)) {
                    control.offer(InputStatus.released(id(tp.topic(), tp.partition())));
                }
            }
            toRelease.clear();
            align(assigned);
        }
    }

    // ---- the subscriber's side ----

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            requested.getAndUpdate(r -> Operators.addCap(r, n));
            drain();
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        drain();
    }

    @SuppressWarnings("unchecked")
    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        for (;;) {
            long r = requested.get();
            long e = 0;
            List<PartitionBuffer> partitions = new ArrayList<>(buffers.values());
            while (e != r) {
                if (cancelled) {
                    buffers.clear();
                    control.clear();
                    return;
                }
                StreamElement<K, V> c = control.poll();
                if (c != null) {
                    actual.onNext(c);
                    e++;
                    continue;
                }
                if (gated) {
                    break;
                }
                Buffered b = next(partitions);
                if (b == null) {
                    break;
                }
                actual.onNext((StreamElement<K, V>) b.element());
                delivered.put(b.partition(), b.offset());
                if (settings.meters() != null && b.element() instanceof StreamRecord<?, ?>) {
                    settings.meters().recordOut(b.partition());
                }
                e++;
            }
            if (cancelled) {
                buffers.clear();
                return;
            }
            if (done && control.isEmpty() && buffers.values().stream().allMatch(b -> b.queue.isEmpty())) {
                Throwable t = error;
                cancelled = true;
                if (t != null) {
                    actual.onError(t);
                } else {
                    actual.onComplete();
                }
                return;
            }
            if (e != 0 && r != Long.MAX_VALUE) {
                requested.addAndGet(-e);
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                break;
            }
        }
    }

    /** The next element, taking the partitions in turn, so that no partition's records wait for another's. */
    private Buffered next(List<PartitionBuffer> partitions) {
        if (!firstPending.isEmpty()) {
            Buffered first = oldestFirst();
            if (first != null) {
                return first;
            }
        }
        int n = partitions.size();
        for (int k = 0; k < n; k++) {
            int i = (nextPartition + k) % n;
            PartitionBuffer pb = partitions.get(i);
            Buffered b = take(pb);
            if (b != null) {
                nextPartition = (i + 1) % n;
                return b;
            }
        }
        return null;
    }

    /**
     * The head of a partition's buffer, or null when it is empty or, in acknowledging mode, the
     * partition has as many unacknowledged elements as it may have. In acknowledging mode the
     * offset is recorded as handed out before the element leaves the buffer.
     */
    private Buffered take(PartitionBuffer pb) {
        if (acknowledging()) {
            Buffered head = pb.queue.peek();
            if (head == null) {
                return null;
            }
            Acked a = acked.computeIfAbsent(head.partition(), k -> new Acked());
            if (a.unacknowledged.get() >= settings.maxUnacknowledged()) {
                return null;
            }
            a.unacknowledged.incrementAndGet();
            a.handedOut.offer(head.offset());
        }
        Buffered b = pb.queue.poll();
        if (b != null) {
            pb.count.decrementAndGet();
        }
        return b;
    }

    /** The first element of the oldest of the newly assigned partitions, or null when none has one buffered. */
    private Buffered oldestFirst() {
        PartitionBuffer oldest = null;
        TopicPartition oldestTp = null;
        long oldestTs = Long.MAX_VALUE;
        for (TopicPartition tp : firstPending) {
            PartitionBuffer pb = buffers.get(tp);
            Buffered head = pb == null ? null : pb.queue.peek();
            if (head == null || atLimit(tp)) {
                continue;
            }
            long ts = head.element() instanceof StreamRecord<?, ?> r ? r.timestamp() : Long.MIN_VALUE;
            if (oldest == null || ts < oldestTs) {
                oldest = pb;
                oldestTp = tp;
                oldestTs = ts;
            }
        }
        if (oldest == null) {
            return null;
        }
        Buffered b = take(oldest);
        if (b != null) {
            firstPending.remove(oldestTp);
        }
        return b;
    }

    // ---- observation, for tests and metrics ----

    /** @return the largest number of records one partition's buffer held so far */
    public int maxBufferedPerPartition() {
        return maxBuffered.get();
    }

    /** @return the records fetched and not yet handed downstream, over all partitions */
    public int buffered() {
        return buffers.values().stream().mapToInt(b -> b.count.get()).sum();
    }

    /** @return the elements handed downstream and not acknowledged yet, over all partitions (acknowledging mode) */
    public int unacknowledged() {
        return acked.values().stream().mapToInt(a -> a.unacknowledged.get()).sum();
    }

    /** @return the partition ids paused at the moment */
    public Set<Integer> pausedPartitions() {
        Set<Integer> out = new HashSet<>();
        for (TopicPartition tp : paused) {
            out.add(id(tp.topic(), tp.partition()));
        }
        return out;
    }

    /** @return the partition ids assigned to the consumer, as of its last poll */
    public Set<Integer> assignedPartitions() {
        return assigned;
    }

    /** @return the poll thread */
    public Thread thread() {
        return thread;
    }

    /** @return whether the consumer has been closed */
    public boolean isClosed() {
        return closed;
    }
}
