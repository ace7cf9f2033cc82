package io.streamflow.reactive.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The HTTP sink as the outbox sink of a checkpointed pipeline, against a real local receiver. */
class HttpSinkOutboxTest {

    @TempDir
    Path dir;

    private MiniKv kv;
    private final MeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void startReceiver() {
        kv = MiniKv.start();
    }

    @AfterEach
    void stopReceiver() {
        kv.close();
    }

    private HttpSink.Builder fast() {
        return HttpSink.to(kv.uri()).name("test").meterRegistry(registry)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(5));
    }

    private double recordsMeter(String result) {
        return registry.get("streamflow.http.sink.records").tag("sink", "test").tag("result", result).counter().count();
    }

    private static List<String> results(int n) {
        return IntStream.range(0, n).mapToObj(i -> "{\"n\":" + i + "}").toList();
    }

    @Test
    void shouldDeliverACheckpointInBatchesWithAKeyPerResultSoTheReceiverDropsARedelivery() throws IOException {
        try (HttpSink sink = fast().batchSize(100).maxInFlight(2).build()) {
            OutboxSink<String> outbox = sink.outbox();

            outbox.deliver(7, results(250));
            assertThat(kv.log.stream().map(r -> r.keys().size()).sorted().toList()).containsExactly(50, 100, 100);
            assertThat(kv.store).hasSize(250);
            assertThat(kv.store.keySet()).allMatch(k -> k.startsWith("test:cp:7:"));
            String key42 = kv.store.keySet().stream().filter(k -> k.startsWith("test:cp:7:42:")).findFirst().orElseThrow();
            assertThat(kv.store.get(key42).get("n").asInt()).isEqualTo(42);

            outbox.deliver(7, results(250)); // the same checkpoint again, as after a crash that followed the send

            assertThat(kv.store).as("a receiver that honours the keys").hasSize(250);
            assertThat(kv.duplicatesDropped).hasValue(250);
            assertThat(kv.itemsReceived).as("what a receiver that ignores the keys would hold").hasValue(500);
            assertThat(recordsMeter("sent")).isEqualTo(500);
        }
    }

    @Test
    void shouldSendTheBatchesOfACheckpointWithAtMostMaxInFlightRequestsOpen() throws IOException {
        kv.delay = Duration.ofMillis(20);
        try (HttpSink sink = fast().batchSize(10).maxInFlight(3).build()) {
            sink.outbox().deliver(1, results(300));
        }
        assertThat(kv.store).hasSize(300);
        assertThat(kv.requests).hasValue(30);
        assertThat(kv.maxConcurrent.get()).as("most requests the receiver had open at once").isEqualTo(3);
    }

    @Test
    void shouldFailTheDeliveryWhenTheDeadLetterSinkFailsAndCountTheResultsAsFailed() {
        kv.always = new MiniKv.Scripted(400, null, "no", Duration.ZERO);
        OutboxSink<String> dead = (id, lines) -> {
            throw new IOException("dead-letter disk full");
        };
        try (HttpSink sink = fast().deadLetters(dead).build()) {
            assertThatThrownBy(() -> sink.outbox().deliver(2, results(4))).isInstanceOf(IOException.class)
                    .hasMessage("dead-letter disk full");
            assertThat(recordsMeter("failed")).isEqualTo(4);
            assertThat(recordsMeter("dead_letter")).isZero();
        }
    }

    @Test
    void shouldFailTheDeliveryWithAClearIOExceptionAfterTheLastRetry() {
        kv.always = new MiniKv.Scripted(503, null, "overloaded", Duration.ZERO);
        try (HttpSink sink = fast().batchSize(10).maxRetries(1).build()) {
            Throwable error = catchThrowable(() -> sink.outbox().deliver(3, results(25)));

            assertThat(error).isInstanceOfSatisfying(HttpSinkException.class, e -> {
                assertThat(e.status()).isEqualTo(503);
                assertThat(e.attempts()).isEqualTo(2);
                assertThat(e.getMessage()).contains("checkpoint 3", "25 results", "failed after 2 attempts",
                        "overloaded", "stay in the checkpoint's outbox");
            });
            assertThat(recordsMeter("failed")).isEqualTo(25);
            assertThat(recordsMeter("sent")).isZero();
        }
    }

    @Test
    void shouldRejectAResultThatIsNotJsonWithoutSendingOrLosingIt() {
        try (HttpSink sink = fast().build()) {
            List<String> records = new ArrayList<>(results(2));
            records.add("not json");

            assertThatThrownBy(() -> sink.outbox().deliver(5, records)).isInstanceOf(IOException.class)
                    .hasMessageContaining("result 2 of checkpoint 5 is not a JSON document");
            assertThat(kv.requests).hasValue(0);
            assertThat(recordsMeter("failed")).isEqualTo(3);
        }
    }

    @Test
    void shouldGiveRefusedResultsToTheDeadLetterSinkAndCountTheDeliveryDone() throws IOException {
        kv.then(200, null, "").then(400, null, "{\"error\":\"n too large\"}");
        List<String> deadLines = new CopyOnWriteArrayList<>();
        List<Long> deadIds = new CopyOnWriteArrayList<>();
        OutboxSink<String> dead = (id, lines) -> {
            deadIds.add(id);
            deadLines.addAll(lines);
        };
        try (HttpSink sink = fast().batchSize(2).maxInFlight(1).deadLetters(dead).build()) {
            List<String> records = new ArrayList<>(results(4));
            records.add("{broken");

            sink.outbox().deliver(9, records);

            assertThat(kv.store).hasSize(2);
            assertThat(deadIds).containsExactly(9L);
            JsonMapper mapper = JsonMapper.builder().build();
            List<JsonNode> lines = deadLines.stream().map(mapper::readTree).toList();
            assertThat(lines).hasSize(3);
            assertThat(lines).filteredOn(l -> l.get("index").asInt() == 4).singleElement().satisfies(l -> {
                assertThat(l.get("error").asString()).contains("not a JSON document");
                assertThat(l.get("result").asString()).isEqualTo("{broken");
            });
            assertThat(lines).filteredOn(l -> l.get("index").asInt() != 4).extracting(l -> l.get("index").asInt())
                    .containsExactlyInAnyOrder(2, 3);
            assertThat(lines).filteredOn(l -> l.get("index").asInt() == 3).singleElement().satisfies(l -> {
                assertThat(l.get("checkpoint").asLong()).isEqualTo(9);
                assertThat(l.get("status").asInt()).isEqualTo(400);
                assertThat(l.get("attempts").asInt()).isEqualTo(1);
                assertThat(l.get("error").asString()).contains("n too large");
                assertThat(l.get("result").asString()).isEqualTo("{\"n\":3}");
                assertThat(l.get("idempotencyKey").asString()).startsWith("test:cp:9:3:");
            });
            assertThat(recordsMeter("sent")).isEqualTo(2);
            assertThat(recordsMeter("dead_letter")).isEqualTo(3);
        }
    }

    /** Passes deliveries on, then crashes once after the first one that carried results. */
    private static final class CrashAfterSend implements OutboxSink<String> {
        private final OutboxSink<String> inner;
        final AtomicInteger crashedAfter = new AtomicInteger(-1);

        CrashAfterSend(OutboxSink<String> inner) {
            this.inner = inner;
        }

        @Override
        public void deliver(long checkpointId, List<String> records) throws IOException {
            inner.deliver(checkpointId, records);
            if (!records.isEmpty() && crashedAfter.compareAndSet(-1, records.size())) {
                throw new IOException("crash after the send of checkpoint " + checkpointId);
            }
        }
    }

    private Throwable runPipeline(OutboxSink<String> outbox, int n) {
        try (Checkpointing cp = Checkpointing.builder(dir).interval(Duration.ZERO)
                .commitOutputPromptly(Duration.ZERO).open()) {
            return catchThrowable(() -> EventStream.of(cp.source("numbers",
                            Checkpointing.resumeGenerator(n, i -> StreamRecord.of(i % 7, i, i, Origin.of("numbers", 0, i))),
                            WatermarkStrategy.<Long, Long>forMonotonousTimestamps()))
                    .elements()
                    .as(cp.sink(outbox, HttpSink.<Long, Long>json(r -> Map.of("key", r.key(), "n", r.value()))))
                    .block(Duration.ofSeconds(60)));
        }
    }

    @Test
    void shouldLeaveEachResultOnceAtTheReceiverWhenARestartRedeliversACheckpointSentBeforeACrash() {
        int n = 2_000;
        try (HttpSink sink = fast().batchSize(128).build()) {
            CrashAfterSend crashing = new CrashAfterSend(sink.outbox());

            Throwable first = runPipeline(crashing, n);
            assertThat(first).as("the first run crashes after a delivery").isNotNull();
            int redelivered = crashing.crashedAfter.get();
            assertThat(redelivered).isPositive();
            int before = kv.itemsReceived.get();

            Throwable second = runPipeline(sink.outbox(), n);

            assertThat(second).as("the restarted pipeline completes").isNull();
            assertThat(kv.store).as("a receiver that honours the keys holds each result once").hasSize(n);
            assertThat(kv.duplicatesDropped).as("the checkpoint delivered again after the restart")
                    .hasValue(redelivered);
            assertThat(kv.itemsReceived).as("a receiver that ignored the keys would count those twice")
                    .hasValue(n + redelivered);
            assertThat(before).isGreaterThanOrEqualTo(redelivered);
            assertThat(kv.store.values().stream().map(v -> v.get("n").asLong()).distinct().count()).isEqualTo(n);
        }
    }
}
