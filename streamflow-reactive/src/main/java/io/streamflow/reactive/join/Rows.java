package io.streamflow.reactive.join;

import java.util.Arrays;

/**
 * The buffered records of one key of one join input in one namespace (a window, a time bucket or a
 * timestamp): values with their timestamps in arrival order, and whether each one found a match
 * yet (for outer joins). A state value: mutated in place, then put back.
 */
final class Rows<V> {

    private Object[] values = new Object[2];
    private long[] timestamps = new long[2];
    private boolean[] matched = new boolean[2];
    private int size;

    void add(V value, long timestamp) {
        if (size == values.length) {
            int n = size * 2;
            values = Arrays.copyOf(values, n);
            timestamps = Arrays.copyOf(timestamps, n);
            matched = Arrays.copyOf(matched, n);
        }
        values[size] = value;
        timestamps[size] = timestamp;
        size++;
    }

    int size() {
        return size;
    }

    @SuppressWarnings("unchecked")
    V value(int i) {
        return (V) values[i];
    }

    long timestamp(int i) {
        return timestamps[i];
    }

    boolean matched(int i) {
        return matched[i];
    }

    void markMatched(int i) {
        matched[i] = true;
    }

    /** Removes the rows the filter selects, keeping the order of the others. */
    void removeIf(RowFilter filter) {
        int w = 0;
        for (int i = 0; i < size; i++) {
            if (!filter.remove(timestamps[i], matched[i])) {
                values[w] = values[i];
                timestamps[w] = timestamps[i];
                matched[w] = matched[i];
                w++;
            }
        }
        Arrays.fill(values, w, size, null);
        size = w;
    }

    interface RowFilter {
        boolean remove(long timestamp, boolean matched);
    }
}
