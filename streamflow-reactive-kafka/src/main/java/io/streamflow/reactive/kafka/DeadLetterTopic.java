package io.streamflow.reactive.kafka;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A dead-letter topic: turns {@link DeadLetter}s into {@link KafkaRecord}s the way Kafka Connect
 * writes its dead-letter queue, so tools made for Connect's DLQ read ours.
 * <ul>
 *   <li>Key, value, timestamp and headers: those of the original record when the dead letter's
 *   input is a {@link KafkaRecord} (the Kafka source's dead letters); for a {@link StreamRecord}
 *   input its key and value as UTF-8 text ({@code String.valueOf}, a {@code null} key stays
 *   {@code null}), its timestamp and its headers; a {@code byte[]} input (a line that is not valid
 *   UTF-8) as the value; any other input as UTF-8 text of {@code toString()} in the value; no input
 *   gives a {@code null} key and value.</li>
 *   <li>Headers, values as UTF-8 strings, with the names Kafka Connect uses (its
 *   {@code DeadLetterQueueReporter}, in {@code connect/runtime/.../errors}):
 *   {@value #TOPIC}, {@value #PARTITION} and {@value #OFFSET} for where the input came from (when its
 *   origin is known), {@value #EXCEPTION_CLASS}, {@value #EXCEPTION_MESSAGE} (none when the error
 *   has no message) and {@value #EXCEPTION_STACKTRACE} for the error, and ours,
 *   {@value #OPERATOR}, for the operator, source or decoder that rejected it. They replace an
 *   original header of the same name.</li>
 * </ul>
 * The coordinates come from the dead letter's {@link Origin}: its source, partition and position;
 * when the input is a {@code KafkaRecord} of the origin's topic, that record's partition number is
 * used (a source reading several topics numbers its partitions {@code index << 16 | partition}).
 * <p>
 * Use {@link #toRecord(DeadLetter)} as the format of a sender or sink. In a plain pipeline:
 * <pre>{@code
 * DeadLetterTopic dlq = DeadLetterTopic.of("clicks.dead-letters");
 * events.onDeadLetter(dead -> dead.transform(sender.send(dlq::toRecord)))
 * }</pre>
 * In a checkpointed pipeline, exactly-once as a side output, with a transactional id of its own (a
 * {@link KafkaSink} delivers one output):
 * <pre>{@code
 * .as(cp.sink(results, format, Checkpointing.sideOutputs()
 *         .deadLetters(KafkaSink.exactlyOnce(props, "click-counter-dead-letters"), dlq::toRecord)))
 * }</pre>
 * An immutable value.
 */
public final class DeadLetterTopic {

    /** Header: the topic (or source name) the input came from. */
    public static final String TOPIC = "__connect.errors.topic";
    /** Header: the partition the input came from. */
    public static final String PARTITION = "__connect.errors.partition";
    /** Header: the offset (or position) of the input. */
    public static final String OFFSET = "__connect.errors.offset";
    /** Header: the error's class name. */
    public static final String EXCEPTION_CLASS = "__connect.errors.exception.class.name";
    /** Header: the error's message. */
    public static final String EXCEPTION_MESSAGE = "__connect.errors.exception.message";
    /** Header: the error's stack trace, as {@code printStackTrace} writes it. */
    public static final String EXCEPTION_STACKTRACE = "__connect.errors.exception.stacktrace";
    /** Header (ours): the {@link DeadLetter#operator()} that rejected the input. */
    public static final String OPERATOR = "__streamflow.errors.operator";

    private final String topic;

    private DeadLetterTopic(String topic) {
        this.topic = topic;
    }

    /**
     * @param topic the dead-letter topic
     * @return a dead-letter topic writing to {@code topic}, partitioned by the producer's partitioner
     * @throws IllegalArgumentException if {@code topic} is blank
     */
    public static DeadLetterTopic of(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isBlank()) {
            throw new IllegalArgumentException("the dead-letter topic must not be blank");
        }
        return new DeadLetterTopic(topic);
    }

    /** @return the dead-letter topic */
    public String topic() {
        return topic;
    }

    /**
     * The record for a dead letter, see the class description.
     *
     * @param deadLetter the dead letter
     * @return the record to write to {@link #topic()}
     */
    public KafkaRecord toRecord(DeadLetter<?, ?> deadLetter) {
        Objects.requireNonNull(deadLetter, "deadLetter");
        Object input = deadLetter.input();
        byte[] key = null;
        byte[] value = null;
        Long timestamp = null;
        Map<String, byte[]> headers = new LinkedHashMap<>();
        Integer kafkaPartition = null;
        if (input instanceof KafkaRecord k) {
            key = k.key();
            value = k.value();
            timestamp = k.timestamp();
            headers.putAll(k.headers());
            if (k.topic().equals(deadLetter.origin().source())) {
                kafkaPartition = k.partition();
            }
        } else if (input instanceof StreamRecord<?, ?> r) {
            key = r.key() == null ? null : utf8(String.valueOf(r.key()));
            value = utf8(String.valueOf(r.value()));
            timestamp = r.timestamp() >= 0 ? r.timestamp() : null;
            r.headers().forEach((name, v) -> headers.put(name, v == null ? null : utf8(v)));
        } else if (input instanceof byte[] bytes) {
            value = bytes;
        } else if (input != null) {
            value = utf8(input.toString());
        }
        Origin origin = deadLetter.origin();
        if (!origin.equals(Origin.NONE)) {
            putHeader(headers, TOPIC, utf8(origin.source()));
            putHeader(headers, PARTITION, utf8(String.valueOf(kafkaPartition != null ? kafkaPartition
                    : origin.partition())));
            if (origin.position() >= 0) {
                putHeader(headers, OFFSET, utf8(String.valueOf(origin.position())));
            }
        }
        Throwable error = deadLetter.error();
        putHeader(headers, EXCEPTION_CLASS, utf8(error.getClass().getName()));
        putHeader(headers, EXCEPTION_MESSAGE, error.getMessage() == null ? null : utf8(error.getMessage()));
        putHeader(headers, EXCEPTION_STACKTRACE, stackTrace(error));
        putHeader(headers, OPERATOR, utf8(deadLetter.operator()));
        return new KafkaRecord(topic, null, key, value, timestamp, headers);
    }

    /** A header of ours replaces an original one of the same name, and goes after the original ones. */
    private static void putHeader(Map<String, byte[]> headers, String name, byte[] value) {
        headers.remove(name);
        headers.put(name, value);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] stackTrace(Throwable error) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            error.printStackTrace(print);
        }
        return out.toByteArray();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetterTopic d && d.topic.equals(topic);
    }

    @Override
    public int hashCode() {
        return topic.hashCode();
    }

    @Override
    public String toString() {
        return "DeadLetterTopic{" + topic + "}";
    }
}
