package io.streamflow.reactive.kafka;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.StreamRecord;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamflow.reactive.kafka.internal.SendSubscriber;
import io.streamflow.reactive.kafka.internal.SenderMeters;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * At-least-once delivery of a {@code Flux} into Kafka, outside transactions, for pipelines without
 * checkpoints: an operator for {@link Flux#transform} whose output says where each record landed.
 * <pre>{@code
 * KafkaSender sender = KafkaSender.create(Map.of("bootstrap.servers", servers)).maxInFlight(512);
 * events.records()
 *         .transform(sender.send((StreamRecord<String, Long> r) -> KafkaRecord.of("counts",
 *                 r.key().getBytes(UTF_8), Long.toString(r.value()).getBytes(UTF_8))))
 *         .doOnNext(result -> log.debug("{} is at {}-{}@{}", result.input(), result.topic(),
 *                 result.partition(), result.offset()))
 *         .blockLast();
 * }</pre>
 * Each record goes to its own {@link KafkaRecord#topic()} (and partition, if it names one) with its
 * key, value, timestamp and headers. The producer is idempotent with {@code acks=all} unless the
 * producer properties say otherwise, so the client's retries neither duplicate nor reorder records
 * of a partition: records of one partition are written in the order they arrived.
 * <p>
 * <b>Flow control.</b> At most {@link #maxInFlight(int)} elements are between the sender's upstream
 * and its downstream at any time: requested from upstream but not yet sent, sent but not yet
 * acknowledged, or acknowledged with their {@link SendResult} waiting for downstream demand.
 * Upstream is asked for more only as results are taken downstream, so a slow broker or a slow
 * consumer of the results slows the source, and nothing grows without bound.
 * <p>
 * <b>Threads.</b> {@code KafkaProducer.send} can block (waiting for metadata or buffer room, up to
 * the client's {@code max.block.ms}), so each subscription sends from one worker of
 * {@code Schedulers.boundedElastic()}, never from the upstream's thread, and emits the results
 * from that worker too (never from the client's network thread).
 * <p>
 * <b>Errors.</b> The client retries a failed send until its {@code delivery.timeout.ms}
 * (2 minutes by default). A record that still fails, or whose format function throws, becomes a
 * {@link KafkaSendException} naming the target topic (and partition) and, for a
 * {@link StreamRecord} or {@link DeadLetter} input, its origin. With {@link ErrorPolicy#fail()}
 * (the default) that fails the {@code Flux}; with {@link ErrorPolicy#deadLetter()} the result is a
 * {@link SendResult} holding a {@link DeadLetter} of the input (see {@link #errorPolicy}) and the
 * other records go on. Errors that concern the producer rather than a record (failed
 * authentication, missing cluster or idempotent-write permission, an unsupported broker, a fenced
 * or broken producer) always fail the {@code Flux}, at once, naming the cause.
 * <p>
 * <b>Termination.</b> When upstream completes, the {@code Flux} of results completes after every
 * record is acknowledged (or dead-lettered) and its result emitted, then the producer is closed. An
 * upstream error is passed on the same way, after the records already taken are acknowledged. On
 * cancel, records not yet handed to the producer are discarded (Reactor's discard hook), the
 * producer is closed waiting at most {@link #closeTimeout(Duration)} for the records it holds, and
 * no more results are emitted. On failure the producer is closed at once.
 * <p>
 * <b>Guarantee.</b> A record is in Kafka once its result is emitted. A record may be written twice
 * when the pipeline is restarted and its source replays it; no record is lost by the sender, but a
 * source that acknowledges its input before the result comes back (as {@code KafkaSource.flux()}
 * does when it commits offsets) can lose the records in flight when the process dies. Read
 * {@code KafkaSource.acknowledged()} and put {@code source.acknowledgeResults()} after the sender
 * so that the source commits only what the sender finished; see the module's README for the
 * guarantees of each combination.
 * <p>
 * Each subscription opens its own producer. An immutable configuration: each setter returns a copy.
 */
public final class KafkaSender {

    /** Default {@link #maxInFlight(int)}. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 256;
    /** Default {@link #closeTimeout(Duration)}. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);
    /** The {@link DeadLetter#operator()} of the dead letters this sender makes. */
    public static final String OPERATOR = "KafkaSender";

    private static final Set<String> OWNED = Set.of("key.serializer", "value.serializer", "transactional.id");

    private final Map<String, Object> properties;
    private final int maxInFlight;
    private final ErrorPolicy errorPolicy;
    private final Duration closeTimeout;
    private final SenderMeters meters;

    private KafkaSender(Map<String, Object> properties, int maxInFlight, ErrorPolicy errorPolicy,
                        Duration closeTimeout, SenderMeters meters) {
        this.properties = properties;
        this.maxInFlight = maxInFlight;
        this.errorPolicy = errorPolicy;
        this.closeTimeout = closeTimeout;
        this.meters = meters;
    }

    /**
     * A sender with the producer {@code producerProperties} (at least {@code bootstrap.servers};
     * security, batching and timeout settings pass through as they are). Defaults:
     * {@code enable.idempotence=true} and {@code acks=all}, unless given. Nothing connects before a
     * subscription.
     *
     * @param producerProperties Kafka producer properties; the serializers are set by the sender
     *                           (it sends bytes) and {@code transactional.id} is not allowed (use
     *                           {@link KafkaSink#exactlyOnce} for transactions)
     * @return the sender
     * @throws IllegalArgumentException if {@code bootstrap.servers} is missing or a
     *                                  {@code transactional.id} is given
     */
    public static KafkaSender create(Map<String, ?> producerProperties) {
        Objects.requireNonNull(producerProperties, "producerProperties");
        if (!producerProperties.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException("producer properties need bootstrap.servers, got "
                    + producerProperties.keySet());
        }
        if (producerProperties.get("transactional.id") != null) {
            throw new IllegalArgumentException("KafkaSender sends outside transactions: remove transactional.id, or "
                    + "use KafkaSink.exactlyOnce(properties, transactionalId) behind Checkpointing for transactions");
        }
        Map<String, Object> props = new HashMap<>(producerProperties);
        OWNED.forEach(props::remove);
        props.putIfAbsent("enable.idempotence", "true");
        props.putIfAbsent("acks", "all");
        return new KafkaSender(Map.copyOf(props), DEFAULT_MAX_IN_FLIGHT, ErrorPolicy.fail(), DEFAULT_CLOSE_TIMEOUT,
                null);
    }

    /**
     * @param records the most elements between upstream and downstream at a time (requested, being
     *                sent, or acknowledged and waiting for downstream demand)
     * @return a copy with that bound
     * @throws IllegalArgumentException if {@code records < 1}
     */
    public KafkaSender maxInFlight(int records) {
        if (records < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1, was " + records);
        }
        return new KafkaSender(properties, records, errorPolicy, closeTimeout, meters);
    }

    /**
     * What happens to a record that cannot be sent after the client's retries, or whose format
     * function throws: {@link ErrorPolicy#fail()} (the default) fails the {@code Flux} with a
     * {@link KafkaSendException}; {@link ErrorPolicy#deadLetter()} emits a {@link SendResult} with a
     * {@link DeadLetter} (operator {@value #OPERATOR}, the input element as its input, its origin
     * when the input is a {@code StreamRecord} or a {@code DeadLetter}) and goes on.
     * {@link ErrorPolicy#retryThenDeadLetter(int)} calls a throwing format function again that many
     * times; sends are retried by the client only (a send retried by the sender could overtake
     * later records of its partition).
     *
     * @param policy the policy
     * @return a copy with that policy
     */
    public KafkaSender errorPolicy(ErrorPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        return new KafkaSender(properties, maxInFlight, policy, closeTimeout, meters);
    }

    /**
     * @param timeout how long closing the producer after a cancel may wait for the records it holds
     *                (default 30 s); {@link Duration#ZERO} drops them at once
     * @return a copy with that timeout
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public KafkaSender closeTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("closeTimeout must not be negative, was " + timeout);
        }
        return new KafkaSender(properties, maxInFlight, errorPolicy, timeout, meters);
    }

    /**
     * Counts the records this sender's subscriptions send in {@code registry}:
     * {@code streamflow.kafka.sender.records} with tag {@code result} = {@code sent} (acknowledged by
     * the broker), {@code dead_letter} (could not be sent, a dead letter under the error policy) or
     * {@code failed} (could not be sent, failing the subscription), tagged {@code pipeline} and
     * {@code sender} (the {@code client.id} property, or {@value #OPERATOR}).
     *
     * @param pipeline the {@code pipeline} tag
     * @param registry where the meters go
     * @return a copy with those meters
     */
    public KafkaSender metrics(String pipeline, MeterRegistry registry) {
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(registry, "registry");
        Object clientId = properties.get("client.id");
        return new KafkaSender(properties, maxInFlight, errorPolicy, closeTimeout,
                new SenderMeters(registry, pipeline, clientId == null ? OPERATOR : clientId.toString()));
    }

    /**
     * Sends each {@link KafkaRecord} as it is.
     *
     * @return the operator, for {@link Flux#transform}
     */
    public Function<Flux<KafkaRecord>, Flux<SendResult<KafkaRecord>>> send() {
        return send(Function.identity());
    }

    /**
     * Sends each element as the record {@code format} makes of it, on the sender's worker thread.
     *
     * @param <T>    the element type
     * @param format turns an element into the record to send; must not return {@code null} (a
     *               {@code null} or a throw is a failure of that element, see {@link #errorPolicy})
     * @return the operator, for {@link Flux#transform}; each subscription opens its own producer
     */
    public <T> Function<Flux<T>, Flux<SendResult<T>>> send(Function<? super T, KafkaRecord> format) {
        Objects.requireNonNull(format, "format");
        SendSubscriber.Settings settings = new SendSubscriber.Settings(properties, maxInFlight, errorPolicy,
                closeTimeout, meters);
        return upstream -> new Flux<SendResult<T>>() {
            @Override
            public void subscribe(CoreSubscriber<? super SendResult<T>> actual) {
                upstream.subscribe(new SendSubscriber<>(settings, format, actual));
            }
        };
    }

    @Override
    public String toString() {
        return "KafkaSender{servers=" + properties.get("bootstrap.servers") + ", maxInFlight=" + maxInFlight
                + ", errorPolicy=" + errorPolicy + "}";
    }
}
