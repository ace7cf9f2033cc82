package io.streamflow.samples;

import io.streamflow.reactive.Event;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.test.TestEventStream;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class PageViewsPerMinuteTest {

    /** 2023-11-14T22:15:00Z. */
    private static final long T0 = PageViewsPerMinute.START_MILLIS;
    private static final long MINUTE = 60_000;
    private static final PaneInfo ON_TIME = new PaneInfo(PaneInfo.Timing.ON_TIME, 0, true);

    private static StreamRecord<String, Event> view(String page, String user, long ts) {
        return PageViewsPerMinute.pageView(page, user, ts).toRecord(Origin.NONE);
    }

    private static WindowResult<String, Long> count(String page, long startMinute, long views) {
        return new WindowResult<>(page, T0 + startMinute * MINUTE, T0 + (startMinute + 1) * MINUTE, views, ON_TIME);
    }

    private static List<WindowResult<String, Long>> run(Flux<StreamRecord<String, Event>> views) {
        return PageViewsPerMinute.pipeline(views).values().collectList().block();
    }

    private static List<WindowResult<String, Long>> byEndThenPage(List<WindowResult<String, Long>> results) {
        List<WindowResult<String, Long>> sorted = new ArrayList<>(results);
        sorted.sort(Comparator.<WindowResult<String, Long>>comparingLong(WindowResult::end)
                .thenComparing(WindowResult::key));
        return sorted;
    }

    @Test
    void counts_the_views_of_each_page_in_one_minute_windows() {
        List<WindowResult<String, Long>> out = run(Flux.just(
                view("/", "ann", T0 + 10_000),
                view("/docs", "bob", T0 + 20_000),
                view("/", "bob", T0 + MINUTE - 1),
                view("/", "ann", T0 + MINUTE),
                view("/docs", "ann", T0 + MINUTE + 30_000),
                view("/pricing", "cid", T0 + 2 * MINUTE + 5_000)));

        assertThat(byEndThenPage(out)).containsExactly(
                count("/", 0, 2),
                count("/docs", 0, 1),
                count("/", 1, 1),
                count("/docs", 1, 1),
                count("/pricing", 2, 1));
        assertThat(out).extracting(WindowResult::end).isSorted();
    }

    @Test
    void a_view_up_to_five_seconds_out_of_order_still_counts_in_its_minute() {
        List<WindowResult<String, Long>> out = run(Flux.just(
                view("/", "ann", T0 + 50_000),
                view("/", "bob", T0 + MINUTE + 4_000),
                view("/", "cid", T0 + 59_000)));

        assertThat(out).containsExactly(
                count("/", 0, 2),
                count("/", 1, 1));
    }

    @Test
    void a_view_that_arrives_after_its_minute_was_counted_goes_to_the_late_output() {
        Event early = PageViewsPerMinute.pageView("/", "ann", T0 + 10_000);
        Event late = PageViewsPerMinute.pageView("/", "bob", T0 + 20_000);
        Flux<io.streamflow.reactive.StreamElement<String, Event>> input = TestEventStream.<String, Event>create()
                .record("/", early, early.timestamp())
                .watermark(T0 + MINUTE)
                .record("/", late, late.timestamp())
                .build();
        List<LateRecord<?, ?>> lateRecords = new ArrayList<>();

        List<WindowResult<String, Long>> out = PageViewsPerMinute.countPerMinute(EventStream.of(input))
                .onLateData(l -> l.doOnNext(lateRecords::add))
                .values().collectList().block();

        assertThat(out).containsExactly(count("/", 0, 1));
        assertThat(lateRecords).singleElement().satisfies(l -> {
            assertThat(l.record().value()).isEqualTo(late);
            assertThat(l.windowStart()).isEqualTo(T0);
            assertThat(l.windowEnd()).isEqualTo(T0 + MINUTE);
            assertThat(l.watermark()).isEqualTo(T0 + MINUTE);
        });
    }

    @Test
    void prints_page_window_and_count() {
        assertThat(PageViewsPerMinute.format(count("/docs", 0, 12)))
                .isEqualTo("/docs    [2023-11-14T22:15:00Z, 2023-11-14T22:16:00Z) views=12 ON_TIME#0(final)");
    }
}
