/**
 * Kafka for StreamFlow pipelines, on the plain {@code kafka-clients} library (3.9 API, nothing
 * removed in 4.0, so one jar serves 3.9 and 4.x clients and brokers).
 * <p>
 * {@link io.streamflow.reactive.kafka.KafkaSink} delivers a checkpointed pipeline's output into
 * Kafka exactly once: each checkpoint's output is one Kafka transaction, which also writes that
 * checkpoint's {@link io.streamflow.reactive.OutboxSink.Delivery} record, so a restart knows for
 * certain what was delivered. {@link io.streamflow.reactive.kafka.KafkaRecord} is a record to
 * produce. {@link io.streamflow.reactive.kafka.KafkaSender} sends a {@code Flux} outside
 * transactions (at-least-once), with bounded in-flight records, and reports each record's topic,
 * partition and offset in a {@link io.streamflow.reactive.kafka.SendResult}, or the
 * {@link io.streamflow.reactive.kafka.KafkaSendException} that kept it out;
 * {@link io.streamflow.reactive.kafka.DeadLetterTopic} writes dead letters in Kafka Connect's
 * dead-letter format. {@link io.streamflow.reactive.kafka.KafkaSource} reads topics as a {@code Flux} of
 * records whose origin is topic, partition and offset, on a dedicated poll thread per consumer that
 * pauses partitions without demand or buffer room; its resume function keeps the offsets in a
 * pipeline's checkpoints. Packages named {@code internal} are implementation, not API.
 */
package io.streamflow.reactive.kafka;
