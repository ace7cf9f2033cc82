package io.streamflow.reactive.window;

/**
 * A half-open event-time window {@code [start, end)}: it holds records with
 * {@code start <= timestamp < end}; {@link #maxTimestamp()} is {@code end - 1}.
 * Example: a 1-minute tumbling window starting at 12:00:00.000 is
 * {@code [12:00:00.000, 12:01:00.000)} and its last timestamp is 12:00:59.999.
 *
 * @param start first timestamp in the window, inclusive (epoch milliseconds)
 * @param end   end of the window, exclusive (epoch milliseconds); greater than {@code start}
 */
public record TimeWindow(long start, long end) implements Comparable<TimeWindow> {

    /**
     * Validates the bounds.
     *
     * @param start first timestamp in the window, inclusive
     * @param end   end of the window, exclusive
     * @throws IllegalArgumentException if {@code end <= start}
     */
    public TimeWindow {
        if (end <= start) {
            throw new IllegalArgumentException("window end must be after start: [" + start + ", " + end + ")");
        }
    }

    /** @return {@code end - 1}, the largest timestamp in the window */
    public long maxTimestamp() {
        return end - 1;
    }

    /**
     * Example: {@code [0, 10)} touches {@code [10, 20)}, so they merge into {@code [0, 20)}; it
     * neither overlaps nor touches {@code [11, 20)}.
     *
     * @param other another window
     * @return whether the two windows overlap or touch (so that session windows merge)
     */
    public boolean intersectsOrTouches(TimeWindow other) {
        return start <= other.end && other.start <= end;
    }

    /**
     * @param other another window
     * @return the smallest window that covers both, {@code [min(start), max(end))}; also covers any
     * gap between them
     */
    public TimeWindow cover(TimeWindow other) {
        return new TimeWindow(Math.min(start, other.start), Math.max(end, other.end));
    }

    /**
     * Mixes start and end, so that runs of short consecutive windows spread over a hash table (the
     * default record hash {@code 31 * h(start) + h(end)} puts 1 ms windows 32 apart).
     */
    @Override
    public int hashCode() {
        long h = (start * 0x9E3779B97F4A7C15L) ^ end;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 31));
    }

    /** Orders by end, then start: the order in which windows fire. */
    @Override
    public int compareTo(TimeWindow o) {
        int c = Long.compare(end, o.end);
        return c != 0 ? c : Long.compare(start, o.start);
    }

    @Override
    public String toString() {
        return "[" + start + ", " + end + ")";
    }
}
