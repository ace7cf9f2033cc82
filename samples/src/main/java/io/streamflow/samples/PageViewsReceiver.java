package io.streamflow.samples;

import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny key-value receiver of the {@code HttpSink} of {@link HttpPageViews} ("MiniKV"): it keeps the
 * latest count of each page and minute, and drops a result whose idempotency key it has taken
 * before, so a batch sent again (a retry after a lost answer, a replay) changes nothing.
 * <ul>
 *   <li>{@code POST /results}: a JSON array of {@code {"idempotencyKey":"...","result":{"page":"/home",
 *       "start":...,"end":...,"views":12,"pane":3,"timing":"EARLY","final":false}}}, as the sink sends
 *       it; answers {@code {"stored":n,"duplicates":m}}. A result with a lower pane index than the one
 *       held for its page and minute does not replace it (batches may overtake each other).</li>
 *   <li>{@code GET /kv}: what it holds, newest minute first, with per entry how many results
 *       updated it and how many final results it took ({@code finals}: 1 once the minute is closed,
 *       never more), and totals: requests, results, duplicates dropped, and the answers it was told
 *       to lose with the results they held (each such result comes again as a duplicate).</li>
 * </ul>
 * Binds 127.0.0.1. Remembers the last {@value #MAX_KEYS} keys and keeps the entries of the newest
 * {@value #MAX_ENTRIES} page-minutes, so it runs for days in bounded memory. Everything runs on
 * Netty's event loops and never blocks.
 */
public final class PageViewsReceiver implements AutoCloseable {

    /** Idempotency keys remembered. */
    static final int MAX_KEYS = 100_000;
    /** Page-minutes kept. */
    static final int MAX_ENTRIES = 2_000;
    /** Largest request body taken, by its Content-Length. */
    static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static {
        // Jackson builds and caches its deserializers under a lock on first use: once here, not
        // under contention on an event loop
        JSON.readTree("[{\"idempotencyKey\":\"k\",\"result\":{\"page\":\"/\",\"views\":1}}]");
        JSON.writeValueAsString(JSON.createObjectNode().put("x", 1));
    }

    /** The latest result of one page and minute. */
    record Entry(String page, long start, long end, long views, long pane, String timing, boolean isFinal,
                 int updates, int finals) {
    }

    private final DisposableServer server;
    private final Map<String, Boolean> keys = new ConcurrentHashMap<>();
    private final Queue<String> keyOrder = new ConcurrentLinkedQueue<>();
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong results = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicInteger loseAnswers = new AtomicInteger();
    private final AtomicLong answersLost = new AtomicLong();
    private final AtomicLong resultsInLostAnswers = new AtomicLong();

    private PageViewsReceiver(int port) {
        this.server = HttpServer.create().host("127.0.0.1").port(port).handle(this::handle).bindNow();
    }

    /**
     * @param port the port on 127.0.0.1, 0 for any free one
     * @return the running receiver
     */
    public static PageViewsReceiver start(int port) {
        return new PageViewsReceiver(port);
    }

    /** @return where the sink posts: {@code http://127.0.0.1:<port>/results} */
    public URI resultsUri() {
        return URI.create("http://127.0.0.1:" + server.port() + "/results");
    }

    /** @return where to read what it holds: {@code http://127.0.0.1:<port>/kv} */
    public URI kvUri() {
        return URI.create("http://127.0.0.1:" + server.port() + "/kv");
    }

    /** @return results taken (new keys) */
    public long results() {
        return results.get();
    }

    /** @return results dropped because their key was taken before */
    public long duplicates() {
        return duplicates.get();
    }

    /**
     * The next {@code count} requests that hold a final count are stored, then answered {@code 503}
     * as if the answer had been lost on the way: the sink sends the same results again, with the
     * same keys.
     */
    void loseAnswers(int count) {
        loseAnswers.set(count);
    }

    private Mono<Void> handle(HttpServerRequest request, HttpServerResponse response) {
        String path = request.fullPath();
        String method = request.method().name();
        if ("/results".equals(path) && "POST".equals(method)) {
            String length = request.requestHeaders().get("Content-Length");
            if (length != null && (!length.matches("\\d{1,18}") || Long.parseLong(length) > MAX_BODY_BYTES)) {
                return answer(response, 413, "{\"error\":\"at most " + MAX_BODY_BYTES + " bytes per request\"}");
            }
            return request.receive().aggregate().asString().defaultIfEmpty("").flatMap(body -> {
                requests.incrementAndGet();
                int[] counts;
                try {
                    counts = store(JSON.readTree(body));
                } catch (RuntimeException e) {
                    return answer(response, 400, JSON.createObjectNode().put("error", "not a batch of results: "
                            + e.getMessage()).toString());
                }
                if (counts[2] > 0 && loseAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    answersLost.incrementAndGet();
                    resultsInLostAnswers.addAndGet(counts[0] + counts[1]);
                    return answer(response, 503, "{\"error\":\"stored, but the answer was lost\"}");
                }
                return answer(response, 200, "{\"stored\":" + counts[0] + ",\"duplicates\":" + counts[1] + "}");
            });
        }
        if ("/kv".equals(path) && ("GET".equals(method) || "HEAD".equals(method))) {
            return answer(response, 200, JSON.writeValueAsString(view()));
        }
        return answer(response, 404, "{\"error\":\"this receiver answers POST /results and GET /kv\"}");
    }

    private static Mono<Void> answer(HttpServerResponse response, int status, String json) {
        return response.status(status).header("Content-Type", "application/json")
                .header("Cache-Control", "no-store").sendString(Mono.just(json)).then();
    }

    /** @return stored, duplicate and final results of a batch */
    private int[] store(JsonNode batch) {
        if (!batch.isArray()) {
            throw new IllegalArgumentException("expected a JSON array");
        }
        int stored = 0;
        int dropped = 0;
        int finals = 0;
        for (JsonNode item : batch) {
            String key = item.required("idempotencyKey").asString();
            JsonNode r = item.required("result");
            if (r.required("final").asBoolean()) {
                finals++;
            }
            if (keys.putIfAbsent(key, Boolean.TRUE) != null) {
                duplicates.incrementAndGet();
                dropped++;
                continue;
            }
            keyOrder.add(key);
            if (keyOrder.size() > MAX_KEYS) {
                String oldest = keyOrder.poll();
                if (oldest != null) {
                    keys.remove(oldest);
                }
            }
            results.incrementAndGet();
            stored++;
            apply(r);
        }
        return new int[] {stored, dropped, finals};
    }

    private void apply(JsonNode r) {
        String page = r.required("page").asString();
        long start = r.required("start").asLong();
        long pane = r.required("pane").asLong();
        boolean fin = r.required("final").asBoolean();
        Entry next = new Entry(page, start, r.required("end").asLong(), r.required("views").asLong(), pane,
                r.required("timing").asString(), fin, 1, fin ? 1 : 0);
        entries.merge(page + "|" + start, next, (old, n) -> {
            int updates = old.updates() + 1;
            int finals = old.finals() + n.finals();
            return n.pane() >= old.pane()
                    ? new Entry(n.page(), n.start(), n.end(), n.views(), n.pane(), n.timing(), n.isFinal(), updates, finals)
                    : new Entry(old.page(), old.start(), old.end(), old.views(), old.pane(), old.timing(), old.isFinal(),
                    updates, finals);
        });
        if (entries.size() > MAX_ENTRIES) {
            entries.values().stream().min(Comparator.comparingLong(Entry::start))
                    .ifPresent(oldest -> entries.remove(oldest.page() + "|" + oldest.start()));
        }
    }

    /** @return the entries, newest minute first, then by page */
    List<Entry> entries() {
        List<Entry> list = new ArrayList<>(entries.values());
        list.sort(Comparator.comparingLong(Entry::start).reversed().thenComparing(Entry::page));
        return list;
    }

    private ObjectNode view() {
        ObjectNode n = JSON.createObjectNode();
        n.put("requests", requests.get());
        n.put("results", results.get());
        n.put("duplicates", duplicates.get());
        n.put("answersLost", answersLost.get());
        n.put("resultsInLostAnswers", resultsInLostAnswers.get());
        ArrayNode list = n.putArray("entries");
        for (Entry e : entries()) {
            list.addObject().put("page", e.page()).put("start", e.start()).put("end", e.end()).put("views", e.views())
                    .put("pane", e.pane()).put("timing", e.timing()).put("final", e.isFinal())
                    .put("updates", e.updates()).put("finals", e.finals());
        }
        return n;
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
