package io.streamflow.reactive.http;

import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.netty.http.client.HttpClient;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A result log served by {@link StreamFlowHttpServer}: its events with resume and snapshot, a key's
 * current results and a key's events, behind the server's credentials (header or, for these
 * read-only routes, {@code access_token}).
 */
class ServerResultsRouteTest {

    private static final String TOKEN = "results-token-0123456789";

    private static WindowResult<String, Long> result(String key, long start, long value, long index) {
        return new WindowResult<>(key, start, start + 60_000, value,
                new PaneInfo(index == 0 ? PaneInfo.Timing.EARLY : PaneInfo.Timing.ON_TIME, index, index > 0));
    }

    /** The body of an SSE response up to and including the first frame that contains {@code until}. */
    private static String readUntil(URI uri, Map<String, String> headers, String until) {
        StringBuilder seen = new StringBuilder();
        return HttpClient.create().headers(h -> headers.forEach(h::set)).get().uri(uri)
                .responseContent().asString(StandardCharsets.UTF_8)
                .map(chunk -> seen.append(chunk).toString())
                .filter(text -> text.contains(until) && text.endsWith("\n\n"))
                .next()
                .timeout(Duration.ofSeconds(20))
                .block();
    }

    @Test
    void theServerServesALogsEventsWithResumeAndSnapshotAndItsKeysBehindItsCredentials() {
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("page-views").build();
        log.append(result("page/1", 0, 3, 0));      // id 1
        log.append(result("page-2", 0, 5, 0));      // id 2
        log.append(result("page/1", 0, 4, 1));      // retract#3 (of 1), result#4
        try (StreamFlowHttpServer server = StreamFlowHttpServer.builder().port(0).bearerToken(TOKEN)
                .results("/results", log).start()) {
            Map<String, String> auth = Map.of("Authorization", "Bearer " + TOKEN);

            // without credentials: 401, for the stream and for a key
            assertThat(HttpTestSupport.get(server.uri("/results"), Map.of()).status()).isEqualTo(401);
            assertThat(HttpTestSupport.get(server.uri("/results/keys/page-2"), Map.of()).status()).isEqualTo(401);

            // resume after id 1: exactly 2, 3 and 4 (the retraction of 1, then the final pane)
            String resumed = readUntil(server.uri("/results"), Map.of("Authorization", "Bearer " + TOKEN,
                    "Last-Event-ID", "1"), "id: 4");
            assertThat(resumed).doesNotContain("id: 1\n").contains("id: 2\nevent: result\n")
                    .contains("id: 3\nevent: retract\ndata: {\"id\":3,\"retracts\":1,").contains("id: 4\nevent: result\n");
            assertThat(resumed.indexOf("id: 2\n")).isLessThan(resumed.indexOf("id: 3\n"));

            // a browser's late client: the token as a parameter, and a snapshot of the live windows
            String snapshot = readUntil(URI.create(server.uri("/results") + "?snapshot=true&access_token=" + TOKEN),
                    Map.of(), "event: snapshot-end");
            assertThat(snapshot).contains("event: reset").contains("\"key\":\"page-2\"").contains("\"value\":4")
                    .doesNotContain("\"value\":3").contains("id: 4\nevent: snapshot-end");

            // a key's current results, the key percent-encoded; an unknown key is 404 JSON
            HttpTestSupport.Answer current = HttpTestSupport.get(server.uri("/results/keys/page%2F1"), auth);
            assertThat(current.status()).isEqualTo(200);
            assertThat(current.body()).startsWith("[{").contains("\"key\":\"page/1\"").contains("\"value\":4")
                    .doesNotContain("\"value\":3");
            HttpTestSupport.Answer unknown = HttpTestSupport.get(server.uri("/results/keys/nobody"), auth);
            assertThat(unknown.status()).isEqualTo(404);
            assertThat(unknown.body()).startsWith("{\"status\":404,");
            assertThat(HttpTestSupport.get(server.uri("/results/keys/a/b"), auth).status()).isEqualTo(404);

            // a key's events: its snapshot, then live events of that key only
            StringBuilder watched = new StringBuilder();
            var watching = Flux.defer(() -> HttpClient.create().headers(h -> auth.forEach(h::set)).get()
                            .uri(server.uri("/results/keys/page-2/events"))
                            .responseContent().asString(StandardCharsets.UTF_8))
                    .doOnNext(watched::append)
                    .subscribe();
            try {
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                        .until(() -> watched.toString().contains("event: snapshot-end"));
                log.append(result("page/1", 60_000, 1, 0));   // another key: not watched
                log.append(result("page-2", 60_000, 7, 0));
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                        .until(() -> watched.toString().contains("\"value\":7"));
                assertThat(watched.toString()).contains("\"value\":5").doesNotContain("\"key\":\"page/1\"");
            } finally {
                watching.dispose();
            }
        }
    }

    @Test
    void aPathThatCannotBeServedOrIsServedTwiceIsRefused() {
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("l").build();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StreamFlowHttpServer.builder().results("results/", log))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/results");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StreamFlowHttpServer.builder().results("/r", log)
                        .results("/r", log))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("served twice");
    }
}
