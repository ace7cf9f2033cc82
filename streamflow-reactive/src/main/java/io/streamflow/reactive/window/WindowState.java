package io.streamflow.reactive.window;

/** Mutable per-key, per-window state: the accumulator and the trigger's bookkeeping. */
final class WindowState<A> {
    A acc;
    /** Panes fired so far (the next pane's index). */
    long panes;
    /** Records added since the last pane. */
    long sinceFire;
    /** Whether records were added since the last pane. */
    boolean dirty;
    /**
     * Session windows only: bounds, and whether the watermark has passed the end (so the ON_TIME
     * pane fired, or the session was created or merged behind the watermark and fires no ON_TIME pane).
     */
    long start;
    long end;
    boolean onTimeFired;
    /** Session windows only: the time of the session's pending timer entry ({@code Long.MIN_VALUE}: none yet). */
    long timerAt = Long.MIN_VALUE;
    /** Session windows only: the key's next session by start, or {@code null}. */
    WindowState<A> next;

    WindowState(A acc) {
        this.acc = acc;
    }

    long maxTimestamp() {
        return end - 1;
    }
}
