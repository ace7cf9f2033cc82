package io.streamflow.reactive.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link StreamFlowHttpServer.Builder#page(String, String)}: a class-path directory served over real
 * HTTP (the test page is under {@code src/test/resources/io/streamflow/reactive/http/testpage}).
 */
class StaticPageTest {

    private static final String DIR = "io/streamflow/reactive/http/testpage/";
    private static final String TOKEN = "page-token-0123456789abcdef";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private StreamFlowHttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static HttpTestSupport.Answer get(StreamFlowHttpServer s, String path) {
        return HttpTestSupport.get(s.uri(path), Map.of());
    }

    private static void assertNotFound(HttpTestSupport.Answer a, String messagePart) {
        assertThat(a.status()).as(a.body()).isEqualTo(404);
        assertThat(a.headers().get("Content-Type")).isEqualTo("application/json");
        JsonNode n = JSON.readTree(a.body());
        assertThat(n.get("status").asInt()).isEqualTo(404);
        assertThat(n.get("error").asString()).isEqualTo("Not Found");
        assertThat(n.get("message").asString()).contains(messagePart);
    }

    @Test
    void shouldServeTheFilesOfTheDirectoryWithTheirContentTypesAndTheIndexAtThePath() {
        server = StreamFlowHttpServer.builder().port(0).page("/", DIR).start();

        HttpTestSupport.Answer index = get(server, "/");
        assertThat(index.status()).isEqualTo(200);
        assertThat(index.headers().get("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertThat(index.body()).contains("test page index");
        assertThat(index.headers().get("Content-Security-Policy")).startsWith("default-src 'self'");
        assertThat(index.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(get(server, "/index.html").body()).isEqualTo(index.body());

        HttpTestSupport.Answer js = get(server, "/app.js");
        assertThat(js.status()).isEqualTo(200);
        assertThat(js.headers().get("Content-Type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(js.body()).contains("(scripted)");
        assertThat(js.headers().get("Content-Length")).isEqualTo(Integer.toString(js.body().length()));
        HttpTestSupport.Answer css = get(server, "/style.css");
        assertThat(css.headers().get("Content-Type")).isEqualTo("text/css; charset=utf-8");
        assertThat(css.body()).contains("sans-serif");
        HttpTestSupport.Answer svg = get(server, "/img/dot.svg");
        assertThat(svg.status()).isEqualTo(200);
        assertThat(svg.headers().get("Content-Type")).isEqualTo("image/svg+xml");
        // served a second time from memory, the same
        assertThat(get(server, "/app.js").body()).isEqualTo(js.body());

        HttpTestSupport.Answer head = HttpTestSupport.send(HttpClient.create(), "HEAD", server.uri("/app.js"), Map.of());
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.headers().get("Content-Type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(head.body()).isEmpty();

        HttpTestSupport.Answer post = HttpTestSupport.send(HttpClient.create(), "POST", server.uri("/app.js"), Map.of());
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.headers().get("Allow")).isEqualTo("GET, HEAD");

        // the server's own routes stay; its status page moves to /status
        assertThat(get(server, "/health").status()).isEqualTo(200);
        HttpTestSupport.Answer status = get(server, "/status");
        assertThat(status.status()).isEqualTo(200);
        assertThat(status.body()).contains("<title>StreamFlow status</title>");
        assertThat(get(server, "/status/status.js").status()).isEqualTo(200);
    }

    @Test
    void shouldAnswer404InJsonForAMissingFileAFileTypeItDoesNotServeAndADirectory() {
        server = StreamFlowHttpServer.builder().port(0).page("/app/", DIR).start();

        assertNotFound(get(server, "/app/missing.js"), "the page has no file 'missing.js'");
        assertNotFound(get(server, "/app/secret.properties"), "files of this type are not served");
        assertNotFound(get(server, "/app/sub.js"), "the page has no file 'sub.js'");
        assertNotFound(get(server, "/app/img/"), "the page has no file 'img/index.html'");
        assertNotFound(get(server, "/elsewhere.js"), "no resource at '/elsewhere.js'");

        assertThat(get(server, "/app/").body()).contains("test page index");
        HttpTestSupport.Answer redirect = get(server, "/app?x=1");
        assertThat(redirect.status()).isEqualTo(308);
        assertThat(redirect.headers().get("Location")).isEqualTo("/app/?x=1");
        // without a page at /, the status page stays there
        assertThat(get(server, "/").body()).contains("<title>StreamFlow status</title>");
    }

    @Test
    void shouldNeverServeAFileOutsideTheDirectory() throws IOException {
        server = StreamFlowHttpServer.builder().port(0).page("/app/", DIR).start();
        // files that exist on the class path beside and above the page's directory
        assertThat(getClass().getResource("/io/streamflow/reactive/http/StaticPageTest.class")).isNotNull();
        assertThat(getClass().getResource("/META-INF/services/reactor.blockhound.integration.BlockHoundIntegration"))
                .isNotNull();
        assertThat(getClass().getResource("/io/streamflow/reactive/http/outside-the-page.txt")).isNotNull();
        for (String path : new String[] {
                "/app/../outside-the-page.txt",
                "/app/%2e%2e/outside-the-page.txt",
                "/app/img/..%2F..%2Foutside-the-page.txt",
                "/app/../StaticPageTest.class",
                "/app/../../../../../META-INF/services/reactor.blockhound.integration.BlockHoundIntegration",
                "/app/%2e%2e/StaticPageTest.class",
                "/app/%2E%2E%2FStaticPageTest.class",
                "/app/..%2f..%2fhttp%2fStaticPageTest.class",
                "/app/img/../../testpage/app.js",
                "/app/./app.js",
                "/app//app.js",
                "/app/..\\StaticPageTest.class",
                "/app/%5c..%5cStaticPageTest.class",
                "/app/%252e%252e/app.js"}) {
            try (RawHttp raw = new RawHttp(server.port())) {
                RawHttp.Response r = raw.get(path);
                assertThat(r.status()).as(path + ": " + r.body()).isEqualTo(404);
                assertThat(r.body()).as(path).contains("\"status\":404").doesNotContain("never served");
                assertThat(r.head()).as(path).contains("application/json");
            }
        }
        try (RawHttp raw = new RawHttp(server.port())) {
            assertThat(raw.get("/app/app.js").status()).isEqualTo(200);
        }
    }

    @Test
    void shouldAskForCredentialsOnItsDocumentsAlsoAsAccessTokenButServeItsAssetsToAnyone() {
        server = StreamFlowHttpServer.builder().port(0).bearerToken(TOKEN).page("/", DIR).start();

        HttpTestSupport.Answer anonymous = get(server, "/");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.headers().get("WWW-Authenticate")).isEqualTo("Bearer realm=\"streamflow\"");
        assertThat(anonymous.body()).doesNotContain("test page index");
        assertThat(get(server, "/other.html").status()).isEqualTo(401);
        assertThat(get(server, "/?access_token=wrong-token-0123456789").status()).isEqualTo(401);

        assertThat(get(server, "/?access_token=" + TOKEN).body()).contains("test page index");
        assertThat(get(server, "/other.html?access_token=" + TOKEN).body()).contains("other document");
        assertThat(HttpTestSupport.get(server.uri("/"), Map.of("Authorization", "Bearer " + TOKEN)).body())
                .contains("test page index");

        assertThat(get(server, "/app.js").status()).isEqualTo(200);
        assertThat(get(server, "/style.css").status()).isEqualTo(200);
        // the server's protected routes keep their credentials
        assertThat(get(server, "/status").status()).isEqualTo(401);
        StreamFlowHttpServer withMetrics = StreamFlowHttpServer.builder().port(0).bearerToken(TOKEN)
                .prometheus(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).page("/", DIR).start();
        try {
            assertThat(get(withMetrics, "/metrics").status()).isEqualTo(401);
            assertThat(get(withMetrics, "/metrics?access_token=" + TOKEN).status()).isEqualTo(401);
        } finally {
            withMetrics.close();
        }
    }

    @Test
    void shouldRefuseBadPathsAndDirectoriesAndADirectoryWithoutIndex() {
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().page("/app", DIR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ending with '/'");
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().page("/a/../", DIR))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().page("/status/", DIR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("belong to the server");
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().page("/app/", "io/../secrets/"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("none '.' or '..'");
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().page("/", DIR).page("/", DIR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("served twice");
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().port(0).page("/", "io/streamflow/nothing-here/").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("io/streamflow/nothing-here/index.html is not on the class path");
    }
}
