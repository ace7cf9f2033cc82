package io.streamflow.reactive.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The examples of the HTTP sink's user documentation, run against the local receiver. */
class HttpSinkReadmeExampleTest {

    @TempDir
    Path dir;

    private MiniKv kv;

    @BeforeEach
    void startReceiver() {
        kv = MiniKv.start();
    }

    @AfterEach
    void stopReceiver() {
        kv.close();
    }

    @Test
    void shouldRunThePlainPipelineExample() {
        URI uri = kv.uri();
        String token = "t0k3n";
        MeterRegistry registry = new SimpleMeterRegistry();
        Flux<StreamRecord<String, Long>> counts = Flux.range(0, 50)
                .map(i -> StreamRecord.of("word" + i, (long) i, 1_000L + i, Origin.of("words", 0, i)));
        List<DeadLetter<?, ?>> notDelivered = new CopyOnWriteArrayList<>();

        // --- example
        try (HttpSink sink = HttpSink.to(uri)
                .name("word-counts")
                .batchSize(200).maxBatchDelay(Duration.ofMillis(50))
                .maxInFlight(4).timeout(Duration.ofSeconds(5)).maxRetries(6)
                .header("Authorization", "Bearer " + token)
                .meterRegistry(registry)
                .build()) {
            counts.transform(sink.send(r -> Map.of("word", r.key(), "count", r.value())))
                    .doOnNext(outcome -> {
                        if (outcome instanceof DeadLetter<?, ?> d) {
                            notDelivered.add(d); // or log it: d.origin(), d.error()
                        }
                    })
                    .blockLast();
        }
        // --- end of example

        assertThat(notDelivered).isEmpty();
        assertThat(kv.store).hasSize(50);
        assertThat(kv.log).allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer t0k3n"));
    }

    @Test
    void shouldRunTheCheckpointedPipelineExample() {
        URI uri = kv.uri();
        Path checkpoints = dir.resolve("checkpoints");
        Path refused = dir.resolve("refused");

        // --- example
        try (HttpSink sink = HttpSink.to(uri).name("numbers")
                .deadLetters(StreamSinks.exactlyOnceFiles(refused))
                .build();
             Checkpointing cp = Checkpointing.builder(checkpoints)
                     .commitOutputPromptly(Duration.ofMillis(200))
                     .open()) {
            EventStream.of(cp.source("numbers",
                            Checkpointing.resumeGenerator(1_000, n -> StreamRecord.of(n % 10, n, n,
                                    Origin.of("numbers", 0, n))),
                            WatermarkStrategy.<Long, Long>forMonotonousTimestamps()))
                    .elements()
                    .as(cp.sink(sink.outbox(), HttpSink.<Long, Long>json(r -> Map.of("key", r.key(), "n", r.value()))))
                    .block();
        }
        // --- end of example

        assertThat(kv.store).hasSize(1_000);
        assertThat(refused).doesNotExist();
    }

    @Test
    void shouldInferTheTypesOfAnOperatorOnElements() {
        Flux<StreamElement<String, Long>> elements = Flux.just(StreamRecord.of("a", 1L, 1L));
        try (HttpSink sink = HttpSink.to(kv.uri()).build()) {
            List<StreamElement<String, Long>> out = elements.transform(sink.send(r -> r.value())).collectList().block();
            assertThat(out).hasSize(1);
        }
    }
}
