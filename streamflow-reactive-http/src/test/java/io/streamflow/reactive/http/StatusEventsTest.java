package io.streamflow.reactive.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.netty.http.client.HttpClient;
import reactor.test.scheduler.VirtualTimeScheduler;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class StatusEventsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private StreamFlowHttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        time.dispose();
    }

    @Test
    void shouldStreamASnapshotAtOnceThenOnePerTickAsServerSentEvents() {
        Counter in = Counter.builder("streamflow.records.in").tag("pipeline", "orders").tag("operator", "parse")
                .register(registry);
        server = StreamFlowHttpServer.builder().port(0).prometheus(registry).pipeline("orders").scheduler(time)
                .start();
        List<String> frames = new CopyOnWriteArrayList<>();
        List<String> contentType = new CopyOnWriteArrayList<>();
        var stream = HttpClient.create().get().uri(server.uri("/status/events"))
                .response((response, body) -> {
                    contentType.add(response.responseHeaders().get("Content-Type"));
                    return body.asString();
                })
                .subscribe(frames::add);
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> String.join("", frames).contains("\n\n"));
            assertThat(contentType).containsExactly("text/event-stream");
            in.increment(30);
            time.advanceTimeBy(Duration.ofSeconds(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> events(frames).size() >= 2);
            List<JsonNode> events = events(frames);
            assertThat(events.get(0).get("pipelines").get(0).get("recordsInPerSecond").isNull()).isTrue();
            JsonNode second = events.get(1).get("pipelines").get(0);
            assertThat(second.get("name").asString()).isEqualTo("orders");
            assertThat(second.get("recordsIn").asLong()).isEqualTo(30);
            assertThat(second.get("recordsInPerSecond").asDouble()).isEqualTo(30.0);
            assertThat(events.get(1).get("time").asLong() - events.get(0).get("time").asLong()).isEqualTo(1_000);
        } finally {
            stream.dispose();
        }
    }

    private static List<JsonNode> events(List<String> frames) {
        String all = String.join("", frames);
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String frame : all.split("\n\n")) {
            if (frame.startsWith("data: ") && all.contains(frame + "\n\n")) {
                out.add(JSON.readTree(frame.substring(6)));
            }
        }
        return out;
    }

    @Test
    void shouldRefuseACheckpointingWhoseMetersAreNotInTheRegistry() {
        try (Checkpointing elsewhere = Checkpointing.builder(dir.resolve("cp")).pipeline("orders").open()) {
            assertThatThrownBy(() -> StreamFlowHttpServer.builder().port(0).prometheus(registry)
                    .pipeline("orders", elsewhere).start())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("pipeline 'orders' has a Checkpointing whose meters are not in the registry: "
                            + "build it with .meterRegistry(registry).pipeline(\"orders\")");
        }
    }
}
