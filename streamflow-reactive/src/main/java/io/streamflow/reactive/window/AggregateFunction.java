package io.streamflow.reactive.window;

/**
 * An incremental aggregate: an accumulator is created per key and window, each value is
 * {@linkplain #add added}, and {@link #result} is called at every firing. {@link #merge} combines
 * two accumulators: when session windows merge, and when a sliding window (default trigger, no
 * allowed lateness) fires, since those keep one accumulator per slice of {@code gcd(size, slide)}
 * and merge a window's slices into a fresh accumulator. It is not called for tumbling, calendar,
 * global or count windows.
 * <p>
 * {@code add} and {@code merge} may mutate and return their first argument (no allocation per
 * record); {@code result} must not mutate the accumulator, since an accumulating window fires
 * again later.
 * <p>
 * Accumulators are never {@code null}: {@code createAccumulator} and {@code add} must return an
 * object (an operator reports a {@code null} as a failure of the function). Keep an absent value
 * inside the accumulator instead, as {@link Aggregations.Holder} does.
 *
 * @param <V> input value type
 * @param <A> accumulator type
 * @param <R> result type
 */
public interface AggregateFunction<V, A, R> {

    A createAccumulator();

    A add(A accumulator, V value);

    A merge(A a, A b);

    R result(A accumulator);
}
