package io.streamflow.reactive.analytics;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamOperators;
import io.streamflow.reactive.internal.LiftedFlux;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.TimeWindow;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;

/**
 * Analytics operators in event time: top-N per window, trending keys with a decaying score, and
 * per-key session summaries. Rankings are over all keys of the stream; each is emitted as a
 * record keyed by its interval ({@link TimeWindow}) with the interval's max timestamp, before the
 * watermark that completes it is forwarded.
 */
public final class Analytics {

    private Analytics() {
    }

    /**
     * Top {@code n} keys of each window, from the results of a window aggregate (for example
     * clicks per page per minute). Each key's latest result of a window counts; the window is
     * ranked when the watermark passes its end, best first by {@code order}, ties by key order.
     * Results for a window already ranked (LATE panes of a window with allowed lateness) go to the
     * late output.
     *
     * @param <K>      key type of the window results
     * @param <V>      value type of the window results (what is ranked)
     * @param n        how many keys a ranking holds at most, {@code >= 1}
     * @param order    best first, e.g. {@code Comparator.reverseOrder()} for the largest counts
     * @param keyOrder breaks ties, so equal values rank the same way in every run
     * @param settings name, state backend, error policy and meters of the operator
     * @return the operator, applied to the output of a window aggregate
     * @throws IllegalArgumentException if {@code n < 1}
     * @throws NullPointerException     if {@code order}, {@code keyOrder} or {@code settings} is
     *                                  {@code null}
     */
    public static <K, V> Function<Flux<StreamElement<K, WindowResult<K, V>>>, Flux<StreamElement<TimeWindow, Ranking<K, V>>>>
    topN(int n, Comparator<? super V> order, Comparator<? super K> keyOrder, OperatorSettings settings) {
        checkN(n);
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(keyOrder, "keyOrder");
        Objects.requireNonNull(settings, "settings");
        return flux -> new LiftedFlux<StreamElement<K, WindowResult<K, V>>, StreamElement<TimeWindow, Ranking<K, V>>>(
                flux, actual -> new TopNSubscriber<>(actual, settings, n, order, keyOrder));
    }

    /**
     * Trending keys: each record adds {@code weight(value)} to its key's score, and scores halve
     * every {@code halfLife} of event time. At the end of every {@code interval} of event time that
     * had records, once the watermark passes it, the top {@code n} keys by score as of the
     * interval's last millisecond are emitted (ties by key order; scores are rounded to 40
     * significant bits, so arrival order does not change a ranking). Keys whose score fell below
     * {@code floor} are forgotten, which keeps the state bounded. A record for an interval already
     * emitted goes to the late output.
     * <p>
     * Intervals are aligned to the epoch, {@code [k * interval, (k + 1) * interval)}. Example: with a
     * half-life of 1 hour and hourly intervals, a record of weight 1 at 12:00 scores about 0.5 in
     * the ranking of {@code [12:00, 13:00)} (it is decayed to 12:59:59.999), and about 0.25 in the
     * ranking of {@code [13:00, 14:00)}, if that hour has records.
     *
     * @param <K>      key type
     * @param <V>      value type
     * @param halfLife event time after which a score has halved, at least 1 ms
     * @param interval event time between two rankings, at least 1 ms
     * @param n        how many keys a ranking holds at most, {@code >= 1}
     * @param floor    scores below it are forgotten; positive and finite
     * @param weight   what a record adds to its key's score
     * @param keyOrder breaks ties, so equal scores rank the same way in every run
     * @param settings name, state backend, error policy and meters of the operator
     * @return the operator
     * @throws NullPointerException     if an object argument is {@code null}
     * @throws IllegalArgumentException if {@code n < 1}, {@code halfLife} or {@code interval} is under
     *                                  1 ms, or {@code floor} is not a positive finite number
     */
    public static <K, V> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<TimeWindow, Ranking<K, Double>>>>
    trending(Duration halfLife, Duration interval, int n, double floor, ToDoubleFunction<? super V> weight,
             Comparator<? super K> keyOrder, OperatorSettings settings) {
        Objects.requireNonNull(halfLife, "halfLife");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(keyOrder, "keyOrder");
        Objects.requireNonNull(settings, "settings");
        checkN(n);
        if (halfLife.toMillis() < 1 || interval.toMillis() < 1) {
            throw new IllegalArgumentException("trending needs halfLife and interval of at least 1 ms, got halfLife="
                    + halfLife + " interval=" + interval);
        }
        if (!(floor > 0) || Double.isInfinite(floor)) {
            throw new IllegalArgumentException("trending floor must be a positive number (scores below it are "
                    + "forgotten), was " + floor);
        }
        return flux -> new LiftedFlux<StreamElement<K, V>, StreamElement<TimeWindow, Ranking<K, Double>>>(flux,
                actual -> new TrendingSubscriber<>(actual, settings, halfLife.toMillis(), interval.toMillis(), n,
                        floor, weight, keyOrder));
    }

