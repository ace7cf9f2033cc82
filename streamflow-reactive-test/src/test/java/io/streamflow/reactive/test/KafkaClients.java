package io.streamflow.reactive.test;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Plain Kafka producers and consumers for the broker tests, with bounded waits. */
final class KafkaClients {

    static final Duration WAIT = Duration.ofSeconds(60);

    private KafkaClients() {
    }

    static KafkaProducer<String, String> producer(Map<String, Object> clientProperties, Map<String, Object> more) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) WAIT.toMillis());
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) WAIT.toMillis());
        config.putAll(more);
        return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    }

    /** Sends {@code key-i -> value-i} for i in [0, count) and waits for every acknowledgement. */
    static void produce(Map<String, Object> clientProperties, String topic, int count) throws Exception {
        try (KafkaProducer<String, String> producer = producer(clientProperties, Map.of())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)));
            }
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    static KafkaConsumer<String, String> consumer(Map<String, Object> clientProperties, String group,
            String isolation) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        return new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
    }

    /**
     * Consumes {@code topic} in consumer group {@code group} until {@code count} records arrived, then
     * for another {@code settle} to see that nothing more comes, commits and returns what it read.
     */
    static List<ConsumerRecord<String, String>> consume(Map<String, Object> clientProperties, String group,
            String topic, int count, String isolation, Duration settle) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(clientProperties, group, isolation)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (records.size() < count && System.nanoTime() - deadline < 0) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            long settled = System.nanoTime() + settle.toNanos();
            while (System.nanoTime() - settled < 0) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
            }
            consumer.commitSync(WAIT);
        }
        return records;
    }

    static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }
}
