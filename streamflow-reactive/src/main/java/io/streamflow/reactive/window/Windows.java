package io.streamflow.reactive.window;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Factories of window assigners. Windows are half-open {@code [start, end)}.
 * <ul>
 *   <li>Tumbling(size, offset): a record at {@code t} is in the window starting at
 *   {@code t - floorMod(t - offset, size)}. Example: size 1 min, offset 0: a record at 12:00:30
 *   is in {@code [12:00, 12:01)}.</li>
 *   <li>Sliding(size, slide, offset): every window whose start is {@code ≡ offset (mod slide)}
 *   and lies in {@code (t - size, t]}, so a record is in {@code size / slide} windows.</li>
 *   <li>Session(gap): a record at {@code t} opens {@code [t, t + gap)}; sessions of a key that
 *   overlap or touch merge, so records at most {@code gap} apart share a session.</li>
 *   <li>Calendar days or weeks in a time zone, with the real length of each day (23 or 25 hours
 *   across daylight-saving changes).</li>
 *   <li>Global: one window per key, fired by early triggers and at the end of input.</li>
 *   <li>Count(n): every {@code n} records of a key form a window.</li>
 * </ul>
 * Invalid arguments fail here, with every problem named at once.
 */
public final class Windows {

    private Windows() {
    }

    public static TimeWindowAssigner tumbling(Duration size) {
        return tumbling(size, Duration.ZERO);
    }

    public static TimeWindowAssigner tumbling(Duration size, Duration offset) {
        List<String> errors = new ArrayList<>();
        long s = positive("size", size, errors);
        long o = offset(offset, s, errors);
        check(errors, "tumbling window");
        return new TimeWindowAssigner.Tumbling(s, o);
    }

    public static TimeWindowAssigner sliding(Duration size, Duration slide) {
        return sliding(size, slide, Duration.ZERO);
    }

    public static TimeWindowAssigner sliding(Duration size, Duration slide, Duration offset) {
        List<String> errors = new ArrayList<>();
        long s = positive("size", size, errors);
        long sl = positive("slide", slide, errors);
        if (s > 0 && sl > 0 && sl > s) {
            errors.add("slide (" + sl + " ms) must not be larger than size (" + s
                    + " ms): records between windows would belong to no window; use tumbling windows or a smaller slide");
        }
        long o = offset(offset, sl, errors);
        check(errors, "sliding window");
        return new TimeWindowAssigner.Sliding(s, sl, o);
    }

    public static WindowAssigner.Session session(Duration gap) {
        List<String> errors = new ArrayList<>();
        long g = positive("gap", gap, errors);
        check(errors, "session window");
        return new WindowAssigner.Session(g);
    }

    /** Calendar days, midnight to midnight in {@code zone}. */
    public static TimeWindowAssigner calendarDays(ZoneId zone) {
        return new TimeWindowAssigner.Calendar(Objects.requireNonNull(zone, "zone"), null);
    }

    /** Calendar weeks starting at midnight of {@code firstDay} in {@code zone}. */
    public static TimeWindowAssigner calendarWeeks(ZoneId zone, DayOfWeek firstDay) {
        return new TimeWindowAssigner.Calendar(Objects.requireNonNull(zone, "zone"),
                Objects.requireNonNull(firstDay, "firstDay"));
    }

    public static TimeWindowAssigner global() {
        return TimeWindowAssigner.Global.INSTANCE;
    }

    public static WindowAssigner.Count count(long size) {
        if (size < 1) {
            throw new IllegalArgumentException("invalid count window: size must be >= 1, was " + size);
        }
        return new WindowAssigner.Count(size);
    }

    private static long positive(String what, Duration d, List<String> errors) {
        if (d == null) {
            errors.add(what + " is missing");
            return -1;
        }
        long ms = d.toMillis();
        if (ms <= 0) {
            errors.add(what + " must be at least 1 ms, was " + d);
        }
        return ms;
    }

    private static long offset(Duration offset, long modulus, List<String> errors) {
        if (offset == null) {
            errors.add("offset is missing (use Duration.ZERO)");
            return 0;
        }
        long o = offset.toMillis();
        if (o < 0 || (modulus > 0 && o >= modulus)) {
            errors.add("offset must be in [0, " + modulus + ") ms, was " + o + " ms");
        }
        return o;
    }

    private static void check(List<String> errors, String what) {
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid " + what + ": " + String.join("; ", errors));
        }
    }
}
