package io.streamflow.samples;

import io.streamflow.reactive.http.ResultEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The page of {@link HttpPageViews} in a real headless Chromium (Debian packages {@code chromium} and
 * {@code chromium-driver}), fed by the sample's own load generator: counts appear and change, the
 * page resumes after its event stream is cut (the server restarted on its port) without a reset,
 * and then shows exactly what the result log holds.
 */
class HttpPageViewsBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int RETAIN = 200;

    @TempDir
    Path dir;

    @Test
    void shouldShowLiveCountsAndResumeThemAfterTheStreamIsCut() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the sample page test needs a real browser: " + CHROMIUM + " and " + CHROMEDRIVER + " are missing; "
                    + "install the Debian packages chromium and chromium-driver "
                    + "(apt-get install -y chromium chromium-driver; .ci/run does this)");
        }
        // a log that keeps 200 events and live windows; once the page is open, 250 windows of the last
        // hour come, so the log retracts the oldest as expired (the burst may also cut the page off and
        // reset it); then the load's new minute expires 5 more, which the page must drop
        try (HttpPageViews app = HttpPageViews.start(0, 0, RETAIN)) {
            WebDriver web = null;
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
            try {
                ChromeOptions options = new ChromeOptions();
                options.setBinary(CHROMIUM.toFile());
                options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--window-size=1000,700",
                        "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
                web = new ChromeDriver(service, options);
                web.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
                web.get(app.pageUri().toString());
                assertThat(web.getTitle()).isEqualTo("Page views per minute");
                WebDriver browser = web;
                await().ignoreExceptions().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(text(browser, By.id("connection"))).isEqualTo("live"));
                postHour(app);
                await().atMost(Duration.ofSeconds(30)).until(() -> liveWindows(app) == RETAIN);
                app.startLoad(40, 7);

                // the counts appear: a row per page of the generator
                await().ignoreExceptions().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    assertThat(text(browser, By.id("connection"))).isEqualTo("live");
                    assertThat(counts(browser)).containsOnlyKeys(HttpPageViews.PAGES.keySet());
                });
                // ... and change
                Map<String, Long> first = counts(browser);
                await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThat(counts(browser)).isNotEqualTo(first));
                assertThat(text(browser, By.id("current-window"))).matches("current \\d\\d:\\d\\d–\\d\\d:\\d\\d");

                Path shots = Files.createDirectories(Path.of("target", "screenshots"));
                Path png = ((TakesScreenshot) web).getScreenshotAs(OutputType.FILE).toPath();
                Files.copy(png, shots.resolve("http-page-views.png"), StandardCopyOption.REPLACE_EXISTING);
                assertThat(Files.size(shots.resolve("http-page-views.png"))).isGreaterThan(10_000);

                // the event stream is cut: the server closes every connection and comes back on its port;
                // the pipeline and its result log go on
                long eventsBefore = Long.parseLong(attribute(web, "data-events"));
                long idBefore = Long.parseLong(attribute(web, "data-last-id"));
                String resetsBefore = attribute(web, "data-resets");   // the first snapshot's
                long dropsBefore = Long.parseLong(attribute(web, "data-drops"));
                app.restartServer();
                await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThat(Long.parseLong(attribute(browser, "data-drops"))).as("the page saw its stream drop")
                                .isGreaterThan(dropsBefore));
                await().ignoreExceptions().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    assertThat(text(browser, By.id("connection"))).isEqualTo("live");
                    assertThat(Long.parseLong(attribute(browser, "data-last-id"))).isGreaterThan(idBefore + 5);
                    assertThat(Long.parseLong(attribute(browser, "data-events"))).isGreaterThan(eventsBefore + 5);
                });
                // resumed from its last id (Last-Event-ID), not reset to a snapshot
                assertThat(attribute(web, "data-resets")).isEqualTo(resetsBefore);

                // the load stops; once the log is still, the page shows exactly the log's latest counts
                app.stopLoad();
                AtomicLong previous = new AtomicLong(-1);
                await().pollInterval(Duration.ofMillis(2_500)).atMost(Duration.ofSeconds(30)).until(() -> {
                    long head = app.log().lastEventId();
                    return previous.getAndSet(head) == head
                            && Long.toString(head).equals(attribute(browser, "data-last-id"));
                });
                AtomicReference<Map<String, Long>> expected = new AtomicReference<>(currentCounts(app));
                await().ignoreExceptions().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    assertThat(counts(browser)).isEqualTo(expected.get());
                    // the windows the page holds, shown or not, are the log's live view: expired ones removed
                    assertThat(Long.parseLong(attribute(browser, "data-windows"))).isEqualTo(liveWindows(app));
                });
                assertThat(liveWindows(app)).isEqualTo(RETAIN);
            } finally {
                if (web != null) {
                    web.quit();
                }
                service.stop();
            }
        }
    }

    /** Posts a view per page and minute of the last 50 minutes: 250 windows, closed but the last 5. */
    private static void postHour(HttpPageViews app) throws Exception {
        long now = System.currentTimeMillis();
        long base = now - Math.floorMod(now, 60_000L) - 55 * 60_000L;
        StringBuilder body = new StringBuilder();
        for (int m = 0; m < 50; m++) {
            for (String page : HttpPageViews.PAGES.keySet()) {
                body.append(HttpPageViews.view(page, "u0", base + m * 60_000L + 1_000)).append('\n');
            }
        }
        java.net.http.HttpResponse<String> answer = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(app.ingestUri()).header("Content-Type", "application/x-ndjson")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }

    /** @return the number of live windows of the log, all pages */
    private static long liveWindows(HttpPageViews app) {
        return HttpPageViews.PAGES.keySet().stream().mapToLong(p -> app.log().current(p).size()).sum();
    }

    /** @return the page's current-minute count per page ({@code -1} for none), read in one script run */
    private static Map<String, Long> counts(WebDriver web) {
        @SuppressWarnings("unchecked")
        Map<String, Object> read = (Map<String, Object>) ((JavascriptExecutor) web).executeScript(
                "var m = {};"
                        + "document.querySelectorAll('#counts tbody tr').forEach(function (tr) {"
                        + "  var t = tr.querySelector('td.current').textContent;"
                        + "  m[tr.getAttribute('data-page')] = t === '\u2013' ? -1 : Number(t);"
                        + "});"
                        + "return m;");
        Map<String, Long> m = new TreeMap<>();
        read.forEach((page, count) -> m.put(page, ((Number) count).longValue()));
        return m;
    }

    /** @return the log's count per page for the newest window of all pages */
    private static Map<String, Long> currentCounts(HttpPageViews app) {
        Map<String, Map<Long, Long>> byPage = new TreeMap<>();
        long newest = Long.MIN_VALUE;
        for (String page : HttpPageViews.PAGES.keySet()) {
            for (ResultEvent e : app.log().current(page)) {
                JsonNode n = JSON.readTree(e.data());
                long start = n.get("window").get("start").asLong();
                newest = Math.max(newest, start);
                byPage.computeIfAbsent(page, p -> new TreeMap<>()).put(start, n.get("value").asLong());
            }
        }
        Map<String, Long> m = new TreeMap<>();
        for (Map.Entry<String, Map<Long, Long>> e : byPage.entrySet()) {
            // a page without a count in the newest minute, but one in the minute before, has a row with "–"
            Long v = e.getValue().get(newest);
            if (v != null || e.getValue().containsKey(newest - HttpPageViews.WINDOW.toMillis())) {
                m.put(e.getKey(), v == null ? -1 : v);
            }
        }
        return m;
    }

    private static String text(WebDriver web, By by) {
        return web.findElement(by).getText();
    }

    private static String attribute(WebDriver web, String name) {
        return web.findElement(By.tagName("body")).getAttribute(name);
    }
}
