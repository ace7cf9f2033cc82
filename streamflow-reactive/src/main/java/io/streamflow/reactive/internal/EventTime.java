package io.streamflow.reactive.internal;

import io.streamflow.reactive.StreamRecord;

import java.time.Duration;

/**
 * Event-time arithmetic that cannot overflow, and the errors for timestamps an operator cannot use.
 * <p>
 * A valid event timestamp lies strictly between {@code Long.MIN_VALUE}
 * ({@link StreamRecord#NO_TIMESTAMP}: no event time was assigned) and {@code Long.MAX_VALUE} (the
 * end-of-input watermark, {@code Watermark.END}: a record there would come after the end of time).
 * Operators add further bounds of their own: a record whose window, join range or interval would
 * not fit in a {@code long} cannot be placed either. Such a record is bad data: it goes to the
 * dead-letter output or fails the pipeline, as the operator's error policy says, and is never
 * retried (the same timestamp fails the same way).
 */
public final class EventTime {

    /** The smallest valid event timestamp. */
    public static final long MIN_VALID = Long.MIN_VALUE + 1;
    /** The largest valid event timestamp. */
    public static final long MAX_VALID = Long.MAX_VALUE - 1;

    private EventTime() {
    }

    /** @return whether {@code t} can be an event timestamp at all (see the class comment) */
    public static boolean isValid(long t) {
        return t != Long.MIN_VALUE && t != Long.MAX_VALUE;
    }

    /** @return why {@code t} is not an event timestamp, or {@code null} when it is a valid one */
    public static String invalidReason(long t) {
        if (t == Long.MIN_VALUE) {
            return "Long.MIN_VALUE is StreamRecord.NO_TIMESTAMP: no event time was assigned to the record "
                    + "(assign one with WatermarkStrategy.withTimestampAssigner(...))";
        }
        if (t == Long.MAX_VALUE) {
            return "Long.MAX_VALUE is the end-of-input watermark (Watermark.END), not an event time";
        }
        return null;
    }

    /** @return {@code a + b}, or {@code Long.MAX_VALUE} / {@code Long.MIN_VALUE} where it would overflow */
    public static long add(long a, long b) {
        long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    /** @return {@code a - b}, or {@code Long.MAX_VALUE} / {@code Long.MIN_VALUE} where it would overflow */
    public static long subtract(long a, long b) {
        long r = a - b;
        if (((a ^ b) & (a ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    /** @return {@code a * b}, or {@code Long.MAX_VALUE} / {@code Long.MIN_VALUE} where it would overflow */
    public static long multiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) {
            return lo;
        }
        return (a < 0) == (b < 0) ? Long.MAX_VALUE : Long.MIN_VALUE;
    }

    /** @return the duration in milliseconds, {@code Long.MAX_VALUE} / {@code Long.MIN_VALUE} where it does not fit */
    public static long toMillis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException tooLong) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /** @return {@code floorMod(t - offset, m)} for {@code offset >= 0}, without overflow for any {@code t} */
    public static long phase(long t, long offset, long m) {
        return t >= Long.MIN_VALUE + offset ? Math.floorMod(t - offset, m)
                : Math.floorMod(Math.floorMod(t, m) - offset, m);
    }

    /**
     * The smallest timestamp all of whose windows fit in a {@code long}, for windows
     * {@code [start, start + size)} whose starts are {@code ≡ offset (mod slide)} and that hold
     * every timestamp in them (tumbling: {@code slide == size}); never below {@link #MIN_VALID}.
     */
    public static long firstPlaceable(long size, long slide, long offset) {
        // the smallest window start that is a long
        long s0 = Long.MIN_VALUE + Math.floorMod(offset - Math.floorMod(Long.MIN_VALUE, slide), slide);
        // before s0 + (size - slide) a record also belongs to the window starting at s0 - slide
        return Math.max(MIN_VALID, add(s0, size - slide));
    }

    /**
     * The largest timestamp all of whose windows fit in a {@code long} (see
     * {@link #firstPlaceable}); never above {@link #MAX_VALID}.
     */
    public static long lastPlaceable(long size, long slide, long offset) {
        // the largest window start whose window ends by Long.MAX_VALUE
        long m = Long.MAX_VALUE - size;
        long last = m - phase(m, offset, slide);
        // after last + slide - 1 a record also belongs to the window starting at last + slide
        return Math.min(MAX_VALID, last + (slide - 1));
    }

    /**
     * The error for a record whose timestamp {@code t} operator {@code operator} cannot use; the same
     * message goes to the dead-letter output and, under the fail policy, fails the pipeline.
     */
    public static IllegalArgumentException unusable(StreamRecord<?, ?> record, long t, String operator,
                                                    String reason) {
        return new IllegalArgumentException("timestamp " + t + " of " + record + " cannot be used in operator '"
                + operator + "': " + reason);
    }
}
