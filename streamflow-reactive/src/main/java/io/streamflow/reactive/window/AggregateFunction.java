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

    /**
     * Called when a key's window (or slice) receives its first value.
     *
     * @return a new, empty accumulator; never {@code null}
     */
    A createAccumulator();

    /**
     * Adds one record's value. A throw is handled by the window operator's error policy; leave the
     * accumulator as it was when throwing, since a retry calls {@code add} again with the same
     * accumulator.
     *
     * @param accumulator the window's accumulator
     * @param value       the record's value
     * @return the updated accumulator, typically {@code accumulator} itself; never {@code null}
     */
    A add(A accumulator, V value);

    /**
     * Combines two accumulators into one (merging sessions, or the slices of a sliding window).
     *
     * @param a the accumulator to merge into; may be mutated and returned
     * @param b the accumulator to merge in; must not be mutated, as it may still be in use
     * @return the combined accumulator
     */
    A merge(A a, A b);

    /**
     * The result of a pane; called at every firing of the window.
     *
     * @param accumulator the window's accumulator; must not be mutated
     * @return the result to emit in the {@link WindowResult}
     */
    R result(A accumulator);
}
