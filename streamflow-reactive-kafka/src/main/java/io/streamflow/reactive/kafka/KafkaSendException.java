package io.streamflow.reactive.kafka;

import io.streamflow.reactive.Origin;

import java.util.Objects;

/**
 * A record that {@link KafkaSender} could not send, with its coordinates: the target topic and
 * partition, and where the record came from when that is known. The cause is what the Kafka
 * client reported after its own retries (within its {@code delivery.timeout.ms}), or what the
 * format function threw. It fails the {@code Flux} of results, or is the error of the record's
 * {@link io.streamflow.reactive.DeadLetter} under a dead-letter policy.
 */
public final class KafkaSendException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The target topic, or {@code null} when the record could not be formatted. */
    private final String topic;
    /** The target partition, or {@code null} for the producer's partitioner. */
    private final Integer partition;
    /** Where the record came from; not serialised. */
    private final transient Origin origin;

    /**
     * Creates the exception; {@link KafkaSender} makes these, user code usually only reads them.
     *
     * @param message   what happened, naming the coordinates
     * @param topic     the target topic, or {@code null} when the record could not be formatted
     * @param partition the target partition, or {@code null} for the producer's partitioner
     * @param origin    where the record came from ({@link Origin#NONE} when unknown)
     * @param cause     what the client reported or the format function threw
     * @throws NullPointerException if {@code message} or {@code origin} is {@code null}
     */
    public KafkaSendException(String message, String topic, Integer partition, Origin origin, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.topic = topic;
        this.partition = partition;
        this.origin = Objects.requireNonNull(origin, "origin");
    }

    /** @return the target topic, or {@code null} when the record could not be formatted */
    public String topic() {
        return topic;
    }

    /** @return the target partition, or {@code null} when the producer's partitioner chose it */
    public Integer partition() {
        return partition;
    }

    /** @return where the record came from: a {@code StreamRecord}'s or dead letter's origin, else {@link Origin#NONE} */
    public Origin origin() {
        return origin == null ? Origin.NONE : origin;
    }
}
