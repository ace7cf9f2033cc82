package io.streamflow.reactive.http.internal.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerResponse;
import reactor.util.Logger;
import reactor.util.Loggers;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running server: binds Reactor Netty with the configured limits and TLS, serves {@code /metrics},
 * {@code /health}, the status page ({@code /}, or {@code /status} when a route of its own claims
 * {@code /}; {@code /status/events} and its assets) and the routes the module's other parts added,
 * and stops everything on {@link #close()}.
 */
public final class ServerRuntime implements AutoCloseable {

    private static final Logger LOG = Loggers.getLogger(ServerRuntime.class);

    /** Content type of {@code /metrics} in the Prometheus text format. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** Content type of {@code /metrics} in the OpenMetrics format. */
    public static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private static final String RESOURCES = "/io/streamflow/reactive/http/internal/server/status/";
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    private static final String CSP = "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "frame-ancestors 'none'";

    private final DisposableServer server;
    private final StatusSampler sampler;
    private final ConnectionLimit limit;
    private final Map<String, MonitoredPipeline> pipelines = new LinkedHashMap<>();
    private final boolean secure;

    private ServerRuntime(ServerSettings s) {
        for (MonitoredPipeline p : s.pipelines()) {
            pipelines.put(p.name(), p);
        }
        this.secure = s.certificateChain() != null;
        this.limit = new ConnectionLimit(s.maxConnections());
        this.sampler = s.prometheus() == null ? null : new StatusSampler(s.prometheus(), s.pipelines(),
                s.scheduler(), s.statusInterval(), s.maxWatermarkLag(), s.maxCheckpointAge());
        List<HttpRoute> routes = new ArrayList<>(s.routes());
        boolean rootTaken = s.routes().stream().anyMatch(r -> "/".equals(r.path()));
        routes.addAll(ownRoutes(s.prometheus(), rootTaken ? "/status" : "/"));
        Router router = new Router(routes, s.credentials(), limit);
        HttpServer http = HttpServer.create()
                .host(s.host())
                .port(s.port())
                .idleTimeout(s.idleTimeout())
                .readTimeout(s.idleTimeout())
                .httpRequestDecoder(spec -> spec.maxHeaderSize(s.maxHeaderSize()))
                // Reactor Netty's idle timeout sees decoded requests, not bytes: a request head that is
                // still incomplete after it is cut off however its bytes trickle in (slowloris)
                .doOnChannelInit((observer, channel, remote) -> limit.opened(channel))
                .handle(router);
        if (secure) {
            http = http.secure(spec -> spec.sslContext(
                    Http11SslContextSpec.forServer(s.certificateChain().toFile(), s.privateKey().toFile())));
        }
        if (sampler != null) {
            sampler.start();
        }
        try {
            this.server = http.bindNow(Duration.ofSeconds(30));
        } catch (RuntimeException e) {
            if (sampler != null) {
                sampler.close();
            }
            throw new IllegalStateException("cannot start the HTTP server on " + s.host() + ":" + s.port() + ": " + e,
                    e);
        }
    }

    /**
     * Binds and starts a server. Blocks until it is bound (and reads the TLS files): call it where
     * blocking is allowed.
     *
     * @param settings what to serve
     * @return the running server
     */
    public static ServerRuntime start(ServerSettings settings) {
        return new ServerRuntime(settings);
    }

    /** @return the bound port */
    public int port() {
        return server.port();
    }

    /** @return whether it serves HTTPS */
    public boolean secure() {
        return secure;
    }

    /**
     * @param name a pipeline's name
     * @return the registered pipeline
     * @throws IllegalArgumentException if no pipeline of that name is registered
     */
    public MonitoredPipeline pipeline(String name) {
        MonitoredPipeline p = pipelines.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no pipeline named '" + name + "' is registered with this server; "
                    + "registered: " + pipelines.keySet());
        }
        return p;
    }

    /** @return the number of open connections */
    public int openConnections() {
        return limit.openConnections();
    }

    /** Stops the status ticks, closes every connection and unbinds the port, waiting at most 5 s. */
    @Override
    public void close() {
        if (sampler != null) {
            sampler.close();
        }
        limit.closeAll();
        try {
            server.disposeNow(CLOSE_WAIT);
        } catch (IllegalStateException e) {
            LOG.warn("the HTTP server on port {} did not stop within {}: {}", server.port(), CLOSE_WAIT, e.toString());
        }
    }

    private List<HttpRoute> ownRoutes(PrometheusMeterRegistry registry, String statusPage) {
        List<HttpRoute> routes = new ArrayList<>();
        if (registry != null) {
            routes.add(HttpRoute.get("/metrics", HttpRoute.Access.PROTECTED, (request, response) -> {
                String accept = request.requestHeaders().get(HttpHeaderNames.ACCEPT);
                boolean openMetrics = accept != null && accept.contains("application/openmetrics-text");
                String contentType = openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
                String body = openMetrics ? registry.scrape(OPENMETRICS_TEXT) : registry.scrape();
                return response.header(HttpHeaderNames.CONTENT_TYPE, contentType)
                        .header(HttpHeaderNames.CACHE_CONTROL, "no-store")
                        .sendString(Mono.just(body)).then();
            }));
            routes.add(HttpRoute.get("/status/events", HttpRoute.Access.PAGE, (request, response) ->
                    response.sse().header(HttpHeaderNames.CACHE_CONTROL, "no-store")
                            .sendString(sampler.snapshots().map(s -> "data: "
                                    + JsonErrors.JSON.writeValueAsString(s) + "\n\n")).then()));
        }
        routes.add(HttpRoute.get("/health", HttpRoute.Access.OPEN_WITH_DETAILS_FOR_AUTHENTICATED,
                (request, response) -> {
                    boolean details = Boolean.parseBoolean(request.requestHeaders().get(Router.AUTHENTICATED_HEADER));
                    ObjectNode health = sampler == null ? upWithoutPipelines(details) : sampler.health(details);
                    int status = "UP".equals(health.get("status").asString()) ? 200 : 503;
                    return json(response.status(status), JsonErrors.JSON.writeValueAsBytes(health));
                }));
        byte[] page = resource("index.html");
        byte[] script = resource("status.js");
        byte[] style = resource("status.css");
        // the page's relative links (status/status.js, status/events) resolve alike from / and /status
        routes.add(HttpRoute.get(statusPage, HttpRoute.Access.PAGE,
                (request, response) -> asset(response, "text/html; charset=utf-8", page)));
        routes.add(HttpRoute.get("/status/status.js", HttpRoute.Access.OPEN,
                (request, response) -> asset(response, "text/javascript; charset=utf-8", script)));
        routes.add(HttpRoute.get("/status/status.css", HttpRoute.Access.OPEN,
                (request, response) -> asset(response, "text/css; charset=utf-8", style)));
        return routes;
    }

    private static ObjectNode upWithoutPipelines(boolean details) {
        ObjectNode n = JsonErrors.JSON.createObjectNode();
        n.put("status", "UP");
        if (details) {
            n.putObject("pipelines");
        }
        return n;
    }

    private static Mono<Void> json(HttpServerResponse response, byte[] body) {
        return response.header(HttpHeaderNames.CONTENT_TYPE, JsonErrors.APPLICATION_JSON)
                .header(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .sendByteArray(Mono.just(body)).then();
    }

    private static Mono<Void> asset(HttpServerResponse response, String contentType, byte[] body) {
        return response.header(HttpHeaderNames.CONTENT_TYPE, contentType)
                .header("Content-Security-Policy", CSP)
                .header("X-Content-Type-Options", "nosniff")
                .header(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .sendByteArray(Mono.just(body)).then();
    }

    private static byte[] resource(String name) {
        try (InputStream in = ServerRuntime.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("the status page's resource " + RESOURCES + name
                        + " is missing from the class path: the module's jar is incomplete");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCES + name, e);
        }
    }
}
