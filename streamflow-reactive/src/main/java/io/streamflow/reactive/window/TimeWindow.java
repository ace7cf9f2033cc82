package io.streamflow.reactive.window;

/**
 * A half-open event-time window {@code [start, end)}: it holds records with
 * {@code start <= timestamp < end}; {@link #maxTimestamp()} is {@code end - 1}.
 * Example: a 1-minute tumbling window starting at 12:00:00.000 is
 * {@code [12:00:00.000, 12:01:00.000)} and its last timestamp is 12:00:59.999.
 */
public record TimeWindow(long start, long end) implements Comparable<TimeWindow> {

    public TimeWindow {
        if (end <= start) {
            throw new IllegalArgumentException("window end must be after start: [" + start + ", " + end + ")");
        }
    }

    /** @return {@code end - 1}, the largest timestamp in the window */
    public long maxTimestamp() {
        return end - 1;
    }

    /** @return whether the two windows overlap or touch (so that session windows merge) */
    public boolean intersectsOrTouches(TimeWindow other) {
        return start <= other.end && other.start <= end;
    }

    /** @return the smallest window that covers both */
    public TimeWindow cover(TimeWindow other) {
        return new TimeWindow(Math.min(start, other.start), Math.max(end, other.end));
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
