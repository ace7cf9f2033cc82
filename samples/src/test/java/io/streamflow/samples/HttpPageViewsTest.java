package io.streamflow.samples;

import io.streamflow.reactive.http.ResultEvent;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link HttpPageViews} end to end over real HTTP on 127.0.0.1: page views posted to its ingest,
 * counted by its pipeline, compared in its {@code ResultLog} and in its receiver with a reference
 * computed directly from what was posted. Seeded: {@code -Dseed=} replays a run.
 */
class HttpPageViewsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** 2023-11-14T22:15:00Z, a whole minute. */
    private static final long BASE = 1_700_000_100_000L;
    private static final long MINUTE = HttpPageViews.WINDOW.toMillis();
    private static final String CLOSING_PAGE = "/closing";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Reference: views per page and window start, from the posted views. */
    private final Map<String, Map<Long, Long>> reference = new TreeMap<>();

    private static long seed() {
        long seed = Long.getLong("seed", System.nanoTime());
        System.out.println("HttpPageViewsTest seed: " + seed + " (replay with -Dseed=" + seed + ")");
        return seed;
    }

    /**
     * Posts 900 views over 3 minutes of event time, up to 3 s out of order (less than the
     * watermarks' 5 s, so none is late), in requests of 1 to 60 lines, then one view 10 minutes later
     * that closes every window of the others.
     */
    private void postViews(URI ingest, long seed) throws IOException, InterruptedException {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> pages = new ArrayList<>(HttpPageViews.PAGES.keySet());
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 900; i++) {
            long ts = Math.max(BASE, BASE + 3_000 + i * 200L - random.nextLong(3_001));
            String page = pages.get(random.nextInt(pages.size()));
            lines.add(HttpPageViews.view(page, "u" + random.nextInt(30), ts));
            count(page, ts);
        }
        lines.add(HttpPageViews.view(CLOSING_PAGE, "u0", BASE + 10 * MINUTE));
        count(CLOSING_PAGE, BASE + 10 * MINUTE);
        int i = 0;
        while (i < lines.size()) {
            int n = Math.min(lines.size() - i, 1 + random.nextInt(60));
            String body = String.join("\n", lines.subList(i, i + n)) + "\n";
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(ingest)
                    .header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(JSON.readTree(answer.body()).get("accepted").asInt()).isEqualTo(n);
            i += n;
        }
    }

    private void count(String page, long ts) {
        reference.computeIfAbsent(page, p -> new TreeMap<>()).merge(ts - Math.floorMod(ts, MINUTE), 1L, Long::sum);
    }

    /** @return the log's live view of a page: window start to its result's JSON */
    private static Map<Long, JsonNode> live(HttpPageViews app, String page) {
        Map<Long, JsonNode> m = new TreeMap<>();
        for (ResultEvent e : app.log().current(page)) {
            JsonNode n = JSON.readTree(e.data());
            m.put(n.get("window").get("start").asLong(), n);
        }
        return m;
    }

    @Test
    void shouldCountThePostedViewsPerPageAndMinuteInTheResultLogAsTheReferenceDoes() throws Exception {
        long seed = seed();
        try (HttpPageViews app = HttpPageViews.start(0, 0)) {
            postViews(app.ingestUri(), seed);

            // the log's live view holds the reference's counts, and every window of the 3 minutes is
            // closed: its result is the final on-time pane
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                for (Map.Entry<String, Map<Long, Long>> page : reference.entrySet()) {
                    Map<Long, JsonNode> live = live(app, page.getKey());
                    assertThat(live.keySet()).as(page.getKey()).isEqualTo(page.getValue().keySet());
                    boolean closing = CLOSING_PAGE.equals(page.getKey());
                    page.getValue().forEach((start, views) -> {
                        JsonNode r = live.get(start);
                        assertThat(r.get("value").asLong()).as(page.getKey() + " " + start).isEqualTo(views);
                        assertThat(r.get("pane").get("final").asBoolean()).as(r.toString()).isEqualTo(!closing);
                        assertThat(r.get("pane").get("timing").asString()).as(r.toString())
                                .isEqualTo(closing ? "EARLY" : "ON_TIME");
                    });
                }
            });
            assertThat(reference.values().stream().mapToLong(m -> m.values().stream().mapToLong(Long::longValue).sum())
                    .sum()).isEqualTo(901);
            assertThat(app.lateViews()).isZero();
            assertThat(app.deadLetters()).isZero();
            assertThat(live(app, "/nowhere")).isEmpty();
        }
    }

    @Test
    void shouldGiveTheReceiverEveryFinalCountOnceWhenTheSinkSendsABatchAgainAfterALostAnswer() throws Exception {
        long seed = seed();
        try (HttpPageViews app = HttpPageViews.start(0, 0)) {
            // the first three requests with final counts are stored, but answered 503: the sink sends
            // them again, with the same keys
            app.receiver().loseAnswers(3);
            postViews(app.ingestUri(), seed);

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                Map<String, JsonNode> kv = kv(app.receiver().kvUri());
                for (Map.Entry<String, Map<Long, Long>> page : reference.entrySet()) {
                    if (CLOSING_PAGE.equals(page.getKey())) {
                        continue;
                    }
                    page.getValue().forEach((start, views) -> {
                        JsonNode e = kv.get(page.getKey() + "|" + start);
                        assertThat(e).as(page.getKey() + " " + start + " in " + kv.keySet()).isNotNull();
                        assertThat(e.get("views").asLong()).as(e.toString()).isEqualTo(views);
                        assertThat(e.get("final").asBoolean()).as(e.toString()).isTrue();
                    });
                }
            });
            // every result of a request whose answer was lost comes again, and is dropped
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                JsonNode totals = JSON.readTree(get(app.receiver().kvUri()));
                assertThat(totals.get("answersLost").asLong()).isEqualTo(3);
                assertThat(totals.get("duplicates").asLong()).as("results the sink sent again")
                        .isEqualTo(totals.get("resultsInLostAnswers").asLong());
            });
            JsonNode all = JSON.readTree(get(app.receiver().kvUri()));
            assertThat(all.get("duplicates").asLong()).as("results the sink sent again").isPositive();
            assertThat(all.get("entries").findValues("finals").stream().mapToInt(JsonNode::asInt).sum())
                    .as("final counts").isGreaterThanOrEqualTo(3 * 5);
            for (JsonNode e : all.get("entries")) {
                // each final count taken once, although its batch may have come twice
                assertThat(e.get("finals").asInt()).as(e.toString()).isEqualTo(e.get("final").asBoolean() ? 1 : 0);
            }
            // what the receiver holds is what the log holds
            for (String page : reference.keySet()) {
                live(app, page).forEach((start, r) -> {
                    if (r.get("pane").get("final").asBoolean()) {
                        assertThat(kvEntry(all, page, start).get("views").asLong()).isEqualTo(r.get("value").asLong());
                    }
                });
            }
            assertThat(app.notDelivered()).isZero();
        }
    }

    @Test
    void shouldPrintTheUrlToOpenAndStopAfterTheGivenSeconds() throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            HttpPageViews.main(new String[] {Integer.toString(port), "4"});
        } finally {
            System.setOut(out);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        assertThat(text).contains("Page views per minute, live: open http://127.0.0.1:" + port + "/")
                .containsPattern("receiver: http://127\\.0\\.0\\.1:\\d+/kv")
                .containsPattern("-- [1-9]\\d* page views posted");
        // stopped: the port is free again
        try (java.net.ServerSocket again = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThat(again.getLocalPort()).isEqualTo(port);
        }
    }

    private static JsonNode kvEntry(JsonNode all, String page, long start) {
        for (JsonNode e : all.get("entries")) {
            if (e.get("page").asString().equals(page) && e.get("start").asLong() == start) {
                return e;
            }
        }
        throw new AssertionError("the receiver holds no entry for " + page + " " + start + ": " + all);
    }

    private Map<String, JsonNode> kv(URI uri) throws IOException, InterruptedException {
        Map<String, JsonNode> m = new TreeMap<>();
        for (JsonNode e : JSON.readTree(get(uri)).get("entries")) {
            m.put(e.get("page").asString() + "|" + e.get("start").asLong(), e);
        }
        return m;
    }

    private String get(URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}
