package io.streamflow.reactive.kafka;

import io.streamflow.reactive.DeadLetter;

import java.util.Objects;

/**
 * What {@link KafkaSender} did with one input element: either the record was acknowledged by the
 * broker ({@link #isSent()}: its topic, partition, offset and timestamp in Kafka), or it could not
 * be sent and became a {@link DeadLetter} under a dead-letter policy (then {@code offset} and
 * {@code timestamp} are {@code -1}). The input is carried through, so it can be correlated or
 * acknowledged.
 *
 * @param input      the element given to the sender
 * @param topic      the topic it was sent to (or meant for; {@code null} if it could not be formatted)
 * @param partition  the partition it landed in, or the target partition of a failed one ({@code -1}
 *                   when the producer's partitioner would have chosen)
 * @param offset     its offset in the partition, {@code -1} when not sent
 * @param timestamp  its timestamp in Kafka (the record's own, or the broker's for
 *                   {@code LogAppendTime} topics), {@code -1} when not sent or unknown
 * @param deadLetter {@code null} when sent; otherwise the dead letter, whose error is a
 *                   {@link KafkaSendException} with the coordinates
 * @param <T>        the input type
 */
public record SendResult<T>(T input, String topic, int partition, long offset, long timestamp,
                            DeadLetter<?, ?> deadLetter) {

    /**
     * Checks that a result without a dead letter has a topic and an offset.
     *
     * @param input      the element given to the sender
     * @param topic      the topic
     * @param partition  the partition, {@code -1} when unknown
     * @param offset     the offset, {@code -1} when not sent
     * @param timestamp  the timestamp, {@code -1} when not sent or unknown
     * @param deadLetter the dead letter of a record that was not sent, or {@code null}
     * @throws IllegalArgumentException if a sent result has no topic, or a negative partition or offset
     */
    public SendResult {
        if (deadLetter == null && (topic == null || partition < 0 || offset < 0)) {
            throw new IllegalArgumentException("a sent record has a topic, a partition and an offset, got " + topic
                    + "-" + partition + "@" + offset);
        }
    }

    /** @return {@code true} when the broker acknowledged the record, {@code false} for a dead letter */
    public boolean isSent() {
        return deadLetter == null;
    }

    @Override
    public String toString() {
        return isSent() ? "SendResult{" + topic + "-" + partition + "@" + offset + ", input=" + input + "}"
                : "SendResult{not sent to " + topic + ": " + Objects.requireNonNull(deadLetter).error() + "}";
    }
}
