package io.streamflow.reactive.join;

import java.util.Arrays;

/**
 * The versions of one table row, ordered by timestamp: each a value, or {@code null} for a delete.
 * A state value: mutated in place, then put back.
 */
final class Versions<T> {

    private long[] timestamps = new long[1];
    private Object[] values = new Object[1];
    private int size;

    /** Adds a version; a second change at the same timestamp replaces the first (the later arrival wins). */
    void put(long timestamp, T value) {
        int i = Arrays.binarySearch(timestamps, 0, size, timestamp);
        if (i >= 0) {
            values[i] = value;
            return;
        }
        int at = -i - 1;
        if (size == timestamps.length) {
            timestamps = Arrays.copyOf(timestamps, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        System.arraycopy(timestamps, at, timestamps, at + 1, size - at);
        System.arraycopy(values, at, values, at + 1, size - at);
        timestamps[at] = timestamp;
        values[at] = value;
        size++;
    }

    /** @return the value valid at {@code t} (of the latest version at or before it), or {@code null} */
    @SuppressWarnings("unchecked")
    T valueAt(long t) {
        int i = Arrays.binarySearch(timestamps, 0, size, t);
        int at = i >= 0 ? i : -i - 2;
        return at < 0 ? null : (T) values[at];
    }

    /** @return the value of the newest version, or {@code null} when there is none or it is a delete */
    @SuppressWarnings("unchecked")
    T latest() {
        return size == 0 ? null : (T) values[size - 1];
    }

    /** @return the timestamp of the newest version ({@code Long.MIN_VALUE} when empty) */
    long latestTimestamp() {
        return size == 0 ? Long.MIN_VALUE : timestamps[size - 1];
    }

    int size() {
        return size;
    }

    /**
     * Drops the versions no record after {@code watermark} can see: all but the newest at or before
     * it, and that one too when it is a delete.
     */
    void compact(long watermark) {
        int i = Arrays.binarySearch(timestamps, 0, size, watermark);
        int keep = i >= 0 ? i : -i - 2; // the version valid at the watermark
        if (keep < 0) {
            return;
        }
        int from = values[keep] == null ? keep + 1 : keep;
        if (from == 0) {
            return;
        }
        System.arraycopy(timestamps, from, timestamps, 0, size - from);
        System.arraycopy(values, from, values, 0, size - from);
        Arrays.fill(values, size - from, size, null);
        size -= from;
    }
}
