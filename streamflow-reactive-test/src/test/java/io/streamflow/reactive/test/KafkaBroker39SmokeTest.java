package io.streamflow.reactive.test;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import static io.streamflow.reactive.test.KafkaClients.consume;
import static io.streamflow.reactive.test.KafkaClients.produce;
import static io.streamflow.reactive.test.KafkaClients.values;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The smoke subset against the older broker line (3.9.x), which the library's 3.9 client also
 * supports: the broker starts, plain records go through a consumer group, transactions commit and
 * abort, and a kill and restart keep the data. Its class path comes from the system property the
 * build sets to the file the 3.9 broker module writes.
 */
class KafkaBroker39SmokeTest {

    @RegisterExtension
    static final KafkaBrokerExtension kafka = KafkaBrokerExtension.create(KafkaBrokerConfig.defaults()
            .withClassPathFile(Path.of(System.getProperty("streamflow.test.kafka.broker.39.classpath.file",
                    "the system property streamflow.test.kafka.broker.39.classpath.file is not set"))));

    @Test
    void theBrokerRunsTheConfiguredThreeNineVersion(KafkaBroker broker) throws Exception {
        assertThat(Files.readString(broker.logFile()))
                .contains("Kafka version: " + System.getProperty("streamflow.test.kafka.broker.39.version"));
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
    }

    @Test
    void aReadCommittedConsumerSeesCommittedTransactionsAndNotAbortedOnes(KafkaBroker broker) throws Exception {
        broker.createTopic("transactions", 3);
        KafkaBrokerTest.sendInTransactions(broker, "transactions", "transactions-producer");

        assertThat(values(consume(broker.clientProperties(), "committed-group", "transactions", 10, "read_committed",
                Duration.ofSeconds(1)))).containsExactlyInAnyOrderElementsOf(KafkaBrokerTest.committedValues());
    }

    @Test
    void committedDataSurvivesAKillAndARestart(KafkaBroker broker) throws Exception {
        broker.createTopic("durable", 2);
        produce(broker.clientProperties(), "durable", 10);

        broker.kill();
        broker.restart();

        assertThat(consume(broker.clientProperties(), "durable-group", "durable", 10, "read_uncommitted",
                Duration.ZERO)).hasSize(10);
    }
}
