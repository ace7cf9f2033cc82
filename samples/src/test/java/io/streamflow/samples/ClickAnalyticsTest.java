package io.streamflow.samples;

import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.analytics.Ranking;
import io.streamflow.reactive.analytics.SessionSummary;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.samples.ClickAnalytics.Click;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class ClickAnalyticsTest {

    /** 2023-11-14T22:15:00Z. */
    private static final long T0 = ClickAnalytics.START_MILLIS;
    private static final long SECOND = 1_000;
    private static final long MINUTE = 60_000;
    private static final double HALF_LIFE = ClickAnalytics.HALF_LIFE.toMillis();
    private static final PaneInfo ON_TIME = new PaneInfo(PaneInfo.Timing.ON_TIME, 0, true);

    private static StreamRecord<String, Click> click(String user, String page, String kind, long ts) {
        return new Click(user, page, kind).at(ts);
    }

    /**
     * ann: 3 clicks in the first minute, then one 7 min 10 s later (a second session); bob: 3 clicks
     * up to minute 3; cid: a click 4 s out of order and a purchase.
     */
    private static Flux<StreamRecord<String, Click>> input() {
        return Flux.just(
                click("ann", "/docs", "view", T0 + 10 * SECOND),
                click("bob", "/", "view", T0 + 20 * SECOND),
                click("ann", "/docs", "click", T0 + 30 * SECOND),
                click("ann", "/", "view", T0 + 50 * SECOND),
                click("bob", "/docs", "view", T0 + 62 * SECOND),
                click("cid", "/", "click", T0 + 58 * SECOND),         // 4 s out of order: still in minute 0
                click("cid", "/pricing", "purchase", T0 + 70 * SECOND),
                click("bob", "/docs", "view", T0 + 3 * MINUTE),
                click("ann", "/docs", "view", T0 + 8 * MINUTE));
    }

    private static WindowResult<String, Long> count(String page, long minute, long clicks) {
        return new WindowResult<>(page, T0 + minute * MINUTE, T0 + (minute + 1) * MINUTE, clicks, ON_TIME);
    }

    /** Weight at the end of minute {@code minute} of a click at {@code T0 + offset}. */
    private static double w(long minute, long offset) {
        return Math.pow(2, -((minute + 1) * MINUTE - 1 - offset) / HALF_LIFE);
    }

    /** Decay over {@code minutes} whole minutes. */
    private static double d(long minutes) {
        return Math.pow(2, -(minutes * MINUTE) / HALF_LIFE);
    }

    @Test
    void counts_the_clicks_of_each_page_in_one_minute_windows() {
        List<WindowResult<String, Long>> out = ClickAnalytics.clicksPerMinute(ClickAnalytics.withEventTime(input()))
                .values().collectList().block();

        assertThat(out).containsExactlyInAnyOrder(
                count("/", 0, 3),
                count("/docs", 0, 2),
                count("/docs", 1, 1),
                count("/pricing", 1, 1),
                count("/docs", 3, 1),
                count("/docs", 8, 1));
        assertThat(out).extracting(WindowResult::end).isSorted();
    }

    @Test
    void ranks_the_top_pages_of_each_minute_that_had_clicks_with_ties_by_page_name() {
        List<Ranking<String, Long>> out = ClickAnalytics.topPagesPerMinute(
                        ClickAnalytics.clicksPerMinute(ClickAnalytics.withEventTime(input())))
                .values().collectList().block();

        assertThat(out).containsExactly(
                new Ranking<>(T0, T0 + MINUTE, List.of(
                        new Ranking.Entry<>(1, "/", 3L), new Ranking.Entry<>(2, "/docs", 2L))),
                new Ranking<>(T0 + MINUTE, T0 + 2 * MINUTE, List.of(
                        new Ranking.Entry<>(1, "/docs", 1L), new Ranking.Entry<>(2, "/pricing", 1L))),
                new Ranking<>(T0 + 3 * MINUTE, T0 + 4 * MINUTE, List.of(new Ranking.Entry<>(1, "/docs", 1L))),
                new Ranking<>(T0 + 8 * MINUTE, T0 + 9 * MINUTE, List.of(new Ranking.Entry<>(1, "/docs", 1L))));
    }

    @Test
    void only_the_three_best_pages_of_a_minute_are_ranked() {
        List<Ranking<String, Long>> out = ClickAnalytics.topPagesPerMinute(
                        ClickAnalytics.clicksPerMinute(ClickAnalytics.withEventTime(Flux.just(
                                click("ann", "/a", "view", T0),
                                click("ann", "/b", "view", T0 + 1),
                                click("ann", "/b", "view", T0 + 2),
                                click("ann", "/c", "view", T0 + 3),
                                click("ann", "/d", "view", T0 + 4),
                                click("ann", "/d", "view", T0 + 5),
                                click("ann", "/d", "view", T0 + 6)))))
                .values().collectList().block();

        assertThat(out).singleElement().satisfies(r -> assertThat(r.entries()).containsExactly(
                new Ranking.Entry<>(1, "/d", 3L),
                new Ranking.Entry<>(2, "/b", 2L),
                new Ranking.Entry<>(3, "/a", 1L)));
    }

    @Test
    void trending_scores_decay_with_a_two_minute_half_life_and_pages_below_the_floor_are_forgotten() {
        List<Ranking<String, Double>> out = ClickAnalytics.trendingPages(ClickAnalytics.withEventTime(input()))
                .values().collectList().block();

        double root0 = w(0, 20 * SECOND) + w(0, 50 * SECOND) + w(0, 58 * SECOND);
        double docs0 = w(0, 10 * SECOND) + w(0, 30 * SECOND);
        double root1 = root0 * d(1);
        double docs1 = docs0 * d(1) + w(1, 62 * SECOND);
        double pricing1 = w(1, 70 * SECOND);
        double docs3 = docs1 * d(2) + w(3, 3 * MINUTE);
        double root3 = root1 * d(2);           // pricing: 0.37 < 0.5, forgotten
        double docs8 = docs3 * d(5) + w(8, 8 * MINUTE);  // root: 0.17, forgotten

        assertThat(out).extracting(Ranking::start, Ranking::end).containsExactly(
                tuple(T0, T0 + MINUTE),
                tuple(T0 + MINUTE, T0 + 2 * MINUTE),
                tuple(T0 + 3 * MINUTE, T0 + 4 * MINUTE),
                tuple(T0 + 8 * MINUTE, T0 + 9 * MINUTE));
        assertRanking(out.get(0), "/", root0, "/docs", docs0);
        assertRanking(out.get(1), "/", root1, "/docs", docs1, "/pricing", pricing1);
        assertRanking(out.get(2), "/docs", docs3, "/", root3);
        assertRanking(out.get(3), "/docs", docs8);
        assertThat(pricing1 * d(2)).isLessThan(ClickAnalytics.TRENDING_FLOOR);
        assertThat(root3 * d(5)).isLessThan(ClickAnalytics.TRENDING_FLOOR);
    }

    /** {@code expected}: page, score, page, score, ... best first. */
    private static void assertRanking(Ranking<String, Double> r, Object... expected) {
        assertThat(r.entries()).hasSize(expected.length / 2);
        for (int i = 0; i < expected.length / 2; i++) {
            Ranking.Entry<String, Double> e = r.entries().get(i);
            assertThat(e.rank()).isEqualTo(i + 1);
            assertThat(e.key()).isEqualTo(expected[2 * i]);
            assertThat(e.value()).isCloseTo((Double) expected[2 * i + 1], within(1e-9));
        }
    }

    @Test
    void a_users_clicks_at_most_five_minutes_apart_form_a_session_with_its_page_views_and_kinds() {
        List<StreamRecord<String, SessionSummary>> out = new ArrayList<>(
                ClickAnalytics.sessions(ClickAnalytics.withEventTime(input())).records().collectList().block());
        out.sort(Comparator.<StreamRecord<String, SessionSummary>, String>comparing(StreamRecord::key)
                .thenComparingLong(r -> r.value().start()));

        assertThat(out).extracting(StreamRecord::key, StreamRecord::value).containsExactly(
                tuple("ann", new SessionSummary(T0 + 10 * SECOND, T0 + 50 * SECOND, 3, 2,
                        Map.of("view", 2L, "click", 1L))),
                tuple("ann", new SessionSummary(T0 + 8 * MINUTE, T0 + 8 * MINUTE, 1, 1, Map.of("view", 1L))),
                tuple("bob", new SessionSummary(T0 + 20 * SECOND, T0 + 3 * MINUTE, 3, 3, Map.of("view", 3L))),
                tuple("cid", new SessionSummary(T0 + 58 * SECOND, T0 + 70 * SECOND, 2, 0,
                        Map.of("click", 1L, "purchase", 1L))));
        // a session is reported once the watermark passes its last click + 5 min - 1 ms
        assertThat(out).allSatisfy(r -> assertThat(r.timestamp())
                .isEqualTo(r.value().lastEvent() + ClickAnalytics.SESSION_GAP.toMillis() - 1));
    }

    @Test
    void the_report_feeds_every_output_from_one_pass_in_firing_order() {
        List<String> lines = ClickAnalytics.report(input()).collectList().block();

        assertThat(lines).hasSize(6 + 4 + 4 + 4);
        assertThat(lines.subList(0, 4)).containsExactlyInAnyOrder(
                "clicks   /             [22:15:00, 22:16:00) clicks=3",
                "clicks   /docs         [22:15:00, 22:16:00) clicks=2",
                "top      [22:15:00, 22:16:00) 1. / (3)  2. /docs (2)",
                String.format(java.util.Locale.ROOT, "trending [22:15:00, 22:16:00) 1. / %.1f  2. /docs %.1f",
                        w(0, 20 * SECOND) + w(0, 50 * SECOND) + w(0, 58 * SECOND),
                        w(0, 10 * SECOND) + w(0, 30 * SECOND)));
        assertThat(lines).filteredOn(l -> l.startsWith("session  ")).containsExactlyInAnyOrder(
                "session  ann     22:15:10 - 22:15:50 (40s) clicks=3 views=2 {click=1, view=2}",
                "session  ann     22:23:00 - 22:23:00 (0s) clicks=1 views=1 {view=1}",
                "session  bob     22:15:20 - 22:18:00 (2m40s) clicks=3 views=3 {view=3}",
                "session  cid     22:15:58 - 22:16:10 (12s) clicks=2 views=0 {click=1, purchase=1}");
        assertThat(lines).filteredOn(l -> l.startsWith("top ")).containsExactly(
                "top      [22:15:00, 22:16:00) 1. / (3)  2. /docs (2)",
                "top      [22:16:00, 22:17:00) 1. /docs (1)  2. /pricing (1)",
                "top      [22:18:00, 22:19:00) 1. /docs (1)",
                "top      [22:23:00, 22:24:00) 1. /docs (1)");
    }

    @Test
    void the_generated_input_has_ten_sessions_and_a_trending_launch_post() {
        List<SessionSummary> sessions = ClickAnalytics.sessions(
                ClickAnalytics.withEventTime(ClickAnalytics.source(600, 11))).values().collectList().block();
        List<Ranking<String, Double>> trending = ClickAnalytics.trendingPages(
                ClickAnalytics.withEventTime(ClickAnalytics.source(600, 11))).values().collectList().block();

        // users pause for 6 minutes, longer than the 5-minute gap
        assertThat(sessions).hasSize(10);
        assertThat(sessions.stream().mapToLong(SessionSummary::events).sum()).as("no click is late").isEqualTo(600);
        assertThat(trending).hasSize(20);
        assertThat(trending.get(12).entries().get(0).key()).isEqualTo("/blog/launch");
        assertThat(trending.get(5).entries()).extracting(Ranking.Entry::key).doesNotContain("/blog/launch");
    }

    @Test
    void prints_page_counts_rankings_and_sessions() {
        assertThat(ClickAnalytics.format(count("/docs", 0, 12)))
                .isEqualTo("/docs         [22:15:00, 22:16:00) clicks=12");
        assertThat(ClickAnalytics.formatTrending(new Ranking<>(T0, T0 + MINUTE, List.of(
                new Ranking.Entry<>(1, "/", 8.44), new Ranking.Entry<>(2, "/docs", 6.05)))))
                .isEqualTo("[22:15:00, 22:16:00) 1. / 8.4  2. /docs 6.1");
        assertThat(ClickAnalytics.format("user-1", new SessionSummary(T0, T0 + 11 * MINUTE + 58_500, 85, 60,
                Map.of("view", 60L, "click", 20L, "purchase", 5L))))
                .isEqualTo("user-1  22:15:00 - 22:26:58 (11m58s) clicks=85 views=60 {click=20, purchase=5, view=60}");
    }
}
