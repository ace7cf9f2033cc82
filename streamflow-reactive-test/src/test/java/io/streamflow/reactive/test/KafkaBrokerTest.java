package io.streamflow.reactive.test;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;

import static io.streamflow.reactive.test.KafkaClients.consume;
import static io.streamflow.reactive.test.KafkaClients.produce;
import static io.streamflow.reactive.test.KafkaClients.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The whole broker suite against the 4.x broker (one broker for the class, with a SASL listener):
 * plain and transactional produce and consume, SASL/PLAIN, pause and resume, kill and stop with
 * restart. Each test uses topics and groups of its own and leaves the broker running.
 */
class KafkaBrokerTest {

    @RegisterExtension
    static final KafkaBrokerExtension kafka = KafkaBrokerExtension.create(KafkaBrokerConfig.defaults()
            .withSaslPlain(Map.of("alice", "alice-secret", "bob", "bob-secret")));

    @Test
    void theBrokerRunsTheConfiguredKafkaVersionOnLoopbackAndIsInjectedAsAParameter(KafkaBroker broker)
            throws Exception {
        assertThat(broker).isSameAs(kafka.broker());
        assertThat(broker.isRunning()).isTrue();
        assertThat(broker.bootstrapServers()).startsWith("127.0.0.1:");
        assertThat(broker.clientProperties()).containsOnly(Map.entry("bootstrap.servers", broker.bootstrapServers()));
        assertThat(Files.readString(broker.logFile()))
                .contains("Kafka version: " + System.getProperty("streamflow.test.kafka.broker.version"));
    }

    @Test
    void recordsProducedToAThreePartitionTopicAreConsumedBackInAConsumerGroup(KafkaBroker broker) throws Exception {
        broker.createTopic("plain", 3);
        produce(broker.clientProperties(), "plain", 30);

        List<ConsumerRecord<String, String>> read = consume(broker.clientProperties(), "plain-group", "plain", 30,
                "read_uncommitted", Duration.ZERO);

        assertThat(values(read)).containsExactlyInAnyOrderElementsOf(
                IntStream.range(0, 30).mapToObj(i -> "value-" + i).toList());
        assertThat(read).extracting(ConsumerRecord::partition).containsOnly(0, 1, 2);
        assertThat(consume(broker.clientProperties(), "plain-group", "plain", 0, "read_uncommitted",
                Duration.ofSeconds(1))).as("after the group committed its offsets").isEmpty();
    }

    @Test
    void aReadCommittedConsumerSeesCommittedTransactionsAndNotAbortedOnes(KafkaBroker broker) throws Exception {
        broker.createTopic("transactions", 3);
        sendInTransactions(broker, "transactions", "transactions-producer");

        assertThat(values(consume(broker.clientProperties(), "committed-group", "transactions", 10, "read_committed",
                Duration.ofSeconds(1)))).containsExactlyInAnyOrderElementsOf(committedValues());
        assertThat(values(consume(broker.clientProperties(), "uncommitted-group", "transactions", 15,
                "read_uncommitted", Duration.ZERO))).as("the aborted records are in the log").hasSize(15);
    }

    @Test
    void theSaslListenerServesItsUsersAndRejectsAWrongPassword(KafkaBroker broker) throws Exception {
        broker.createTopic("sasl", 1);
        produce(broker.clientProperties("alice", "alice-secret"), "sasl", 3);

        assertThat(values(consume(broker.clientProperties("bob", "bob-secret"), "sasl-group", "sasl", 3,
                "read_uncommitted", Duration.ZERO))).containsExactlyInAnyOrder("value-0", "value-1", "value-2");
        Admin admin = admin(broker.clientProperties("alice", "wrong"));
        try {
            assertThatThrownBy(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(SaslAuthenticationException.class);
        } finally {
            admin.close(Duration.ZERO);
        }
        assertThatThrownBy(() -> broker.clientProperties("alice", "quote\""))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aPausedBrokerAnswersNothingUntilItIsResumed(KafkaBroker broker) throws Exception {
        broker.createTopic("after-pause", 1);
        broker.pause();
        try {
            assertThat(broker.isPaused()).isTrue();
            assertThat(broker.isRunning()).isTrue();
            Admin admin = admin(broker.clientProperties());
            try {
                // about 3 seconds without an answer
                assertThatThrownBy(() -> admin.describeCluster().nodes().get(3, TimeUnit.SECONDS))
                        .isInstanceOfAny(TimeoutException.class, ExecutionException.class);
            } finally {
                admin.close(Duration.ZERO);
            }
            assertThatThrownBy(() -> broker.createTopic("while-paused", 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("paused");
        } finally {
            broker.resume();
        }

        assertThat(broker.isPaused()).isFalse();
        produce(broker.clientProperties(), "after-pause", 5);
        assertThat(consume(broker.clientProperties(), "after-pause-group", "after-pause", 5, "read_uncommitted",
                Duration.ZERO)).hasSize(5);
    }

    @Test
    void committedDataSurvivesAKillAndARestartOnTheSamePorts(KafkaBroker broker) throws Exception {
        String bootstrap = broker.bootstrapServers();
        broker.createTopic("durable", 3);
        produce(broker.clientProperties(), "durable", 20);
        sendInTransactions(broker, "durable-tx", "durable-producer");

        broker.kill();
        assertThat(broker.isRunning()).isFalse();
        broker.restart();

        assertThat(broker.isRunning()).isTrue();
        assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
        assertThat(consume(broker.clientProperties(), "durable-group", "durable", 20, "read_uncommitted",
                Duration.ZERO)).hasSize(20);
        assertThat(values(consume(broker.clientProperties(), "durable-tx-group", "durable-tx", 10, "read_committed",
                Duration.ofSeconds(1)))).containsExactlyInAnyOrderElementsOf(committedValues());
        assertThat(Files.readString(broker.logFile())).contains("killed (SIGKILL)");
    }

    @Test
    void stopShutsTheBrokerDownCleanlyAndRestartServesTheSameTopics(KafkaBroker broker) throws Exception {
        broker.createTopic("stopped", 2);
        produce(broker.clientProperties(), "stopped", 4);

        broker.stop();
        assertThat(broker.isRunning()).isFalse();
        assertThatThrownBy(() -> broker.createTopic("while-stopped", 1))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not running");
        broker.restart();

        produce(broker.clientProperties(), "stopped", 4);
        assertThat(consume(broker.clientProperties(), "stopped-group", "stopped", 8, "read_uncommitted",
                Duration.ZERO)).hasSize(8);
        assertThat(Files.readString(broker.logFile())).contains("stopped (SIGTERM)");
    }

    /** Commits value-0..4, aborts aborted-0..4, commits value-5..9. */
    static void sendInTransactions(KafkaBroker broker, String topic, String transactionalId) throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        try (KafkaProducer<String, String> producer = KafkaClients.producer(broker.clientProperties(), config)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i));
            }
            producer.commitTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "aborted-" + i));
            }
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            for (int i = 5; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i));
            }
            producer.commitTransaction();
        }
    }

    static List<String> committedValues() {
        return IntStream.range(0, 10).mapToObj(i -> "value-" + i).toList();
    }

    static Admin admin(Map<String, Object> clientProperties) {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(config);
    }
}
