package io.streamflow.reactive.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ServerLimitsTest {

    private StreamFlowHttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void shouldAnswerConnectionsBeyondTheLimitWith503JsonAndCloseThemWhileServingTheOthers() throws IOException {
        server = StreamFlowHttpServer.builder().port(0).maxConnections(2).start();
        try (RawHttp a = new RawHttp(server.port()); RawHttp b = new RawHttp(server.port())) {
            assertThat(a.get("/health").status()).isEqualTo(200);
            assertThat(b.get("/health").status()).isEqualTo(200);

            for (int i = 0; i < 3; i++) {
                try (RawHttp extra = new RawHttp(server.port())) {
                    RawHttp.Response r = extra.get("/health");
                    assertThat(r.status()).isEqualTo(503);
                    assertThat(r.head()).containsIgnoringCase("content-type: application/json")
                            .containsIgnoringCase("connection: close");
                    assertThat(r.body()).isEqualTo("{\"status\":503,\"error\":\"Service Unavailable\",\"message\":"
                            + "\"the server serves at most 2 connections at a time and that many are open; retry later\"}");
                    assertThat(extra.readByte()).as("the extra connection is closed").isEqualTo(-1);
                }
            }
            // the two admitted connections are still served, on the same sockets
            assertThat(a.get("/health").status()).isEqualTo(200);
            assertThat(b.get("/nope").status()).isEqualTo(404);
        }
        // once they are closed, new connections are admitted again
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (RawHttp c = new RawHttp(server.port())) {
                assertThat(c.get("/health").status()).isEqualTo(200);
            }
        });
    }

    @Test
    void shouldDisconnectAClientThatSendsItsHeadersSlowerThanTheIdleTimeout() throws IOException {
        server = StreamFlowHttpServer.builder().port(0).idleTimeout(Duration.ofMillis(400)).start();
        String request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "x".repeat(30) + "\r\n\r\n";
        AtomicInteger sent = new AtomicInteger();
        try (RawHttp slow = new RawHttp(server.port())) {
            // one byte every 700 ms (the whole request would take about 40 s)
            var sender = trickle(slow, request, Duration.ofMillis(700), sent);
            try {
                long start = System.nanoTime();
                assertThat(slow.readByte()).as("the server closes the connection, answering nothing").isEqualTo(-1);
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertThat(millis).as("closed after about one idle timeout").isLessThan(5_000);
                assertThat(sent.get()).as("bytes sent before the server closed it").isLessThan(request.length());
            } finally {
                sender.dispose();
            }
        }
        // the server keeps serving
        assertThat(HttpTestSupport.get(server.uri("/health"), Map.of()).status()).isEqualTo(200);
    }

    @Test
    void shouldDisconnectAClientThatTricklesItsHeadersFasterThanTheIdleTimeoutButNeverFinishes() throws IOException {
        server = StreamFlowHttpServer.builder().port(0).idleTimeout(Duration.ofMillis(800)).start();
        String request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "x".repeat(60) + "\r\n\r\n";
        AtomicInteger sent = new AtomicInteger();
        try (RawHttp slow = new RawHttp(server.port())) {
            // one byte every 200 ms: never idle for 800 ms, but the head would take about 17 s
            var sender = trickle(slow, request, Duration.ofMillis(200), sent);
            try {
                long start = System.nanoTime();
                assertThat(slow.readByte()).as("the server closes the connection, answering nothing").isEqualTo(-1);
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertThat(millis).as("closed about one idle timeout after it was accepted").isLessThan(5_000);
                assertThat(sent.get()).as("bytes sent before the server closed it").isLessThan(request.length());
            } finally {
                sender.dispose();
            }
        }
        // a client that sends its request at once is served, and its connection then kept open while used
        try (RawHttp fast = new RawHttp(server.port())) {
            assertThat(fast.get("/health").status()).isEqualTo(200);
            assertThat(fast.get("/health").status()).isEqualTo(200);
        }
    }

    @Test
    void shouldRefuseHeadersLargerThanTheMaximumAndKeepServing() throws IOException {
        server = StreamFlowHttpServer.builder().port(0).maxHeaderSize(1024).start();
        try (RawHttp big = new RawHttp(server.port())) {
            big.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "y".repeat(2000) + "\r\n\r\n");
            assertThat(big.read().status()).isEqualTo(431);
        }
        try (RawHttp fits = new RawHttp(server.port())) {
            fits.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Small: " + "y".repeat(500) + "\r\n\r\n");
            assertThat(fits.read().status()).isEqualTo(200);
        }
    }

    /** Sends {@code request} one byte per {@code period} (bounded by its length), counting what was sent. */
    private static reactor.core.Disposable trickle(RawHttp connection, String request, Duration period,
                                                   AtomicInteger sent) {
        return Flux.interval(Duration.ZERO, period).take(request.length())
                .publishOn(Schedulers.boundedElastic())
                .doOnNext(i -> {
                    try {
                        connection.send(String.valueOf(request.charAt(i.intValue())));
                        sent.incrementAndGet();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                })
                .onErrorComplete()
                .subscribe();
    }
}
