package io.streamflow.reactive.test;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * The only class of the kit that uses kafka-clients (an optional dependency): asks the broker
 * whether it serves and creates topics. Loaded only when a broker starts, after
 * {@link #checkClientsPresent()}.
 */
final class BrokerAdmin {

    private static final String ADMIN_CLASS = "org.apache.kafka.clients.admin.Admin";

    private BrokerAdmin() {
    }

    /** Fails with a message that says which dependency to add when kafka-clients is missing. */
    static void checkClientsPresent() {
        try {
            Class.forName(ADMIN_CLASS, false, BrokerAdmin.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException("KafkaBroker needs org.apache.kafka:kafka-clients on the test class path "
                    + "(3.9.x or later; the test kit declares it optional so that users of TestEventStream alone do "
                    + "not get it): add it as a test dependency", e);
        }
    }

    private static Admin admin(String bootstrapServers, Duration requestTimeout) {
        int millis = (int) Math.max(1_000, Math.min(Integer.MAX_VALUE, requestTimeout.toMillis()));
        return Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, "streamflow-kafka-broker-admin",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, millis,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis,
                AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500,
                AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100));
    }

    /**
     * Waits until the broker answers a metadata request with itself in it.
     *
     * @param alive  false once the broker's process has exited, which ends the wait at once
     * @return {@code true} when the broker answered; {@code false} when the process exited first
     * @throws TimeoutException when neither happened before the deadline
     */
    static boolean awaitReady(String bootstrapServers, long deadlineNanos, BooleanSupplier alive)
            throws TimeoutException, InterruptedException {
        try (Admin admin = admin(bootstrapServers, Duration.ofSeconds(2))) {
            while (true) {
                if (!alive.getAsBoolean()) {
                    return false;
                }
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException();
                }
                try {
                    if (!admin.describeCluster().nodes().get(Math.min(left, TimeUnit.SECONDS.toNanos(2)),
                            TimeUnit.NANOSECONDS).isEmpty()) {
                        return true;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // not listening yet, or still starting: ask again
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Creates a topic with one replica per partition and waits until every partition has a leader,
     * so that clients can use it at once.
     */
    static void createTopic(String bootstrapServers, String name, int partitions, Map<String, String> config,
            Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = admin(bootstrapServers, timeout)) {
            try {
                admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(config))).all()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException("cannot create topic " + name + " with " + partitions
                        + " partition(s): " + e.getCause(), e.getCause());
            }
            while (true) {
                try {
                    TopicDescription d = admin.describeTopics(Set.of(name)).allTopicNames()
                            .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).get(name);
                    if (d.partitions().size() == partitions && d.partitions().stream()
                            .map(TopicPartitionInfo::leader).allMatch(l -> l != null && !l.isEmpty())) {
                        return;
                    }
                } catch (ExecutionException e) {
                    // metadata not there yet: ask again
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new TimeoutException();
                }
                Thread.sleep(50);
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("topic " + name + " was not created with leaders for all its "
                    + partitions + " partition(s) within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        }
    }
}
