package io.streamflow.reactive.http;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The example of the documentation, compiled and run. */
class ResultLogExampleTest {

    @Test
    void shouldRunTheDocumentationExample() {
        Flux<StreamElement<String, WindowResult<String, Long>>> results = Flux.just(
                StreamRecord.of("page-1", new WindowResult<>("page-1", 0L, 60_000L, 3L,
                        new PaneInfo(PaneInfo.Timing.EARLY, 0, false)), 59_999L),
                Watermark.of(59_999L),
                StreamRecord.of("page-1", new WindowResult<>("page-1", 0L, 60_000L, 5L,
                        new PaneInfo(PaneInfo.Timing.ON_TIME, 1, false)), 59_999L));

        // --- documentation example ---
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("page-views")
                .retainCount(50_000)
                .retainAge(Duration.ofMinutes(30))
                .clientBuffer(2_000)
                .valueWriter(count -> Map.of("views", count))
                .build();
        log.append(results).subscribe();   // the pipeline's windowed results

        // a client that saw event 1 comes back: exactly what it missed, then live events
        Flux<String> sse = log.events(1L, false).map(ResultEvent::toSseFrame);
        // the current windows of one key, e.g. for GET /results/keys/page-1
        List<ResultEvent> current = log.current("page-1");
        // --- end of example ---

        assertThat(sse.take(2).collectList().block(Duration.ofSeconds(10))).containsExactly(
                "id: 2\nevent: retract\ndata: {\"id\":2,\"retracts\":1,\"key\":\"page-1\",\"window\":{\"start\":0,"
                        + "\"end\":60000},\"reason\":\"superseded\"}\n\n",
                "id: 3\nevent: result\ndata: {\"id\":3,\"key\":\"page-1\",\"window\":{\"start\":0,\"end\":60000},"
                        + "\"value\":{\"views\":5},\"pane\":{\"timing\":\"ON_TIME\",\"index\":1,\"final\":false}}\n\n");
        assertThat(current).extracting(ResultEvent::id).containsExactly(3L);
    }
}
