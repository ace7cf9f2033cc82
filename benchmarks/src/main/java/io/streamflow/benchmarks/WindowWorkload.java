package io.streamflow.benchmarks;

/**
 * The windowed aggregations of the harness: per key and window, the count and the sum of the
 * values. Watermark: bounded out-of-orderness {@code B} = the spec's disorder (so no event is
 * late), allowed lateness 0, one ON_TIME result per key and window.
 */
public enum WindowWorkload {
    /** 1 s tumbling windows. */
    TUMBLING(1_000, 1_000, 0),
    /** 1 s windows sliding by 250 ms: every event is in 4 windows. */
    SLIDING(1_000, 250, 0),
    /** Session windows with a 20 ms gap: events of a key at most 20 ms apart share a session. */
    SESSION(0, 0, 20);

    public final long size;
    public final long slide;
    public final long gap;

    WindowWorkload(long size, long slide, long gap) {
        this.size = size;
        this.slide = slide;
        this.gap = gap;
    }

    /** A short label for tables: {@code tumbling 1s}, {@code sliding 1s/250ms}, {@code session 20ms}. */
    public String label() {
        return switch (this) {
            case TUMBLING -> "tumbling 1s";
            case SLIDING -> "sliding 1s/250ms";
            case SESSION -> "session gap 20ms";
        };
    }
}
