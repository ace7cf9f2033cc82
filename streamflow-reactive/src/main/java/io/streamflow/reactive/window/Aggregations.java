package io.streamflow.reactive.window;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * Built-in {@link AggregateFunction}s. Accumulators are mutable holders, so adding a value does
 * not allocate or box. Tumbling windows on the heap hold the accumulators of {@link #count()},
 * {@link #sumLong} and {@link #countAndSum} for {@code Long} keys in primitive columns instead,
 * with the same results.
 */
public final class Aggregations {

    private Aggregations() {
    }

    /** Mutable accumulator of a long (count, sum). */
    public static final class LongAcc {
        long value;

        /** An accumulator at 0; {@link #count()} and {@link #sumLong} make these. */
        public LongAcc() {
        }
    }

    /** Mutable accumulator of a double sum and a count (average, sum). */
    public static final class DoubleAcc {
        double sum;
        long count;

        /** An accumulator of no values; {@link #sum} and {@link #average} make these. */
        public DoubleAcc() {
        }
    }

    /** Mutable accumulator of count and long sum. */
    public static final class CountSumAcc {
        long count;
        long sum;

        /** An accumulator of no values; {@link #countAndSum} makes these. */
        public CountSumAcc() {
        }
    }

    /**
     * Count and sum of a window, as one result.
     *
     * @param count number of records in the pane
     * @param sum   sum of their field, wrapping around on {@code long} overflow
     */
    public record CountAndSum(long count, long sum) {
    }

    /**
     * Holder of a nullable best value (min, max, reduce): it tells an empty holder from one that holds
     * {@code null}.
     *
     * @param <T> the value type
     */
    public static final class Holder<T> {
        T value;
        boolean present;

        /** An empty holder; {@link #min}, {@link #max} and {@link #reduce} make these. */
        public Holder() {
        }
    }

    /** A sum of {@code long}s, as a {@link LongAcc} or one column: what {@link #count()} and {@link #sumLong} share. */
    private abstract static class LongSum<V> extends ColumnAggregate<V, LongAcc, Long> {
        LongSum() {
            super(1);
        }

        /** @return what {@code v} adds to the sum */
        abstract long term(V v);

        void addTo(long[] rows, int at, V value) {
            long x = term(value); // first: a failing field leaves the row as it was
            rows[at] += x;
        }

        Long resultOf(long[] rows, int at) {
            return rows[at];
        }

        LongAcc accumulatorOf(long[] rows, int at) {
            LongAcc a = new LongAcc();
            a.value = rows[at];
            return a;
        }

        public LongAcc createAccumulator() {
            return new LongAcc();
        }

        public LongAcc add(LongAcc a, V v) {
            a.value += term(v);
            return a;
        }

        public LongAcc merge(LongAcc a, LongAcc b) {
            a.value += b.value;
            return a;
        }

        public Long result(LongAcc a) {
            return a.value;
        }
    }

    /**
     * Number of records.
     *
     * @param <V> value type; values are not looked at
     * @return the aggregate
     */
    public static <V> AggregateFunction<V, LongAcc, Long> count() {
        return new LongSum<>() {
            long term(V v) {
                return 1;
            }

            public String toString() {
                return "count";
            }
        };
    }

    /**
     * Sum of a long field, wrapping around on overflow as {@code long} addition does.
     *
     * @param <V>   value type
     * @param field the number to add for a value
     * @return the aggregate
     * @throws NullPointerException if {@code field} is {@code null}
     */
    public static <V> AggregateFunction<V, LongAcc, Long> sumLong(ToLongFunction<? super V> field) {
        Objects.requireNonNull(field, "field");
        return new LongSum<>() {
            long term(V v) {
                return field.applyAsLong(v);
            }
        };
    }

    /**
     * Sum of a double field, in arrival order of the values (floating-point sums depend on it).
     *
     * @param <V>   value type
     * @param field the number to add for a value
     * @return the aggregate
     * @throws NullPointerException if {@code field} is {@code null}
     */
    public static <V> AggregateFunction<V, DoubleAcc, Double> sum(ToDoubleFunction<? super V> field) {
        Objects.requireNonNull(field, "field");
        return new AggregateFunction<>() {
            public DoubleAcc createAccumulator() {
                return new DoubleAcc();
            }

            public DoubleAcc add(DoubleAcc a, V v) {
                a.sum += field.applyAsDouble(v);
                a.count++;
                return a;
            }

            public DoubleAcc merge(DoubleAcc a, DoubleAcc b) {
                a.sum += b.sum;
                a.count += b.count;
                return a;
            }

            public Double result(DoubleAcc a) {
                return a.sum;
            }
        };
    }

    /**
     * Count and long sum of a field, in one accumulator: cheaper than two aggregates, and the
     * average is {@code sum / count}. A value whose field throws is neither counted nor added.
     *
     * @param <V>   value type
     * @param field the number to add for a value
     * @return the aggregate
     * @throws NullPointerException if {@code field} is {@code null}
     */
    public static <V> AggregateFunction<V, CountSumAcc, CountAndSum> countAndSum(ToLongFunction<? super V> field) {
        Objects.requireNonNull(field, "field");
        return new ColumnAggregate<>(2) {
            void addTo(long[] rows, int at, V value) {
                long x = field.applyAsLong(value); // first: a record whose field fails leaves the row as it was
                rows[at]++;
                rows[at + 1] += x;
            }

            CountAndSum resultOf(long[] rows, int at) {
                return new CountAndSum(rows[at], rows[at + 1]);
            }

            CountSumAcc accumulatorOf(long[] rows, int at) {
                CountSumAcc a = new CountSumAcc();
                a.count = rows[at];
                a.sum = rows[at + 1];
                return a;
            }

            public CountSumAcc createAccumulator() {
                return new CountSumAcc();
            }

            public CountSumAcc add(CountSumAcc a, V v) {
                long x = field.applyAsLong(v); // first: a record whose field fails is not counted
                a.count++;
                a.sum += x;
                return a;
            }

            public CountSumAcc merge(CountSumAcc a, CountSumAcc b) {
                a.count += b.count;
                a.sum += b.sum;
                return a;
            }

            public CountAndSum result(CountSumAcc a) {
                return new CountAndSum(a.count, a.sum);
            }
        };
    }

    /**
     * Arithmetic mean of a double field ({@code NaN} never occurs: a window has at least one record).
     *
     * @param <V>   value type
     * @param field the number to average for a value
     * @return the aggregate
     * @throws NullPointerException if {@code field} is {@code null}
     */
    public static <V> AggregateFunction<V, DoubleAcc, Double> average(ToDoubleFunction<? super V> field) {
        AggregateFunction<V, DoubleAcc, Double> sum = sum(field);
        return new AggregateFunction<>() {
            public DoubleAcc createAccumulator() {
                return new DoubleAcc();
            }

            public DoubleAcc add(DoubleAcc a, V v) {
                return sum.add(a, v);
            }

            public DoubleAcc merge(DoubleAcc a, DoubleAcc b) {
                return sum.merge(a, b);
            }

            public Double result(DoubleAcc a) {
                return a.count == 0 ? 0.0 : a.sum / a.count;
            }
        };
    }

    /**
     * Smallest value by {@code comparator}; of equal values, the first to arrive is kept.
     *
     * @param <V>        value type
     * @param comparator the order of the values
     * @return the aggregate
     * @throws NullPointerException if {@code comparator} is {@code null}
     */
    public static <V> AggregateFunction<V, Holder<V>, V> min(Comparator<? super V> comparator) {
        Objects.requireNonNull(comparator, "comparator");
        return reduce((a, b) -> comparator.compare(b, a) < 0 ? b : a);
    }

    /**
     * Largest value by {@code comparator}; of equal values, the first to arrive is kept.
     *
     * @param <V>        value type
     * @param comparator the order of the values
     * @return the aggregate
     * @throws NullPointerException if {@code comparator} is {@code null}
     */
    public static <V> AggregateFunction<V, Holder<V>, V> max(Comparator<? super V> comparator) {
        Objects.requireNonNull(comparator, "comparator");
        return reduce((a, b) -> comparator.compare(b, a) > 0 ? b : a);
    }

    /**
     * Combines values pairwise with {@code reducer} (which must be associative): the result of a
     * window with values {@code a, b, c} is {@code reducer(reducer(a, b), c)}; a window with one
     * value has that value.
     *
     * @param <V>     value type
     * @param reducer combines the result so far with the next value
     * @return the aggregate
     * @throws NullPointerException if {@code reducer} is {@code null}
     */
    public static <V> AggregateFunction<V, Holder<V>, V> reduce(BinaryOperator<V> reducer) {
        Objects.requireNonNull(reducer, "reducer");
        return new AggregateFunction<>() {
            public Holder<V> createAccumulator() {
                return new Holder<>();
            }

            public Holder<V> add(Holder<V> a, V v) {
                a.value = a.present ? reducer.apply(a.value, v) : v;
                a.present = true;
                return a;
            }

            public Holder<V> merge(Holder<V> a, Holder<V> b) {
                return b.present ? add(a, b.value) : a;
            }

            public V result(Holder<V> a) {
                return a.value;
            }
        };
    }

    /**
     * All values in arrival order (merge appends the second session's values). Each pane's result is
     * an unmodifiable copy. Keeps every value of the window in state: mind the memory.
     *
     * @param <V> value type
     * @return the aggregate
     */
    public static <V> AggregateFunction<V, List<V>, List<V>> toList() {
        return new AggregateFunction<>() {
            public List<V> createAccumulator() {
                return new ArrayList<>();
            }

            public List<V> add(List<V> a, V v) {
                a.add(v);
                return a;
            }

            public List<V> merge(List<V> a, List<V> b) {
                a.addAll(b);
                return a;
            }

            public List<V> result(List<V> a) {
                return java.util.Collections.unmodifiableList(new ArrayList<>(a));
            }
        };
    }

    /**
     * Number of distinct values (by {@code equals}); keeps every distinct value of the window in
     * state.
     *
     * @param <V> value type
     * @return the aggregate
     */
    public static <V> AggregateFunction<V, Set<V>, Long> distinctCount() {
        return new AggregateFunction<>() {
            public Set<V> createAccumulator() {
                return new HashSet<>();
            }

            public Set<V> add(Set<V> a, V v) {
                a.add(v);
                return a;
            }

            public Set<V> merge(Set<V> a, Set<V> b) {
                a.addAll(b);
                return a;
            }

            public Long result(Set<V> a) {
                return (long) a.size();
            }
        };
    }
}
