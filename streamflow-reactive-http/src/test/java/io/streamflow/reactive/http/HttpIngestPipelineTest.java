package io.streamflow.reactive.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.json.JsonDecoder;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The public API end to end: a pipeline of windows over records POSTed to an ingest, dead letters routed aside. */
class HttpIngestPipelineTest {

    @Test
    void shouldCountPostedClicksPerUserAndMinuteAndRouteBadLinesToTheDeadLetterHandler() {
        // the documented example, served by the module's server
        HttpIngest<Event> clicks = HttpIngest.builder("clicks", JsonDecoder.events().timestampField("ts").keyField("user"))
                .bufferRecords(10_000)
                .maxRequestBytes(1024 * 1024)
                .meterRegistry(new SimpleMeterRegistry())
                .build();
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        Mono<List<WindowResult<String, Long>>> counts = EventStream.from(clicks.flux(),
                        WatermarkStrategy.<Void, Event>forBoundedOutOfOrderness(Duration.ofSeconds(5)))
                .onDeadLetter(letters -> letters.doOnNext(dead::add))
                .keyBy(Event::key)
                .window(Windows.tumbling(Duration.ofMinutes(1)))
                .aggregate(Aggregations.count())
                .records()
                .map(r -> r.value())
                .collectList()
                .cache();
        counts.subscribe();

        String token = "ingest-token-0123456789";
        StreamFlowHttpServer server = StreamFlowHttpServer.builder().port(0).bearerToken(token).ingest(clicks).start();
        try {
            // the route needs the server's credentials: without them nothing is taken
            int refused = HttpClient.create().host("127.0.0.1").port(server.port())
                    .headers(h -> h.set("Content-Type", "application/x-ndjson"))
                    .post().uri("/ingest/clicks")
                    .send(ByteBufFlux.fromString(Mono.just("{\"user\":\"eve\",\"ts\":1000}\n")))
                    .responseSingle((res, content) -> Mono.just(res.status().code()))
                    .block(Duration.ofSeconds(10));
            assertThat(refused).isEqualTo(401);
            String body = """
                    {"user":"ann","ts":1000}
                    {"user":"bob","ts":2000}
                    {"user":"ann","ts":"late"}
                    {"user":"ann","ts":59000}
                    {"user":"ann","ts":61000}
                    """;
            String answer = HttpClient.create().host("127.0.0.1").port(server.port())
                    .headers(h -> h.set("Content-Type", "application/x-ndjson").set("X-Request-Id", "batch-1")
                            .set("Authorization", "Bearer " + token))
                    .post().uri("/ingest/clicks")
                    .send(ByteBufFlux.fromString(Mono.just(body)))
                    .responseSingle((res, content) -> content.asString())
                    .block(Duration.ofSeconds(10));
            assertThat(answer).startsWith("{\"requestId\":\"batch-1\",\"accepted\":4,\"rejected\":1,\"errors\":[{\"line\":3,");

            clicks.close(); // the stream ends once what was taken is delivered: every window fires

            List<WindowResult<String, Long>> results = counts.block(Duration.ofSeconds(10));
            assertThat(results).extracting(r -> r.key() + "@" + r.start() + "=" + r.value())
                    .containsExactlyInAnyOrder("ann@0=2", "bob@0=1", "ann@60000=1");
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).error()).isInstanceOf(HttpIngestException.class)
                    .hasMessageStartingWith("request batch-1 line 3: ");
        } finally {
            server.close();
        }
    }
}
