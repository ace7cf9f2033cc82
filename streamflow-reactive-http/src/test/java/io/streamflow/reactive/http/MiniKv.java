package io.streamflow.reactive.http;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small key-value receiver of sink results, as the origin design's "MiniKV" service: it stores
 * each result under its idempotency key, dropping a key it holds already, and counts everything.
 * It can be told to answer a status (with {@code Retry-After} and a body), to answer late, or be
 * closed so that connections are refused. Binds 127.0.0.1 on a free port.
 */
final class MiniKv implements AutoCloseable {

    /** One request as it arrived. */
    record Request(String method, String contentType, String batchKey, String authorization, List<String> keys,
                   int answered) {
    }

    /** An answer to give instead of storing: a status, or a delay before storing and answering. */
    record Scripted(int status, String retryAfter, String body, Duration delay) {
    }

    private static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private final DisposableServer server;
    final Map<String, JsonNode> store = new ConcurrentHashMap<>();
    /** Results in requests answered 200, counting each result again when it comes again. */
    final AtomicInteger itemsReceived = new AtomicInteger();
    final AtomicInteger duplicatesDropped = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger concurrent = new AtomicInteger();
    final AtomicInteger maxConcurrent = new AtomicInteger();
    final AtomicInteger openConnections = new AtomicInteger();
    final Queue<Request> log = new ConcurrentLinkedQueue<>();
    private final Queue<Scripted> script = new ConcurrentLinkedQueue<>();
    /** Scripted answers for every request once the script is used up ({@code null}: store and answer 200). */
    volatile Scripted always;
    /** Delay of every answer after storing. */
    volatile Duration delay = Duration.ZERO;

    static {
        // Jackson creates and caches its tree deserializer under a lock on first use: once here,
        // not under contention on the event loops
        MAPPER.readTree("[{\"idempotencyKey\":\"k\",\"result\":{\"n\":1}}]");
    }

    private MiniKv() {
        this.server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .doOnChannelInit((observer, channel, address) -> {
                    openConnections.incrementAndGet();
                    channel.closeFuture().addListener(f -> openConnections.decrementAndGet());
                })
                .handle(this::handle)
                .bindNow();
    }

    static MiniKv start() {
        return new MiniKv();
    }

    /** @return a URI where nothing listens: connections are refused */
    static URI downUri() {
        try (MiniKv kv = new MiniKv()) {
            return kv.uri();
        }
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.port() + "/results");
    }

    /** The next request gets {@code status} (with {@code retryAfter} unless null) and {@code body}. */
    MiniKv then(int status, String retryAfter, String body) {
        script.add(new Scripted(status, retryAfter, body, Duration.ZERO));
        return this;
    }

    /** The next request is stored, then answered 200 after {@code wait}. */
    MiniKv thenLate(Duration wait) {
        script.add(new Scripted(200, null, "", wait));
        return this;
    }

    int batchCount() {
        return log.size();
    }

    private Mono<Void> handle(HttpServerRequest req, HttpServerResponse res) {
        int now = concurrent.incrementAndGet();
        maxConcurrent.accumulateAndGet(now, Math::max);
        requests.incrementAndGet();
        // a request ends when its answer is decided, before it is written: the client cannot send
        // another request on the strength of this answer before that
        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable end = () -> {
            if (ended.compareAndSet(false, true)) {
                concurrent.decrementAndGet();
            }
        };
        Scripted s = script.poll();
        Scripted answer = s != null ? s : always;
        String contentType = req.requestHeaders().get("Content-Type");
        return req.receive().aggregate().asString().defaultIfEmpty("")
                .flatMap(body -> {
                    List<String> keys = new ArrayList<>();
                    List<JsonNode> results = new ArrayList<>();
                    parse(body, contentType, keys, results);
                    int status = answer == null ? 200 : answer.status();
                    log.add(new Request(req.method().name(), contentType, req.requestHeaders().get("Idempotency-Key"),
                            req.requestHeaders().get("Authorization"), keys, status));
                    if (status != 200) {
                        if (answer.retryAfter() != null) {
                            res.header("Retry-After", answer.retryAfter());
                        }
                        end.run();
                        return res.status(status).sendString(Mono.just(answer.body())).then();
                    }
                    for (int i = 0; i < keys.size(); i++) {
                        itemsReceived.incrementAndGet();
                        if (store.putIfAbsent(keys.get(i), results.get(i)) != null) {
                            duplicatesDropped.incrementAndGet();
                        }
                    }
                    Duration wait = answer != null && !answer.delay().isZero() ? answer.delay() : delay;
                    Mono<Void> reply = Mono.fromRunnable(end).then(res.status(200).header("Content-Type", "application/json")
                            .sendString(Mono.just("{\"stored\":" + keys.size() + "}")).then());
                    // the answer is written from a thread where Netty's allocator may wait for its lock
                    return wait.isZero() ? reply : Mono.delay(wait, Schedulers.boundedElastic()).then(reply);
                })
                .doFinally(sig -> end.run());
    }

    private static void parse(String body, String contentType, List<String> keys, List<JsonNode> results) {
        List<JsonNode> items = new ArrayList<>();
        if (contentType != null && contentType.startsWith("application/x-ndjson")) {
            for (String line : body.split("\n")) {
                if (!line.isBlank()) {
                    items.add(MAPPER.readTree(line));
                }
            }
        } else {
            MAPPER.readTree(body).forEach(items::add);
        }
        for (JsonNode item : items) {
            keys.add(item.get("idempotencyKey").asString());
            results.add(item.get("result"));
        }
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
