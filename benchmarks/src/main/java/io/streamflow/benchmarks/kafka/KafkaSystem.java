package io.streamflow.benchmarks.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The systems of the Kafka cells. Each reads an input topic written by {@link KafkaInput#fill}
 * (or by the latency run's producer) from its beginning, in a consumer group of its own, counts
 * per key in 1 s tumbling event-time windows (bounded disorder, results once a window closes)
 * and writes the counts into an output topic, until it has seen the end marker of every
 * partition and its output is delivered.
 */
public enum KafkaSystem {

    /** The ceiling of reading: a raw {@code KafkaConsumer} poll loop that only counts records. */
    CONSUME("kafka-consume", Guarantee.NONE),
    /**
     * The ceiling of the whole job: a raw consume-count-produce loop (hash maps per partition and
     * window, a plain idempotent producer, offsets committed after a producer flush every interval).
     */
    LOOP("kafka-loop", Guarantee.AT_LEAST_ONCE),
    /** StreamFlow: {@code KafkaSource.flux()} → window → a plain producer. */
    STREAMFLOW_ALO("streamflow-alo", Guarantee.AT_LEAST_ONCE),
    /** StreamFlow: checkpointed {@code KafkaSource.resume()} → window → {@code KafkaSink.exactlyOnce}. */
    STREAMFLOW_EOS("streamflow-eos", Guarantee.EXACTLY_ONCE),
    /** Kafka Streams, {@code at_least_once}, in-memory window store. */
    KSTREAMS_ALO_MEMORY("kstreams-alo-memory", Guarantee.AT_LEAST_ONCE),
    /** Kafka Streams, {@code at_least_once}, RocksDB window store. */
    KSTREAMS_ALO_ROCKSDB("kstreams-alo-rocksdb", Guarantee.AT_LEAST_ONCE),
    /** Kafka Streams, {@code exactly_once_v2}, in-memory window store. */
    KSTREAMS_EOS_MEMORY("kstreams-eos-memory", Guarantee.EXACTLY_ONCE),
    /** Kafka Streams, {@code exactly_once_v2}, RocksDB window store. */
    KSTREAMS_EOS_ROCKSDB("kstreams-eos-rocksdb", Guarantee.EXACTLY_ONCE);

    /** Delivery guarantee of a system. */
    public enum Guarantee {
        /** Produces nothing. */
        NONE,
        /** Results may be produced again after a failure. */
        AT_LEAST_ONCE,
        /** Results reach {@code read_committed} readers once. */
        EXACTLY_ONCE
    }

    private final String id;
    private final Guarantee guarantee;

    KafkaSystem(String id, Guarantee guarantee) {
        this.id = id;
        this.guarantee = guarantee;
    }

    /** @return the name used in the harness's options and tables */
    public String id() {
        return id;
    }

    /** @return the delivery guarantee */
    public Guarantee guarantee() {
        return guarantee;
    }

    /** @return whether this is Kafka Streams */
    public boolean isKafkaStreams() {
        return name().startsWith("KSTREAMS");
    }

    /** @return whether this is StreamFlow */
    public boolean isStreamFlow() {
        return name().startsWith("STREAMFLOW");
    }

    /** The system named {@code id}. */
    public static KafkaSystem of(String id) {
        return Arrays.stream(values()).filter(s -> s.id.equals(id.trim().toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown Kafka system '" + id + "'; known: " + ids()));
    }

    /** @return the names of all systems */
    public static List<String> ids() {
        return Arrays.stream(values()).map(KafkaSystem::id).toList();
    }

    /**
     * What one run is given.
     *
     * @param clientProperties Kafka client settings (at least {@code bootstrap.servers})
     * @param input            input topic
     * @param output           output topic (exists; the count-only loop writes nothing)
     * @param runId            unique per run: consumer group, application id and transactional
     *                         id are derived from it
     * @param partitions       partitions of the input topic (each ends with an end marker)
     * @param disorderMillis   the disorder bound (watermark bound, Kafka Streams' grace)
     * @param interval         checkpoint interval (StreamFlow exactly-once), commit interval
     *                         (Kafka Streams, the loop, StreamFlow's at-least-once source)
     * @param workDir          a fresh directory for checkpoints or state stores
     */
    public record RunSpec(Map<String, Object> clientProperties, String input, String output, String runId,
                          int partitions, long disorderMillis, Duration interval, Path workDir) {
    }

    /**
     * What one run measured.
     *
     * @param nanos   from the first input record the system handled to the moment all of its output
     *                was delivered (start-up, group join and topic creation are not in it)
     * @param records input records it handled (end markers included)
     */
    public record RunResult(long nanos, long records) {
    }

    /** Runs this system once; returns when its output is delivered. */
    public RunResult run(RunSpec spec) throws Exception {
        return switch (this) {
            case CONSUME -> RawKafkaLoops.consume(spec);
            case LOOP -> RawKafkaLoops.consumeCountProduce(spec);
            case STREAMFLOW_ALO -> StreamFlowKafka.atLeastOnce(spec);
            case STREAMFLOW_EOS -> StreamFlowKafka.exactlyOnce(spec);
            case KSTREAMS_ALO_MEMORY -> KafkaStreamsApp.run(spec, false, false);
            case KSTREAMS_ALO_ROCKSDB -> KafkaStreamsApp.run(spec, false, true);
            case KSTREAMS_EOS_MEMORY -> KafkaStreamsApp.run(spec, true, false);
            case KSTREAMS_EOS_ROCKSDB -> KafkaStreamsApp.run(spec, true, true);
        };
    }
}
