package io.streamflow.reactive.window;

import io.streamflow.reactive.internal.EventTime;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAdjusters;
import java.util.Objects;

/**
 * Non-merging event-time assigners: each record belongs to a fixed set of windows computed from
 * its timestamp alone.
 */
public abstract sealed class TimeWindowAssigner extends WindowAssigner
        permits TimeWindowAssigner.Tumbling, TimeWindowAssigner.Sliding, TimeWindowAssigner.Calendar,
        TimeWindowAssigner.Global {

    TimeWindowAssigner() {
    }

    /** Most windows one record can belong to. */
    abstract int maxWindowsPerRecord();

    /**
     * Writes the start and end of every window of {@code timestamp} into the arrays. Only for a
     * timestamp in {@code [firstPlaceable(), lastPlaceable()]}.
     *
     * @return how many windows were written
     */
    abstract int assign(long timestamp, long[] starts, long[] ends);

    /**
     * The windows a record at {@code timestamp} belongs to, as the window operator places it.
     * Example: for {@code Windows.sliding(10 min, 5 min)} and a timestamp of 12:07, the windows
     * {@code [12:00, 12:10)} and {@code [12:05, 12:15)}.
     *
     * @param timestamp an event time in epoch milliseconds
     * @return the windows a record at {@code timestamp} belongs to, in ascending order of end; safe to
     * call from several threads
     * @throws IllegalArgumentException when the timestamp is not an event time ({@code Long.MIN_VALUE},
     * {@code Long.MAX_VALUE}) or its windows would not fit in the range of a {@code long}, saying which
     */
    public final java.util.List<TimeWindow> windowsOf(long timestamp) {
        String problem = placementProblem(timestamp);
        if (problem != null) {
            throw new IllegalArgumentException("timestamp " + timestamp + " has no window in " + this + ": " + problem);
        }
        int max = maxWindowsPerRecord();
        long[] starts = new long[max];
        long[] ends = new long[max];
        // a calendar assigner caches the current period in fields: use a private copy
        TimeWindowAssigner a = this instanceof Calendar c ? c.copy() : this;
        int n = a.assign(timestamp, starts, ends);
        TimeWindow[] out = new TimeWindow[n];
        for (int i = 0; i < n; i++) {
            out[i] = new TimeWindow(starts[i], ends[i]);
        }
        java.util.Arrays.sort(out);
        return java.util.List.of(out);
    }

    /** Tumbling windows: see {@link Windows#tumbling(java.time.Duration, java.time.Duration)}. */
    public static final class Tumbling extends TimeWindowAssigner {
        private final long size;
        private final long offset;
        private final long first;
        private final long last;

        Tumbling(long size, long offset) {
            this.size = size;
            this.offset = offset;
            this.first = EventTime.firstPlaceable(size, size, offset);
            this.last = EventTime.lastPlaceable(size, size, offset);
        }

        @Override
        long firstPlaceable() {
            return first;
        }

        @Override
        long lastPlaceable() {
            return last;
        }

        long size() {
            return size;
        }

        long offset() {
            return offset;
        }

        @Override
        int maxWindowsPerRecord() {
            return 1;
        }

        @Override
        int assign(long t, long[] starts, long[] ends) {
            long start = t - EventTime.phase(t, offset, size);
            starts[0] = start;
            ends[0] = start + size;
            return 1;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tumbling x && x.size == size && x.offset == offset;
        }

        @Override
        public int hashCode() {
            return Objects.hash(size, offset);
        }

        @Override
        public String toString() {
            return "TumblingWindows{size=" + size + "ms" + (offset == 0 ? "" : ", offset=" + offset + "ms") + "}";
        }
    }

    /** Sliding windows: see {@link Windows#sliding(java.time.Duration, java.time.Duration, java.time.Duration)}. */
    public static final class Sliding extends TimeWindowAssigner {
        private final long size;
        private final long slide;
        private final long offset;
        private final long first;
        private final long last;

        Sliding(long size, long slide, long offset) {
            this.size = size;
            this.slide = slide;
            this.offset = offset;
            this.first = EventTime.firstPlaceable(size, slide, offset);
            this.last = EventTime.lastPlaceable(size, slide, offset);
        }

        @Override
        long firstPlaceable() {
            return first;
        }

        @Override
        long lastPlaceable() {
            return last;
        }

        long size() {
            return size;
        }

        long slide() {
            return slide;
        }

        long offset() {
            return offset;
        }

        @Override
        int maxWindowsPerRecord() {
            return (int) ((size - 1) / slide + 1);
        }

        @Override
        int assign(long t, long[] starts, long[] ends) {
            // windows start at t - d for d = phase, phase + slide, ... below size (no t - size: it may overflow)
            int n = 0;
            for (long d = EventTime.phase(t, offset, slide); ; d += slide) {
                long start = t - d;
                starts[n] = start;
                ends[n] = start + size;
                n++;
                if (d >= size - slide) {
                    return n;
                }
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Sliding x && x.size == size && x.slide == slide && x.offset == offset;
        }

        @Override
        public int hashCode() {
            return Objects.hash(size, slide, offset);
        }

        @Override
        public String toString() {
            return "SlidingWindows{size=" + size + "ms, slide=" + slide + "ms"
                    + (offset == 0 ? "" : ", offset=" + offset + "ms") + "}";
        }
    }

    /** Calendar day or week windows in a time zone: see {@link Windows#calendarDays(ZoneId)}. */
    public static final class Calendar extends TimeWindowAssigner {
        private final ZoneId zone;
        private final DayOfWeek firstDayOfWeek; // null: days
        /** The first day or week that starts at or after {@code Long.MIN_VALUE}: there placing begins. */
        private final long first;
        /** The last millisecond before the first day or week that would end after {@code Long.MAX_VALUE}. */
        private final long last;
        private long cachedStart = Long.MAX_VALUE;
        private long cachedEnd = Long.MIN_VALUE;

        Calendar(ZoneId zone, DayOfWeek firstDayOfWeek) {
            this.zone = zone;
            this.firstDayOfWeek = firstDayOfWeek;
            LocalDate lowest = periodStart(EventTime.MIN_VALID);
            long lo;
            try {
                startOf(lowest);
                lo = EventTime.MIN_VALID;
            } catch (ArithmeticException beforeLongRange) {
                lo = startOf(periodAfter(lowest));
            }
            LocalDate highest = periodStart(EventTime.MAX_VALID);
            long hi;
            try {
                startOf(periodAfter(highest));
                hi = EventTime.MAX_VALID;
            } catch (ArithmeticException afterLongRange) {
                hi = startOf(highest) - 1;
            }
            this.first = lo;
            this.last = hi;
        }

        private Calendar(Calendar c) {
            this.zone = c.zone;
            this.firstDayOfWeek = c.firstDayOfWeek;
            this.first = c.first;
            this.last = c.last;
        }

        /** The first day of the day or week that holds {@code t}. */
        private LocalDate periodStart(long t) {
            LocalDate day = Instant.ofEpochMilli(t).atZone(zone).toLocalDate();
            return firstDayOfWeek == null ? day : day.with(TemporalAdjusters.previousOrSame(firstDayOfWeek));
        }

        private LocalDate periodAfter(LocalDate start) {
            return firstDayOfWeek == null ? start.plusDays(1) : start.plusWeeks(1);
        }

        /** @throws ArithmeticException when the start of the day is not a {@code long} of epoch millis */
        private long startOf(LocalDate day) {
            ZonedDateTime start = day.atStartOfDay(zone);
            return start.toInstant().toEpochMilli();
        }

        @Override
        long firstPlaceable() {
            return first;
        }

        @Override
        long lastPlaceable() {
            return last;
        }

        @Override
        int maxWindowsPerRecord() {
            return 1;
        }

        @Override
        int assign(long t, long[] starts, long[] ends) {
            if (t < cachedStart || t >= cachedEnd) {
                LocalDate start = periodStart(t);
                cachedStart = startOf(start);
                cachedEnd = startOf(periodAfter(start));
            }
            starts[0] = cachedStart;
            ends[0] = cachedEnd;
            return 1;
        }

        Calendar copy() {
            return new Calendar(this);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Calendar x && x.zone.equals(zone) && Objects.equals(x.firstDayOfWeek, firstDayOfWeek);
        }

        @Override
        public int hashCode() {
            return Objects.hash(zone, firstDayOfWeek);
        }

        @Override
        public String toString() {
            return firstDayOfWeek == null ? "CalendarDays{" + zone + "}"
                    : "CalendarWeeks{" + zone + ", from " + firstDayOfWeek + "}";
        }
    }

    /** One window per key over all time; fires at end of input or by early triggers. */
    public static final class Global extends TimeWindowAssigner {
        static final Global INSTANCE = new Global();

        /** Every event time: the window {@code [Long.MIN_VALUE, Long.MAX_VALUE)} holds them all. */
        @Override
        long firstPlaceable() {
            return EventTime.MIN_VALID;
        }

        @Override
        long lastPlaceable() {
            return EventTime.MAX_VALID;
        }

        @Override
        int maxWindowsPerRecord() {
            return 1;
        }

        @Override
        int assign(long t, long[] starts, long[] ends) {
            starts[0] = Long.MIN_VALUE;
            ends[0] = Long.MAX_VALUE;
            return 1;
        }

        @Override
        public String toString() {
            return "GlobalWindows";
        }
    }
}