    /**
     * Session tracking per key (for example per user): events of a key less than {@code gap} apart
     * form one session, emitted as a {@link SessionSummary} when the watermark passes
     * {@code last event + gap - 1}. An event exactly {@code gap} after the last one joins the
     * session only if it arrives before the watermark closes it (the session-window rule: the
     * windows touch, but a closed session is not reopened). The summary's record has the key and the session window's max
     * timestamp. Built on session windows, so late events follow their rules (late output).
     *
     * <p>
     * Example: with a gap of 30 minutes, events of one user at 12:00, 12:10 and 12:45 give a session
     * from 12:00 to 12:10 (two events), emitted once the watermark reaches 12:39:59.999, and a second
     * session starting at 12:45.
     *
     * @param <K>       key type (the user, for example)
     * @param <V>       value type
     * @param gap       the longest quiet time within a session, at least 1 ms
     * @param eventType the type of an event, counted per type; must not return {@code null}
     * @param pageView  which events are page views
     * @param settings  name, state backend, error policy and meters of the operator
     * @return the operator
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code gap} is under 1 ms
     */
    public static <K, V> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, SessionSummary>>> sessions(
            Duration gap, Function<? super V, String> eventType, Predicate<? super V> pageView,
            OperatorSettings settings) {
        Objects.requireNonNull(gap, "gap");
        Objects.requireNonNull(eventType, "eventType");
        Objects.requireNonNull(pageView, "pageView");
        Objects.requireNonNull(settings, "settings");
        long gapMillis = gap.toMillis();
        Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, WindowResult<K, SessionCounts>>>> windows =
                WindowOperator.<K, V>of(Windows.session(gap)).settings(settings)
                        .aggregate(new SessionAggregate<>(eventType, pageView));
        return flux -> flux.transform(windows).transform(StreamOperators.map(
                res -> new SessionSummary(res.start(), res.end() - gapMillis, res.value().events,
                        res.value().pageViews, res.value().types),
                settings.withName(settings.name() + "-summary")));
    }

    private static void checkN(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1, was " + n);
        }
    }

    /** Counts of one session; merged when sessions merge. */
    static final class SessionCounts {
        long events;
        long pageViews;
        final TreeMap<String, Long> types = new TreeMap<>();
    }

    private record SessionAggregate<V>(Function<? super V, String> eventType, Predicate<? super V> pageView)
            implements AggregateFunction<V, SessionCounts, SessionCounts> {

        @Override
        public SessionCounts createAccumulator() {
            return new SessionCounts();
        }

        @Override
        public SessionCounts add(SessionCounts a, V value) {
            String type = Objects.requireNonNull(eventType.apply(value), "the event type function returned null");
            boolean view = pageView.test(value);
            a.events++;
            if (view) {
                a.pageViews++;
            }
            a.types.merge(type, 1L, Long::sum);
            return a;
        }

        @Override
        public SessionCounts merge(SessionCounts a, SessionCounts b) {
            a.events += b.events;
            a.pageViews += b.pageViews;
            for (Map.Entry<String, Long> e : b.types.entrySet()) {
                a.types.merge(e.getKey(), e.getValue(), Long::sum);
            }
            return a;
        }

        @Override
        public SessionCounts result(SessionCounts a) {
            SessionCounts copy = new SessionCounts();
            copy.events = a.events;
            copy.pageViews = a.pageViews;
            copy.types.putAll(a.types);
            return copy;
        }
    }
}
