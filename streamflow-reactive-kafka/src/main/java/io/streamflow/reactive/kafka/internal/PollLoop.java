package io.streamflow.reactive.kafka.internal;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.micrometer.core.instrument.Counter;
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

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
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
 * The hand-off costs little per record: a poll's records of a partition are decoded into one
 * {@link Batch} (offsets and elements in arrays) that is appended to the partition's
 * {@link PartitionState}, with one look-up of the partition per poll; the drain takes elements
 * from the batches by index and keeps the partition's positions (elements taken, last offset
 * handed downstream) in fields of its state. Which thread writes which field is documented on
 * {@link PartitionState}; the drain runs on one thread at a time, serialized by {@link #wip}.
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

    /**
     * The elements one poll fetched of one partition, in offset order. The poll thread fills it before
     * it appends it to {@link PartitionState#batches}, which publishes it; after that only the drain
     * changes it (drains follow each other through {@link PollLoop#wip}), and the poll thread reads only
     * {@link #first} and {@link #offsets}.
     */
    private static final class Batch {
        /** How many elements of the partition were fetched before this batch's first one. */
        final long first;
        final long[] offsets;
        /** The elements; the drain clears each one it takes. */
        final StreamElement<?, ?>[] elements;
        /** Drain only: index of the next element to take. */
        int next;

        Batch(long first, long[] offsets, StreamElement<?, ?>[] elements) {
            this.first = first;
            this.offsets = offsets;
            this.elements = elements;
        }

        /** @return the number of elements */
        int size() {
            return offsets.length;
        }
    }

    /**
     * One assigned partition: its fetched elements not yet taken by the drain, as the batches of the
     * polls that fetched them, and its positions. Made by the poll thread when the partition is first
     * seen in an assignment and dropped when it is revoked or lost (or the consumer closes), so a
     * partition assigned again starts with a new one, and a drain still holding the old one cannot
     * change the new one's positions.
     * <p>
     * Who writes what: the poll thread appends batches (and clears them on revocation) and writes
     * {@link #fetched}, {@link #revoked}, {@link #appended} and {@link #committed}; the drain takes
     * elements, removes exhausted batches from {@link #batches} (all of them once cancelled) and
     * writes {@link #taken}, {@link #delivered} and {@link #recordsOut}. The drain writes
     * {@code taken} and {@code delivered} once per element with release stores (ordered after
     * everything it did before, without a full fence); they are read as volatile, so a reader that
     * sees a value also sees what the drain did before writing it. A reader may see a slightly older
     * value than the latest, which only counts a record as buffered that is not any more, commits an
     * older offset or goes back to an element already handed downstream.
     */
    private static final class PartitionState {
        private static final VarHandle TAKEN;
        private static final VarHandle DELIVERED;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                TAKEN = lookup.findVarHandle(PartitionState.class, "taken", long.class);
                DELIVERED = lookup.findVarHandle(PartitionState.class, "delivered", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final TopicPartition tp;
        /** The partition id, see {@link PartitionIds}. */
        final int id;
        /** In acknowledging mode, its elements handed downstream and not acknowledged; otherwise null. */
        final Acked acked;
        /** The batches with elements not taken yet, oldest first: the drain removes each once it took its last. */
        final ConcurrentLinkedQueue<Batch> batches = new ConcurrentLinkedQueue<>();
        /** Poll thread only: the batches appended whose elements it has not seen all taken yet, oldest first. */
        private final ArrayDeque<Batch> appended = new ArrayDeque<>();
        /** Elements fetched so far (poll thread). */
        private volatile long fetched;
        /** Elements taken so far (drain, release stores). */
        private volatile long taken;
        /** Offset of the last element whose {@code onNext} returned, -1 before the first (drain, release stores). */
        private volatile long delivered = -1;
        /** Set by the poll thread when the partition is revoked or lost: the drain takes nothing more of it. */
        volatile boolean revoked;
        /** Poll thread only: the offset last committed, -1 before the first commit. */
        long committed = -1;
        /** Drain only: the partition's records counter, once its first record went downstream. */
        Counter recordsOut;

        PartitionState(TopicPartition tp, int id, boolean acknowledging) {
            this.tp = tp;
            this.id = id;
            this.acked = acknowledging ? new Acked() : null;
        }

        /**
         * Poll thread: appends a poll's elements, counted before they are published, so that no
         * reader sees more taken than fetched.
         */
        void append(long[] offsets, StreamElement<?, ?>[] elements) {
            long before = fetched;
            Batch batch = new Batch(before, offsets, elements);
            fetched = before + offsets.length;
            long t = taken;
            while (!appended.isEmpty() && appended.peekFirst().first + appended.peekFirst().size() <= t) {
                appended.pollFirst();
            }
            appended.addLast(batch);
            batches.offer(batch);
        }

        /** @return the elements fetched and not taken yet; any thread */
        int buffered() {
            long t = taken;
            return (int) (fetched - t);
        }

        /** Drain: one element was taken (after its offset was recorded as handed out, if acknowledging). */
        void took() {
            TAKEN.setRelease(this, taken + 1);
        }

        /** Drain: the element at {@code offset} went downstream, its {@code onNext} returned. */
        void delivered(long offset) {
            DELIVERED.setRelease(this, offset);
        }

        /** @return the offset of the last element handed downstream, -1 when none was */
        long lastDelivered() {
            return delivered;
        }

        /**
         * Poll thread: the offset of the first element not taken, or -1 when every fetched one was.
         * Read after {@link #revoked} is set; a drain taking an element at that moment may have taken
         * the one returned, which then goes downstream as well (before the release marker).
         */
        long head() {
            long t = taken;
            for (Batch b : appended) {
                if (t < b.first + b.size()) {
                    return b.offsets[(int) Math.max(0, t - b.first)];
                }
            }
            return -1;
        }

        /** @return whether no fetched element is left to take; any thread */
        boolean isEmpty() {
            return batches.isEmpty();
        }
    }

    private static final PartitionState[] NONE = new PartitionState[0];

    private final Settings<K, V> settings;
    private final CoreSubscriber<? super StreamElement<K, V>> actual;
    private final String operator;
    private final Thread thread;
    private final PartitionIds ids;
    /** Whether elements count as processed only once acknowledged (not for a checkpointed source). */
    private final boolean acknowledging;
    /** Release markers of revoked partitions, delivered before any buffered record. */
    private final ConcurrentLinkedQueue<StreamElement<K, V>> control = new ConcurrentLinkedQueue<>();

    /** The assigned partitions' states; only the poll thread adds and removes them. */
    private final Map<TopicPartition, PartitionState> partitions = new ConcurrentHashMap<>();
    /**
     * The values of {@link #partitions} as an array for the drain, which takes from them in turn;
     * replaced by the poll thread whenever it adds or removes a partition.
     */
    private volatile PartitionState[] drainOrder = NONE;
    private final AtomicLong requested = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicInteger maxBuffered = new AtomicInteger();
    private final Set<TopicPartition> paused = ConcurrentHashMap.newKeySet();
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
    /** Drain only: the partition of the element {@link #take} returned last. */
    private PartitionState takenFrom;
    /** Drain only: the offset of the element {@link #take} returned last. */
    private long takenOffset;
    /**
     * Newly assigned partitions whose first fetched element has not been handed downstream yet: once
     * the alignment gate opens, their first elements go first, oldest Kafka timestamp first, so the
     * watermark assigner downstream knows every one of them before a younger one moves the watermark.
     */
    private final Set<PartitionState> firstPending = ConcurrentHashMap.newKeySet();

    // poll thread only
    private KafkaConsumer<byte[], byte[]> consumer;
    private long lastCommitNanos;
    private final Set<PartitionState> awaitingFirst = new HashSet<>();
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
        this.acknowledging = settings.acknowledgements() != null && settings.resumeAfter() == null;
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
            if (acknowledging) {
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
                buffer(records);
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
                PartitionState p = partition(tp);
                awaitingFirst.add(p);
                firstPending.add(p);
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
            PartitionState p = partition(tp);
            now.add(p.id);
            int n = p.buffered();
            boolean shouldPause = n >= settings.bufferPerPartition() || (!demand && n > 0) || atLimit(p);
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
                    meters.lag(tp, lag.getAsLong() + partition(tp).buffered());
                }
            }
        }
        return !paused.isEmpty();
    }

    /** The state of an assigned partition, made on first use. Poll thread. */
    private PartitionState partition(TopicPartition tp) {
        PartitionState p = partitions.get(tp);
        if (p == null) {
            p = new PartitionState(tp, id(tp.topic(), tp.partition()), acknowledging);
            partitions.put(tp, p);
            drainOrder = partitions.values().toArray(NONE);
        }
        return p;
    }

    /**
     * Decodes a poll's records and hands each partition's over to the drain as one batch: one look-up
     * of the partition and one queue node per partition and poll, not per record.
     */
    private void buffer(ConsumerRecords<byte[], byte[]> records) {
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> fetched = records.records(tp);
            int n = fetched.size();
            if (n == 0) {
                continue;
            }
            PartitionState p = partition(tp);
            long[] offsets = new long[n];
            StreamElement<?, ?>[] elements = new StreamElement<?, ?>[n];
            int i = 0;
            for (ConsumerRecord<byte[], byte[]> r : fetched) {
                offsets[i] = r.offset();
                elements[i] = decode(r, p.id);
                i++;
            }
            p.append(offsets, elements);
            maxBuffered.accumulateAndGet(p.buffered(), Math::max);
            if (!awaitingFirst.isEmpty()) {
                awaitingFirst.remove(p);
            }
        }
    }

    private StreamElement<K, V> decode(ConsumerRecord<byte[], byte[]> r, int partitionId) {
        Origin origin = Origin.of(r.topic(), partitionId, r.offset());
        Header[] recordHeaders = r.headers().toArray();
        long size = (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
        for (Header h : recordHeaders) {
            size += h.key().getBytes(StandardCharsets.UTF_8).length + (h.value() == null ? 0 : h.value().length);
        }
        if (size > settings.maxRecordBytes()) {
            return deadLetter(r, origin, "has " + size + " bytes of key, value and headers, more than the limit of "
                    + settings.maxRecordBytes(), null);
        }
        if (r.value() == null) {
            return deadLetter(r, origin, "has a null value (a tombstone)", null);
        }
        Map<String, String> headers = recordHeaders.length == 0 ? Map.of() : new HashMap<>();
        for (Header h : recordHeaders) {
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

    /** Whether the partition has as many unacknowledged elements as it may have. Any thread. */
    private boolean atLimit(PartitionState p) {
        return acknowledging && p.acked.unacknowledged.get() >= settings.maxUnacknowledged();
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
        if (!acknowledging) {
            return;
        }
        List<Ack> taken = new ArrayList<>();
        for (Ack a = acks.poll(); a != null; a = acks.poll()) {
            taken.add(a);
        }
        for (PartitionState p : partitions.values()) {
            p.acked.absorb();
        }
        for (Ack a : taken) {
            PartitionState p = partitions.get(a.partition());
            if (p != null) {
                p.acked.acknowledge(a.offset());
            }
        }
    }

    /**
     * The offset to commit for a partition: the one after its last element handed downstream, or in
     * acknowledging mode its first element not acknowledged; -1 when there is none.
     */
    private long nextToCommit(PartitionState p) {
        if (p == null) {
            return -1;
        }
        if (acknowledging) {
            p.acked.absorb();
            return p.acked.position();
        }
        long last = p.lastDelivered();
        return last < 0 ? -1 : last + 1;
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
        Map<TopicPartition, PartitionState> states = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            states.put(tp, partitions.get(tp));
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = pendingCommits(states);
        if (offsets.isEmpty()) {
            return;
        }
        if (force) {
            consumer.commitSync(offsets);
        } else {
            consumer.commitAsync(offsets, null);
        }
        offsets.forEach((tp, o) -> states.get(tp).committed = o.offset());
    }

    /** The offsets to commit of these partitions (a state may be null: nothing to commit). */
    private Map<TopicPartition, OffsetAndMetadata> pendingCommits(Map<TopicPartition, PartitionState> states) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        states.forEach((tp, p) -> {
            long next = nextToCommit(p);
            if (next >= 0 && next != p.committed) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        });
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
        if (acknowledging) {
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
                    partitions.keySet().forEach(settings.meters()::revoked);
                }
                paused.clear();
                closed = true;
                partitions.clear();
                drainOrder = NONE;
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
            // what drains that have finished did is visible from here on; one running now may take
            // at most one more element of each partition (see below), which the positions allow for
            wip.get();
            Map<TopicPartition, PartitionState> dropped = new LinkedHashMap<>();
            for (TopicPartition tp : revoked) {
                PartitionState p = partitions.remove(tp);
                long head = -1;
                if (p != null) {
                    dropped.put(tp, p);
                    // a drain checks this before it takes an element and offers the marker only after
                    // the element it took, so it delivers nothing of the partition after the marker
                    p.revoked = true;
                    head = p.head();
                    p.batches.clear();
                    firstPending.remove(p);
                    awaitingFirst.remove(p);
                }
                long last = p == null ? -1 : p.lastDelivered();
                // lost ones too: a member that missed the group (frozen past its session timeout) and
                // gets them back must not skip what it fetched and dropped
                if (acknowledging) {
                    // back to the first element not acknowledged (the drain records an offset before
                    // it takes the element, so one it is taking now is outstanding or still the head)
                    long next = nextToCommit(p);
                    if (head >= 0 && (next < 0 || head < next)) {
                        next = head;
                    }
                    if (next >= 0) {
                        rewind.put(tp, next);
                    }
                } else if (head >= 0 || last >= 0) {
                    rewind.put(tp, head >= 0 ? head : last + 1);
                }
                // released once the new assignment is known, and only if it went to another member
                toRelease.add(tp);
            }
            if (!dropped.isEmpty()) {
                drainOrder = partitions.values().toArray(NONE);
            }
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
                Map<TopicPartition, OffsetAndMetadata> offsets = pendingCommits(dropped);
                if (!offsets.isEmpty()) {
                    consumer.commitSync(offsets);
                }
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
            // each starts with a new PartitionState, so positions that a drain racing the revocation
            // left in the old one do not count
            List<TopicPartition> fresh = new ArrayList<>();
            for (TopicPartition tp : assigned) {
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
        SourceMeters meters = settings.meters();
        for (;;) {
            long r = requested.get();
            long e = 0;
            PartitionState[] order = drainOrder;
            while (e != r) {
                if (cancelled) {
                    dropBuffered();
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
                StreamElement<?, ?> element = next(order);
                if (element == null) {
                    break;
                }
                PartitionState p = takenFrom;
                long offset = takenOffset;
                takenFrom = null;
                actual.onNext((StreamElement<K, V>) element);
                p.delivered(offset);
                if (meters != null && element instanceof StreamRecord<?, ?>) {
                    Counter out = p.recordsOut;
                    if (out == null) {
                        out = meters.recordsOut(p.tp);
                        p.recordsOut = out;
                    }
                    out.increment();
                }
                e++;
            }
            if (cancelled) {
                dropBuffered();
                return;
            }
            if (done && control.isEmpty() && partitions.values().stream().allMatch(PartitionState::isEmpty)) {
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

    /**
     * Drain, once cancelled (it never runs again then): drops the fetched elements not taken. The
     * partitions' states stay, so that the poll thread commits their positions when it closes.
     */
    private void dropBuffered() {
        for (PartitionState p : partitions.values()) {
            p.batches.clear();
        }
    }

    /**
     * The next element, taking the partitions in turn, so that no partition's records wait for
     * another's; its partition and offset are left in {@link #takenFrom} and {@link #takenOffset}.
     */
    private StreamElement<?, ?> next(PartitionState[] partitions) {
        if (!firstPending.isEmpty()) {
            StreamElement<?, ?> first = oldestFirst();
            if (first != null) {
                return first;
            }
        }
        int n = partitions.length;
        for (int k = 0; k < n; k++) {
            int i = nextPartition + k;
            if (i >= n) {
                i -= n;
            }
            StreamElement<?, ?> element = take(partitions[i]);
            if (element != null) {
                nextPartition = i + 1 == n ? 0 : i + 1;
                return element;
            }
        }
        return null;
    }

    /**
     * Takes the first element of a partition's buffer, or returns null when it is empty, the
     * partition was revoked or, in acknowledging mode, it has as many unacknowledged elements as it
     * may have. In acknowledging mode the offset is recorded as handed out before the element counts
     * as taken.
     */
    private StreamElement<?, ?> take(PartitionState p) {
        if (p.revoked) {
            return null;
        }
        Batch b = p.batches.peek();
        if (b == null) {
            return null;
        }
        int i = b.next;
        long offset = b.offsets[i];
        if (acknowledging) {
            Acked a = p.acked;
            if (a.unacknowledged.get() >= settings.maxUnacknowledged()) {
                return null;
            }
            a.unacknowledged.incrementAndGet();
            a.handedOut.offer(offset);
        }
        StreamElement<?, ?> element = b.elements[i];
        b.elements[i] = null;
        b.next = i + 1;
        p.took();
        if (i + 1 == b.size()) {
            p.batches.poll();
        }
        takenFrom = p;
        takenOffset = offset;
        return element;
    }

    /** The first element of the oldest of the newly assigned partitions, or null when none has one buffered. */
    private StreamElement<?, ?> oldestFirst() {
        PartitionState oldest = null;
        long oldestTs = Long.MAX_VALUE;
        for (PartitionState p : firstPending) {
            Batch b = p.revoked ? null : p.batches.peek();
            if (b == null || atLimit(p)) {
                continue;
            }
            StreamElement<?, ?> head = b.elements[b.next];
            long ts = head instanceof StreamRecord<?, ?> r ? r.timestamp() : Long.MIN_VALUE;
            if (oldest == null || ts < oldestTs) {
                oldest = p;
                oldestTs = ts;
            }
        }
        if (oldest == null) {
            return null;
        }
        StreamElement<?, ?> element = take(oldest);
        if (element != null) {
            firstPending.remove(oldest);
        }
        return element;
    }

    // ---- observation, for tests and metrics ----

    /** @return the largest number of records one partition's buffer held so far */
    public int maxBufferedPerPartition() {
        return maxBuffered.get();
    }

    /** @return the records fetched and not yet handed downstream, over all partitions */
    public int buffered() {
        return partitions.values().stream().mapToInt(PartitionState::buffered).sum();
    }

    /** @return the elements handed downstream and not acknowledged yet, over all partitions (acknowledging mode) */
    public int unacknowledged() {
        return acknowledging ? partitions.values().stream().mapToInt(p -> p.acked.unacknowledged.get()).sum() : 0;
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
