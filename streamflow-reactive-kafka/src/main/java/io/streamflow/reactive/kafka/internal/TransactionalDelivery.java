package io.streamflow.reactive.kafka.internal;

import io.streamflow.reactive.OutboxSink.Delivery;
import io.streamflow.reactive.kafka.KafkaRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One transactional producer: each delivery is one transaction holding the output and, for a
 * checkpoint, its delivery record in the deliveries topic. Not thread-safe: the checkpointed sink
 * calls it from one worker at a time.
 */
public final class TransactionalDelivery {

    private static final Logger LOG = Loggers.getLogger(TransactionalDelivery.class);

    private final Map<String, Object> properties;
    private final String transactionalId;
    private final String deliveriesTopic;
    private final Duration timeout;
    private final MeterRegistry registry;
    private final String pipeline;
    private final Counter committed;
    private final Counter aborted;
    private final Timer duration;
    private KafkaProducer<byte[], byte[]> producer;
    /** Delivery records in the deliveries topic by checkpoint id (read at start, then added). */
    private Map<Long, Delivery> delivered;
    /** Set once another instance took the transactional id over: this one must not take it back. */
    private String fenced;

    public TransactionalDelivery(Map<String, Object> properties, String transactionalId, String deliveriesTopic,
                                 Duration timeout, MeterRegistry registry, String pipeline) {
        this.properties = properties;
        this.transactionalId = transactionalId;
        this.deliveriesTopic = deliveriesTopic;
        this.timeout = timeout;
        this.registry = registry;
        this.pipeline = pipeline;
        Tags tags = Tags.of("pipeline", pipeline, "sink", transactionalId);
        this.committed = Counter.builder("streamflow.kafka.transactions").tags(tags).tag("result", "committed")
                .description("Kafka transactions of a checkpointed sink, by result").register(registry);
        this.aborted = Counter.builder("streamflow.kafka.transactions").tags(tags).tag("result", "aborted")
                .description("Kafka transactions of a checkpointed sink, by result").register(registry);
        this.duration = Timer.builder("streamflow.kafka.transaction.duration").tags(tags)
                .description("from beginning a checkpoint's transaction to its commit").register(registry);
    }

    public TransactionalDelivery withDeliveriesTopic(String topic) {
        return new TransactionalDelivery(properties, transactionalId, topic, timeout, registry, pipeline);
    }

    public TransactionalDelivery withTimeout(Duration newTimeout) {
        return new TransactionalDelivery(properties, transactionalId, deliveriesTopic, newTimeout, registry, pipeline);
    }

    public TransactionalDelivery withMetrics(String newPipeline, MeterRegistry newRegistry) {
        return new TransactionalDelivery(properties, transactionalId, deliveriesTopic, timeout, newRegistry,
                newPipeline);
    }

