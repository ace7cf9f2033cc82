package io.streamflow.reactive.window;

import io.streamflow.reactive.internal.EventTime;

/**
 * Assigns records to windows. Instances come from {@link Windows}; each is a small immutable value
 * with {@code equals}, {@code hashCode} and {@code toString}.
 * <p>
 * Every window must fit in the range of a {@code long}: a record whose timestamp is not an event
 * time ({@code Long.MIN_VALUE}, {@code Long.MAX_VALUE}) or whose window would start before
 * {@code Long.MIN_VALUE} or end after {@code Long.MAX_VALUE} (a timestamp within a window size of
 * the ends) cannot be placed: the window operator sends it to the dead-letter output, or fails, as
 * its error policy says.
 */
public abstract sealed class WindowAssigner
        permits TimeWindowAssigner, WindowAssigner.Session, WindowAssigner.Count {

    WindowAssigner() {
    }

    /** The smallest timestamp whose windows all fit in a {@code long}. */
    abstract long firstPlaceable();

    /** The largest timestamp whose windows all fit in a {@code long}. */
    abstract long lastPlaceable();

    /** @return why a record at {@code t} cannot be placed in a window, or {@code null} when it can */
    final String placementProblem(long t) {
        if (t >= firstPlaceable() && t <= lastPlaceable()) {
            return null;
        }
        String invalid = EventTime.invalidReason(t);
        if (invalid != null) {
            return invalid;
        }
        return "its window" + (this instanceof TimeWindowAssigner.Sliding ? "s" : "")
                + " would not fit in the range of a long; " + this + " places timestamps in [" + firstPlaceable()
                + ", " + lastPlaceable() + "]";
    }

    /** Session windows: see {@link Windows#session(java.time.Duration)}. */
    public static final class Session extends WindowAssigner {
        private final long gap;

        Session(long gap) {
            this.gap = gap;
        }

        /** @return the session gap in milliseconds, {@code >= 1} */
        public long gapMillis() {
            return gap;
        }

        @Override
        long firstPlaceable() {
            return EventTime.MIN_VALID;
        }

        /** {@code [t, t + gap)} ends by {@code Long.MAX_VALUE}. */
        @Override
        long lastPlaceable() {
            return Long.MAX_VALUE - gap;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Session s && s.gap == gap;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(gap);
        }

        @Override
        public String toString() {
            return "SessionWindows{gap=" + gap + "ms}";
        }
    }

    /** Count windows: see {@link Windows#count(long)}. */
    public static final class Count extends WindowAssigner {
        private final long size;

        Count(long size) {
            this.size = size;
        }

        /** @return records per window, {@code >= 1} */
        public long size() {
            return size;
        }

        @Override
        long firstPlaceable() {
            return EventTime.MIN_VALID;
        }

        /** The window's bounds are {@code [min timestamp, max timestamp + 1)}. */
        @Override
        long lastPlaceable() {
            return EventTime.MAX_VALID;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Count c && c.size == size;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(size);
        }

        @Override
        public String toString() {
            return "CountWindows{size=" + size + "}";
        }
    }
}
