package io.streamflow.reactive.window;

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
     * Writes the start and end of every window of {@code timestamp} into the arrays.
     *
     * @return how many windows were written
     */
    abstract int assign(long timestamp, long[] starts, long[] ends);

    /**
     * @return the windows a record at {@code timestamp} belongs to, in ascending order of end; safe to
     * call from several threads
     */
    public final java.util.List<TimeWindow> windowsOf(long timestamp) {
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

        Tumbling(long size, long offset) {
            this.size = size;
            this.offset = offset;
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
            long start = t - Math.floorMod(t - offset, size);
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

        Sliding(long size, long slide, long offset) {
            this.size = size;
            this.slide = slide;
            this.offset = offset;
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
            return (int) ((size + slide - 1) / slide);
        }

        @Override
        int assign(long t, long[] starts, long[] ends) {
            long lastStart = t - Math.floorMod(t - offset, slide);
            int n = 0;
            for (long start = lastStart; start > t - size; start -= slide) {
                starts[n] = start;
                ends[n] = start + size;
                n++;
            }
            return n;
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
        private long cachedStart = Long.MAX_VALUE;
        private long cachedEnd = Long.MIN_VALUE;

        Calendar(ZoneId zone, DayOfWeek firstDayOfWeek) {
            this.zone = zone;
            this.firstDayOfWeek = firstDayOfWeek;
        }

        @Override
        int maxWindowsPerRecord() {
            return 1;
        }

        @Override
        int assign(long t, long[] starts, long[] ends) {
            if (t < cachedStart || t >= cachedEnd) {
                LocalDate day = Instant.ofEpochMilli(t).atZone(zone).toLocalDate();
                LocalDate first = firstDayOfWeek == null ? day
                        : day.with(TemporalAdjusters.previousOrSame(firstDayOfWeek));
                LocalDate next = firstDayOfWeek == null ? first.plusDays(1) : first.plusWeeks(1);
                ZonedDateTime start = first.atStartOfDay(zone);
                ZonedDateTime end = next.atStartOfDay(zone);
                cachedStart = start.toInstant().toEpochMilli();
                cachedEnd = end.toInstant().toEpochMilli();
            }
            starts[0] = cachedStart;
            ends[0] = cachedEnd;
            return 1;
        }

        Calendar copy() {
            return new Calendar(zone, firstDayOfWeek);
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
