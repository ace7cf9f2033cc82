package io.streamflow.benchmarks;

import java.util.ArrayDeque;

/**
 * The limit: a hand-written single-thread loop with primitive state computing the same results as
 * the stream processors. Bounded out-of-orderness watermark {@code W = maxTs - B - 1} after every
 * event; a window fires once when {@code W >= end - 1}; no allowed lateness. The harness's events
 * are never late ({@code B} equals their disorder); the loop still checks that, and fails loudly
 * rather than compute something else.
 * <p>
 * Tumbling and sliding windows use slices (one primitive map per slide-sized pane, each event
 * updates one slice; a window's result merges its {@code size / slide} slices), sessions a
 * per-key chain of open sessions in primitive arrays with a heap of end times.
 */
public final class WindowLoop {

    private WindowLoop() {
    }

    public static Checksum run(BenchEvents ev, WindowWorkload w, long boundMillis) {
        return w == WindowWorkload.SESSION ? sessions(ev, w.gap, boundMillis)
                : sliced(ev, w.size, w.slide, boundMillis);
    }

    // ------------------------------------------------------------------ tumbling / sliding

    private static final class Slice {
        long start;
        final LongSlotMap map;

        Slice(long start, int expectedKeys) {
            this.start = start;
            this.map = new LongSlotMap(expectedKeys);
        }
    }

    static Checksum sliced(BenchEvents ev, long size, long slide, long bound) {
        Checksum out = new Checksum();
        int slicesPerWindow = (int) (size / slide);
        int expected = (int) Math.min(ev.spec.keyCount(), Math.max(16, ev.spec.eventsPerSecond() * slide / 1000));
        ArrayDeque<Slice> slices = new ArrayDeque<>(); // ordered by start, contiguous
        ArrayDeque<Slice> free = new ArrayDeque<>();
        long[] keys = ev.keys;
        long[] ts = ev.timestamps;
        long[] values = ev.values;
        long maxTs = Long.MIN_VALUE;
        long wm = Long.MIN_VALUE;
        // the next window to fire has start nextStart (windows fire in order of end)
        long nextStart = Long.MIN_VALUE;
        LongSlotMap merged = slicesPerWindow > 1 ? new LongSlotMap(expected) : null;
        Slice last = null;
        for (int i = 0; i < keys.length; i++) {
            long t = ts[i];
            if (t <= wm) {
                throw new IllegalStateException("late event at index " + i + ": ts " + t + " <= watermark " + wm);
            }
            long sliceStart = t - Math.floorMod(t, slide);
            if (last == null || last.start != sliceStart) {
                last = slice(slices, free, sliceStart, slide, expected);
                // the earliest window holding this event has not fired (the event is not late)
                long first = sliceStart - size + slide;
                if (nextStart == Long.MIN_VALUE || first < nextStart) {
                    nextStart = first;
                }
            }
            last.map.add(keys[i], values[i]);
            if (t > maxTs) {
                maxTs = t;
                long nw = t - bound - 1;
                if (nw > wm) {
                    wm = nw;
                    while (nextStart != Long.MIN_VALUE && nextStart + size - 1 <= wm) {
                        fire(slices, free, nextStart, size, slide, merged, out);
                        nextStart += slide;
                        last = null;
                    }
                }
            }
        }
        while (!slices.isEmpty()) {
            fire(slices, free, nextStart, size, slide, merged, out);
            nextStart += slide;
        }
        return out;
    }

    private static Slice slice(ArrayDeque<Slice> slices, ArrayDeque<Slice> free, long start, long slide,
                               int expected) {
        for (Slice s : slices) {
            if (s.start == start) {
                return s;
            }
        }
        // slices are kept contiguous: add missing ones before / after
        if (slices.isEmpty()) {
            Slice s = take(free, start, expected);
            slices.add(s);
            return s;
        }
        while (slices.getLast().start < start) {
            slices.addLast(take(free, slices.getLast().start + slide, expected));
        }
        while (slices.getFirst().start > start) {
            slices.addFirst(take(free, slices.getFirst().start - slide, expected));
        }
        for (Slice s : slices) {
            if (s.start == start) {
                return s;
            }
        }
        throw new IllegalStateException("slice " + start);
    }

    private static Slice take(ArrayDeque<Slice> free, long start, int expected) {
        Slice s = free.poll();
        if (s == null) {
            return new Slice(start, expected);
        }
        s.start = start;
        return s;
    }

