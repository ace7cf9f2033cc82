package io.streamflow.reactive.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.streamflow.reactive.http.internal.server.HttpRoute;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StreamFlowHttpServerTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String TOKEN = "s3cret-token-0123456789";
    private static final String KEY = "api-key-abcdefghijklmnop";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private StreamFlowHttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static JsonNode json(HttpTestSupport.Answer a) {
        return JSON.readTree(a.body());
    }

    private static void assertJsonError(HttpTestSupport.Answer a, int status, String error, String messagePart) {
        assertThat(a.status()).isEqualTo(status);
        assertThat(a.headers().get("Content-Type")).isEqualTo("application/json");
        JsonNode n = json(a);
        assertThat(n.get("status").asInt()).isEqualTo(status);
        assertThat(n.get("error").asString()).isEqualTo(error);
        assertThat(n.get("message").asString()).contains(messagePart);
        assertThat(n.size()).isEqualTo(3);
    }

    @Test
    void shouldServeMetricsInPrometheusTextWithAKnownMeterAndOpenMetricsWhenAccepted() {
        Counter.builder("streamflow.records.in").tag("pipeline", "orders").tag("operator", "window")
                .register(registry).increment(42);
        server = StreamFlowHttpServer.builder().port(0).prometheus(registry).start();

        HttpTestSupport.Answer text = HttpTestSupport.get(server.uri("/metrics"), Map.of());
        assertThat(text.status()).isEqualTo(200);
        assertThat(text.headers().get("Content-Type")).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        assertThat(text.body()).contains("streamflow_records_in_total{operator=\"window\",pipeline=\"orders\"} 42.0");

        HttpTestSupport.Answer open = HttpTestSupport.get(server.uri("/metrics"),
                Map.of("Accept", "application/openmetrics-text; version=1.0.0"));
        assertThat(open.status()).isEqualTo(200);
        assertThat(open.headers().get("Content-Type"))
                .isEqualTo("application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(open.body()).contains("streamflow_records_in_total{operator=\"window\",pipeline=\"orders\"} 42.0")
                .endsWith("# EOF\n");
    }

    @Test
    void shouldAnswerUnknownPathsWith404AndWrongMethodsWith405InJsonAndKeepServing() {
        server = StreamFlowHttpServer.builder().port(0).prometheus(registry).start();
        HttpClient client = HttpClient.create();

        assertJsonError(HttpTestSupport.get(server.uri("/nothing-here"), Map.of()), 404, "Not Found",
                "no resource at '/nothing-here'; this server answers /, /health, /metrics");
        HttpTestSupport.Answer post = HttpTestSupport.send(client, "POST", server.uri("/metrics"), Map.of());
        assertJsonError(post, 405, "Method Not Allowed", "method POST is not allowed on /metrics; allowed: GET, HEAD");
        assertThat(post.headers().get("Allow")).isEqualTo("GET, HEAD");
        HttpTestSupport.Answer delete = HttpTestSupport.send(client, "DELETE", server.uri("/health"), Map.of());
        assertJsonError(delete, 405, "Method Not Allowed", "DELETE");

        assertThat(HttpTestSupport.get(server.uri("/metrics"), Map.of()).status()).isEqualTo(200);
    }

    @Test
    void shouldRequireTheBearerTokenOnMetricsAndStatusAnd401WithAChallengeOtherwise() {
        server = StreamFlowHttpServer.builder().port(0).prometheus(registry).bearerToken(TOKEN).start();

        HttpTestSupport.Answer missing = HttpTestSupport.get(server.uri("/metrics"), Map.of());
        assertJsonError(missing, 401, "Unauthorized",
                "no credentials for /metrics; send an 'Authorization: Bearer <token>' header");
        assertThat(missing.headers().getAll("WWW-Authenticate")).containsExactly("Bearer realm=\"streamflow\"");

        HttpTestSupport.Answer wrong = HttpTestSupport.get(server.uri("/metrics"),
                Map.of("Authorization", "Bearer " + TOKEN + "x"));
        assertJsonError(wrong, 401, "Unauthorized", "the credentials sent are not valid for /metrics");
        assertJsonError(HttpTestSupport.get(server.uri("/metrics"),
                Map.of("Authorization", "Bearer " + TOKEN.substring(0, TOKEN.length() - 1))), 401, "Unauthorized",
                "not valid");
        assertJsonError(HttpTestSupport.get(server.uri("/"), Map.of()), 401, "Unauthorized", "no credentials for /");
        assertJsonError(HttpTestSupport.get(server.uri("/status/events?access_token=nope"), Map.of()), 401,
                "Unauthorized", "not valid");

        HttpTestSupport.Answer right = HttpTestSupport.get(server.uri("/metrics"),
                Map.of("Authorization", "Bearer " + TOKEN));
        assertThat(right.status()).isEqualTo(200);
        assertThat(right.headers().get("Content-Type")).startsWith("text/plain");
        // the page and its event stream take the token as a query parameter (a browser cannot send headers)
        HttpTestSupport.Answer page = HttpTestSupport.get(server.uri("/?access_token=" + TOKEN), Map.of());
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("<title>StreamFlow status</title>");
        // but /metrics does not
        assertThat(HttpTestSupport.get(server.uri("/metrics?access_token=" + TOKEN), Map.of()).status())
                .isEqualTo(401);
        // static assets show no state and stay open
        assertThat(HttpTestSupport.get(server.uri("/status/status.js"), Map.of()).status()).isEqualTo(200);
    }

    @Test
    void shouldAcceptTheApiKeyOrTheBearerTokenWhenBothAreConfigured() {
        server = StreamFlowHttpServer.builder().port(0).prometheus(registry).bearerToken(TOKEN)
                .apiKey("X-Api-Key", KEY).start();

        assertThat(HttpTestSupport.get(server.uri("/metrics"), Map.of("X-Api-Key", KEY)).status()).isEqualTo(200);
        assertThat(HttpTestSupport.get(server.uri("/metrics"), Map.of("Authorization", "Bearer " + TOKEN))
                .status()).isEqualTo(200);
        HttpTestSupport.Answer wrongKey = HttpTestSupport.get(server.uri("/metrics"), Map.of("X-Api-Key", TOKEN));
        assertJsonError(wrongKey, 401, "Unauthorized", "the credentials sent are not valid for /metrics; send an "
                + "'Authorization: Bearer <token>' header or the API key in the 'X-Api-Key' header");
        assertThat(wrongKey.headers().getAll("WWW-Authenticate"))
                .containsExactly("Bearer realm=\"streamflow\"", "ApiKey realm=\"streamflow\", header=\"X-Api-Key\"");
    }

    @Test
    void shouldKeepHealthOpenWithItsDetailsWithheldWithoutCredentials() {
        server = StreamFlowHttpServer.builder().port(0).prometheus(registry).pipeline("orders")
                .bearerToken(TOKEN).start();

        HttpTestSupport.Answer open = HttpTestSupport.get(server.uri("/health"), Map.of());
        assertThat(open.status()).isEqualTo(200);
        assertThat(open.headers().get("Content-Type")).isEqualTo("application/json");
        assertThat(json(open).get("status").asString()).isEqualTo("UP");
        assertThat(json(open).has("pipelines")).isFalse();
        assertThat(json(open).get("details").asString()).startsWith("withheld");

        // the router's own marker of an authenticated request cannot be sent by a client
        HttpTestSupport.Answer spoofed = HttpTestSupport.get(server.uri("/health"),
                Map.of("X-Streamflow-Authenticated", "true"));
        assertThat(json(spoofed).has("pipelines")).isFalse();

        HttpTestSupport.Answer full = HttpTestSupport.get(server.uri("/health"),
                Map.of("Authorization", "Bearer " + TOKEN));
        assertThat(json(full).get("pipelines").get("orders").get("state").asString()).isEqualTo("UNTRACKED");
    }

    @Test
    void shouldReportATrackedPipelineUpWhileItRunsAndDownWith503OnceItFailed() {
        Counter.builder("streamflow.records.in").tag("pipeline", "orders").tag("operator", "parse")
                .register(registry);
        server = StreamFlowHttpServer.builder().port(0).prometheus(registry).pipeline("orders").start();
        Sinks.Empty<Void> run = Sinks.empty();
        server.track("orders", run.asMono()).subscribe(v -> { }, e -> { });

        HttpTestSupport.Answer up = HttpTestSupport.get(server.uri("/health"), Map.of());
        assertThat(up.status()).isEqualTo(200);
        JsonNode orders = json(up).get("pipelines").get("orders");
        assertThat(orders.get("status").asString()).isEqualTo("UP");
        assertThat(orders.get("running").asBoolean()).isTrue();

        run.tryEmitError(new IllegalStateException("disk full"));
        HttpTestSupport.Answer down = HttpTestSupport.get(server.uri("/health"), Map.of());
        assertThat(down.status()).isEqualTo(503);
        assertThat(json(down).get("status").asString()).isEqualTo("DOWN");
        orders = json(down).get("pipelines").get("orders");
        assertThat(orders.get("running").asBoolean()).isFalse();
        assertThat(orders.get("state").asString()).isEqualTo("FAILED");
        assertThat(orders.get("problems").get(0).asString())
                .isEqualTo("the pipeline is not running: failed with java.lang.IllegalStateException: disk full");

        assertThatThrownBy(() -> server.track("payments", Mono.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no pipeline named 'payments' is registered with this server; registered: [orders]");
    }

    @Test
    void shouldDispatchRoutesAddedByOtherPartsWithTheSameCredentialsAndErrors() {
        server = StreamFlowHttpServer.builder().port(0).bearerToken(TOKEN)
                .route(new HttpRoute("/ingest/", true, Set.of("POST"), HttpRoute.Access.PROTECTED,
                        (request, response) -> response.status(202).sendString(Mono.just(request.uri())).then()))
                .start();
        HttpClient client = HttpClient.create();

        HttpTestSupport.Answer ok = HttpTestSupport.send(client, "POST", server.uri("/ingest/orders"),
                Map.of("Authorization", "Bearer " + TOKEN));
        assertThat(ok.status()).isEqualTo(202);
        assertThat(ok.body()).isEqualTo("/ingest/orders");
        assertJsonError(HttpTestSupport.send(client, "POST", server.uri("/ingest/orders"), Map.of()), 401,
                "Unauthorized", "no credentials");
        assertJsonError(HttpTestSupport.send(client, "GET", server.uri("/ingest/orders"),
                Map.of("Authorization", "Bearer " + TOKEN)), 405, "Method Not Allowed", "allowed: POST");
    }

    @Test
    void shouldReportEveryInvalidOptionAtOnce() {
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().port(70000).bearerToken("short")
                .maxConnections(0).idleTimeout(Duration.ZERO).pipeline("orders").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("port must be within 0..65535 (0: any free port), was 70000")
                .hasMessageContaining("the bearer token must have at least 16 characters, had 5")
                .hasMessageContaining("maxConnections must be at least 1, was 0")
                .hasMessageContaining("idleTimeout must be positive, was PT0S")
                .hasMessageContaining("pipelines [orders] are registered but no registry");
    }

    @Test
    void shouldFreeItsPortWhenClosedAndSayWhenThePortIsTaken() throws IOException {
        server = StreamFlowHttpServer.builder().port(0).start();
        int port = server.port();
        assertThat(server.uri("/health").toString()).isEqualTo("http://127.0.0.1:" + port + "/health");
        server.close();
        try (ServerSocket again = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThat(again.getLocalPort()).isEqualTo(port);
            assertThatThrownBy(() -> StreamFlowHttpServer.builder().port(port).start())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("cannot start the HTTP server on 127.0.0.1:" + port);
        }
        server = null;
    }
}
