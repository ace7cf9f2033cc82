package io.streamflow.reactive.window;

/**
 * Which firing of a window a result is.
 *
 * @param timing  {@link Timing#EARLY} before the watermark passed the window end,
 *                {@link Timing#ON_TIME} when it did, {@link Timing#LATE} for firings caused by
 *                late records within the allowed lateness (or a closing pane)
 * @param index   0 for the first firing of the window (per key), then 1, 2, ...
 * @param isFinal whether no further pane will be emitted for this window and key
 */
public record PaneInfo(Timing timing, long index, boolean isFinal) {

    /** When a pane fired relative to the watermark. */
    public enum Timing {
        /** Before the watermark reached the window's {@code maxTimestamp}: an early trigger fired it. */
        EARLY,
        /**
         * The watermark reached the window's {@code maxTimestamp}, or the input ended; for count
         * windows, the window is full.
         */
        ON_TIME,
        /** A late record within the allowed lateness, or the closing pane, fired it. */
        LATE
    }

    @Override
    public String toString() {
        return timing + "#" + index + (isFinal ? "(final)" : "");
    }
}
