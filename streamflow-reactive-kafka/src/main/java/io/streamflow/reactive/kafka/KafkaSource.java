package io.streamflow.reactive.kafka;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.OutboxSink;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.json.JsonDecoder;
import io.streamflow.reactive.kafka.internal.Acknowledgements;
import io.streamflow.reactive.kafka.internal.AcknowledgingSubscriber;
import io.streamflow.reactive.kafka.internal.CheckpointCommits;
import io.streamflow.reactive.kafka.internal.JsonValues;
import io.streamflow.reactive.kafka.internal.PollLoop;
import io.streamflow.reactive.kafka.internal.SourceMeters;
import io.streamflow.reactive.kafka.internal.Utf8;
import io.streamflow.reactive.kafka.internal.ValueDecoder;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Records of Kafka topics as a {@link Flux} of {@link StreamElement}s, with demand as
 * backpressure:
 * <pre>{@code
 * KafkaSource<String, String> clicks = KafkaSource.strings(Map.of("bootstrap.servers", servers,
 *         "group.id", "click-counter")).topic("clicks");
 * EventStream.from(clicks.flux(), WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofSeconds(5)));
 * }</pre>
 * Read a topic ({@link #topic(String)}), a list of topics ({@link #topics(String...)}) or every
 * topic matching a pattern ({@link #topicPattern(String)}) in a consumer group, or given
 * partitions without a group ({@link #assign(String, int...)}). Keys and values are decoded on the
 * poll thread: as strict UTF-8 text ({@link #strings}), as bytes ({@link #bytes}), as JSON
 * ({@link #json}) or by your own Kafka {@code Deserializer} ({@link #create}).
 * <p>
 * Each record's event time is its Kafka timestamp (give it another one with
 * {@code WatermarkStrategy.withTimestampAssigner}, or a JSON timestamp field); its
 * {@link io.streamflow.reactive.Origin} is the topic, the partition id and the offset, so
 * watermarks are generated per Kafka partition; its headers are carried, decoded as UTF-8.
 * <p>
 * Partitions are delivered in turn, and after an assignment delivery waits until every assigned
 * partition that has records has fetched its first one (see {@link #alignTimeout(Duration)}), then
 * hands those first records over first, oldest Kafka timestamp first, so a watermark assigner
 * downstream knows all of them before the watermark moves. A partition with
 * no records does not hold the watermark back. The {@code Origin} partition of a record is its
 * partition id (see {@link #topics(String...)} and {@link #topicPattern(String)}). A partition
 * taken from this member in a rebalance (or lost) and not assigned back to it is followed, after
 * the last element of it that was delivered, by {@link InputStatus#released(int)} with its id:
 * the watermark assigner downstream ({@code EventStream.from}, {@code Checkpointing.source})
 * forgets it, so it does not hold the watermark back, with or without
 * {@code WatermarkStrategy.withIdleness}. One revoked and assigned back in the same rebalance
 * keeps its watermark, so the other partitions cannot run ahead of it while it is fetched again. If you consume
 * the elements yourself, expect these markers besides records and dead letters.
 * <p>
 * A record becomes a {@link DeadLetter}, and the source goes on, when its key or value cannot be
 * decoded, its value is {@code null} (a tombstone), its key, value and headers (names and values)
 * together are larger than {@link #maxRecordBytes(int)}, or a header cannot be carried as text (a
 * value that is not UTF-8 or {@code null}, a name that occurs twice). The dead letter's
 * {@linkplain DeadLetter#input() input} is the record as it is in Kafka, a {@link KafkaRecord}
 * with its original bytes (for a header name that occurs more than once, its last value), so that
 * it can be forwarded as it is; its origin and its error name the topic, partition and offset.
 * <p>
 * Each subscription has its own consumer owned by a dedicated thread
 * ({@code streamflow-kafka-poll-<n>}), which also calls {@code onNext}: per-record work
 * downstream that does not move to another scheduler runs on that thread, which is fine, because
 * it runs only as far as demand goes and the thread is not a Reactor non-blocking thread. A
 * partition whose buffer is full, or that has records buffered while there is no demand, is
 * paused and resumed when the subscriber has taken them; the thread keeps polling meanwhile, so
 * the member stays in its group. A partition's buffer holds at most
 * {@code bufferPerPartition + max.poll.records - 1} records. The source never completes;
 * cancelling closes the consumer on its thread (after committing, see below) and drops the
 * buffered records. A consumer error (for example a failed authentication or an unknown topic in
 * an assignment) fails the {@code Flux}.
 * <p>
 * Offsets: {@link #flux()} commits the offsets of the elements it handed downstream to the group
 * every {@link #commitInterval(Duration)}, when partitions are revoked and on cancel; a record is
 * handed over when {@code onNext} returned, so the guarantee is at-least-once for pipelines that
 * process a record before {@code onNext} returns. A pipeline that finishes a record later, on
 * another thread (an asynchronous sink such as {@link KafkaSender}, which holds up to
 * {@code maxInFlight} records unacknowledged by the broker), reads {@link #acknowledged()}: then an
 * element counts as processed only once it is acknowledged ({@link #acknowledge(StreamElement)},
 * {@link #acknowledgeResults()} behind a sender, {@link #keepOrAcknowledge(Predicate)} for what the
 * pipeline drops), and per partition only offsets up to the first element not acknowledged are
 * committed, so a crash loses nothing:
 * <pre>{@code
 * KafkaSource<String, String> clicks = KafkaSource.strings(props).topic("clicks").acknowledged();
 * clicks.flux()
 *         .filter(clicks.keepOrAcknowledge(e -> e instanceof StreamRecord))
 *         .map(e -> (StreamRecord<String, String>) e)
 *         .transform(sender.send(r -> KafkaRecord.of("clicks-copy", bytes(r.key()), bytes(r.value()))))
 *         .transform(clicks.acknowledgeResults())
 *         .subscribe();
 * }</pre>
 * {@link #resume()} is for checkpointed pipelines:
 * the checkpoint holds the positions, and the group gets them only after a checkpoint, through
 * {@link #committingOffsets(String, OutboxSink)}.
 * <p>
 * Limits of this version: keyed state does not move with a partition to another member (a
 * checkpointed pipeline is meant for fixed assignments, or for one member per group); a partition
 * given back to this member after a rebalance starts afresh in the watermark assigner, so its
 * records older than the watermark reached meanwhile are late.
 * <p>
 * An immutable configuration: each setter returns a copy.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class KafkaSource<K, V> {

    /** Default {@link #bufferPerPartition(int)}: records buffered per partition before it is paused. */
    public static final int DEFAULT_BUFFER_PER_PARTITION = 512;
    /** Default {@link #maxRecordBytes(int)}: 1 MiB of key, value and headers. */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1 << 20;
    /** Default {@link #commitInterval(Duration)}. */
    public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofSeconds(5);

    /** Default {@link #maxUnacknowledged(int)}: elements of a partition handed downstream and not acknowledged. */
    public static final int DEFAULT_MAX_UNACKNOWLEDGED = 1024;

    /** Default {@link #alignTimeout(Duration)}. */
    public static final Duration DEFAULT_ALIGN_TIMEOUT = Duration.ofSeconds(10);

    private static final int MAX_TOPICS = 1 << 15;

    private static final Set<String> OWNED = Set.of("key.deserializer", "value.deserializer", "enable.auto.commit");

    private final Map<String, Object> properties;
    private final Deserializer<K> keyDeserializer;
    private final ValueDecoder<K, V> valueDecoder;
    private final List<String> topics;
    private final Pattern topicPattern;
    private final int[] partitions;
    private final int maxRecordBytes;
    private final int bufferPerPartition;
    private final Duration commitInterval;
    private final Duration alignTimeout;
    /** Shared by a source and its copies: their live subscriptions, for {@link #committingOffsets}. */
    private final CheckpointCommits checkpointCommits;
    /** The meters, or {@code null}. */
    private final SourceMeters meters;
    /** Shared by a source and its copies: their live acknowledging subscriptions, for {@link #acknowledge}. */
    private final Acknowledgements acknowledgements;
    /** Whether {@link #flux()} commits only acknowledged elements. */
    private final boolean acknowledged;
    private final int maxUnacknowledged;

    private KafkaSource(Map<String, Object> properties, Deserializer<K> keyDeserializer,
                        ValueDecoder<K, V> valueDecoder, List<String> topics, Pattern topicPattern, int[] partitions,
                        int maxRecordBytes, int bufferPerPartition, Duration commitInterval, Duration alignTimeout,
                        CheckpointCommits checkpointCommits, SourceMeters meters, Acknowledgements acknowledgements,
                        boolean acknowledged, int maxUnacknowledged) {
        this.properties = properties;
        this.keyDeserializer = keyDeserializer;
        this.valueDecoder = valueDecoder;
        this.topics = topics;
        this.topicPattern = topicPattern;
        this.partitions = partitions;
        this.maxRecordBytes = maxRecordBytes;
        this.bufferPerPartition = bufferPerPartition;
        this.commitInterval = commitInterval;
        this.alignTimeout = alignTimeout;
        this.checkpointCommits = checkpointCommits;
        this.meters = meters;
        this.acknowledgements = acknowledgements;
        this.acknowledged = acknowledged;
        this.maxUnacknowledged = maxUnacknowledged;
    }

    /**
     * A source with the consumer {@code consumerProperties} (at least {@code bootstrap.servers}; a
     * {@code group.id} to subscribe with {@link #topic(String)}; security and fetch settings pass
     * through as they are) and the user's deserializers, called on the poll thread. Nothing
     * connects before a subscription.
     *
     * @param <K>                 key type
     * @param <V>                 value type
     * @param consumerProperties  Kafka consumer properties; {@code key.deserializer},
     *                            {@code value.deserializer} and {@code enable.auto.commit} are set
     *                            by the source (auto-commit off)
     * @param keyDeserializer     decodes keys (a {@code null} key stays {@code null}); a throw makes
     *                            the record a dead letter
     * @param valueDeserializer   decodes values (never called with {@code null}: a tombstone is a dead
     *                            letter); a throw makes the record a dead letter
     * @return the source; choose the topic with {@link #topic(String)} or {@link #assign(String, int...)}
     * @throws IllegalArgumentException if {@code bootstrap.servers} is missing
     */
    public static <K, V> KafkaSource<K, V> create(Map<String, ?> consumerProperties, Deserializer<K> keyDeserializer,
                                                  Deserializer<V> valueDeserializer) {
        Objects.requireNonNull(valueDeserializer, "valueDeserializer");
        return create(consumerProperties, keyDeserializer, ValueDecoder.of(valueDeserializer));
    }

    private static <K, V> KafkaSource<K, V> create(Map<String, ?> consumerProperties, Deserializer<K> keyDeserializer,
                                                   ValueDecoder<K, V> valueDecoder) {
        Objects.requireNonNull(consumerProperties, "consumerProperties");
        Objects.requireNonNull(keyDeserializer, "keyDeserializer");
        if (!consumerProperties.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException("consumer properties need bootstrap.servers, got "
                    + consumerProperties.keySet());
        }
        Map<String, Object> props = new HashMap<>(consumerProperties);
        OWNED.forEach(props::remove);
        props.put("enable.auto.commit", "false");
        return new KafkaSource<>(Map.copyOf(props), keyDeserializer, valueDecoder, null, null, null,
                DEFAULT_MAX_RECORD_BYTES, DEFAULT_BUFFER_PER_PARTITION, DEFAULT_COMMIT_INTERVAL,
                DEFAULT_ALIGN_TIMEOUT, new CheckpointCommits(), null, new Acknowledgements(), false,
                DEFAULT_MAX_UNACKNOWLEDGED);
    }

    /**
     * As {@link #create}, with keys and values decoded as UTF-8 text, strictly: a key or value that
     * is not well-formed UTF-8 makes the record a dead letter whose error names the first bad byte
     * (Kafka's {@code StringDeserializer} would replace it with U+FFFD, silently).
     *
     * @param consumerProperties Kafka consumer properties, see {@link #create}
     * @return the source
     * @throws IllegalArgumentException if {@code bootstrap.servers} is missing
     */
    public static KafkaSource<String, String> strings(Map<String, ?> consumerProperties) {
        return create(consumerProperties, new Utf8.StrictDeserializer(), new Utf8.StrictDeserializer());
    }

    /**
     * As {@link #create}, with keys as strict UTF-8 text (see {@link #strings}) and values decoded
     * by {@code values}, with its stream semantics: with a timestamp field the record takes that
     * time, with {@link JsonDecoder#withoutTimestampField()} it keeps its Kafka timestamp. A value
     * the decoder cannot decode makes the record a dead letter whose error has the decoder's
     * {@code JsonDecodingException} as its cause.
     * <pre>{@code
     * KafkaSource<String, Event> orders = KafkaSource.json(Map.of("bootstrap.servers", servers,
     *         "group.id", "order-stats"), JsonDecoder.events().timestampField("ts")).topic("orders");
     * }</pre>
     *
     * @param <V>                the decoded type
     * @param consumerProperties Kafka consumer properties, see {@link #create}
     * @param values             the JSON decoder of the values
     * @return the source
     * @throws IllegalArgumentException if {@code bootstrap.servers} is missing
     */
    public static <V> KafkaSource<String, V> json(Map<String, ?> consumerProperties, JsonDecoder<V> values) {
        Objects.requireNonNull(values, "values");
        return create(consumerProperties, new Utf8.StrictDeserializer(), new JsonValues<>(values));
    }

    /**
     * As {@link #create}, with keys and values as the bytes in Kafka.
     *
     * @param consumerProperties Kafka consumer properties, see {@link #create}
     * @return the source
     * @throws IllegalArgumentException if {@code bootstrap.servers} is missing
     */
    public static KafkaSource<byte[], byte[]> bytes(Map<String, ?> consumerProperties) {
        return create(consumerProperties, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Subscribes to {@code topic} in the consumer group {@code group.id}: the group's members share
     * its partitions. Partitions without a committed offset (or a resume position) start at
     * {@code auto.offset.reset}. The same as {@link #topics(String...)} with one topic: the
     * partition ids are the Kafka partition numbers.
     *
     * @param topic the topic
     * @return a copy reading {@code topic} in the group
     * @throws IllegalArgumentException if the consumer properties have no {@code group.id} or the
     *                                  topic is blank
     */
    public KafkaSource<K, V> topic(String topic) {
        return topics(topic);
    }

    /**
     * Subscribes to these topics in the consumer group {@code group.id}. The partition id of a
     * record (its {@code Origin.partition()}, by which watermarks are generated, keyed state is
     * sharded and checkpoint positions are kept) is {@code index << 16 | partition}, where
     * {@code index} is the topic's place in this list: so keep the order of the list across
     * restarts of a checkpointed pipeline, and add topics at its end. The first topic's ids are
     * its partition numbers. Topics may have at most 65,536 partitions.
     *
     * @param topics the topics, at least one, at most 32,768
     * @return a copy reading the topics in the group
     * @throws IllegalArgumentException if the consumer properties have no {@code group.id}, no topic
     *                                  is given, one is blank or one is given twice
     */
    public KafkaSource<K, V> topics(String... topics) {
        Objects.requireNonNull(topics, "topics");
        List<String> list = List.of(topics);
        if (list.isEmpty() || list.size() > MAX_TOPICS || list.stream().anyMatch(String::isBlank)
                || new HashSet<>(list).size() != list.size()) {
            throw new IllegalArgumentException("topics needs 1 to " + MAX_TOPICS
                    + " distinct topics, none blank, got " + list);
        }
        if (properties.get("group.id") == null) {
            throw new IllegalArgumentException("subscribing to " + list + " needs group.id in the consumer "
                    + "properties; without a group, use assign(topic, partitions...)");
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, list, null, null, maxRecordBytes,
                bufferPerPartition, commitInterval, alignTimeout, checkpointCommits, meters, acknowledgements,
                acknowledged, maxUnacknowledged);
    }

    /**
     * Subscribes to every topic whose whole name matches the regular expression {@code regex}, in
     * the consumer group {@code group.id}: the group's members share their partitions, and a
     * matching topic created later is picked up at the consumer's next metadata refresh
     * ({@code metadata.max.age.ms}, 5 minutes by default).
     * <p>
     * The partition id of a record (its {@code Origin.partition()}, by which watermarks are
     * generated, keyed state is sharded and checkpoint positions are kept) does not depend on which
     * topics exist: it is {@code hash << 12 | partition}, where {@code hash} is the low 19 bits of
     * the CRC-32 of the topic name's UTF-8 bytes. So it stays the same across restarts, also when
     * topics are added or removed meanwhile. It needs the partitions to be below 4,096, and two
     * matched topics to have different hashes (two random names collide with a chance of 1 in
     * 524,288; among 50 topics, of about 1 in 420): otherwise the {@code Flux} fails with an error
     * naming both topics, and a fixed list ({@link #topics(String...)}) is the way out.
     *
     * @param regex a {@link Pattern} regular expression for whole topic names
     * @return a copy reading the matching topics in the group
     * @throws IllegalArgumentException if the consumer properties have no {@code group.id}, or the
     *                                  expression is blank or not valid
     */
    public KafkaSource<K, V> topicPattern(String regex) {
        Objects.requireNonNull(regex, "regex");
        if (regex.isBlank()) {
            throw new IllegalArgumentException("topicPattern needs a regular expression, got a blank one");
        }
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException("topicPattern needs a valid regular expression: " + e.getMessage(), e);
        }
        if (properties.get("group.id") == null) {
            throw new IllegalArgumentException("subscribing to the topic pattern '" + regex + "' needs group.id in "
                    + "the consumer properties");
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, null, pattern, null, maxRecordBytes,
                bufferPerPartition, commitInterval, alignTimeout, checkpointCommits, meters, acknowledgements,
                acknowledged, maxUnacknowledged);
    }

    /**
     * Reads the given partitions of {@code topic}, without group subscription (offsets are still
     * committed when {@code group.id} is set).
     *
     * @param topic      the topic
     * @param partitions its partitions to read, at least one, none negative
     * @return a copy reading those partitions
     * @throws IllegalArgumentException if the topic is blank or no partition is given or one is negative
     */
    public KafkaSource<K, V> assign(String topic, int... partitions) {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(partitions, "partitions");
        if (topic.isBlank() || partitions.length == 0 || Arrays.stream(partitions).anyMatch(p -> p < 0 || p > 0xFFFF)) {
            throw new IllegalArgumentException("assign needs a topic and at least one partition >= 0, got '" + topic
                    + "' " + Arrays.toString(partitions));
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, List.of(topic), null,
                Arrays.stream(partitions).distinct().toArray(), maxRecordBytes, bufferPerPartition, commitInterval,
                alignTimeout, checkpointCommits, meters, acknowledgements,
                acknowledged, maxUnacknowledged);
    }

    /**
     * @param bytes the largest size of a record's key, value and headers (names as UTF-8, and values)
     *              together; larger records become dead letters
     * @return a copy with that limit
     * @throws IllegalArgumentException if {@code bytes < 1}
     */
    public KafkaSource<K, V> maxRecordBytes(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("maxRecordBytes must be >= 1, was " + bytes);
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, topics, topicPattern, partitions, bytes,
                bufferPerPartition, commitInterval, alignTimeout, checkpointCommits, meters, acknowledgements,
                acknowledged, maxUnacknowledged);
    }

    /**
     * @param records how many fetched records one partition buffers before it is paused
     * @return a copy with that buffer size
     * @throws IllegalArgumentException if {@code records < 1}
     */
    public KafkaSource<K, V> bufferPerPartition(int records) {
        if (records < 1) {
            throw new IllegalArgumentException("bufferPerPartition must be >= 1, was " + records);
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, topics, topicPattern, partitions, maxRecordBytes,
                records, commitInterval, alignTimeout, checkpointCommits, meters, acknowledgements,
                acknowledged, maxUnacknowledged);
    }

    /**
     * @param interval how often {@link #flux()} commits the offsets of delivered elements (of
     *                 acknowledged ones, see {@link #acknowledged()}) to the group
     * @return a copy with that interval
     * @throws IllegalArgumentException if {@code interval} is negative
     */
    public KafkaSource<K, V> commitInterval(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("commitInterval must not be negative, was " + interval);
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, topics, topicPattern, partitions, maxRecordBytes,
                bufferPerPartition, interval, alignTimeout, checkpointCommits, meters, acknowledgements,
                acknowledged, maxUnacknowledged);
    }

    /**
     * After partitions are assigned (at the start, and after each rebalance), delivery waits until
     * every newly assigned partition that has records has fetched its first one, but at most
     * {@code timeout}; then the first record of each of them is delivered, oldest Kafka timestamp
     * first, and after them the partitions' records in turn. A watermark assigner
     * downstream learns of a partition from its first record: without this wait, a partition
     * whose first fetch came late would find the watermark moved on by the others, and its records
     * late.
     *
     * @param timeout the longest wait; {@link Duration#ZERO} delivers at once
     * @return a copy with that timeout
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public KafkaSource<K, V> alignTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("alignTimeout must not be negative, was " + timeout);
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, topics, topicPattern, partitions, maxRecordBytes,
                bufferPerPartition, commitInterval, timeout, checkpointCommits, meters, acknowledgements,
                acknowledged, maxUnacknowledged);
    }

    /**
     * A copy whose {@link #flux()} counts an element as processed only once it is acknowledged,
     * for pipelines that finish records asynchronously (a {@link KafkaSender}, or any work that
     * goes on after {@code onNext} returned): at-least-once end to end, also when the process dies.
     * <ul>
     * <li>Acknowledge every record and dead letter of the {@code Flux} once its outcome is final:
     * {@link #acknowledgeResults()} after a sender acknowledges each result's input (a result
     * holding a {@code DeadLetter} too: the dead letter is the record's outcome), and
     * {@link #acknowledge(StreamElement)} or {@link #acknowledge(Origin)} acknowledge one element.
     * An element the pipeline drops must be acknowledged as well: filter with
     * {@link #keepOrAcknowledge(Predicate)}, which acknowledges what it drops. Release markers
     * ({@link InputStatus}) need none. Acknowledgements may come in any order and from any thread,
     * through this source or any copy of it (they share the routing, by the element's
     * {@link Origin}); they are applied on the poll thread, and one of an element no longer
     * outstanding (acknowledged already, or of a partition since revoked) is ignored.</li>
     * <li>Per partition, the offset committed (every {@link #commitInterval(Duration)}, on
     * revocation and on cancel) is that of the first element not yet acknowledged: the
     * acknowledged prefix, never past an element still in flight. A restart of the group, or the
     * member that takes a revoked partition over, reads again from there, so an element
     * acknowledged after one still in flight may be read twice. A partition revoked or lost and
     * assigned to this member again goes back to its first element not acknowledged.</li>
     * <li>A partition with {@link #maxUnacknowledged(int)} elements unacknowledged gets no more
     * handed downstream and is paused, as a full buffer is, until acknowledgements come: so an
     * element never acknowledged holds its partition back (visible as a paused partition) instead
     * of being skipped. Keep the limit above what the pipeline holds at a time per partition (a
     * sender's {@code maxInFlight}, buffers of operators in between); a pipeline that needs many
     * records before it emits anything (windows, aggregations) is a checkpointed one
     * ({@link #resume()}), not an acknowledged one.</li>
     * </ul>
     * Acknowledgements reach only the live subscriptions of acknowledged copies; the checkpointed
     * {@link #resume()} ignores this setting. Two subscriptions reading the same partition at the
     * same time (the same {@link #assign(String, int...)} subscribed twice) would share its
     * acknowledgements: subscribe once.
     *
     * @return a copy whose {@link #flux()} commits only acknowledged elements
     */
    public KafkaSource<K, V> acknowledged() {
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, topics, topicPattern, partitions,
                maxRecordBytes, bufferPerPartition, commitInterval, alignTimeout, checkpointCommits, meters,
                acknowledgements, true, maxUnacknowledged);
    }

    /**
     * For an {@link #acknowledged()} source: how many elements of one partition may be handed
     * downstream and not acknowledged; at that many the partition is paused and gets no more
     * handed downstream until acknowledgements come (default
     * {@value #DEFAULT_MAX_UNACKNOWLEDGED}).
     *
     * @param records the most unacknowledged elements per partition
     * @return a copy with that limit
     * @throws IllegalArgumentException if {@code records < 1}
     */
    public KafkaSource<K, V> maxUnacknowledged(int records) {
        if (records < 1) {
            throw new IllegalArgumentException("maxUnacknowledged must be >= 1, was " + records);
        }
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, topics, topicPattern, partitions,
                maxRecordBytes, bufferPerPartition, commitInterval, alignTimeout, checkpointCommits, meters,
                acknowledgements, acknowledged, records);
    }

    /**
     * The element read from Kafka at {@code origin} (its topic, partition id and offset, as a
     * record or dead letter of an {@link #acknowledged()} copy of this source carries it) is
     * processed: see {@link #acknowledged()}. Any thread; does not block; applied on the poll
     * thread of the subscription reading that partition, if any.
     *
     * @param origin the element's origin
     */
    public void acknowledge(Origin origin) {
        Objects.requireNonNull(origin, "origin");
        acknowledgements.acknowledge(origin);
    }

    /**
     * The element is processed: acknowledges the origin of a {@link StreamRecord} or a
     * {@link DeadLetter} (and of a {@link LateRecord}'s record); other elements (release markers,
     * watermarks) have no offset and are ignored. See {@link #acknowledged()}.
     *
     * @param element an element of the {@code Flux} of an acknowledged copy of this source
     */
    public void acknowledge(StreamElement<?, ?> element) {
        Objects.requireNonNull(element, "element");
        if (element instanceof StreamRecord<?, ?> r) {
            acknowledge(r.origin());
        } else if (element instanceof DeadLetter<?, ?> d) {
            acknowledge(d.origin());
        } else if (element instanceof LateRecord<?, ?> l) {
            acknowledge(l.record().origin());
        }
    }

    /**
     * An operator for the results of a {@link KafkaSender} fed by an {@link #acknowledged()} copy
     * of this source: it passes every result on and, once the downstream {@code onNext} of a result
     * returned, acknowledges the result's {@linkplain SendResult#input() input} element. A result
     * holding a {@code DeadLetter} (under {@code ErrorPolicy.deadLetter()}) acknowledges its input
     * too, once handed downstream: the dead letter is that record's outcome. Errors, completion and
     * cancel pass through; a result not handed downstream is not acknowledged.
     * <pre>{@code
     * records.transform(sender.send(format)).transform(source.acknowledgeResults()).subscribe();
     * }</pre>
     *
     * @param <T> the sender's input type: the elements of the source, so that they carry their origin
     * @return the operator, for {@link Flux#transform}
     */
    public <T extends StreamElement<?, ?>> Function<Flux<SendResult<T>>, Flux<SendResult<T>>> acknowledgeResults() {
        return results -> new Flux<SendResult<T>>() {
            @Override
            public void subscribe(CoreSubscriber<? super SendResult<T>> actual) {
                results.subscribe(new AcknowledgingSubscriber<SendResult<T>>(actual, r -> acknowledge(r.input())));
            }
        };
    }

    /**
     * A filter for the elements of an {@link #acknowledged()} copy of this source that acknowledges
     * every element it drops (see {@link #acknowledge(StreamElement)}), so that a dropped element
     * does not hold its partition's commits back:
     * {@code flux.filter(source.keepOrAcknowledge(e -> e instanceof StreamRecord))}.
     *
     * @param <E>  the element type
     * @param keep {@code true} for the elements to keep
     * @return the predicate, for {@link Flux#filter}
     */
    public <E extends StreamElement<?, ?>> Predicate<E> keepOrAcknowledge(Predicate<? super E> keep) {
        Objects.requireNonNull(keep, "keep");
        return e -> {
            if (keep.test(e)) {
                return true;
            }
            acknowledge(e);
            return false;
        };
    }

    /**
     * Registers the source's meters with {@code registry}, tagged {@code pipeline} and
     * {@code source} (the topics or the pattern), shared by all subscriptions of the copy:
     * {@code streamflow.kafka.source.records} (records handed downstream) and
     * {@code streamflow.kafka.source.lag} (records behind the end of the partition not yet handed
     * downstream: the consumer's lag from its last fetch plus the records buffered here), both with
     * tags {@code topic} and {@code partition}; {@code streamflow.kafka.source.paused.partitions},
     * {@code streamflow.kafka.source.pauses} and {@code streamflow.kafka.source.dead.letters}. The
     * gauges are updated by the poll threads at each poll.
     *
     * @param pipeline the pipeline's name, for the {@code pipeline} tag
     * @param registry where the meters go
     * @return a copy with those meters
     */
    public KafkaSource<K, V> metrics(String pipeline, MeterRegistry registry) {
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(registry, "registry");
        SourceMeters m = new SourceMeters(registry, pipeline, describe());
        return new KafkaSource<>(properties, keyDeserializer, valueDecoder, topics, topicPattern, partitions,
                maxRecordBytes, bufferPerPartition, commitInterval, alignTimeout, checkpointCommits, m, acknowledgements, acknowledged,
                maxUnacknowledged);
    }

    private String describe() {
        return topicPattern != null ? topicPattern.pattern() : topics == null ? "none" : String.join(",", topics);
    }

    /**
     * The records and dead letters (and release markers after a rebalance), from the committed offsets of the group (or
     * {@code auto.offset.reset}), committing delivered offsets to the group (acknowledged ones for an
     * {@link #acknowledged()} copy; see the class description). Each subscription opens its own
     * consumer.
     *
     * @return the elements; never completes
     * @throws IllegalStateException if no topic was chosen
     */
    public Flux<StreamElement<K, V>> flux() {
        return flux(null, p -> { });
    }

    /**
     * The resume function of this source for
     * {@link io.streamflow.reactive.Checkpointing#source}: the positions are the last consumed
     * offset per partition id (see {@link #topics(String...)}), and each partition with a position
     * starts at the next offset;
     * partitions without one start at the group's committed offset or {@code auto.offset.reset}.
     * Offsets reach the group only through {@link #committingOffsets(String, OutboxSink)}.
     *
     * @return the resume function
     * @throws IllegalStateException if no topic was chosen
     */
    public Function<Map<Integer, Long>, Flux<StreamElement<K, V>>> resume() {
        checkTopic();
        return positions -> flux(Map.copyOf(positions), p -> { });
    }

    /**
     * The sink {@code sink}, which after delivering each checkpoint's output also commits that
     * checkpoint's positions of the source named {@code sourceName} (each offset + 1) to the
     * consumer group, for lag tools: use it in the {@link io.streamflow.reactive.Checkpointing#sink}
     * of a pipeline whose {@link io.streamflow.reactive.Checkpointing#source} named
     * {@code sourceName} reads {@link #resume()} of this source (or of a copy of it). Each live
     * subscription commits the positions of the partitions assigned to it, on its poll thread, so
     * the group never holds an offset ahead of a durable checkpoint; a checkpoint delivered when
     * no subscription is live is not committed (the next one is). The checkpoint, not the group,
     * stays what a restart resumes from.
     *
     * @param <T>        what the sink's outbox keeps per record
     * @param sourceName the name the pipeline gives this source in {@code Checkpointing.source}
     * @param sink       the sink that delivers the output
     * @return a sink delivering to {@code sink}, then committing the positions
     * @throws NullPointerException if an argument is {@code null}
     */
    public <T> OutboxSink<T> committingOffsets(String sourceName, OutboxSink<T> sink) {
        Objects.requireNonNull(sourceName, "sourceName");
        Objects.requireNonNull(sink, "sink");
        CheckpointCommits commits = checkpointCommits;
        return new OutboxSink<>() {
            @Override
            public void deliver(long checkpointId, List<T> records) throws IOException {
                sink.deliver(checkpointId, records);
            }

            @Override
            public void deliver(Delivery delivery, List<T> records) throws IOException {
                sink.deliver(delivery, records);
                Map<Integer, Long> positions = delivery.positions().get(sourceName);
                if (positions != null) {
                    commits.committed(positions);
                }
            }

            @Override
            public Optional<List<Delivery>> deliveries() throws IOException {
                return sink.deliveries();
            }
        };
    }

    /** The elements, with a hook that sees each subscription's poll loop (for tests). */
    Flux<StreamElement<K, V>> flux(Map<Integer, Long> resumeAfter, Consumer<PollLoop<K, V>> onSubscribe) {
        checkTopic();
        PollLoop.Settings<K, V> settings = new PollLoop.Settings<>(properties, keyDeserializer, valueDecoder,
                topics, topicPattern, partitions, maxRecordBytes, bufferPerPartition, commitInterval, alignTimeout,
                resumeAfter, resumeAfter == null ? null : checkpointCommits, meters,
                acknowledged && resumeAfter == null ? acknowledgements : null, maxUnacknowledged);
        return new Flux<>() {
            @Override
            public void subscribe(CoreSubscriber<? super StreamElement<K, V>> actual) {
                PollLoop<K, V> loop = new PollLoop<>(settings, actual);
                onSubscribe.accept(loop);
                loop.start();
            }
        };
    }

    private void checkTopic() {
        if (topics == null && topicPattern == null) {
            throw new IllegalStateException("no topic: choose one with topic(name), topicPattern(regex) or "
                    + "assign(name, partitions...)");
        }
    }

    @Override
    public String toString() {
        return "KafkaSource{" + (topicPattern != null ? "pattern=" + topicPattern : "topics=" + topics)
                + (partitions == null ? ", group=" + properties.get("group.id")
                : ", partitions=" + Arrays.toString(partitions)) + ", bufferPerPartition=" + bufferPerPartition
                + ", maxRecordBytes=" + maxRecordBytes
                + (acknowledged ? ", acknowledged, maxUnacknowledged=" + maxUnacknowledged : "") + '}';
    }
}
