package io.streamflow.reactive.window;

import java.time.Duration;
import java.util.Objects;

/**
 * When a window fires. Immutable: each method returns a copy.
 * <ul>
 *   <li>{@link #onWatermark()} (the default): one ON_TIME pane when the watermark reaches the
 *   window's {@code maxTimestamp}; then, within the allowed lateness, one LATE pane for every late
 *   record that lands in the window.</li>
 *   <li>{@link #withEarlyFiringsEvery(long)}: an EARLY pane after every {@code n} records of a
 *   key's window, before the watermark passes its end.</li>
 *   <li>{@link #withEarlyFiringsEvery(Duration)}: an EARLY pane for every window that received
 *   records since its last pane, every interval of processing time.</li>
 *   <li>{@link #withoutLateFirings()}: late records within the allowed lateness update the state
 *   but fire no pane (use with {@link #withClosingPane()} to see them once).</li>
 *   <li>{@link #withClosingPane()}: a final pane when the window is purged (watermark past
 *   {@code maxTimestamp + allowedLateness}); without it the last pane is final only when no more
 *   can come (allowed lateness 0, or the end of input).</li>
 *   <li>{@link #discarding()}: each pane holds only what arrived since the previous pane; the
 *   default is accumulating (each pane holds the whole window so far).</li>
 * </ul>
 */
public final class Trigger {

    private static final Trigger DEFAULT = new Trigger(0, null, true, false, true);

    private final long earlyCount;
    private final Duration earlyInterval;
    private final boolean lateFirings;
    private final boolean closingPane;
    private final boolean accumulating;

    private Trigger(long earlyCount, Duration earlyInterval, boolean lateFirings, boolean closingPane,
                    boolean accumulating) {
        this.earlyCount = earlyCount;
        this.earlyInterval = earlyInterval;
        this.lateFirings = lateFirings;
        this.closingPane = closingPane;
        this.accumulating = accumulating;
    }

    /**
     * The default trigger: an ON_TIME pane when the watermark reaches the window's
     * {@code maxTimestamp}, a LATE pane per late record within the allowed lateness, no early
     * panes, no closing pane, accumulating.
     *
     * @return the shared default trigger
     */
    public static Trigger onWatermark() {
        return DEFAULT;
    }

    /**
     * Adds an EARLY pane after every {@code records} records of a key's window, until the watermark
     * passes its end. Not for count windows.
     *
     * @param records records between early panes, {@code >= 1}
     * @return a copy with count-based early firings
     * @throws IllegalArgumentException if {@code records < 1}
     */
    public Trigger withEarlyFiringsEvery(long records) {
        if (records < 1) {
            throw new IllegalArgumentException("early firing count must be >= 1, was " + records);
        }
        return new Trigger(records, earlyInterval, lateFirings, closingPane, accumulating);
    }

    /**
     * Adds an EARLY pane, every {@code processingTimeInterval} of processing time (on the window
     * operator's {@linkplain io.streamflow.reactive.OperatorSettings#withScheduler scheduler}), for
     * every window that received records since its last pane. Not for count windows.
     *
     * @param processingTimeInterval time between early firings, at least 1 ms
     * @return a copy with time-based early firings
     * @throws NullPointerException     if {@code processingTimeInterval} is {@code null}
     * @throws IllegalArgumentException if {@code processingTimeInterval} is under 1 ms
     */
    public Trigger withEarlyFiringsEvery(Duration processingTimeInterval) {
        Objects.requireNonNull(processingTimeInterval, "processingTimeInterval");
        if (processingTimeInterval.toMillis() < 1) {
            throw new IllegalArgumentException("early firing interval must be at least 1 ms, was "
                    + processingTimeInterval);
        }
        return new Trigger(earlyCount, processingTimeInterval, lateFirings, closingPane, accumulating);
    }

    /**
     * Late records within the allowed lateness still update the window but fire no pane.
     *
     * @return a copy without late firings
     */
    public Trigger withoutLateFirings() {
        return new Trigger(earlyCount, earlyInterval, false, closingPane, accumulating);
    }

    /**
     * Adds a final pane when the window is purged (the watermark passed
     * {@code maxTimestamp + allowedLateness}), so every window ends with a pane whose
     * {@link PaneInfo#isFinal()} is {@code true}.
     *
     * @return a copy with a closing pane
     */
    public Trigger withClosingPane() {
        return new Trigger(earlyCount, earlyInterval, lateFirings, true, accumulating);
    }

    /**
     * Each pane holds only what arrived since the previous pane of its window and key.
     *
     * @return a discarding copy
     */
    public Trigger discarding() {
        return new Trigger(earlyCount, earlyInterval, lateFirings, closingPane, false);
    }

    /**
     * Each pane holds the whole window so far (the default).
     *
     * @return an accumulating copy
     */
    public Trigger accumulating() {
        return new Trigger(earlyCount, earlyInterval, lateFirings, closingPane, true);
    }

    /** @return records per early firing, 0 when off */
    public long earlyCount() {
        return earlyCount;
    }

    /** @return processing-time interval of early firings, {@code null} when off */
    public Duration earlyInterval() {
        return earlyInterval;
    }

    /** @return whether late records within the allowed lateness fire a LATE pane (default {@code true}) */
    public boolean lateFirings() {
        return lateFirings;
    }

    /** @return whether a final pane fires when the window is purged (default {@code false}) */
    public boolean closingPane() {
        return closingPane;
    }

    /** @return {@code true} when panes accumulate (the default), {@code false} when they discard */
    public boolean isAccumulating() {
        return accumulating;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Trigger t && t.earlyCount == earlyCount && Objects.equals(t.earlyInterval, earlyInterval)
                && t.lateFirings == lateFirings && t.closingPane == closingPane && t.accumulating == accumulating;
    }

    @Override
    public int hashCode() {
        return Objects.hash(earlyCount, earlyInterval, lateFirings, closingPane, accumulating);
    }

    @Override
    public String toString() {
        return "Trigger{onWatermark" + (earlyCount > 0 ? ", early every " + earlyCount + " records" : "")
                + (earlyInterval != null ? ", early every " + earlyInterval : "")
                + (lateFirings ? "" : ", no late firings") + (closingPane ? ", closing pane" : "")
                + (accumulating ? ", accumulating" : ", discarding") + '}';
    }
}
