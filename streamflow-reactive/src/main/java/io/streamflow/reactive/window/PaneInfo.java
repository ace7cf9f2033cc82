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
    public enum Timing { EARLY, ON_TIME, LATE }

    @Override
    public String toString() {
        return timing + "#" + index + (isFinal ? "(final)" : "");
    }
}
