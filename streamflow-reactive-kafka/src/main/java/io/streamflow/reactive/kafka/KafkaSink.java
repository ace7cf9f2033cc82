package io.streamflow.reactive.kafka;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.kafka.internal.TransactionalDelivery;
import org.apache.kafka.common.serialization.Serializer;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Exactly-once delivery of a checkpointed pipeline's output into Kafka, for
 * {@link io.streamflow.reactive.Checkpointing#sink}:
 * <pre>{@code
 * try (KafkaSink kafka = KafkaSink.exactlyOnce(Map.of("bootstrap.servers", servers), "page-counts")) {
 *     pipeline.elements().as(cp.sink(kafka, KafkaSink.serializing("counts", keySerializer, valueSerializer)))
 *             .block();
 * }
 * }</pre>
 * Each checkpoint's output is one Kafka transaction of a producer with transactional id
 * {@code transactionalId}, and the same transaction writes that checkpoint's
 * {@link OutboxSink.Delivery} record to the deliveries topic ({@code <transactionalId>.deliveries}
 * by default, one partition, created when missing), keyed by the transactional id. So the
 * output and the record that says it was delivered are committed together or not at all, with
 * public client APIs only:
 * <ul>
 *   <li>after a crash, the checkpoint whose delivery may not have finished is delivered again;
 *   a checkpoint whose record is in the deliveries topic is skipped, so {@code read_committed}
 *   consumers see its records once;</li>
 *   <li>after a checkpoint fallback, the pipeline reads the delivery records (see
 *   {@link OutboxSink#deliveries()}) and replays up to them without delivering;</li>
 *   <li>starting a producer with the same transactional id aborts the open transaction of an
 *   older instance and fences it: a paused old instance cannot commit afterwards.</li>
 * </ul>
 * The producer is idempotent with {@code acks=all}; send errors are retried by the client, then
 * fail the pipeline with the checkpoint's id (its output stays in the outbox and is delivered
 * again after a restart). Consumers that read with {@code isolation.level=read_uncommitted} may
 * see records of aborted transactions: exactly-once holds for {@code read_committed} readers.
 * <p>
 * A sink delivers one output of a pipeline: give its dead letters or late records (see
 * {@link io.streamflow.reactive.Checkpointing#sideOutputs()}) a sink with a transactional id of their
 * own; a checkpoint delivered again with other records than the ones this transactional id holds
 * for it fails the delivery instead of being skipped.
 * <p>
 * For a pipeline without checkpoints, {@link KafkaSender} sends at-least-once, outside transactions.
 * <p>
 * Calls are made one at a time on the checkpointed sink's worker thread, which may block. An
 * immutable configuration; {@link #close()} closes the producer it opened.
 */
public final class KafkaSink implements OutboxSink<KafkaRecord>, AutoCloseable {

    /** Suffix of the default deliveries topic, after the transactional id. */
    public static final String DELIVERIES_SUFFIX = ".deliveries";

    private final TransactionalDelivery delivery;

    private KafkaSink(TransactionalDelivery delivery) {
        this.delivery = delivery;
    }

    /**
     * An exactly-once sink with the producer {@code producerProperties} (at least
     * {@code bootstrap.servers}; security settings pass through as they are) and the transactional
     * id {@code transactionalId}, which must be stable across restarts of the pipeline and unique
     * among the pipelines writing to the cluster. Nothing connects before the first use.
     *
     * @param producerProperties Kafka producer properties; serializers, {@code transactional.id},
     *                           {@code enable.idempotence} and {@code acks} are set by the sink
     * @param transactionalId    the producer's transactional id, not blank
     * @return the sink
     * @throws IllegalArgumentException if {@code bootstrap.servers} is missing or the id blank
     */
    public static KafkaSink exactlyOnce(Map<String, ?> producerProperties, String transactionalId) {
        Objects.requireNonNull(producerProperties, "producerProperties");
        Objects.requireNonNull(transactionalId, "transactionalId");
        if (transactionalId.isBlank()) {
            throw new IllegalArgumentException("transactionalId must not be blank");
        }
        if (!producerProperties.containsKey("bootstrap.servers")) {
            throw new IllegalArgumentException("producer properties need bootstrap.servers, got "
                    + producerProperties.keySet());
        }
        return new KafkaSink(new TransactionalDelivery(new HashMap<>(producerProperties), transactionalId,
                transactionalId + DELIVERIES_SUFFIX, Duration.ofSeconds(60), new SimpleMeterRegistry(), "default"));
    }

    /**
     * @param topic the topic for the delivery records, instead of {@code <transactionalId>.deliveries}
     * @return a copy of this sink writing its delivery records to {@code topic}
     */
    public KafkaSink deliveriesTopic(String topic) {
        Objects.requireNonNull(topic, "topic");
        return new KafkaSink(delivery.withDeliveriesTopic(topic));
    }

    /**
     * @param timeout how long reading the delivery records and closing the producer may take
     *                (default 60 s), after which they fail with a clear error
     * @return a copy of this sink with that timeout
     */
    public KafkaSink timeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        return new KafkaSink(delivery.withTimeout(timeout));
    }

    /**
     * Registers the sink's meters with {@code registry}, tagged {@code pipeline} and {@code sink}
     * (the transactional id): {@code streamflow.kafka.transactions} with tag {@code result}
     * ({@code committed} or {@code aborted}) and the timer {@code streamflow.kafka.transaction.duration}.
     *
     * @param pipeline the pipeline's name, for the {@code pipeline} tag
     * @param registry where the meters go
     * @return a copy of this sink with those meters
     */
    public KafkaSink metrics(String pipeline, MeterRegistry registry) {
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(registry, "registry");
        return new KafkaSink(delivery.withMetrics(pipeline, registry));
    }

    /**
     * A format for {@link io.streamflow.reactive.Checkpointing#sink}: each record's key and value
     * serialised with the given serializers (their {@code configure} is not called), to
     * {@code topic}, with the record's event timestamp (or none for a negative one) and no headers.
     *
     * @param topic           the target topic
     * @param keySerializer   serializes keys; a {@code null} key stays {@code null}
     * @param valueSerializer serializes values
     * @param <K>             key type
     * @param <V>             value type
     * @return the format function
     */
    public static <K, V> Function<StreamRecord<K, V>, KafkaRecord> serializing(
            String topic, Serializer<? super K> keySerializer, Serializer<? super V> valueSerializer) {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(keySerializer, "keySerializer");
        Objects.requireNonNull(valueSerializer, "valueSerializer");
        return r -> new KafkaRecord(topic, null, r.key() == null ? null : keySerializer.serialize(topic, r.key()),
                valueSerializer.serialize(topic, r.value()), r.timestamp() < 0 ? null : r.timestamp(), Map.of());
    }

    /**
     * Delivers the records as one transaction without a delivery record: for use outside a
     * checkpointed pipeline. A checkpointed pipeline calls {@link #deliver(Delivery, List)}.
     *
     * @throws IOException when the transaction fails; nothing of it is visible to
     *                     {@code read_committed} consumers
     */
    @Override
    public void deliver(long checkpointId, List<KafkaRecord> records) throws IOException {
        delivery.deliver(null, checkpointId, records);
    }

    /**
     * Delivers the records and the delivery record in one transaction, unless the deliveries topic
     * already holds this checkpoint's record (a delivery again after a crash), then nothing.
     *
     * @throws IOException when the transaction fails (nothing of it is visible to
     *                     {@code read_committed} consumers), or another instance with the same
     *                     transactional id took over
     */
    @Override
    public void deliver(Delivery d, List<KafkaRecord> records) throws IOException {
        delivery.deliver(d, d.checkpointId(), records);
    }

    /**
     * Reads the delivery records of this transactional id from the deliveries topic (after
     * fencing an older instance, so that its open transaction is aborted first), creating the
     * topic when it is missing.
     *
     * @throws IOException when Kafka does not answer within the timeout or refuses
     */
    @Override
    public Optional<List<Delivery>> deliveries() throws IOException {
        return Optional.of(delivery.deliveries());
    }

    /** Closes the producer, if one was opened (waiting at most the timeout). */
    @Override
    public void close() {
        delivery.close();
    }

    /** @return the transactional id and deliveries topic */
    @Override
    public String toString() {
        return "KafkaSink{" + delivery + "}";
    }
}
