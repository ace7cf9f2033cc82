package io.streamflow.samples;

import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * User sessions: a user's clicks at most {@link #GAP} apart belong to one session; a session is
 * reported with its number of clicks, its first click and its end, once the watermark shows no
 * click can extend it any more.
 * <p>
 * A click at {@code t} opens the window {@code [t, t + 5 min)}; windows of a user that overlap or
 * touch merge. So a session's {@code end} is its last click plus 5 minutes, and clicks exactly 5
 * minutes apart are still one session. A click that arrives out of order between two sessions of
 * the user, before the first of them fired, merges them into one.
 * <p>
 * Arguments (optional): number of clicks (default 300), random seed (default 7).
 */
public final class UserSessions {

    public static final Duration GAP = Duration.ofMinutes(5);
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofMinutes(1);
    /** 2023-11-14T22:15:00Z. */
    public static final long START_MILLIS = 1_700_000_100_000L;

    /**
     * One session of one user.
     *
     * @param user   the user
     * @param start  time of the first click (inclusive window start)
     * @param end    last click + {@link #GAP} (exclusive window end)
     * @param clicks number of clicks in the session
     */
    public record Session(String user, long start, long end, long clicks) {

        /** @return the time of the last click */
        public long lastClick() {
            return end - GAP.toMillis();
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-7s session [%s, %s) clicks=%d last=%s", user, Instant.ofEpochMilli(start),
                    Instant.ofEpochMilli(end), clicks, Instant.ofEpochMilli(lastClick()));
        }
    }

    private UserSessions() {
    }

    public static void main(String[] args) {
        long count = args.length > 0 ? Long.parseLong(args[0]) : 300;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 7L;
        pipeline(source(count, seed))
                .sink(StreamSinks.stdout(r -> r.value().toString()))
                .block();
    }

    /**
     * Synthetic clicks of 5 users, deterministic for a seed: a click every 20 s of event time on
     * average, by a random user, with a quiet period of 10 minutes every 30 minutes so that
     * sessions end.
     */
    public static Flux<StreamRecord<String, String>> source(long count, long seed) {
        String[] pages = {"/", "/cart", "/checkout", "/search"};
        return StreamSources.generator(count, 0, n -> {
            SplittableRandom rnd = new SplittableRandom(seed ^ (n * 0x9E3779B97F4A7C15L));
            long t = n * 20_000;
            long ts = START_MILLIS + t + (t / 1_200_000) * 600_000; // skip 10 min after every 20 min of clicks
            return StreamRecord.of("user-" + rnd.nextInt(5), pages[rnd.nextInt(pages.length)], ts,
                    Origin.of("clicks", 0, n));
        }, Schedulers.parallel());
    }

    /** Clicks keyed by user (value: the page) to one {@link Session} per user session. */
    public static EventStream<String, Session> pipeline(Publisher<StreamRecord<String, String>> clicks) {
        return EventStream.from(clicks,
                        WatermarkStrategy.<String, String>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS))
                .window(Windows.session(GAP))
                .aggregate(Aggregations.count())
                .map(w -> new Session(w.key(), w.start(), w.end(), w.value()));
    }
}
