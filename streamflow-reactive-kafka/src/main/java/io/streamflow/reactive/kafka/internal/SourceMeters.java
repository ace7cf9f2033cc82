package io.streamflow.reactive.kafka.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.apache.kafka.common.TopicPartition;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of a Kafka source, shared by its subscriptions; tags {@code pipeline} and
 * {@code source}, and {@code topic} and {@code partition} (the Kafka partition number) on the
 * per-partition ones. Thread-safe: counters are updated where the work happens, the lag and pause
 * gauges by the poll threads.
 */
public final class SourceMeters {

    /** Records handed downstream, per partition. */
    public static final String RECORDS = "streamflow.kafka.source.records";
    /** Records not yet handed downstream behind the end of the partition, per partition. */
    public static final String LAG = "streamflow.kafka.source.lag";
    /** Partitions paused at the moment. */
    public static final String PAUSED = "streamflow.kafka.source.paused.partitions";
    /** Times a partition was paused. */
    public static final String PAUSES = "streamflow.kafka.source.pauses";
    /** Records that became dead letters in the source. */
    public static final String DEAD_LETTERS = "streamflow.kafka.source.dead.letters";

    private final MeterRegistry registry;
    private final Tags tags;
    private final Map<TopicPartition, Counter> records = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Lag> lags = new ConcurrentHashMap<>();
    private final AtomicInteger paused = new AtomicInteger();
    private final Counter pauses;
    private final Counter deadLetters;

    private record Lag(AtomicLong value, Meter gauge) {
    }

    /**
     * @param registry where the meters go
     * @param pipeline the {@code pipeline} tag
     * @param source   the {@code source} tag: the topics or the pattern
     */
    public SourceMeters(MeterRegistry registry, String pipeline, String source) {
        this.registry = registry;
        this.tags = Tags.of("pipeline", pipeline, "source", source);
        Gauge.builder(PAUSED, paused, AtomicInteger::get).tags(tags).baseUnit("partitions")
                .description("Partitions of a Kafka source paused at the moment").register(registry);
        this.pauses = Counter.builder(PAUSES).tags(tags).baseUnit("pauses")
                .description("Times a Kafka source paused a partition").register(registry);
        this.deadLetters = Counter.builder(DEAD_LETTERS).tags(tags).baseUnit("records")
                .description("Records a Kafka source made dead letters").register(registry);
    }

    private Tags partitionTags(TopicPartition tp) {
        return tags.and("topic", tp.topic(), "partition", Integer.toString(tp.partition()));
    }

    /** @param tp the partition of a record handed downstream */
    public void recordOut(TopicPartition tp) {
        recordsOut(tp).increment();
    }

    /**
     * The counter of a partition's records handed downstream, registered on the first call, for a
     * caller that counts many records of the partition and keeps it.
     *
     * @param tp a partition
     * @return its counter
     */
    public Counter recordsOut(TopicPartition tp) {
        return records.computeIfAbsent(tp, k -> Counter.builder(RECORDS).tags(partitionTags(k)).baseUnit("records")
                .description("Records a Kafka source handed downstream, per partition").register(registry));
    }

    /** A record became a dead letter. */
    public void deadLetter() {
        deadLetters.increment();
    }

    /** @param count partitions paused now (positive) or resumed (negative) */
    public void paused(int count) {
        paused.addAndGet(count);
        if (count > 0) {
            pauses.increment(count);
        }
    }

    /**
     * @param tp  an assigned partition
     * @param lag its records behind the end not yet handed downstream
     */
    public void lag(TopicPartition tp, long lag) {
        lags.computeIfAbsent(tp, k -> {
            AtomicLong value = new AtomicLong();
            Meter gauge = Gauge.builder(LAG, value, AtomicLong::get).tags(partitionTags(k)).baseUnit("records")
                    .description("Records behind the end of a partition not yet handed downstream")
                    .strongReference(true).register(registry);
            return new Lag(value, gauge);
        }).value().set(lag);
    }

    /** @param tp a partition that left this member: its lag gauge goes */
    public void revoked(TopicPartition tp) {
        Lag l = lags.remove(tp);
        if (l != null) {
            registry.remove(l.gauge());
        }
    }
}
