package io.streamflow.reactive.analytics;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.window.TimeWindow;
import reactor.core.CoreSubscriber;

import java.util.Comparator;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Trending keys by a score that decays with a half-life in event time. Time is cut into
 * intervals {@code [b * interval, (b + 1) * interval)}; a record at {@code t} adds
 * {@code weight * 2^(-(T - t) / halfLife)} to its key's partial sum for its interval, where
 * {@code T} is the interval's last millisecond. When the watermark passes {@code T} the interval
 * is folded in: every key's score becomes {@code score * 2^(-(T - T') / halfLife) + partial}
 * ({@code T'}: when the score was last folded), keys whose score falls below the floor are
 * forgotten, and the top N keys are emitted as the ranking of the interval. Intervals without
 * records emit nothing. Ranked scores are rounded to 40 significant bits so that arrival order,
 * which changes the last bits of a floating-point sum, does not change the ranking. A record whose interval was already folded goes to the late output.
 * A record whose interval would not fit in a {@code long} (its timestamp is not an event time, or
 * lies within an interval of the ends) goes to the dead-letter output or fails the pipeline, as the
 * error policy says.
 * <p>
 * Checkpoints: scores and partial sums are put after every change (each score carries the time
 * it was last folded), so a barrier only writes the watermark; on start the index of open
 * intervals is rebuilt from the namespaces of the partial sums.
 */
final class TrendingSubscriber<K, V> extends RankingSubscriber<K, V, Double> {

    private static final String SCORES = "scores";

    /** A key's decayed score as of {@code asOf}. */
    static final class Score {
        double value;
        long asOf;
    }

    /** A key's partial sum for one interval, decayed to the interval's last millisecond. */
    static final class Partial {
        double sum;
    }

    private final double halfLife;
    private final long interval;
    /** Timestamps whose interval fits in a {@code long}. */
    private final long first;
    private final long last;
    private final double floor;
    private final ToDoubleFunction<? super V> weight;
    private final KeyedState<K, String, Score> scores;
    private final KeyedState<K, Long, Partial> partials;
    private final TreeSet<Long> open = new TreeSet<>();
    private final RankingBuilder<K, Double> builder;

    TrendingSubscriber(CoreSubscriber<? super StreamElement<TimeWindow, Ranking<K, Double>>> actual,
                       OperatorSettings settings, long halfLifeMillis, long intervalMillis, int n, double floor,
                       ToDoubleFunction<? super V> weight, Comparator<? super K> keyOrder) {
        super(actual, settings);
        this.halfLife = halfLifeMillis;
        this.interval = intervalMillis;
        this.first = EventTime.firstPlaceable(intervalMillis, intervalMillis, 0);
        this.last = EventTime.lastPlaceable(intervalMillis, intervalMillis, 0);
        this.floor = floor;
        this.weight = weight;
        this.scores = backend.keyedState(name, "scores");
        this.partials = backend.keyedState(name, "partials");
        this.builder = new RankingBuilder<>(n, Comparator.<Double>reverseOrder(), keyOrder);
    }

    private double decay(long millis) {
        return Math.pow(2.0, -millis / halfLife);
    }

    @Override
    void onRecord(StreamRecord<K, V> r) {
        long t = r.timestamp();
        if (t < first || t > last) {
            String invalid = EventTime.invalidReason(t);
            unusableTimestamp(r, invalid != null ? invalid : "its interval of " + interval + " ms would not fit in the "
                    + "range of a long; this operator takes timestamps in [" + first + ", " + last + "]");
            return;
        }
        long b = Math.floorDiv(t, interval);
        long last = (b + 1) * interval - 1;
        if (last <= watermark) {
            late(r, b * interval, last + 1);
            return;
        }
        if (r.key() == null) {
            call(x -> {
                throw new IllegalArgumentException("record has no key in trending operator '" + name + "': " + x);
            }, r);
            return;
        }
        Double w = call(x -> weight.applyAsDouble(x.value()), r);
        if (w == null) {
            return;
        }
        if (!Double.isFinite(w) || w < 0) {
            call(x -> {
                throw new IllegalArgumentException("trending weight must be finite and >= 0, was " + w + " for " + x);
            }, r);
            return;
        }
        Partial p = partials.get(0, b, r.key());
        if (p == null) {
            p = new Partial();
            open.add(b);
        }
        p.sum += w * decay(last - t);
        partials.put(0, b, r.key(), p);
    }

    @Override
    void onWatermark(long current) {
        while (!open.isEmpty() && (open.first() + 1) * interval - 1 <= current) {
            long b = open.pollFirst();
            long at = (b + 1) * interval - 1;
            partials.forEach(0, b, (key, p) -> {
                Score s = scores.get(0, SCORES, key);
                if (s == null) {
                    s = new Score();
                    s.asOf = at;
                }
                s.value = s.value * decay(at - s.asOf) + p.sum;
                s.asOf = at;
                scores.put(0, SCORES, key, s);
            });
            partials.removeNamespace(0, b);
            for (K key : scores.keys(0, SCORES)) {
                Score s = scores.get(0, SCORES, key);
                s.value = s.value * decay(at - s.asOf);
                s.asOf = at;
                double shown = rounded(s.value);
                if (shown < floor) {
                    scores.remove(0, SCORES, key);
                } else {
                    scores.put(0, SCORES, key, s);
                    builder.offer(key, shown);
                }
            }
            ranking(builder.build(b * interval, at + 1));
        }
    }

    /**
     * Rounds a score to 40 significant bits (about 12 decimal digits). Sums of the same
     * contributions added in another order differ in the last bits; rounding makes them equal, so
     * the ranking (and its tie-breaking by key) does not depend on arrival order.
     */
    static double rounded(double v) {
        if (v == 0 || !Double.isFinite(v)) {
            return v;
        }
        long bits = Double.doubleToRawLongBits(v);
        long half = 1L << 11;
        return Double.longBitsToDouble((bits + half) & ~((half << 1) - 1));
    }

    @Override
    long stateSize() {
        return scores.size() + partials.size();
    }

    /** Rebuilds {@link #open}: every interval that holds partial sums. */
    @Override
    void restoreState() {
        for (int shard : partials.shards()) {
            for (Long b : partials.namespaces(shard)) {
                open.add(b);
            }
        }
    }

    @Override
    void clear() {
        if (!durable) {
            scores.clear();
            partials.clear();
        }
        open.clear();
    }
}
