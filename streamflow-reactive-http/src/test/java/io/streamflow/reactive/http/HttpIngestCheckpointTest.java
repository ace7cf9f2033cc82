package io.streamflow.reactive.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.http.internal.ingest.IngestResponder;
import io.streamflow.reactive.json.JsonDecoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** An ingest as the checkpointed source of a pipeline: numbering across a restart, and ?wait=durable. */
class HttpIngestCheckpointTest {

    @TempDir
    Path dir;

    private static HttpIngest<Event> ingest() {
        return HttpIngest.builder("orders", JsonDecoder.events().timestampField("ts"))
                .meterRegistry(new SimpleMeterRegistry()).build();
    }

    /** One run of a checkpointed pipeline whose records reach the sink as "position:i". */
    private static final class Run implements AutoCloseable {
        final HttpIngest<Event> ingest = ingest();
        final List<String> delivered = new CopyOnWriteArrayList<>();
        final AtomicInteger read = new AtomicInteger();
        final Checkpointing cp;
        final CompletableFuture<Void> done;
        final DisposableServer server;
        final reactor.core.Disposable following;

        Run(Path dir) {
            cp = Checkpointing.builder(dir).interval(Duration.ZERO).meterRegistry(new SimpleMeterRegistry()).open();
            OutboxSink<String> sink = (checkpointId, records) -> delivered.addAll(records);
            // requests with ?wait=durable are answered as the checkpoints become durable
            following = ingest.followCheckpoints(cp, "orders");
            done = EventStream.of(cp.source("orders",
                            positions -> ingest.resume().apply(positions).doOnNext(e -> read.incrementAndGet()),
                            WatermarkStrategy.<Void, Event>forBoundedOutOfOrderness(Duration.ofSeconds(1))))
                    .elements()
                    .as(cp.sink(sink, r -> r.origin().position() + ":" + r.value().field("i")))
                    .toFuture();
            server = HttpServer.create().host("127.0.0.1").port(0)
                    .route(routes -> routes.post("/orders", (req, res) -> IngestResponder.serve(req, res, ingest)))
                    .bindNow(Duration.ofSeconds(10));
        }

        CompletableFuture<String> post(String query, String body) {
            return HttpClient.create().host("127.0.0.1").port(server.port())
                    .headers(h -> h.set("Content-Type", "application/x-ndjson"))
                    .post().uri("/orders" + query)
                    .send(ByteBufFlux.fromString(Mono.just(body)))
                    .responseSingle((res, content) -> content.asString().map(s -> res.status().code() + " " + s))
                    .toFuture();
        }

        @Override
        public void close() throws java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
            ingest.close();
            try {
                done.get(20, TimeUnit.SECONDS); // a last checkpoint with the final positions
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            following.dispose();
            server.disposeNow(Duration.ofSeconds(10));
            cp.close();
        }
    }

    @Test
    void shouldAnswerWaitDurableAfterTheCheckpointAndNumberOnAfterARestart() throws Exception {
        try (Run first = new Run(dir)) {
            var durable = first.post("?wait=durable", "{\"i\":0,\"ts\":1}\n{\"i\":1,\"ts\":2}\n{\"i\":2,\"ts\":3}\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> first.read.get() == 3);
            assertThat(durable).as("no checkpoint yet").isNotDone();

            first.cp.checkpointNow().block(Duration.ofSeconds(20));

            assertThat(durable.get(20, TimeUnit.SECONDS)).startsWith("200 ").contains("\"accepted\":3")
                    .contains("\"durable\":true");
            // the output is delivered after the checkpoint is durable (and the answer sent)
            await().atMost(Duration.ofSeconds(10)).until(() -> first.delivered.size() == 3);
            assertThat(first.delivered).containsExactly("0:0", "1:1", "2:2");
        }
        try (Run second = new Run(dir)) {
            assertThat(second.cp.restored()).isPresent();
            assertThat(second.post("", "{\"i\":3,\"ts\":4}\n{\"i\":4,\"ts\":5}\n").get(20, TimeUnit.SECONDS))
                    .startsWith("200 ");
            await().atMost(Duration.ofSeconds(10)).until(() -> second.read.get() == 2);
            second.cp.checkpointNow().block(Duration.ofSeconds(20));
            await().atMost(Duration.ofSeconds(10)).until(() -> second.delivered.size() == 2);
            assertThat(second.delivered).as("positions go on after the restored one").containsExactly("3:3", "4:4");
        }
    }
}