    /** Opens the producer and fences older instances: their open transaction is aborted. */
    private KafkaProducer<byte[], byte[]> producer() throws IOException {
        if (fenced != null) {
            throw new IOException(fenced);
        }
        if (producer == null) {
            Map<String, Object> p = new HashMap<>(properties);
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis());
            KafkaProducer<byte[], byte[]> created = new KafkaProducer<>(p, new ByteArraySerializer(),
                    new ByteArraySerializer());
            try {
                created.initTransactions();
            } catch (KafkaException e) {
                created.close(Duration.ZERO);
                throw failure("cannot start the transactional producer '" + transactionalId + "'", e);
            }
            producer = created;
        }
        return producer;
    }

    /** The delivery records of this transactional id, oldest first. */
    public List<Delivery> deliveries() throws IOException {
        producer(); // first: an open transaction of an older instance is aborted, so the read below ends
        ensureTopic();
        Map<String, Object> c = new HashMap<>();
        for (Map.Entry<String, Object> e : properties.entrySet()) {
            if (ConsumerConfig.configNames().contains(e.getKey()) && !ProducerConfig.configNames().contains(e.getKey())
                    || e.getKey().equals("bootstrap.servers") || e.getKey().startsWith("security.")
                    || e.getKey().startsWith("sasl.") || e.getKey().startsWith("ssl.")) {
                c.put(e.getKey(), e.getValue());
            }
        }
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<Delivery> out = new ArrayList<>();
        byte[] key = transactionalId.getBytes(StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(deliveriesTopic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
            while (consumer.position(tp, timeout) < end) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("reading the delivery records of '" + transactionalId + "' from "
                            + deliveriesTopic + " took longer than " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && java.util.Arrays.equals(r.key(), key) && r.value() != null) {
                        try {
                            out.add(Delivery.parse(new String(r.value(), StandardCharsets.UTF_8)));
                        } catch (RuntimeException bad) {
                            throw new IOException("the delivery record at " + deliveriesTopic + "-0@" + r.offset()
                                    + " cannot be read: " + bad.getMessage(), bad);
                        }
                    }
                }
            }
        } catch (KafkaException e) {
            throw failure("cannot read the delivery records of '" + transactionalId + "' from " + deliveriesTopic, e);
        }
        Map<Long, Delivery> byId = new HashMap<>();
        for (Delivery d : out) {
            byId.put(d.checkpointId(), d);
        }
        delivered = byId;
        return out;
    }

    private void ensureTopic() throws IOException {
        try (Admin admin = Admin.create(adminProperties())) {
            Set<String> names = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (names.contains(deliveriesTopic)) {
                return;
            }
            try {
                admin.createTopics(List.of(new NewTopic(deliveriesTopic, java.util.Optional.of(1),
                        java.util.Optional.empty()))).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        } catch (ExecutionException e) {
            throw failure("cannot create the deliveries topic " + deliveriesTopic, e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("Kafka did not answer within " + timeout + " while checking the deliveries topic "
                    + deliveriesTopic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while checking the deliveries topic " + deliveriesTopic, e);
        }
    }

    private Map<String, Object> adminProperties() {
        Map<String, Object> a = new HashMap<>();
        for (Map.Entry<String, Object> e : properties.entrySet()) {
            if (e.getKey().equals("bootstrap.servers") || e.getKey().startsWith("security.")
                    || e.getKey().startsWith("sasl.") || e.getKey().startsWith("ssl.")
                    || e.getKey().equals("client.dns.lookup")) {
                a.put(e.getKey(), e.getValue());
            }
        }
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        a.put("default.api.timeout.ms", ms);
        a.put("request.timeout.ms", Math.min(ms, 30_000)); // must not exceed the API timeout
        return a;
    }

    /**
     * Sends {@code records}, and for a checkpoint ({@code delivery != null}) its delivery record,
     * in one transaction; a checkpoint already in the deliveries topic is skipped.
     */
    public void deliver(Delivery delivery, long checkpointId, List<KafkaRecord> records) throws IOException {
        if (delivery != null && delivered == null) {
            deliveries();
        }
        Delivery held = delivery == null ? null : delivered.get(checkpointId);
        if (held != null) {
            if (held.records() != delivery.records() || held.fingerprint() != delivery.fingerprint()) {
                // not the same output again: a second output of the pipeline (dead letters, late records) sharing
                // this transactional id would be skipped here and lost
                throw new IOException("checkpoint " + checkpointId + " is already delivered by '" + transactionalId
                        + "' with " + held.records() + " records, and now comes with " + delivery.records()
                        + " other ones: a KafkaSink delivers one output of a pipeline. Give the side outputs (dead "
                        + "letters, late records) a KafkaSink with a transactional id of their own");
            }
            LOG.debug("checkpoint {} is already in {}: not delivered again", checkpointId, deliveriesTopic);
            return;
        }
        if (records.isEmpty()) {
            return;
        }
        KafkaProducer<byte[], byte[]> p = producer();
        long t0 = System.nanoTime();
        try {
            p.beginTransaction();
            for (KafkaRecord r : records) {
                RecordHeaders headers = new RecordHeaders();
                r.headers().forEach(headers::add);
                p.send(new ProducerRecord<>(r.topic(), r.partition(), r.timestamp(), r.key(), r.value(), headers));
            }
            if (delivery != null) {
                p.send(new ProducerRecord<>(deliveriesTopic, 0, null, transactionalId.getBytes(StandardCharsets.UTF_8),
                        delivery.toText().getBytes(StandardCharsets.UTF_8)));
            }
            p.commitTransaction(); // flushes: a failed send fails the commit
            committed.increment();
            duration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            aborted.increment();
            closeQuietly();
            fenced = "another producer with transactional id '" + transactionalId + "' took over (a second instance "
                    + "of this pipeline?): this sink delivers nothing more";
            throw new IOException("the output of checkpoint " + checkpointId + " was not delivered: " + fenced, e);
        } catch (KafkaException e) {
            aborted.increment();
            try {
                p.abortTransaction();
            } catch (KafkaException again) {
                e.addSuppressed(again);
                closeQuietly();
            }
            throw failure("the output of checkpoint " + checkpointId + " could not be delivered in a transaction "
                    + "of '" + transactionalId + "' (nothing of it is visible to read_committed consumers)", e);
        }
        if (delivery != null) {
            delivered.put(checkpointId, delivery);
        }
    }

    private static IOException failure(String what, Throwable e) {
        String hint = e instanceof AuthenticationException ? ": the credentials were refused"
                : e instanceof AuthorizationException ? ": not authorised (transactional id, topic or group ACLs)" : "";
        return new IOException(what + hint + ": " + e, e);
    }

    private void closeQuietly() {
        if (producer != null) {
            try {
                producer.close(Duration.ZERO);
            } catch (KafkaException ignored) {
                // closing after a failure: the producer is discarded either way
            }
            producer = null;
        }
    }

    public void close() {
        if (producer != null) {
            producer.close(timeout);
            producer = null;
        }
    }

    @Override
    public String toString() {
        return "transactionalId=" + transactionalId + ", deliveries=" + deliveriesTopic;
    }
}
