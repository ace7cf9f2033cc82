package io.streamflow.reactive.join;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.LiftedFlux;
import io.streamflow.reactive.window.TimeWindowAssigner;
import io.streamflow.reactive.window.WindowAssigner;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Event-time joins of two keyed streams. Each factory returns an operator for
 * {@code left.transform(...)} that takes the right input as an argument:
 * <pre>{@code
 * Flux<StreamElement<String, Shipment>> shipped = orders.transform(
 *     Joins.interval(payments, Duration.ZERO, Duration.ofMinutes(5), JoinType.LEFT,
 *         (order, payment) -> new Shipment(order, payment), OperatorSettings.named("paid-orders")));
 * }</pre>
 * Both inputs must carry watermarks and be keyed by the join key. Each input keeps its own
 * watermark; the join's watermark, forwarded downstream, is their minimum over the inputs that
 * are not idle. All join state lives in the settings' {@linkplain OperatorSettings#withStateBackend
 * state backend} and is purged once the watermark makes a match impossible (interval joins purge
 * per time bucket of {@code upper - lower + 1} ms, so a row may outlive its last possible match
 * by up to one bucket); a record that
 * arrives after its partners may have been purged goes to the late output and is counted in
 * {@code streamflow.records.late}. Records an inner join finds no partner for are counted in
 * {@code streamflow.records.unmatched} (for a window join: per record and window, so a sliding
 * window record that matched in one of its windows counts for each of the others).
 * <p>
 * The join function gets {@code null} for the missing side of an outer result and must not
 * return {@code null}; when it throws, the settings' error policy applies (the pair goes to the
 * dead-letter output, or the pipeline fails). The same policy applies to a record whose timestamp
 * the join cannot use: {@code Long.MIN_VALUE} ({@link io.streamflow.reactive.StreamRecord#NO_TIMESTAMP}),
 * {@code Long.MAX_VALUE} (the end-of-input watermark), or a timestamp whose window (window join) or
 * join range (interval join) would not fit in a {@code long}.
 * <p>
 * Subscribing to the result subscribes to both inputs; an input that completes counts as having
 * reached {@link Watermark#END}. An error of either input fails the join, and cancelling it
 * cancels both; in both cases the records held for matching are discarded (kept when the state
 * backend is durable), as for every stateful operator (see {@link io.streamflow.reactive}).
 */
public final class Joins {

    private Joins() {
    }

    /**
     * Window join: records of both inputs with the same key in the same window are joined when the
     * watermark passes the window's end, one result per pair (and, for outer joins, one per
     * unmatched record). Results carry the window's max timestamp ({@code end - 1}).
     *
     * Example: with 1-minute tumbling windows, a left record at 12:00:10 and a right record at
     * 12:00:50 of the same key join in {@code [12:00, 12:01)}, with the timestamp 12:00:59.999; a
     * right record at 12:01:00 would be in the next window and not join.
     *
     * @param <K>      key type of both inputs
     * @param <L>      value type of the left input (the stream the operator is applied to)
     * @param <R>      value type of the right input
     * @param <O>      value type of the results
     * @param right    the right input, keyed by the join key, with watermarks
     * @param windows  tumbling, sliding, calendar or global windows ({@link io.streamflow.reactive.window.Windows})
     * @param type     {@code INNER}, {@code LEFT} or {@code FULL_OUTER}
     * @param joiner   the result of a pair (one side {@code null} in an outer result); must not return
     *                 {@code null}
     * @param settings name, state backend, error policy and meters of the join
     * @return the operator, applied to the left input
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code windows} are session or count windows
     */
    public static <K, L, R, O> Function<Flux<StreamElement<K, L>>, Flux<StreamElement<K, O>>> window(
            Publisher<? extends StreamElement<K, R>> right, WindowAssigner windows, JoinType type,
            BiFunction<? super L, ? super R, ? extends O> joiner, OperatorSettings settings) {
        Objects.requireNonNull(right, "right");
        Objects.requireNonNull(windows, "windows");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(settings, "settings");
        if (!(windows instanceof TimeWindowAssigner assigner)) {
            throw new IllegalArgumentException("a window join needs fixed time windows (tumbling, sliding, calendar "
                    + "or global), got " + windows + ": sessions and count windows depend on the records of one "
                    + "input; use an interval join for 'within a time of each other'");
        }
        return left -> lift(left, right,
                actual -> new WindowJoinSubscriber<K, L, R, O>(actual, settings, joiner, assigner, type));
    }

    /**
     * Interval join: a left record at {@code t} joins each right record with the same key and a
     * timestamp in {@code [t + lower, t + upper]} (both inclusive). A pair is emitted as soon as
     * its second record arrives, with the later timestamp of the two. With {@code LEFT}, a left
     * record that found no match by the time the watermark reaches {@code t + upper} is emitted
     * with {@code null} and the timestamp {@code t + max(upper, 0)}.
     *
     * Example: with {@code lower = -1 min} and {@code upper = 5 min}, a left record at 12:00 joins the
     * right records of its key from 11:59 to 12:05 inclusive.
     *
     * @param <K>      key type of both inputs
     * @param <L>      value type of the left input (the stream the operator is applied to)
     * @param <R>      value type of the right input
     * @param <O>      value type of the results
     * @param right    the right input, keyed by the join key, with watermarks
     * @param lower    may be negative (right records before the left one); millisecond precision
     * @param upper    at least {@code lower}; millisecond precision
     * @param type     {@code INNER} or {@code LEFT}
     * @param joiner   the result of a pair (the right side {@code null} for an unmatched left record);
     *                 must not return {@code null}
     * @param settings name, state backend, error policy and meters of the join
     * @return the operator, applied to the left input
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code lower > upper} or {@code type} is {@code FULL_OUTER}
     */
    public static <K, L, R, O> Function<Flux<StreamElement<K, L>>, Flux<StreamElement<K, O>>> interval(
            Publisher<? extends StreamElement<K, R>> right, Duration lower, Duration upper, JoinType type,
            BiFunction<? super L, ? super R, ? extends O> joiner, OperatorSettings settings) {
        Objects.requireNonNull(right, "right");
        Objects.requireNonNull(lower, "lower");
        Objects.requireNonNull(upper, "upper");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(settings, "settings");
        long lo = EventTime.toMillis(lower);
        long hi = EventTime.toMillis(upper);
        if (lo > hi) {
            throw new IllegalArgumentException("interval join bounds must have lower <= upper, got [" + lower + ", "
                    + upper + "]");
        }
        if (type == JoinType.FULL_OUTER) {
            throw new IllegalArgumentException("an interval join is INNER or LEFT, not FULL_OUTER: swap the inputs "
                    + "for a right join");
        }
        return left -> lift(left, right,
                actual -> new IntervalJoinSubscriber<K, L, R, O>(actual, settings, joiner, lo, hi, type));
    }

    /**
     * Stream-table join: the {@code changelog} (a record upserts its key's row; a record with a
     * {@code null} value deletes it) is kept as a table, and each stream record is joined with its
     * key's row as {@code lookup} says. Results carry the stream record's key and timestamp. With
     * {@code LEFT}, a stream record whose key has no row is emitted with {@code null}.
     *
     * @param <K>       key type of both inputs
     * @param <V>       value type of the stream (the input the operator is applied to)
     * @param <T>       value type of the table rows
     * @param <O>       value type of the results
     * @param changelog the table's changes, keyed by the join key, with watermarks
     * @param lookup    which row a stream record sees: the one valid at its event time, or the latest
     * @param type      {@code INNER} or {@code LEFT}
     * @param joiner    the result for a stream record and its key's row ({@code null} without a row,
     *                  in a left join); must not return {@code null}
     * @param settings  name, state backend, error policy and meters of the join
     * @return the operator, applied to the stream
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code type} is {@code FULL_OUTER}
     */
    public static <K, V, T, O> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, O>>> table(
            Publisher<? extends StreamElement<K, T>> changelog, TableLookup lookup, JoinType type,
            BiFunction<? super V, ? super T, ? extends O> joiner, OperatorSettings settings) {
        Objects.requireNonNull(changelog, "changelog");
        Objects.requireNonNull(lookup, "lookup");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(joiner, "joiner");
        Objects.requireNonNull(settings, "settings");
        if (type == JoinType.FULL_OUTER) {
            throw new IllegalArgumentException("a stream-table join is INNER or LEFT, not FULL_OUTER: a table row "
                    + "is not an event");
        }
        return stream -> lift(stream, changelog,
                actual -> new TableJoinSubscriber<K, V, T, O>(actual, settings, joiner, lookup, type));
    }

    private static <K, L, R, O> Flux<StreamElement<K, O>> lift(
            Flux<StreamElement<K, L>> left, Publisher<? extends StreamElement<K, R>> right,
            Function<CoreSubscriber<? super StreamElement<K, O>>, TwoInputSubscriber<K, L, R, O>> factory) {
        // an input that completes has reached the end of time: its watermark becomes END
        Flux<Side> l = left.map(e -> new Side(true, e))
                .concatWith(Mono.fromSupplier(() -> new Side(true, Watermark.end())));
        Flux<Side> r = Flux.from(right).<Side>map(e -> new Side(false, e))
                .concatWith(Mono.fromSupplier(() -> new Side(false, Watermark.end())));
        return new LiftedFlux<Side, StreamElement<K, O>>(Flux.merge(l, r), factory::apply);
    }
}
