package io.streamflow.reactive.window;

/**
 * A built-in aggregate function whose accumulator is a fixed number of {@code long}s, so a window
 * operator may hold the accumulators of many keys in one {@code long[]} ({@link ColumnTable}):
 * a record then touches one row instead of a map slot and an accumulator object, and a firing
 * reads the rows in memory order. Its results equal those of the object path
 * ({@link #createAccumulator()}, {@link #add}, {@link #result}).
 */
abstract class ColumnAggregate<V, A, R> implements AggregateFunction<V, A, R> {

    private final int width;

    ColumnAggregate(int width) {
        this.width = width;
    }

    /** @return the number of {@code long}s of one accumulator */
    final int width() {
        return width;
    }

    /**
     * Adds {@code value} to the accumulator at {@code row[at .. at + width)}, all zeros for a new
     * one. If it throws (a user field function), the row is unchanged.
     */
    abstract void addTo(long[] rows, int at, V value);

    /** @return the result of the accumulator at {@code rows[at .. at + width)} */
    abstract R resultOf(long[] rows, int at);

    /** @return the accumulator at {@code rows[at .. at + width)} as an object of the object path */
    abstract A accumulatorOf(long[] rows, int at);
}
