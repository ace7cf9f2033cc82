package io.streamflow.reactive.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.http.internal.ingest.IngestResponder;
import io.streamflow.reactive.http.internal.results.ResultRoutes;
import io.streamflow.reactive.http.internal.server.Credentials;
import io.streamflow.reactive.http.internal.server.HttpRoute;
import io.streamflow.reactive.http.internal.server.MonitoredPipeline;
import io.streamflow.reactive.http.internal.server.PageRoutes;
import io.streamflow.reactive.http.internal.server.ServerRuntime;
import io.streamflow.reactive.http.internal.server.ServerSettings;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The module's HTTP server on Reactor Netty: Prometheus metrics, health, a live status page, and the
 * routes of the module's other parts.
 * <pre>{@code
 * try (StreamFlowHttpServer server = StreamFlowHttpServer.builder()
 *         .port(8080)
 *         .prometheus(registry)
 *         .pipeline("orders", checkpointing)
 *         .bearerToken(System.getenv("STATUS_TOKEN"))
 *         .start()) {
 *     server.track("orders", pipeline).block();
 * }
 * }</pre>
 * <h2>Endpoints</h2>
 * <ul>
 *   <li>{@code GET /metrics}: {@code registry.scrape()} as {@code text/plain; version=0.0.4};
 *       OpenMetrics when the request accepts {@code application/openmetrics-text}.</li>
 *   <li>{@code GET /health}: {@code {"status":"UP"|"DOWN", "pipelines":{...}}}, 200 when up, 503 when
 *       down. Open without credentials so that probes can reach it, but then it shows only the
 *       overall status and says that details are withheld; with credentials it shows each pipeline.
 *       When a pipeline is down is described at {@link Builder#pipeline(String)}.</li>
 *   <li>{@code GET /}: the status page, fed by {@code GET /status/events} (server-sent events: a JSON
 *       snapshot of every registered pipeline once a second). A browser cannot send headers with a
 *       page load or an {@code EventSource}, so these two also accept the token or key as an
 *       {@code access_token} query parameter ({@code https://host:port/?access_token=...}); such
 *       URLs end up in browser history and access logs, so prefer TLS and a token only for status.
 *       When a page of your own takes {@code /} ({@link Builder#page(String, String)}), the status
 *       page is at {@code /status}.</li>
 *   <li>Your own routes: result logs ({@link Builder#results(String, ResultLog)}), ingest
 *       ({@link Builder#ingest(HttpIngest)}) and static pages ({@link Builder#page(String, String)}).</li>
 * </ul>
 * Every error answer is JSON: {@code {"status":404,"error":"Not Found","message":"..."}}: 404 for an
 * unknown path, 405 (with {@code Allow}) for a method a path does not answer, 401 (with
 * {@code WWW-Authenticate}) for missing or wrong credentials, 503 for a connection beyond
 * {@link Builder#maxConnections(int)}.
 * <h2>Limits</h2>
 * A connection that has not delivered a whole request head (request line and headers) within
 * {@link Builder#idleTimeout(Duration)} of being opened or of its previous answer is closed, however
 * its bytes trickle in, so a client that sends its headers slowly cannot hold a connection; request
 * headers larger than {@link Builder#maxHeaderSize(int)} are refused
 * with 431 by Netty's decoder. Nothing here blocks a Netty event loop.
 */
public final class StreamFlowHttpServer implements AutoCloseable {

    private final ServerRuntime runtime;
    private final String host;
    private final AtomicBoolean closed = new AtomicBoolean();

    private StreamFlowHttpServer(ServerRuntime runtime, String host) {
        this.runtime = runtime;
        this.host = host;
    }

    /** @return a builder with the defaults: 127.0.0.1:8080, no credentials, plain HTTP */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the port the server is bound to (the chosen one when {@link Builder#port(int)} was 0) */
    public int port() {
        return runtime.port();
    }

    /** @return the address the server is bound to */
    public String host() {
        return host;
    }

    /**
     * @param path a path on this server, starting with {@code /}, optionally with a query
     * @return its full URI, {@code https} when TLS is on; an IPv6 host is bracketed
     * @throws IllegalArgumentException if {@code path} does not start with {@code /}
     */
    public URI uri(String path) {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("a path must start with '/', was '" + path + "'");
        }
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return URI.create((runtime.secure() ? "https" : "http") + "://" + h + ":" + port() + path);
    }

    /**
     * Lets the server follow a run of a registered pipeline: the status page and {@code /health}
     * show it {@code RUNNING} from subscription, then {@code COMPLETED}, {@code FAILED} (with the
     * error) or {@code CANCELLED}, each of which makes it DOWN. A pipeline never tracked is shown as
     * {@code UNTRACKED} and judged by its meters only.
     *
     * @param <T>      what the run emits
     * @param pipeline the name it was registered under
     * @param run      the pipeline's run, e.g. the {@code Mono<Void>} of {@code EventStream.sink}
     * @return {@code run}, tracked; nothing happens until it is subscribed
     * @throws IllegalArgumentException if no pipeline of that name is registered
     */
    public <T> Mono<T> track(String pipeline, Mono<T> run) {
        return runtime.pipeline(pipeline).track(run);
    }

    /**
     * Stops the server: ends the status streams, closes every connection and frees the port,
     * waiting at most 5 s. Calling it again does nothing.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            runtime.close();
        }
    }

    @Override
    public String toString() {
        return "StreamFlowHttpServer[" + uri("/") + "]";
    }

    /** Options of a {@link StreamFlowHttpServer}; {@link #start()} checks them all at once. */
    public static final class Builder {

        /** Default idle and read timeout of a connection. */
        public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
        /** Default largest request header block, in bytes. */
        public static final int DEFAULT_MAX_HEADER_SIZE = 8 * 1024;
        /** Default most connections served at a time. */
        public static final int DEFAULT_MAX_CONNECTIONS = 1024;

        private String host = "127.0.0.1";
        private int port = 8080;
        private PrometheusMeterRegistry prometheus;
        private final Map<String, Checkpointing> pipelines = new LinkedHashMap<>();
        private Duration maxWatermarkLag;
        private Duration maxCheckpointAge;
        private String bearerToken;
        private String apiKeyHeader;
        private String apiKey;
        private Path certificateChain;
        private Path privateKey;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private int maxHeaderSize = DEFAULT_MAX_HEADER_SIZE;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private Scheduler scheduler = Schedulers.parallel();
        private Duration statusInterval = Duration.ofSeconds(1);
        private final List<HttpRoute> routes = new ArrayList<>();
        private final List<String> problems = new ArrayList<>();

        private Builder() {
        }

        /**
         * @param newHost the address to bind (default {@code 127.0.0.1}: reachable from this machine
         *                only); {@code 0.0.0.0} for every interface
         * @return this builder
         */
        public Builder host(String newHost) {
            this.host = Objects.requireNonNull(newHost, "host");
            return this;
        }

        /**
         * @param newPort the port (default 8080); 0 picks any free port, see {@link StreamFlowHttpServer#port()}
         * @return this builder
         */
        public Builder port(int newPort) {
            if (newPort < 0 || newPort > 65535) {
                problems.add("port must be within 0..65535 (0: any free port), was " + newPort);
            }
            this.port = newPort;
            return this;
        }

        /**
         * The registry served on {@code /metrics} and where the registered pipelines' meters are
         * found (by their {@code pipeline} tag). Without it there is no {@code /metrics} and no
         * status stream, and no pipeline can be registered.
         *
         * @param registry the Prometheus registry the pipelines' operators and checkpointing use
         * @return this builder
         */
        public Builder prometheus(PrometheusMeterRegistry registry) {
            this.prometheus = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Shows a pipeline on the status page and in {@code /health}: its meters (those tagged
         * {@code pipeline=name} in the {@link #prometheus} registry: records in and out per operator,
         * watermarks and their lag per operator and per source partition, late records, dead letters).
         * <p>
         * A pipeline is DOWN when its run, given to {@link StreamFlowHttpServer#track}, has ended
         * (completed, failed or cancelled), or when its watermark lag exceeds
         * {@link #maxWatermarkLag}; with a {@code Checkpointing} (see
         * {@link #pipeline(String, Checkpointing)}) also when the last checkpoint result is a failure
         * or none completed within {@link #maxCheckpointAge}. The server is DOWN when any pipeline is.
         *
         * @param name the pipeline's name, as given to {@code OperatorSettings.withPipeline}
         * @return this builder
         */
        public Builder pipeline(String name) {
            return addPipeline(name, null);
        }

        /**
         * As {@link #pipeline(String)}, with its checkpoints: count, failures, durations, the age of
         * the last one and a history, from the {@code streamflow.checkpoint*} meters. Build the
         * {@code Checkpointing} with {@code .meterRegistry(registry).pipeline(name)} so that they are
         * in the registry; {@link #start()} checks this.
         *
         * @param name          the pipeline's name
         * @param checkpointing the pipeline's checkpointing
         * @return this builder
         */
        public Builder pipeline(String name, Checkpointing checkpointing) {
            return addPipeline(name, Objects.requireNonNull(checkpointing, "checkpointing"));
        }

        private Builder addPipeline(String name, Checkpointing checkpointing) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                problems.add("a pipeline name must not be blank");
            } else if (pipelines.containsKey(name)) {
                problems.add("pipeline '" + name + "' is registered twice");
            }
            pipelines.put(name, checkpointing);
            return this;
        }

        /**
         * @param max a pipeline whose watermark lag (processing time minus its lowest operator
         *            watermark) exceeds this is DOWN; default: no limit
         * @return this builder
         */
        public Builder maxWatermarkLag(Duration max) {
            this.maxWatermarkLag = positive("maxWatermarkLag", max);
            return this;
        }

        /**
         * @param max a checkpointed pipeline whose last completed checkpoint is older than this (or
         *            that completed none for this long since the server started) is DOWN; use a few
         *            checkpoint intervals; default: no limit
         * @return this builder
         */
        public Builder maxCheckpointAge(Duration max) {
            this.maxCheckpointAge = positive("maxCheckpointAge", max);
            return this;
        }

        /**
         * Requires {@code Authorization: Bearer <token>} on every endpoint that shows state or accepts
         * data ({@code /health} stays open with its details withheld). With {@link #apiKey} too,
         * either is enough. Compared in constant time.
         *
         * @param token the token, at least 16 characters
         * @return this builder
         */
        public Builder bearerToken(String token) {
            Objects.requireNonNull(token, "token");
            if (token.length() < 16) {
                problems.add("the bearer token must have at least 16 characters, had " + token.length());
            }
            this.bearerToken = token;
            return this;
        }

        /**
         * Requires the API key in the header {@code header} on every endpoint that shows state or
         * accepts data; with {@link #bearerToken} too, either is enough. Compared in constant time.
         *
         * @param header the header's name, e.g. {@code X-Api-Key}
         * @param key    the key, at least 16 characters
         * @return this builder
         */
        public Builder apiKey(String header, String key) {
            Objects.requireNonNull(header, "header");
            Objects.requireNonNull(key, "key");
            if (header.isBlank() || !header.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
                problems.add("the API key header must be a header name (visible ASCII, no ':'), was '" + header + "'");
            }
            if (key.length() < 16) {
                problems.add("the API key must have at least 16 characters, had " + key.length());
            }
            this.apiKeyHeader = header;
            this.apiKey = key;
            return this;
        }

        /**
         * Serves HTTPS (HTTP/1.1 over TLS) with this certificate and key.
         *
         * @param certificateChainPem PEM file with the server's certificate, then its chain
         * @param privateKeyPem       PEM file with the certificate's private key (PKCS#8, unencrypted)
         * @return this builder
         */
        public Builder tls(Path certificateChainPem, Path privateKeyPem) {
            this.certificateChain = Objects.requireNonNull(certificateChainPem, "certificateChainPem");
            this.privateKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
            return this;
        }

        /**
         * @param timeout a connection that has not delivered a whole request head (request line and
         *                headers) this long after it opened or after its previous answer, or that
         *                receives nothing for this long while a request body is read, is closed
         *                (default 30 s); an open status stream is not idle
         * @return this builder
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive("idleTimeout", timeout);
            return this;
        }

        /**
         * @param bytes the largest request line plus headers accepted (default 8 KiB); larger ones are
         *              answered 431 and the connection closed
         * @return this builder
         */
        public Builder maxHeaderSize(int bytes) {
            if (bytes < 256) {
                problems.add("maxHeaderSize must be at least 256 bytes, was " + bytes);
            }
            this.maxHeaderSize = bytes;
            return this;
        }

        /**
         * @param max the most connections served at a time (default 1024); a connection beyond it has
         *            its request answered 503 and is closed
         * @return this builder
         */
        public Builder maxConnections(int max) {
            if (max < 1) {
                problems.add("maxConnections must be at least 1, was " + max);
            }
            this.maxConnections = max;
            return this;
        }

        /**
         * @param newScheduler the clock and timer of the status snapshots and health ages (default
         *                     {@code Schedulers.parallel()}; a virtual-time scheduler in tests)
         * @return this builder
         */
        public Builder scheduler(Scheduler newScheduler) {
            this.scheduler = Objects.requireNonNull(newScheduler, "scheduler");
            return this;
        }

        /**
         * Serves {@code log} at {@code path}: {@code GET path} is its server-sent events with exact
         * resume (a {@code Last-Event-ID} header or {@code lastEventId} parameter; {@code
         * snapshot=true} for a late client's snapshot; the event types are described at
         * {@link ResultEvent}), {@code GET path/keys/<key>} the current results of a key as a JSON
         * array, {@code GET path/keys/<key>/events} that key's events (the key percent-encoded).
         * They need the server's credentials when it has any; being read-only, they also take the
         * token as an {@code access_token} parameter, since a browser's {@code EventSource} cannot
         * send headers.
         *
         * @param path where to serve the log, such as {@code /results}: starts with {@code /}, does
         *             not end with one, letters, digits, {@code /}, {@code -}, {@code _} and {@code .}
         * @param log  the result log
         * @return this builder
         * @throws NullPointerException     if an argument is {@code null}
         * @throws IllegalArgumentException if the path is not as described, or already served
         */
        public Builder results(String path, ResultLog<?, ?> log) {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(log, "log");
            if (!path.matches("(/[A-Za-z0-9._-]+)+")) {
                throw new IllegalArgumentException("result log path '" + path + "': expected '/' and segments of "
                        + "letters, digits, '-', '_' and '.', such as /results, not ending with '/'");
            }
            for (HttpRoute r : routes) {
                if (r.path().equals(path) || r.path().equals(path + "/keys/")) {
                    throw new IllegalArgumentException("the path " + path + " is served twice");
                }
            }
            ResultRoutes.of(path, log).forEach(this::route);
            return this;
        }

        /**
         * Accepts records for {@code ingest} at {@code POST /ingest/<name>}, its
         * {@linkplain HttpIngest#name() name} (JSON lines or a JSON array; the answers are described
         * at {@link HttpIngest}). The route needs the server's credentials when it has any.
         *
         * @param ingest the source that takes the records
         * @return this builder
         * @throws NullPointerException     if {@code ingest} is {@code null}
         * @throws IllegalArgumentException if the name is not usable as one path segment (letters,
         *                                  digits, {@code -}, {@code _} and {@code .} only), or another
         *                                  source of this server has the same name
         */
        public Builder ingest(HttpIngest<?> ingest) {
            Objects.requireNonNull(ingest, "ingest");
            if (!ingest.name().matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("HttpIngest name '" + ingest.name() + "' cannot be served at "
                        + "/ingest/<name>: use letters, digits, '-', '_' and '.' only");
            }
            String path = "/ingest/" + ingest.name();
            for (HttpRoute r : routes) {
                if (r.path().equals(path)) {
                    throw new IllegalArgumentException("two sources named '" + ingest.name() + "' on one server");
                }
            }
            return route(new HttpRoute(path, false, Set.of("POST"), HttpRoute.Access.PROTECTED,
                    (request, response) -> IngestResponder.serve(request, response, ingest)));
        }

        /**
         * Serves a static page (HTML, scripts, styles, images) from a directory on the class path:
         * {@code GET path} answers the directory's {@code index.html}, {@code GET path<name>} its file
         * {@code <name>} (subdirectories too, {@code path} + {@code js/app.js}), and a path without
         * its final {@code /} is redirected ({@code 308}) to it.
         * <pre>{@code
         * StreamFlowHttpServer.builder()
         *         .page("/", "com/example/dashboard/")      // src/main/resources/com/example/dashboard/index.html
         *         .results("/results", log)                 // what the page's EventSource reads
         *         .start();
         * }</pre>
         * <ul>
         *   <li><b>Methods:</b> {@code GET} and {@code HEAD} only; another method gets {@code 405}.</li>
         *   <li><b>Content types</b> by extension: {@code html}/{@code htm} {@code text/html},
         *       {@code js}/{@code mjs} {@code text/javascript}, {@code css} {@code text/css}
         *       (these three with {@code charset=utf-8}), {@code json}/{@code map}
         *       {@code application/json}, {@code txt} {@code text/plain}, {@code svg}, {@code png},
         *       {@code jpg}/{@code jpeg}, {@code gif}, {@code webp}, {@code ico}, {@code woff},
         *       {@code woff2}. Files of other types (such as {@code .class} or {@code .properties}
         *       files beside the page) are never served.</li>
         *   <li><b>No way out of the directory:</b> a name is served only when each of its segments
         *       is letters, digits, {@code -}, {@code _} and {@code .} and none is {@code .} or
         *       {@code ..} (after percent-decoding). Anything else, and a file that does not exist,
         *       is answered {@code 404} with the module's JSON error.</li>
         *   <li><b>Credentials:</b> when the server has any, the page's HTML documents ({@code path},
         *       a name ending in {@code /} or {@code .html}) need them, as a header or, since a
         *       browser cannot send a header when it loads a page, as the {@code access_token}
         *       parameter ({@code /?access_token=...}; mind that such URLs reach browser history
         *       and logs); its other files are served to anyone, as the status page's are. So put
         *       nothing secret in them; the page passes the token on to what it reads (an
         *       {@code EventSource} of {@link #results(String, ResultLog)} takes it the same way).</li>
         *   <li><b>Headers:</b> {@code Content-Security-Policy: default-src 'self'; img-src 'self' data:;
         *       connect-src 'self'; frame-ancestors 'none'} (so no inline script or style and nothing
         *       from another origin: put scripts and styles in files of the page),
         *       {@code X-Content-Type-Options: nosniff}, {@code Cache-Control: no-cache}.</li>
         *   <li><b>Threads:</b> a file is read from the class path on a bounded-elastic thread the
         *       first time it is asked for, then kept in memory; no event loop blocks.</li>
         *   <li><b>The status page</b> moves from {@code /} to {@code /status} when a page takes
         *       {@code /}; {@code /metrics}, {@code /health} and the other routes stay, and a path
         *       no other route answers is answered by the page ({@code 404} unless it has such a file).</li>
         * </ul>
         *
         * @param path               where to serve the page: {@code /}, or segments of letters,
         *                           digits, {@code -}, {@code _} and {@code .} ending with {@code /},
         *                           such as {@code /dashboard/}; not under {@code /status},
         *                           {@code /metrics} or {@code /health}
         * @param classpathDirectory the directory on the class path holding {@code index.html} and the
         *                           page's other files, such as {@code com/example/dashboard/} (a
         *                           leading {@code /} is ignored); read with the thread's context
         *                           class loader, else this module's
         * @return this builder
         * @throws NullPointerException     if an argument is {@code null}
         * @throws IllegalArgumentException if {@code path} or {@code classpathDirectory} is not as
         *                                  described or {@code path} is already served
         */
        public Builder page(String path, String classpathDirectory) {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(classpathDirectory, "classpathDirectory");
            if (!path.matches("/|(/[A-Za-z0-9._-]+)+/") || path.contains("/./") || path.contains("/../")) {
                throw new IllegalArgumentException("page path '" + path + "': expected '/' or segments of letters, "
                        + "digits, '-', '_' and '.' ending with '/', such as /dashboard/");
            }
            if (path.matches("/(status|metrics|health)/.*")) {
                throw new IllegalArgumentException("page path '" + path + "': /status, /metrics and /health belong to "
                        + "the server; choose another path");
            }
            String dir = classpathDirectory.startsWith("/") ? classpathDirectory.substring(1) : classpathDirectory;
            if (!dir.endsWith("/")) {
                dir = dir + "/";
            }
            if (!dir.matches("([A-Za-z0-9_-][A-Za-z0-9._-]*/)+")) {
                throw new IllegalArgumentException("page directory '" + classpathDirectory + "': expected a class-path "
                        + "directory such as com/example/dashboard/ (segments of letters, digits, '-', '_' and '.', "
                        + "none '.' or '..')");
            }
            String bare = path.length() > 1 ? path.substring(0, path.length() - 1) : null;
            for (HttpRoute r : routes) {
                if (r.path().equals(path) || r.path().equals(bare)) {
                    throw new IllegalArgumentException("the path " + path + " is served twice");
                }
            }
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            ClassLoader loader = context != null ? context : StreamFlowHttpServer.class.getClassLoader();
            if (loader.getResource(dir + "index.html") == null) {
                problems.add("the page at " + path + " has no index.html: " + dir + "index.html is not on the class "
                        + "path (put it under src/main/resources/" + dir + ")");
            }
            PageRoutes.of(path, dir, loader).forEach(this::route);
            return this;
        }

        /**
         * Adds a route of another part of this module (SSE results, ingest); dispatched with the
         * server's 404/405/401 answers, limits and credentials.
         *
         * @param route the route
         * @return this builder
         */
        Builder route(HttpRoute route) {
            routes.add(Objects.requireNonNull(route, "route"));
            return this;
        }

        /** Time between status snapshots (tests of this package). */
        Builder statusInterval(Duration interval) {
            this.statusInterval = positive("statusInterval", interval);
            return this;
        }

        private Duration positive(String what, Duration d) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                problems.add(what + " must be positive, was " + d);
            }
            return d;
        }

        /**
         * Checks the options, binds and starts the server. Blocks until bound and reads the TLS
         * files: call it where blocking is allowed (a main thread, {@code Schedulers.boundedElastic()}).
         *
         * @return the running server; close it to stop
         * @throws IllegalArgumentException listing every invalid option at once
         * @throws IllegalStateException    if the server cannot bind (e.g. the port is in use) or the
         *                                  TLS files cannot be used
         */
        public StreamFlowHttpServer start() {
            List<String> all = new ArrayList<>(problems);
            if (!pipelines.isEmpty() && prometheus == null) {
                all.add("pipelines " + pipelines.keySet() + " are registered but no registry: call "
                        + "prometheus(registry) with the registry their operators use");
            }
            if (certificateChain != null) {
                for (Path p : List.of(certificateChain, privateKey)) {
                    if (!Files.isReadable(p)) {
                        all.add("TLS file " + p + " does not exist or cannot be read");
                    }
                }
            }
            if (prometheus != null) {
                pipelines.forEach((name, cp) -> {
                    if (cp != null && prometheus.find("streamflow.checkpoints").tag("pipeline", name).counter()
                            == null) {
                        all.add("pipeline '" + name + "' has a Checkpointing whose meters are not in the registry: "
                                + "build it with .meterRegistry(registry).pipeline(\"" + name + "\")");
                    }
                });
            }
            if (!all.isEmpty()) {
                throw new IllegalArgumentException("invalid HTTP server options: " + String.join("; ", all));
            }
            List<MonitoredPipeline> monitored = new ArrayList<>();
            pipelines.forEach((name, cp) -> monitored.add(new MonitoredPipeline(name, cp)));
            ServerSettings settings = new ServerSettings(host, port, prometheus, monitored, maxWatermarkLag,
                    maxCheckpointAge, new Credentials(bearerToken, apiKeyHeader, apiKey), certificateChain,
                    privateKey, idleTimeout, maxHeaderSize, maxConnections, scheduler, statusInterval,
                    List.copyOf(routes));
            return new StreamFlowHttpServer(ServerRuntime.start(settings), host);
        }
    }
}
