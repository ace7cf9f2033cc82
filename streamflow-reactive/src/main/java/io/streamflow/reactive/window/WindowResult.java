package io.streamflow.reactive.window;

/**
 * One firing of one window for one key.
 *
 * @param key   the key
 * @param start window start, inclusive (epoch millis)
 * @param end   window end, exclusive (epoch millis)
 * @param value the aggregate's result at this firing
 * @param pane  which firing this is
 * @param <K>   key type
 * @param <R>   result type of the aggregate
 */
public record WindowResult<K, R>(K key, long start, long end, R value, PaneInfo pane) {

    /**
     * @return the window as a value, {@code [start, end)}
     * @throws IllegalArgumentException never for a result of the window operator; only when a result
     *                                  was built by hand with {@code end <= start}
     */
    public TimeWindow window() {
        return new TimeWindow(start, end);
    }
}
