package io.streamflow.reactive.window;

/**
 * One firing of one window for one key.
 *
 * @param key   the key
 * @param start window start, inclusive (epoch millis)
 * @param end   window end, exclusive (epoch millis)
 * @param value the aggregate's result at this firing
 * @param pane  which firing this is
 */
public record WindowResult<K, R>(K key, long start, long end, R value, PaneInfo pane) {

    public TimeWindow window() {
        return new TimeWindow(start, end);
    }
}