    /** Fires window [start, start + size) from its slices, then frees the slice no later window needs. */
    private static void fire(ArrayDeque<Slice> slices, ArrayDeque<Slice> free, long start, long size, long slide,
                             LongSlotMap merged, Checksum out) {
        long end = start + size;
        if (merged == null) {
            Slice s = slices.peekFirst();
            if (s != null && s.start == start) {
                emit(s.map, start, end, out);
            }
        } else {
            merged.clear();
            for (Slice s : slices) {
                if (s.start >= start && s.start < end) {
                    LongSlotMap m = s.map;
                    long[] k = m.keys;
                    for (int j = 0; j < k.length; j++) {
                        if (LongSlotMap.used(k[j])) {
                            merged.merge(k[j], m.counts[j], m.sums[j]);
                        }
                    }
                }
            }
            emit(merged, start, end, out);
        }
        // the first slice (start) belongs to no later window
        while (!slices.isEmpty() && slices.getFirst().start <= start) {
            Slice s = slices.pollFirst();
            s.map.clear();
            free.add(s);
        }
    }

    private static void emit(LongSlotMap m, long start, long end, Checksum out) {
        long[] k = m.keys;
        for (int j = 0; j < k.length; j++) {
            if (LongSlotMap.used(k[j])) {
                out.add(k[j], start, end, m.counts[j], m.sums[j]);
            }
        }
    }

    // ------------------------------------------------------------------ sessions

    static Checksum sessions(BenchEvents ev, long gap, long bound) {
        Checksum out = new Checksum();
        SessionTable table = new SessionTable(ev.spec.keyCount(), gap);
        long[] keys = ev.keys;
        long[] ts = ev.timestamps;
        long[] values = ev.values;
        long maxTs = Long.MIN_VALUE;
        long wm = Long.MIN_VALUE;
        for (int i = 0; i < keys.length; i++) {
            long t = ts[i];
            if (t <= wm) {
                throw new IllegalStateException("late event at index " + i + ": ts " + t + " <= watermark " + wm);
            }
            table.add(keys[i], t, values[i]);
            if (t > maxTs) {
                maxTs = t;
                long nw = t - bound - 1;
                if (nw > wm) {
                    wm = nw;
                    table.fireUpTo(wm, out);
                }
            }
        }
        table.fireUpTo(Long.MAX_VALUE, out);
        return out;
    }

    /**
     * Open sessions in primitive arrays: a key's sessions form a linked chain (unordered, disjoint);
     * a binary heap of (end - 1, session) timers fires them; a timer whose session was merged
     * away or extended is skipped (lazy deletion).
     */
    static final class SessionTable {
        private final long gap;
        private final LongIntMap heads;
        private long[] start = new long[1024];
        private long[] end = new long[1024];
        private long[] count = new long[1024];
        private long[] sum = new long[1024];
        private long[] key = new long[1024];
        private int[] next = new int[1024];
        private int[] freeList = new int[1024];
        private int freeCount;
        private int used;
        // heap of timers
        private long[] heapTime = new long[1024];
        private int[] heapSession = new int[1024];
        private int heapSize;

        SessionTable(int keys, long gap) {
            this.gap = gap;
            this.heads = new LongIntMap(Math.min(keys, 1 << 20));
        }

        void add(long k, long t, long v) {
            long s = t;
            long e = t + gap;
            long c = 1;
            long su = v;
            int head = heads.get(k);
            int prev = -1;
            int cur = head;
            // absorb every session that overlaps or touches [s, e)
            while (cur >= 0) {
                int nx = next[cur];
                if (start[cur] <= e && end[cur] >= s) {
                    s = Math.min(s, start[cur]);
                    e = Math.max(e, end[cur]);
                    c += count[cur];
                    su += sum[cur];
                    if (prev < 0) {
                        head = nx;
                    } else {
                        next[prev] = nx;
                    }
                    release(cur);
                } else {
                    prev = cur;
                }
                cur = nx;
            }
            int n = allocate();
            start[n] = s;
            end[n] = e;
            count[n] = c;
            sum[n] = su;
            key[n] = k;
            next[n] = head;
            heads.put(k, n);
            push(e - 1, n);
        }

        void fireUpTo(long wm, Checksum out) {
            while (heapSize > 0 && heapTime[0] <= wm) {
                long time = heapTime[0];
                int n = heapSession[0];
                pop();
                if (end[n] - 1 != time || count[n] == 0) {
                    continue; // stale timer: the session was merged away or extended
                }
                long k = key[n];
                out.add(k, start[n], end[n], count[n], sum[n]);
                // unlink n from its key's chain
                int head = heads.get(k);
                if (head == n) {
                    if (next[n] < 0) {
                        heads.remove(k);
                    } else {
                        heads.put(k, next[n]);
                    }
                } else {
                    int p = head;
                    while (next[p] != n) {
                        p = next[p];
                    }
                    next[p] = next[n];
                }
                release(n);
            }
        }

