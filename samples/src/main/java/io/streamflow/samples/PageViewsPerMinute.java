package io.streamflow.samples;

import io.streamflow.reactive.Event;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Page views counted per page in 1-minute tumbling event-time windows.
 * <p>
 * A page view is a schema-less {@link Event} keyed by the page, with the user in a field. Records
 * may arrive up to {@link #MAX_OUT_OF_ORDERNESS} out of order; a window {@code [12:00, 12:01)} is
 * counted once the watermark passes 12:00:59.999, i.e. once a view at or after 12:01:05 was seen
 * (or the input ended).
 * <p>
 * Arguments (optional): number of page views (default 2,000, one every 200 ms of event time, so
 * about 7 minutes), random seed (default 42).
 */
public final class PageViewsPerMinute {

    public static final Duration WINDOW = Duration.ofMinutes(1);
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofSeconds(5);
    /** 2023-11-14T22:15:00Z, a whole minute. */
    public static final long START_MILLIS = 1_700_000_100_000L;

    private static final String[] PAGES = {"/", "/docs", "/pricing", "/blog"};

    private PageViewsPerMinute() {
    }

    public static void main(String[] args) {
        long count = args.length > 0 ? Long.parseLong(args[0]) : 2_000;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 42L;
        pipeline(source(count, seed))
                .sink(StreamSinks.stdout(r -> format(r.value())))
                .block();
    }

    /**
     * Synthetic page views, deterministic for a seed: view {@code n} is nominally at
     * {@code START_MILLIS + 3 s + n * 200 ms}, up to 3 s early (so out of order, and never before
     * {@code START_MILLIS}), on a random page by one of 20 users. Produced as fast as requested.
     */
    public static Flux<StreamRecord<String, Event>> source(long count, long seed) {
        return source(count, seed, START_MILLIS);
    }

    /**
     * As {@link #source(long, long)}, starting at {@code startMillis} instead of {@link #START_MILLIS}:
     * view {@code n} is nominally at {@code startMillis + 3 s + n * 200 ms}, up to 3 s early.
     */
    public static Flux<StreamRecord<String, Event>> source(long count, long seed, long startMillis) {
        return StreamSources.generator(count, 0, n -> {
            SplittableRandom rnd = new SplittableRandom(seed ^ (n * 0x9E3779B97F4A7C15L));
            long ts = startMillis + 3_000 + n * 200 - rnd.nextLong(3_001);
            return pageView(PAGES[rnd.nextInt(PAGES.length)], "user-" + rnd.nextInt(20), ts)
                    .toRecord(Origin.of("page-views", 0, n));
        }, Schedulers.parallel());
    }

    /** A page view as an {@link Event}: key = page. */
    public static Event pageView(String page, String user, long timestamp) {
        return Event.of(page, Map.of("page", page, "user", user), timestamp);
    }

    /** Assigns event time and watermarks (bounded out-of-orderness), then counts. */
    public static EventStream<String, WindowResult<String, Long>> pipeline(Publisher<StreamRecord<String, Event>> views) {
        return countPerMinute(EventStream.from(views,
                WatermarkStrategy.<String, Event>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS)));
    }

    /** The counting itself, on a stream that already has watermarks (e.g. a {@code TestEventStream}). */
    public static EventStream<String, WindowResult<String, Long>> countPerMinute(EventStream<String, Event> views) {
        return views.window(Windows.tumbling(WINDOW))
                .aggregate(Aggregations.count());
    }

    /** {@code /docs [2023-11-14T22:15:00Z, 2023-11-14T22:16:00Z) views=12 ON_TIME#0(final)}. */
    public static String format(WindowResult<String, Long> r) {
        return String.format(Locale.ROOT, "%-8s [%s, %s) views=%d %s", r.key(), Instant.ofEpochMilli(r.start()),
                Instant.ofEpochMilli(r.end()), r.value(), r.pane());
    }
}
