package io.streamflow.benchmarks.kafka;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.kafka.KafkaRecord;
import io.streamflow.reactive.kafka.KafkaSink;
import io.streamflow.reactive.kafka.KafkaSource;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.publisher.Flux;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * StreamFlow in the Kafka cells, written as a user would write the job with the Kafka module's
 * public API: a {@link KafkaSource} in a consumer group of its own, per-partition watermarks with
 * the disorder bound, a 1 s tumbling count per key, and the results to Kafka.
 */
final class StreamFlowKafka {

    private StreamFlowKafka() {
    }

    private static Map<String, Object> consumerProperties(KafkaSystem.RunSpec spec) {
        Map<String, Object> props = new HashMap<>(spec.clientProperties());
        props.put("group.id", spec.runId());
        props.put("auto.offset.reset", "earliest");
        return props;
    }

    /**
     * At-least-once: {@code KafkaSource.flux()} (offsets of handed-over records committed every
     * interval) → window → a plain (idempotent) producer, flushed when the input is over. As
     * {@link KafkaSource#flux()} says, that is at-least-once for what a record's {@code onNext}
     * finishes: here the window's counts live on the heap, so a crash would lose the open windows
     * of committed records; the cell measures the cost of the data path, not a recovery story.
     */
    static KafkaSystem.RunResult atLeastOnce(KafkaSystem.RunSpec spec) {
        KafkaSource<String, String> source = KafkaSource.strings(consumerProperties(spec)).topic(spec.input())
                .commitInterval(spec.interval());
        AtomicLong first = new AtomicLong();
        AtomicLong records = new AtomicLong();
        String output = spec.output();
        try (KafkaProducer<String, Long> producer = new KafkaProducer<>(new HashMap<>(spec.clientProperties()),
                new StringSerializer(), new LongSerializer())) {
            EventStream.from(untilTheEnd(source.flux(), spec.partitions(), first, records),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(
                                    Duration.ofMillis(spec.disorderMillis())))
                    .window(Windows.tumbling(Duration.ofMillis(KafkaInput.WINDOW_MILLIS))).name("counts")
                    .aggregate(Aggregations.<String>count())
                    .records()
                    .doOnNext(r -> {
                        if (!KafkaInput.isEnd(r.key())) {
                            long start = r.value().start();
                            producer.send(new ProducerRecord<>(output, null, start,
                                    KafkaInput.resultKey(r.key(), start), r.value().value()));
                        }
                    })
                    .then()
                    .block();
            producer.flush();
        }
        return new KafkaSystem.RunResult(System.nanoTime() - first.get(), records.get());
    }

    /**
     * Exactly-once: a checkpointed pipeline ({@code Checkpointing}, interval = the run's interval,
     * output checkpointed promptly with no pause, the window's state in the checkpoint's store) over {@code KafkaSource.resume()}, into
     * {@code KafkaSink.exactlyOnce} (one transaction per checkpoint), which also commits the
     * checkpoint's offsets to the group ({@code committingOffsets}). Done when the final
     * checkpoint's output is committed.
     */
    static KafkaSystem.RunResult exactlyOnce(KafkaSystem.RunSpec spec) {
        KafkaSource<String, String> source = KafkaSource.strings(consumerProperties(spec)).topic(spec.input());
        AtomicLong first = new AtomicLong();
        AtomicLong records = new AtomicLong();
        String output = spec.output();
        try (Checkpointing cp = Checkpointing.builder(spec.workDir().resolve("checkpoints")).interval(spec.interval())
                .commitOutputPromptly(Duration.ZERO).open();
             KafkaSink kafka = KafkaSink.exactlyOnce(spec.clientProperties(), spec.runId())) {
            EventStream.of(cp.source("input", positions -> untilTheEnd(source.resume().apply(positions),
                                    spec.partitions(), first, records),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(
                                    Duration.ofMillis(spec.disorderMillis()))))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofMillis(KafkaInput.WINDOW_MILLIS))).name("counts")
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .filter(e -> !(e instanceof StreamRecord<?, ?> r && KafkaInput.isEnd(r.key())))
                    .as(cp.sink(source.committingOffsets("input", kafka),
                            (StreamRecord<String, WindowResult<String, Long>> r) -> KafkaRecord.of(output,
                                    KafkaInput.resultKey(r.key(), r.value().start()).getBytes(StandardCharsets.UTF_8),
                                    ByteBuffer.allocate(8).putLong(r.value().value()).array())))
                    .block();
        }
        return new KafkaSystem.RunResult(System.nanoTime() - first.get(), records.get());
    }

    /**
     * The source's elements until the end marker of every partition (the Kafka source never
     * ends), noting when the first one came and how many came.
     */
    static Flux<StreamElement<String, String>> untilTheEnd(Flux<StreamElement<String, String>> elements,
                                                           int partitions, AtomicLong first, AtomicLong count) {
        Set<Integer> ended = new HashSet<>();
        return elements.takeUntil(e -> {
            if (count.getAndIncrement() == 0) {
                first.set(System.nanoTime());
            }
            if (e instanceof StreamRecord<?, ?> r && KafkaInput.isEnd(r.key())) {
                ended.add(r.origin().partition());
            } else if (e instanceof DeadLetter<?, ?> d) {
                Origin o = d.origin();
                throw new IllegalStateException("undecodable record at " + o + ": " + d);
            }
            return ended.size() == partitions;
        });
    }
}
