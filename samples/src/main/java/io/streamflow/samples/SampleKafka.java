package io.streamflow.samples;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.test.KafkaBroker;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.publisher.Flux;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Where the Kafka samples ({@link KafkaPageViews}, {@link KafkaFraudAlerts}) run: an existing
 * cluster, named by {@code --bootstrap host:port} on the command line or the system property
 * {@value #BOOTSTRAP_PROPERTY}, or else a real Kafka broker of the test kit ({@link KafkaBroker}: one
 * KRaft node on {@code 127.0.0.1}, in a child JVM from the broker jars that Maven resolved) started
 * for the run and stopped by {@link #close()}.
 * <p>
 * Also what both samples need around their pipelines: creating a topic, producing their input in
 * order and noting where it starts and ends in each partition, so that a pipeline reads exactly
 * the records of this run even from a topic that holds those of earlier runs.
 * <p>
 * Every method blocks (Kafka clients, a broker start): call them from {@code main} or a test
 * thread, never from a non-blocking Reactor thread.
 */
public final class SampleKafka implements AutoCloseable {

    /** System property naming an existing cluster's bootstrap servers, as {@code --bootstrap} does. */
    public static final String BOOTSTRAP_PROPERTY = "streamflow.samples.kafka.bootstrap";

    private static final long TIMEOUT_SECONDS = 60;

    private final String bootstrapServers;
    private final KafkaBroker broker;

    private SampleKafka(String bootstrapServers, KafkaBroker broker) {
        this.bootstrapServers = bootstrapServers;
        this.broker = broker;
    }

    /**
     * The command line of a Kafka sample: {@code [--bootstrap host:port] [positional...]}.
     *
     * @param bootstrap  the cluster to use, or {@code null} to start a broker
     * @param positional the other arguments, in order
     */
    public record Args(String bootstrap, List<String> positional) {

        /**
         * Parses {@code args}; {@code --bootstrap} may stand anywhere, also as
         * {@code --bootstrap=host:port}. Without it, the system property {@value #BOOTSTRAP_PROPERTY}
         * counts when it is set.
         *
         * @throws IllegalArgumentException if {@code --bootstrap} has no value or another option is given
         */
        public static Args parse(String[] args) {
            String bootstrap = null;
            List<String> positional = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--bootstrap")) {
                    if (i + 1 >= args.length || args[i + 1].isBlank()) {
                        throw new IllegalArgumentException("--bootstrap needs host:port, e.g. --bootstrap localhost:9092");
                    }
                    bootstrap = args[++i];
                } else if (a.startsWith("--bootstrap=")) {
                    bootstrap = a.substring("--bootstrap=".length());
                    if (bootstrap.isBlank()) {
                        throw new IllegalArgumentException("--bootstrap needs host:port, e.g. --bootstrap=localhost:9092");
                    }
                } else if (a.startsWith("--")) {
                    throw new IllegalArgumentException("unknown option " + a + ": the only option is --bootstrap host:port");
                } else {
                    positional.add(a);
                }
            }
            if (bootstrap == null) {
                String property = System.getProperty(BOOTSTRAP_PROPERTY);
                bootstrap = property == null || property.isBlank() ? null : property.strip();
            }
            return new Args(bootstrap, List.copyOf(positional));
        }

        /** @return positional argument {@code index} as a long, or {@code fallback} when it is not given */
        public long longArg(int index, long fallback) {
            return index < positional.size() ? Long.parseLong(positional.get(index)) : fallback;
        }
    }

    /**
     * Uses the cluster at {@code bootstrap}, or starts a broker when it is {@code null}, saying which
     * on {@code log}.
     *
     * @throws IllegalStateException when no broker can be started (for example, the system property
     *                               naming the broker's class path is not set: the message says what to set)
     */
    public static SampleKafka open(String bootstrap, PrintStream log) {
        if (bootstrap != null) {
            log.println("-- using the Kafka cluster at " + bootstrap);
            return new SampleKafka(bootstrap, null);
        }
        log.println("-- starting a Kafka broker (the test kit's KafkaBroker, a child JVM on 127.0.0.1) ...");
        KafkaBroker broker = KafkaBroker.start();
        log.println("-- broker ready at " + broker.bootstrapServers());
        return new SampleKafka(broker.bootstrapServers(), broker);
    }

    /** @return the bootstrap servers of the cluster */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** @return whether this run started the broker (and {@link #close()} stops it) */
    public boolean startedBroker() {
        return broker != null;
    }

    /**
     * Creates {@code name} with {@code partitions} partitions and the cluster's default replication,
     * unless it exists (then it is used as it is).
     *
     * @return whether the topic was created
     */
    public boolean createTopic(String name, int partitions) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(name, Optional.of(partitions), Optional.empty())))
                    .all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return false;
            }
            throw new IllegalStateException("cannot create topic " + name + " on " + bootstrapServers + ": "
                    + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + bootstrapServers + " did not create topic " + name
                    + " within " + TIMEOUT_SECONDS + " s", e);
        }
    }

    /**
     * Where the records of one run are in their topic: per partition (the Kafka partition number)
     * the offset of the first and of the last one. Only partitions that got records are present.
     *
     * @param topic   the topic
     * @param first   partition → offset of its first record of this run
     * @param last    partition → offset of its last record of this run
     * @param records how many records were produced
     */
    public record Produced(String topic, Map<Integer, Long> first, Map<Integer, Long> last, long records) {

        public Produced {
            first = Map.copyOf(first);
            last = Map.copyOf(last);
        }

        /**
         * Positions for {@code KafkaSource.resume()}: per partition the offset before this run's first
         * record, so that reading starts with it (a partition whose first record is at offset 0 is
         * left out and starts at {@code auto.offset.reset=earliest}).
         *
         * @return partition → last offset not to read
         */
        public Map<Integer, Long> startPositions() {
            Map<Integer, Long> out = new HashMap<>();
            first.forEach((p, offset) -> {
                if (offset > 0) {
                    out.put(p, offset - 1);
                }
            });
            return out;
        }

        /** @return the partitions that got records, in order */
        public int[] partitions() {
            return first.keySet().stream().sorted().mapToInt(Integer::intValue).toArray();
        }
    }

    /**
     * Produces {@code records} in order (text keys and values, each with its own timestamp, to the
     * partition of its key) with {@code acks=all} and waits until all are written.
     *
     * @return where they are
     */
    public Produced produce(String topic, List<ProducerRecord<String, String>> records) {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
        Map<Integer, Long> first = new TreeMap<>();
        Map<Integer, Long> last = new TreeMap<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
            for (ProducerRecord<String, String> r : records) {
                if (!topic.equals(r.topic())) {
                    throw new IllegalArgumentException("a record for " + r.topic() + " among those for " + topic);
                }
                sent.add(producer.send(r));
            }
            for (Future<RecordMetadata> f : sent) {
                RecordMetadata m = f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                first.merge(m.partition(), m.offset(), Math::min);
                last.merge(m.partition(), m.offset(), Math::max);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("producing to " + topic + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while producing to " + topic, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + bootstrapServers + " did not take the records for " + topic
                    + " within " + TIMEOUT_SECONDS + " s", e);
        }
        return new Produced(topic, first, last, records.size());
    }

    /**
     * The elements of a Kafka source up to the last record of this run in every partition, then
     * completion (a Kafka source itself never completes; its completion here lets the pipeline's
     * final watermark fire the last windows).
     *
     * @param elements the source's records and dead letters, read from {@link Produced#startPositions()}
     * @param produced where the run's records end
     */
    public static <K, V> Flux<StreamElement<K, V>> untilLastRecord(Flux<StreamElement<K, V>> elements,
                                                                   Produced produced) {
        Objects.requireNonNull(produced, "produced");
        if (produced.last().isEmpty()) {
            return Flux.empty();
        }
        return Flux.defer(() -> {
            Set<Integer> done = new HashSet<>();
            return elements.takeUntil(e -> {
                Origin o = origin(e);
                Long end = o == null ? null : produced.last().get(o.partition());
                if (end != null && o.position() >= end) {
                    done.add(o.partition());
                }
                return done.size() == produced.last().size();
            });
        });
    }

    private static Origin origin(StreamElement<?, ?> e) {
        return e instanceof StreamRecord<?, ?> r ? r.origin() : e instanceof DeadLetter<?, ?> d ? d.origin() : null;
    }

    /** Stops the broker if this run started it (its files are deleted); an existing cluster is left alone. */
    @Override
    public void close() {
        if (broker != null) {
            broker.close();
        }
    }

    @Override
    public String toString() {
        return "SampleKafka{" + bootstrapServers + (broker == null ? "" : ", started here") + "}";
    }
}
