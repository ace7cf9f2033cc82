package io.streamflow.reactive.window;

/**
 * Assigns records to windows. Instances come from {@link Windows}; each is a small immutable value
 * with {@code equals}, {@code hashCode} and {@code toString}.
 */
public abstract sealed class WindowAssigner
        permits TimeWindowAssigner, WindowAssigner.Session, WindowAssigner.Count {

    WindowAssigner() {
    }

    /** Session windows: see {@link Windows#session(java.time.Duration)}. */
    public static final class Session extends WindowAssigner {
        private final long gap;

        Session(long gap) {
            this.gap = gap;
        }

        public long gapMillis() {
            return gap;
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

        public long size() {
            return size;
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