        private int allocate() {
            if (freeCount > 0) {
                return freeList[--freeCount];
            }
            if (used == start.length) {
                int cap = used * 2;
                start = java.util.Arrays.copyOf(start, cap);
                end = java.util.Arrays.copyOf(end, cap);
                count = java.util.Arrays.copyOf(count, cap);
                sum = java.util.Arrays.copyOf(sum, cap);
                key = java.util.Arrays.copyOf(key, cap);
                next = java.util.Arrays.copyOf(next, cap);
            }
            return used++;
        }

        private void release(int n) {
            count[n] = 0; // marks timers of n stale until it is reused with a new end
            end[n] = Long.MIN_VALUE;
            if (freeCount == freeList.length) {
                freeList = java.util.Arrays.copyOf(freeList, freeCount * 2);
            }
            freeList[freeCount++] = n;
        }

        private void push(long time, int n) {
            if (heapSize == heapTime.length) {
                heapTime = java.util.Arrays.copyOf(heapTime, heapSize * 2);
                heapSession = java.util.Arrays.copyOf(heapSession, heapSize * 2);
            }
            int i = heapSize++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (heapTime[p] <= time) {
                    break;
                }
                heapTime[i] = heapTime[p];
                heapSession[i] = heapSession[p];
                i = p;
            }
            heapTime[i] = time;
            heapSession[i] = n;
        }

        private void pop() {
            int last = --heapSize;
            long t = heapTime[last];
            int s = heapSession[last];
            int i = 0;
            for (;;) {
                int c = 2 * i + 1;
                if (c >= last) {
                    break;
                }
                if (c + 1 < last && heapTime[c + 1] < heapTime[c]) {
                    c++;
                }
                if (heapTime[c] >= t) {
                    break;
                }
                heapTime[i] = heapTime[c];
                heapSession[i] = heapSession[c];
                i = c;
            }
            heapTime[i] = t;
            heapSession[i] = s;
        }
    }

    /** Open-addressing long → int map with removal (backward-shift deletion). */
    static final class LongIntMap {
        private static final long FREE = Long.MIN_VALUE;
        private long[] keys;
        private int[] vals;
        private int mask;
        private int size;

        LongIntMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
            keys = new long[cap];
            java.util.Arrays.fill(keys, FREE);
            vals = new int[cap];
            mask = cap - 1;
        }

        int get(long k) {
            int i = (int) Checksum.mix(k) & mask;
            for (;;) {
                long x = keys[i];
                if (x == k) {
                    return vals[i];
                }
                if (x == FREE) {
                    return -1;
                }
                i = (i + 1) & mask;
            }
        }

        void put(long k, int v) {
            int i = (int) Checksum.mix(k) & mask;
            for (;;) {
                long x = keys[i];
                if (x == k) {
                    vals[i] = v;
                    return;
                }
                if (x == FREE) {
                    keys[i] = k;
                    vals[i] = v;
                    if (++size * 2 > keys.length) {
                        grow();
                    }
                    return;
                }
                i = (i + 1) & mask;
            }
        }

        void remove(long k) {
            int i = (int) Checksum.mix(k) & mask;
            for (;;) {
                long x = keys[i];
                if (x == FREE) {
                    return;
                }
                if (x == k) {
                    break;
                }
                i = (i + 1) & mask;
            }
            size--;
            // backward-shift deletion keeps probe chains intact
            int hole = i;
            int j = i;
            for (;;) {
                j = (j + 1) & mask;
                long x = keys[j];
                if (x == FREE) {
                    break;
                }
                int home = (int) Checksum.mix(x) & mask;
                boolean between = hole <= j ? hole < home && home <= j : hole < home || home <= j;
                if (!between) {
                    keys[hole] = x;
                    vals[hole] = vals[j];
                    hole = j;
                }
            }
            keys[hole] = FREE;
        }

        private void grow() {
            long[] ok = keys;
            int[] ov = vals;
            int cap = ok.length * 2;
            keys = new long[cap];
            java.util.Arrays.fill(keys, FREE);
            vals = new int[cap];
            mask = cap - 1;
            size = 0;
            for (int i = 0; i < ok.length; i++) {
                if (ok[i] != FREE) {
                    put(ok[i], ov[i]);
                }
            }
        }
    }
}
