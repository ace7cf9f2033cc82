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
 * Invalid arguments fail here, with every problem named at once. Durations are taken at
 * millisecond precision (the unit of event time); a missing ({@code null}) duration is reported
 * with the other problems, as an {@link IllegalArgumentException}.
 */
public final class Windows {

    private Windows() {
    }

    /**
     * Tumbling windows of {@code size} aligned to the epoch: {@code [k * size, (k + 1) * size)}.
     * Example: with a size of 1 minute, a record at 12:00:30.000 is in {@code [12:00, 12:01)}, and
     * one at 12:01:00.000 is in the next window.
     *
     * @param size the length of each window, at least 1 ms
     * @return the assigner
     * @throws IllegalArgumentException if {@code size} is missing or under 1 ms
     */
    public static TimeWindowAssigner tumbling(Duration size) {
        return tumbling(size, Duration.ZERO);
    }

    /**
     * Tumbling windows of {@code size} shifted by {@code offset}:
     * {@code [k * size + offset, (k + 1) * size + offset)}. Example: size 1 hour, offset 15
     * minutes: a record at 01:10 is in {@code [00:15, 01:15)}.
     *
     * @param size   the length of each window, at least 1 ms
     * @param offset where windows start relative to the epoch, in {@code [0, size)}
     * @return the assigner
     * @throws IllegalArgumentException if {@code size} or {@code offset} is missing or out of range
     */
    public static TimeWindowAssigner tumbling(Duration size, Duration offset) {
        List<String> errors = new ArrayList<>();
        long s = positive("size", size, errors);
        long o = offset(offset, s, errors);
        check(errors, "tumbling window");
        return new TimeWindowAssigner.Tumbling(s, o);
    }

    /**
     * Sliding windows of {@code size}, one starting every {@code slide}, aligned to the epoch. A
     * record belongs to {@code size / slide} windows when {@code slide} divides {@code size}, and to
     * at most {@code ceil(size / slide)} otherwise. Example: size 10 minutes, slide 5
     * minutes: a record at 12:07 is in {@code [12:00, 12:10)} and {@code [12:05, 12:15)}.
     *
     * @param size  the length of each window, at least 1 ms
     * @param slide time between the starts of two windows, at least 1 ms and at most {@code size}
     * @return the assigner
     * @throws IllegalArgumentException if {@code size} or {@code slide} is missing or out of range
     */
    public static TimeWindowAssigner sliding(Duration size, Duration slide) {
        return sliding(size, slide, Duration.ZERO);
    }

    /**
     * Sliding windows of {@code size}, one starting every {@code slide}, with starts shifted by
     * {@code offset}: window starts are {@code ≡ offset (mod slide)}. Example: size 10 minutes,
     * slide 5 minutes, offset 1 minute: windows start at 11:56, 12:01, 12:06, ..., and a record at
     * 12:07 is in {@code [12:01, 12:11)} and {@code [12:06, 12:16)}.
     *
     * @param size   the length of each window, at least 1 ms
     * @param slide  time between the starts of two windows, at least 1 ms and at most {@code size}
     * @param offset where window starts lie relative to the epoch, in {@code [0, slide)}
     * @return the assigner
     * @throws IllegalArgumentException if an argument is missing or out of range
     */
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

    /**
     * Session windows per key: a record at {@code t} opens {@code [t, t + gap)}, and sessions that
     * overlap or touch merge. Example: gap 30 minutes, records at 12:00 and 12:20 form the session
     * {@code [12:00, 12:50)}; a record at 12:50 extends it to {@code [12:00, 13:20)}, one at 12:51
     * would start a new session.
     *
     * @param gap the longest quiet time within a session, at least 1 ms
     * @return the assigner
     * @throws IllegalArgumentException if {@code gap} is missing or under 1 ms
     */
    public static WindowAssigner.Session session(Duration gap) {
        List<String> errors = new ArrayList<>();
        long g = positive("gap", gap, errors);
        check(errors, "session window");
        return new WindowAssigner.Session(g);
    }

    /**
     * Calendar days, midnight to midnight in {@code zone}, with the real length of each day.
     * Example: in {@code Europe/Paris} the day 2024-03-31 is {@code [2024-03-30T23:00Z,
     * 2024-03-31T22:00Z)}, 23 hours long, as the clocks go forward that night.
     *
     * @param zone the time zone whose midnights bound the days
     * @return the assigner
     * @throws NullPointerException if {@code zone} is {@code null}
     */
    public static TimeWindowAssigner calendarDays(ZoneId zone) {
        return new TimeWindowAssigner.Calendar(Objects.requireNonNull(zone, "zone"), null);
    }

    /**
     * Calendar weeks starting at midnight of {@code firstDay} in {@code zone}: a week is
     * {@code [firstDay 00:00, next firstDay 00:00)}, 7 calendar days whatever their length.
     *
     * @param zone     the time zone whose midnights bound the weeks
     * @param firstDay the day each week starts on, such as {@link DayOfWeek#MONDAY}
     * @return the assigner
     * @throws NullPointerException if {@code zone} or {@code firstDay} is {@code null}
     */
    public static TimeWindowAssigner calendarWeeks(ZoneId zone, DayOfWeek firstDay) {
        return new TimeWindowAssigner.Calendar(Objects.requireNonNull(zone, "zone"),
                Objects.requireNonNull(firstDay, "firstDay"));
    }

    /**
     * One window per key over all time, {@code [Long.MIN_VALUE, Long.MAX_VALUE)}: it fires only by
     * early triggers ({@link Trigger#withEarlyFiringsEvery}) and at the end of input.
     *
     * @return the shared global assigner
     */
    public static TimeWindowAssigner global() {
        return TimeWindowAssigner.Global.INSTANCE;
    }

    /**
     * Count windows: every {@code size} records of a key form a window, which fires once, as a final
     * pane, when its last record arrives; event time plays no part, so no record is late. A result's
     * bounds are {@code [min timestamp, max timestamp + 1)} of its records. At the end of input the
     * incomplete windows fire with fewer records. Count windows take no early trigger.
     *
     * @param size records per window, {@code >= 1}
     * @return the assigner
     * @throws IllegalArgumentException if {@code size < 1}
     */
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
