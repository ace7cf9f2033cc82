package io.streamflow.reactive.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The status page in a real headless Chromium (Debian packages {@code chromium} and
 * {@code chromium-driver}), fed by a running checkpointed pipeline.
 */
class StatusPageBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String TOKEN = "status-page-token-0123456789";

    @TempDir
    Path dir;

    @Test
    void shouldShowLiveFiguresAndAChartOfARunningPipelineAndReconnectWhenTheStreamDrops() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the status page test needs a real browser: " + CHROMIUM + " and " + CHROMEDRIVER + " are missing; "
                    + "install the Debian packages chromium and chromium-driver "
                    + "(apt-get install -y chromium chromium-driver; .ci/run does this)");
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        long start = System.currentTimeMillis();
        Sinks.Empty<Void> stop = Sinks.empty();
        try (Checkpointing cp = Checkpointing.builder(dir.resolve("checkpoints")).interval(Duration.ofSeconds(1))
                .meterRegistry(registry).pipeline("demo").open()) {
            // 200 records a second, 5 ms of event time apart: event time moves about as fast as the clock
            var source = cp.source("numbers", positions -> StreamSources.generator(
                            positions.getOrDefault(0, -1L) + 1, -1, 200.0,
                            n -> StreamRecord.of("k" + (n % 5), n, start + n * 5, Origin.of("numbers", 0, n)),
                            Schedulers.parallel()).takeUntilOther(stop.asMono()),
                    WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ofMillis(50))
                            .withMetrics("demo", "watermarks", registry));
            var pipeline = EventStream.of(source)
                    .settings(OperatorSettings.named("sums").withPipeline("demo").withMeterRegistry(registry)
                            .withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofSeconds(1))).name("sums")
                    .aggregate(Aggregations.sumLong(v -> v))
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(dir.resolve("out")), r -> r.value().toString()));

            StreamFlowHttpServer.Builder builder = StreamFlowHttpServer.builder().port(0).prometheus(registry)
                    .pipeline("demo", cp).bearerToken(TOKEN);
            StreamFlowHttpServer server = builder.start();
            int port = server.port();
            AtomicReference<String> ended = new AtomicReference<>();
            Disposable run = server.track("demo", pipeline)
                    .subscribe(v -> { }, e -> ended.set("failed: " + e), () -> ended.set("completed"));
            WebDriver web = null;
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
            try {
                ChromeOptions options = new ChromeOptions();
                options.setBinary(CHROMIUM.toFile());
                options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--window-size=1100,1300",
                        "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
                web = new ChromeDriver(service, options);
                web.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
                web.get(server.uri("/?access_token=" + TOKEN).toString());
                assertThat(web.getTitle()).isEqualTo("StreamFlow status");

                WebDriver browser = web;
                By demo = By.cssSelector("section[data-pipeline='demo']");
                await().ignoreException(org.openqa.selenium.NoSuchElementException.class).atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    WebElement s = browser.findElement(demo);
                    assertThat(number(s.findElement(By.className("rate")).getText())).isGreaterThan(50);
                    assertThat(s.findElement(By.className("watermark")).getText()).matches("\\d{4}-.*");
                    assertThat(browser.findElement(By.id("connection")).getText()).isEqualTo("live");
                });
                WebElement section = web.findElement(demo);
                String firstWatermark = section.findElement(By.className("watermark")).getText();
                String firstRecords = section.findElement(By.className("records-in")).getText();
                String firstChart = chart(web);
                AtomicReference<String> secondRecords = new AtomicReference<>();
                await().ignoreException(org.openqa.selenium.NoSuchElementException.class).atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                    WebElement s = browser.findElement(demo);
                    assertThat(s.findElement(By.className("watermark")).getText()).isNotEqualTo(firstWatermark);
                    secondRecords.set(s.findElement(By.className("records-in")).getText());
                    assertThat(number(secondRecords.get())).isGreaterThan(number(firstRecords));
                    assertThat(chart(browser)).as("the chart is redrawn with new points").isNotEqualTo(firstChart);
                });
                assertThat(section.findElement(By.className("status")).getText()).isEqualTo("UP");
                assertThat(section.findElement(By.className("state")).getText()).isEqualTo("RUNNING");
                assertThat(Integer.parseInt(section.findElement(By.className("chart")).getAttribute("data-points")))
                        .isGreaterThanOrEqualTo(2);
                assertThat(section.findElements(By.cssSelector(".partitions tbody tr"))).hasSize(1);
                assertThat(section.findElements(By.cssSelector(".operators tbody tr")).size()).isEqualTo(2);
                await().ignoreException(org.openqa.selenium.NoSuchElementException.class).atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(browser.findElement(demo)
                        .findElement(By.className("checkpoints")).getText()).doesNotStartWith("0 completed"));

                Path shots = Files.createDirectories(Path.of("target", "screenshots"));
                Path png = ((TakesScreenshot) web).getScreenshotAs(OutputType.FILE).toPath();
                Files.copy(png, shots.resolve("status-page.png"), StandardCopyOption.REPLACE_EXISTING);
                assertThat(Files.size(shots.resolve("status-page.png"))).isGreaterThan(10_000);

                // the source ends: the pipeline commits its last checkpoint and completes, which makes it DOWN
                stop.tryEmitEmpty();
                await().atMost(Duration.ofSeconds(30)).until(() -> ended.get() != null);
                assertThat(ended.get()).isEqualTo("completed");
                await().ignoreException(org.openqa.selenium.NoSuchElementException.class).atMost(Duration.ofSeconds(15))
                        .untilAsserted(() -> {
                            WebElement s = browser.findElement(demo);
                            assertThat(s.findElement(By.className("state")).getText()).isEqualTo("COMPLETED");
                            assertThat(s.findElement(By.className("status")).getText()).isEqualTo("DOWN");
                            assertThat(s.findElement(By.className("problems")).getText())
                                    .isEqualTo("the pipeline is not running: completed");
                            assertThat(browser.findElement(By.id("server-status")).getText()).isEqualTo("DOWN");
                        });

                // the stream drops with the server; EventSource reconnects once a server answers again
                server.close();
                await().ignoreException(org.openqa.selenium.NoSuchElementException.class).atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                        assertThat(browser.findElement(By.id("connection")).getText()).isNotEqualTo("live"));
                server = builder.port(port).start();
                await().ignoreException(org.openqa.selenium.NoSuchElementException.class).atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    assertThat(browser.findElement(By.id("connection")).getText()).isEqualTo("live");
                    assertThat(browser.findElement(demo).findElement(By.className("state")).getText())
                            .isEqualTo("UNTRACKED");
                });
            } finally {
                run.dispose();
                if (web != null) {
                    web.quit();
                }
                service.stop();
                server.close();
            }
        }
    }

    private static double number(String text) {
        String digits = text.replace(",", "");
        return digits.isEmpty() || "–".equals(digits) ? -1 : Double.parseDouble(digits);
    }

    private static String chart(WebDriver web) {
        return (String) ((JavascriptExecutor) web).executeScript(
                "return document.querySelector(\"section[data-pipeline='demo'] canvas.chart\").toDataURL();");
    }
}
