package io.streamflow.benchmarks.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsResult;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Kafka Streams in the Kafka cells, the DSL a Kafka Streams user writes for the job:
 * <pre>{@code
 * stream(input).groupByKey().windowedBy(TimeWindows.ofSizeAndGrace(1 s, disorder))
 *     .count(in-memory or RocksDB window store)
 *     .suppress(untilWindowCloses(unbounded())).toStream() -> "<key>@<start>", count -> to(output)
 * }</pre>
 * {@code suppress} makes it emit one final count per key and window once stream time passed the
 * window's end plus the grace, as the other systems do (without it Kafka Streams emits an update
 * per commit, which is not the same output). One stream thread (StreamFlow's pipeline runs on
 * one thread too), the commit interval of the run, the rest Kafka Streams' defaults (a 10 MB
 * record cache; the store's changelog and the suppression buffer's changelog topics).
 * <p>
 * A timestamp extractor (the record's own timestamp, as the default one) notes when the first
 * record came and the offset of each partition's end marker; the run is over when the application's
 * committed offsets passed every end marker: under {@code exactly_once_v2} the offsets commit in the
 * transaction that holds the output, under {@code at_least_once} after the producer was flushed.
 */
final class KafkaStreamsApp {

    private KafkaStreamsApp() {
    }

    /** Record timestamps as they are; notes the first record's time and the end markers' offsets. */
    private static final class Watch implements TimestampExtractor {
        volatile long first;
        final Map<Integer, Long> ends = new ConcurrentHashMap<>();
        long records;

        @Override
        public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
            if (records++ == 0) {
                first = System.nanoTime();
            }
            if (KafkaInput.isEnd(record.key())) {
                ends.put(record.partition(), record.offset());
            }
            return record.timestamp();
        }
    }

    static KafkaSystem.RunResult run(KafkaSystem.RunSpec spec, boolean exactlyOnce, boolean rocksDb)
            throws Exception {
        Duration size = Duration.ofMillis(KafkaInput.WINDOW_MILLIS);
        Duration grace = Duration.ofMillis(spec.disorderMillis());
        Duration retention = size.plus(grace);
        WindowBytesStoreSupplier store = rocksDb
                ? Stores.persistentTimestampedWindowStore("counts", retention, size, false)
                : Stores.inMemoryWindowStore("counts", retention, size, false);
        Watch watch = new Watch();
        String output = spec.output();
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(spec.input(), Consumed.with(Serdes.String(), Serdes.String()).withTimestampExtractor(watch))
                .groupByKey()
                .windowedBy(TimeWindows.ofSizeAndGrace(size, grace))
                .count(Materialized.<String, Long>as(store)
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
                .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                .toStream()
                .filter((w, count) -> !KafkaInput.isEnd(w.key()))
                .map((w, count) -> KeyValue.pair(KafkaInput.resultKey(w.key(), w.window().start()), count))
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));

        Properties props = new Properties();
        props.putAll(spec.clientProperties());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, spec.runId());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, exactlyOnce ? StreamsConfig.EXACTLY_ONCE_V2
                : StreamsConfig.AT_LEAST_ONCE);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.toString(spec.interval().toMillis()));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
        props.put(StreamsConfig.STATE_DIR_CONFIG, spec.workDir().resolve("state").toString());
        props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

        AtomicReference<Throwable> failure = new AtomicReference<>();
        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        streams.setUncaughtExceptionHandler(e -> {
            failure.compareAndSet(null, e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
        try (Admin admin = Admin.create(spec.clientProperties())) {
            streams.start();
            long done;
            while (true) {
                check(failure, deadline, streams);
                if (watch.ends.size() == spec.partitions() && committedPastTheEnd(admin, spec, watch.ends)) {
                    done = System.nanoTime();
                    break;
                }
                Thread.sleep(watch.ends.size() == spec.partitions() ? 5 : 20);
            }
            return new KafkaSystem.RunResult(done - watch.first, watch.records);
        } finally {
            streams.close(Duration.ofSeconds(60));
            streams.cleanUp();
        }
    }

    private static void check(AtomicReference<Throwable> failure, long deadline, KafkaStreams streams) {
        if (failure.get() != null) {
            throw new IllegalStateException("Kafka Streams failed", failure.get());
        }
        if (streams.state() == KafkaStreams.State.ERROR || streams.state() == KafkaStreams.State.NOT_RUNNING) {
            throw new IllegalStateException("Kafka Streams stopped: " + streams.state());
        }
        if (System.nanoTime() > deadline) {
            throw new IllegalStateException("Kafka Streams did not finish in 30 minutes");
        }
    }

    private static boolean committedPastTheEnd(Admin admin, KafkaSystem.RunSpec spec, Map<Integer, Long> ends)
            throws Exception {
        ListConsumerGroupOffsetsResult r = admin.listConsumerGroupOffsets(spec.runId());
        Map<TopicPartition, OffsetAndMetadata> committed = r.partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        for (Map.Entry<Integer, Long> e : ends.entrySet()) {
            OffsetAndMetadata o = committed.get(new TopicPartition(spec.input(), e.getKey()));
            if (o == null || o.offset() <= e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
