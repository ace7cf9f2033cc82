package io.streamflow.reactive.http.internal.ingest;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.http.HttpIngest;
import io.streamflow.reactive.json.JsonDecoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code ?wait=durable}: the answer waits until a checkpoint holding the request's last record is durable. */
class IngestDurableWaitTest {

    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    private final List<StreamElement<Void, Event>> received = new CopyOnWriteArrayList<>();
    private HttpIngest<Event> ingest;
    private IngestEngine<?> engine;
    private IngestTestServer server;
    private Disposable pipeline;

    @BeforeEach
    void start() {
        ingest = HttpIngest.builder("orders", JsonDecoder.events().timestampField("ts"))
                .durableTimeout(Duration.ofSeconds(30))
                .scheduler(clock)
                .meterRegistry(new SimpleMeterRegistry())
                .build();
        engine = IngestAccess.engine(ingest);
        server = new IngestTestServer(ingest);
        pipeline = ingest.flux().subscribe(received::add);
    }

    @AfterEach
    void stop() {
        pipeline.dispose();
        server.close();
        clock.dispose();
    }

    private CompletableFuture<IngestTestServer.Reply> post(String query, int records) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < records; i++) {
            sb.append("{\"i\":").append(i).append(",\"ts\":").append(i).append("}\n");
        }
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        return server.client.headers(h -> h.set("Content-Type", "application/x-ndjson").set("Content-Length", body.length))
                .post().uri("/ingest" + query)
                .send(Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(body)))
                .responseSingle((res, content) -> content.asString().defaultIfEmpty("")
                        .map(s -> new IngestTestServer.Reply(res.status().code(), res.responseHeaders(), s)))
                .toFuture();
    }

    @Test
    void shouldAnswerOnceACheckpointHoldingTheLastRecordIsDurable() throws Exception {
        var reply = post("?wait=durable", 3);

        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3 && engine.durableWaiting() == 1);
        ingest.durableUpTo(1); // records 0 and 1 only
        assertThat(engine.durableWaiting()).isEqualTo(1);
        assertThat(reply).isNotDone();
        ingest.durableUpTo(2);

        var answer = reply.get(10, TimeUnit.SECONDS);
        assertThat(answer.status()).isEqualTo(200);
        JsonNode json = answer.json();
        assertThat(json.get("accepted").asInt()).isEqualTo(3);
        assertThat(json.get("durable").asBoolean()).isTrue();
        assertThat(engine.durableWaiting()).isZero();

        var plain = post("", 1).get(10, TimeUnit.SECONDS);
        assertThat(plain.status()).isEqualTo(200);
        assertThat(plain.json().has("durable")).as("no wait asked for").isFalse();
    }

    @Test
    void shouldAnswer202WhenNoCheckpointHoldsTheRecordsInTime() throws Exception {
        var reply = post("?wait=durable", 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> engine.durableWaiting() == 1);

        clock.advanceTimeBy(Duration.ofSeconds(29));
        assertThat(reply).isNotDone();
        clock.advanceTimeBy(Duration.ofSeconds(2));

        var answer = reply.get(10, TimeUnit.SECONDS);
        assertThat(answer.status()).isEqualTo(202);
        assertThat(answer.json().get("durable").asBoolean()).isFalse();
        assertThat(answer.json().get("accepted").asInt()).isEqualTo(2);
        assertThat(answer.json().get("message").asString()).contains("no checkpoint holding them was durable within PT30S");
        assertThat(engine.durableWaiting()).as("nothing kept for an answered request").isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);
    }

    @Test
    void shouldAnswerAtOnceWhenTheCheckpointIsAlreadyPastAndRefuseAnotherWait() throws Exception {
        ingest.durableUpTo(100);
        assertThat(post("?wait=durable", 2).get(10, TimeUnit.SECONDS).json().get("durable").asBoolean()).isTrue();

        var unknown = post("?wait=forever", 1).get(10, TimeUnit.SECONDS);
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.json().get("message").asString()).startsWith("wait=forever is not known");
        assertThat(received).hasSize(2);
    }
}
