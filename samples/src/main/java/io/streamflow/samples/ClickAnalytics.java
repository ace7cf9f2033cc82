package io.streamflow.samples;

import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.analytics.Analytics;
import io.streamflow.reactive.analytics.Ranking;
import io.streamflow.reactive.analytics.SessionSummary;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.TimeWindow;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Click-stream analytics: from click events (user, page, kind, event time), four outputs, all in
 * event time (records up to {@link #MAX_OUT_OF_ORDERNESS} out of order):
 * <ol>
 *   <li><b>clicks per page per minute</b>: every click counted per page in 1-minute tumbling
 *   windows {@code [hh:mm:00, hh:mm+1:00)}, emitted when the watermark passes the window's end;</li>
 *   <li><b>top pages per minute</b>: the {@link #TOP_N} pages with the most clicks in each minute
 *   (a top-N of the per-minute counts), ties by page name;</li>
 *   <li><b>trending pages</b>: each click adds 1 to its page's score, scores halve every
 *   {@link #HALF_LIFE} of event time; at the end of each minute that had clicks the
 *   {@link #TRENDING_N} best scores as of its last millisecond are emitted (ties by page name).
 *   A page whose score falls below {@link #TRENDING_FLOOR} is forgotten;</li>
 *   <li><b>user sessions</b>: a user's clicks at most {@link #SESSION_GAP} apart form one session,
 *   reported once the watermark reaches its last click + 5 min - 1 ms (no later click can extend
 *   it), with its first and last click, number of clicks, page views (clicks of kind
 *   {@code view}) and clicks per kind.</li>
 * </ol>
 * A click that arrives after the window (or ranking interval, or session) it belongs to was
 * emitted is late: it goes to the late output (logged at WARN) and is not counted there.
 * A click is a {@link Click}; {@link #withEventTime} assigns event time and watermarks, and each
 * output is a method on the resulting stream, so a test can feed any input. {@code main} prints
 * the {@link #report} of a generated input: one pass over it, feeding all four outputs, whose lines
 * appear in the order they fire (at each minute boundary: that minute's counts, its top pages, the
 * trending ranking; sessions when they close).
 * <p>
 * Arguments (optional): number of clicks (default 600, one every 2 s of event time: 20 minutes),
 * random seed (default 11).
 */
public final class ClickAnalytics {

    public static final Duration WINDOW = Duration.ofMinutes(1);
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofSeconds(5);
    public static final Duration SESSION_GAP = Duration.ofMinutes(5);
    public static final Duration HALF_LIFE = Duration.ofMinutes(2);
    public static final int TOP_N = 3;
    public static final int TRENDING_N = 10;
    public static final double TRENDING_FLOOR = 0.5;
    /** 2023-11-14T22:15:00Z, a whole minute. */
    public static final long START_MILLIS = 1_700_000_100_000L;

    /** Kind of a click that is a page view; the others are {@code click} and {@code purchase}. */
    public static final String VIEW = "view";

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final String[] PAGES = {"/", "/docs", "/pricing", "/blog", "/search", "/signup", "/cart",
            "/blog/launch"};
    /** Cumulative percentages of {@link #PAGES} outside the launch spike. */
    private static final int[] PAGE_WEIGHTS = {30, 50, 65, 77, 87, 93, 98, 100};
    private static final int USERS = 6;
    private static final long BLOCK_MILLIS = Duration.ofMinutes(6).toMillis();

    /**
     * One click of a user on a page.
     *
     * @param kind {@value #VIEW} (the page was opened), {@code click} (something on it was clicked) or
     *             {@code purchase}
     */
    public record Click(String user, String page, String kind) {

        public Click {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(page, "page");
            Objects.requireNonNull(kind, "kind");
        }

        /** @return this click as a record keyed by the user, at {@code timestamp} */
        public StreamRecord<String, Click> at(long timestamp) {
            return StreamRecord.of(user, this, timestamp);
        }
    }

    private ClickAnalytics() {
    }

    public static void main(String[] args) {
        long count = args.length > 0 ? Long.parseLong(args[0]) : 600;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 11L;
        report(source(count, seed))
                .doOnNext(System.out::println)
                .blockLast();
    }

    /**
     * All four outputs of one pass over {@code clicks}, as lines in the order they fire, each
     * prefixed by its output: {@code clicks}, {@code top}, {@code trending}, {@code session}. The
     * input is subscribed once and its records, with their watermarks, go to every output (the
     * per-minute counts feed both their own lines and the top pages).
     */
    public static Flux<String> report(Publisher<StreamRecord<String, Click>> clicks) {
        return withEventTime(clicks).elements().publish(shared -> {
            EventStream<String, Click> in = EventStream.of(shared);
            return Flux.merge(
                    clicksPerMinute(in).elements().publish(counts -> Flux.merge(
                            EventStream.of(counts).values().map(r -> "clicks   " + format(r)),
                            topPagesPerMinute(EventStream.of(counts)).values().map(r -> "top      " + formatTop(r)))),
                    trendingPages(in).values().map(r -> "trending " + formatTrending(r)),
                    sessions(in).records().map(r -> "session  " + format(r.key(), r.value())));
        });
    }

    /**
     * Synthetic clicks, deterministic for a seed: click {@code n} is nominally at
     * {@code START_MILLIS + n * 2 s}, up to 1.5 s early (never before {@code START_MILLIS}). Time is
     * cut into 6-minute blocks; {@code user-u} is active in block {@code b} when
     * {@code (b + u) % 3 != 0}, and each click is by a random active user, so users pause for 6
     * minutes and their sessions end. Pages are skewed ({@code /} most often); from minute 8 to 12
     * half of the clicks go to {@code /blog/launch}, which then trends. Kinds: 70% view, 25% click,
     * 5% purchase.
     */
    public static Flux<StreamRecord<String, Click>> source(long count, long seed) {
        return StreamSources.generator(count, 0, n -> {
            SplittableRandom rnd = new SplittableRandom(seed ^ (n * 0x9E3779B97F4A7C15L));
            long nominal = n * 2_000;
            long ts = START_MILLIS + Math.max(0, nominal - rnd.nextLong(1_501));
            long block = nominal / BLOCK_MILLIS;
            int[] active = new int[USERS];
            int actives = 0;
            for (int u = 0; u < USERS; u++) {
                if ((block + u) % 3 != 0) {
                    active[actives++] = u;
                }
            }
            String user = "user-" + active[rnd.nextInt(actives)];
            long minute = nominal / 60_000;
            String page;
            if (minute >= 8 && minute < 13 && rnd.nextBoolean()) {
                page = "/blog/launch";
            } else {
                int p = rnd.nextInt(100);
                int i = 0;
                while (p >= PAGE_WEIGHTS[i]) {
                    i++;
                }
                page = PAGES[i];
            }
            int k = rnd.nextInt(20);
            String kind = k == 0 ? "purchase" : k <= 5 ? "click" : VIEW;
            return StreamRecord.of(user, new Click(user, page, kind), ts, Origin.of("clicks", 0, n));
        }, Schedulers.parallel());
    }

    /** Event time from the records' timestamps, watermarks for {@link #MAX_OUT_OF_ORDERNESS}. */
    public static EventStream<String, Click> withEventTime(Publisher<StreamRecord<String, Click>> clicks) {
        return EventStream.from(clicks,
                WatermarkStrategy.<String, Click>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS));
    }

    /** Clicks per page (key) in 1-minute tumbling windows. */
    public static EventStream<String, WindowResult<String, Long>> clicksPerMinute(EventStream<String, Click> clicks) {
        return clicks.keyBy(Click::page)
                .window(Windows.tumbling(WINDOW))
                .aggregate(Aggregations.count());
    }

    /** The {@link #TOP_N} pages of each minute by clicks, most first, ties by page name; keyed by the minute. */
    public static EventStream<TimeWindow, Ranking<String, Long>> topPagesPerMinute(
            EventStream<String, WindowResult<String, Long>> clicksPerMinute) {
        return clicksPerMinute.transform(Analytics.<String, Long>topN(TOP_N, Comparator.reverseOrder(),
                Comparator.naturalOrder(), OperatorSettings.named("top-pages")));
    }

    /** Pages by decaying click score, ranked at the end of every minute that had clicks; keyed by the minute. */
    public static EventStream<TimeWindow, Ranking<String, Double>> trendingPages(EventStream<String, Click> clicks) {
        return clicks.keyBy(Click::page)
                .transform(Analytics.<String, Click>trending(HALF_LIFE, WINDOW, TRENDING_N, TRENDING_FLOOR,
                        click -> 1.0, Comparator.naturalOrder(), OperatorSettings.named("trending-pages")));
    }

    /** One {@link SessionSummary} per user session, keyed by the user. */
    public static EventStream<String, SessionSummary> sessions(EventStream<String, Click> clicks) {
        return clicks.keyBy(Click::user)
                .sessions(SESSION_GAP, Click::kind, click -> VIEW.equals(click.kind()));
    }

    private static String time(long millis) {
        return TIME.format(Instant.ofEpochMilli(millis));
    }

    /** Whole seconds: {@code 718_500} -> {@code "11m58s"}. */
    private static String duration(long millis) {
        return Duration.ofSeconds(millis / 1000).toString().substring(2).toLowerCase(Locale.ROOT);
    }

    /** {@code /docs          [22:15:00, 22:16:00) clicks=12}. */
    public static String format(WindowResult<String, Long> r) {
        return String.format(Locale.ROOT, "%-13s [%s, %s) clicks=%d", r.key(), time(r.start()), time(r.end()),
                r.value());
    }

    /** {@code [22:15:00, 22:16:00) 1. / (9)  2. /docs (7)  3. /blog (4)}. */
    public static String formatTop(Ranking<String, Long> r) {
        return ranking(r, e -> e.rank() + ". " + e.key() + " (" + e.value() + ")");
    }

    /** {@code [22:15:00, 22:16:00) 1. / 8.4  2. /docs 6.1}. */
    public static String formatTrending(Ranking<String, Double> r) {
        return ranking(r, e -> String.format(Locale.ROOT, "%d. %s %.1f", e.rank(), e.key(), e.value()));
    }

    private static <V> String ranking(Ranking<String, V> r, Function<Ranking.Entry<String, V>, String> entry) {
        return "[" + time(r.start()) + ", " + time(r.end()) + ") "
                + r.entries().stream().map(entry).collect(Collectors.joining("  "));
    }

    /** {@code user-1  22:15:00 - 22:26:58 (11m58s) clicks=85 views=60 {click=20, purchase=5, view=60}}. */
    public static String format(String user, SessionSummary s) {
        return String.format(Locale.ROOT, "%-7s %s - %s (%s) clicks=%d views=%d %s", user, time(s.start()),
                time(s.lastEvent()), duration(s.durationMillis()),
                s.events(), s.pageViews(), s.eventTypes());
    }
}
