package io.streamflow.reactive.window;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Fixed (non-merging) event-time windows: tumbling, sliding, calendar, global. State is laid out
 * window first (namespace = window), so a watermark fires and purges whole windows, and
 * consecutive records of the same window cost one hash lookup.
 * <p>
 * Sliding (and tumbling) windows with the default trigger and no allowed lateness are
 * <em>sliced</em>: time is cut
 * into slices of {@code gcd(size, slide)}, a record updates the accumulator of its one slice (not
 * {@code size / slide} windows), and a window's result merges the accumulators of its slices with
 * {@link AggregateFunction#merge} when it fires. A record is late when the last window holding its
 * slice has fired. Every other configuration keeps one accumulator per window, because triggers
 * and lateness need per-window pane bookkeeping.
 * <p>
 * Sliced tumbling windows whose state is on the heap (a backend that is not durable and stores
 * references) and whose aggregate is a built-in one of {@code long} columns ({@link ColumnAggregate})
 * keep their {@code Long} keys' accumulators in a {@link ColumnTable} per window instead of the
 * keyed state: a record updates one row, a firing reads the rows in memory order, and the next
 * window's table starts as large as the last purged one. The first key that is not a {@code Long}
 * moves every row into the keyed state as an accumulator object, and the operator goes on there.
 * Once a table holds {@value #READ_AHEAD_KEYS} keys (more than a core's cache), records are pulled
 * from a synchronously fused upstream {@value #READ_AHEAD} at a time and their rows read before
 * any of them is processed, so their cache misses overlap instead of following one another.
 * <p>
 * Checkpoints: every state value is put after each change, so a barrier only writes the
 * watermark; on start the index of live windows (or slices) is rebuilt from the namespaces of
 * the keyed state.
 */
final class TimeWindowSubscriber<K, V, A, R> extends AbstractWindowSubscriber<K, V, A, R> {

    private final TimeWindowAssigner assigner;
    /** Per-window state with pane bookkeeping; {@code null} when sliced. */
    private final KeyedState<K, TimeWindow, WindowState<A>> state;
    /**
     * Sliced: the accumulator of each key in each slice, held directly (a sliced window fires
     * once, so it needs no pane bookkeeping, and a record touches one object less); else {@code null}.
     */
    private final KeyedState<K, TimeWindow, A> sliceState;
    /** The slice state returns stored accumulators themselves: one changed in place needs no put. */
    private final boolean slicesInPlace;
    /** Sliding windows: a firing window's merged slices, on the heap whatever the backend (not checkpointed). */
    private final KeyedState<K, TimeWindow, A> mergeScratch;
    /** Results a sliced firing computes ahead of emitting them. */
    private static final int AHEAD = 16;
    /** The pane of a sliced window: fired once, on time (default trigger, no allowed lateness). */
    private static final PaneInfo ON_TIME_ONLY = new PaneInfo(PaneInfo.Timing.ON_TIME, 0, true);
    private final boolean sharded;
    /** Every window that holds state, in firing order (by end). */
    private final TreeSet<TimeWindow> live = new TreeSet<>();
    /** The window (or slice) last added to {@link #live}, still in it: adding it again is skipped. */
    private TimeWindow lastLive;
    private final long[] starts;
    private final long[] ends;
    private final TimeWindow[] recent;
    private int recentNext;
    /** Slice length when sliced, else 0; then {@code live} holds slices. */
    private final long slice;
    private final long size;
    private final long slide;
    private final long offset;
    /**
     * Sliced: the two slices records fell in last (out-of-order input straddles a slice boundary),
     * with the start of the last window holding each, so a record in one of them costs a range
     * check instead of two divisions and a window lookup. Index 0 is the more recent.
     */
    private final TimeWindow[] hotSlice = new TimeWindow[2];
    private final long[] hotLastStart = new long[2];
    /** Column mode: the aggregate of {@code long} columns, else {@code null} (for good, once left). */
    private ColumnAggregate<V, A, R> columns;
    /** Column mode: each live window's tables, by shard. */
    private final Map<TimeWindow, Map<Integer, ColumnTable>> tables = new HashMap<>();
    /** Column mode: the window and shard of the last record and their table ({@code null} after a purge). */
    private TimeWindow tableWindow;
    private int tableShard;
    private ColumnTable table;
    /** Column mode: the tables of {@link #tableWindow}, by shard. */
    private Map<Integer, ColumnTable> tableShards;
    /** Column mode: keys of the last purged table, the size a new table starts with. */
    private int tableHint = 16;
    /** Column mode: rows in all tables. */
    private long columnEntries;
    /** Column mode: inputs pulled ahead of their turn, whose table rows are read early. */
    private static final int READ_AHEAD = 16;
    /**
     * Column mode: the number of keys in a table from which records are read ahead. A smaller table
     * (24 bytes a row for count and sum, 16 for the others) stays in a core's cache, where
     * reading ahead costs more than it saves.
     */
    private static final int READ_AHEAD_KEYS = 1 << 15;
    private boolean readingAhead;
    /** Keys of the records of the batch read ahead that go to the table of the last record. */
    private final long[] aheadKeys = new long[READ_AHEAD];
    private int aheadKeyCount;
    /** What the early reads found: kept so that they are not optimised away. */
    private long touched;

    TimeWindowSubscriber(CoreSubscriber<? super StreamElement<K, WindowResult<K, R>>> actual,
                         WindowOperator<K, V> spec, TimeWindowAssigner assigner, AggregateFunction<V, A, R> fn) {
        super(actual, spec, fn);
        this.assigner = assigner;
        this.sharded = settings.shardBySourcePartition();
        int n = assigner.maxWindowsPerRecord();
        this.starts = new long[n];
        this.ends = new long[n];
        this.recent = new TimeWindow[Math.max(4, 2 * n)];
        boolean plainTrigger = lateness == 0 && trigger.earlyCount() == 0 && trigger.earlyInterval() == null
                && !trigger.closingPane();
        if (plainTrigger && assigner instanceof TimeWindowAssigner.Sliding sl) {
            this.size = sl.size();
            this.slide = sl.slide();
            this.offset = sl.offset();
            this.slice = gcd(size, slide);
        } else if (plainTrigger && assigner instanceof TimeWindowAssigner.Tumbling tu) {
            // one slice per window: the same lean path (no per-record trigger bookkeeping)
            this.size = tu.size();
            this.slide = tu.size();
            this.offset = tu.offset();
            this.slice = tu.size();
        } else {
            this.size = 0;
            this.slide = 0;
            this.offset = 0;
            this.slice = 0;
        }
        this.state = slice == 0 ? backend.keyedState(name, "windows") : null;
        this.sliceState = slice == 0 ? null : backend.keyedState(name, "slices");
        this.slicesInPlace = sliceState != null && sliceState.storesReferences();
        this.mergeScratch = slice == 0 || slice == size ? null : StateBackend.heap().keyedState(name, "merging");
        if (slice != 0 && slice == size && slicesInPlace && !durable && fn instanceof ColumnAggregate<V, A, R> c) {
            this.columns = c;
        }
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    private void addLive(TimeWindow w) {
        if (w != lastLive) {
            live.add(w);
            lastLive = w;
        }
    }

    private TimeWindow window(long start, long end) {
        TimeWindow[] rc = recent;
        for (TimeWindow w : rc) {
            if (w != null && w.start() == start && w.end() == end) {
                return w;
            }
        }
        TimeWindow w = new TimeWindow(start, end);
        rc[recentNext] = w;
        recentNext = (recentNext + 1) % rc.length;
        return w;
    }

    @Override
    void onRecord(StreamRecord<K, V> r) {
        if (slice != 0) {
            if (columns != null) {
                onRecordColumns(r);
            } else {
                onRecordSliced(r);
            }
            return;
        }
        int n = assigner.assign(r.timestamp(), starts, ends);
        int shard = sharded ? r.origin().partition() : 0;
        K key = r.key();
        boolean accepted = false;
        long lastStart = Long.MIN_VALUE;
        long lastEnd = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            long start = starts[i];
            long end = ends[i];
            if (cleanupTime(end - 1) <= watermark) {
                if (end > lastEnd) {
                    lastStart = start;
                    lastEnd = end;
                }
                continue;
            }
            accepted = true;
            TimeWindow w = window(start, end);
            WindowState<A> st = state.get(shard, w, key);
            if (st == null) {
                if (sharded && state.existsInOtherShard(shard, w, key)) {
                    throw keyInTwoShards(key, shard);
                }
                st = new WindowState<>(newAccumulator());
                addLive(w);
            }
            if (!add(st, r)) {
                return;
            }
            afterAdd(shard, key, start, end, st);
            state.put(shard, w, key, st); // after afterAdd: a LATE or EARLY pane updates the state too
        }
        if (!accepted) {
            late(r, lastStart, lastEnd);
        }
    }

    /** Sliced: the slice holding {@code t}, making it {@code hotSlice[0]}; its last window's start is {@code hotLastStart[0]}. */
    private TimeWindow hotSlice(long t) {
        TimeWindow[] hs = hotSlice;
        TimeWindow h = hs[0];
        if (h != null && t >= h.start() && t < h.end()) {
            return h;
        }
        long[] ls = hotLastStart;
        TimeWindow other = hs[1];
        long otherLast = ls[1];
        if (other == null || t < other.start() || t >= other.end()) {
            long sliceStart = t - EventTime.phase(t, offset, slice);
            other = window(sliceStart, sliceStart + slice);
            // slide is a multiple of slice: every time in the slice has the same last window
            otherLast = sliceStart - EventTime.phase(sliceStart, offset, slide);
        }
        hs[1] = h;
        ls[1] = ls[0];
        hs[0] = other;
        ls[0] = otherLast;
        return other;
    }

    private void onRecordSliced(StreamRecord<K, V> r) {
        long t = r.timestamp();
        TimeWindow w = hotSlice(t);
        long lastStart = hotLastStart[0];
        if (lastStart + size - 1 <= watermark) {
            late(r, lastStart, lastStart + size);
            return;
        }
        int shard = sharded ? r.origin().partition() : 0;
        K key = r.key();
        KeyedState<K, TimeWindow, A> ss = sliceState;
        A acc = ss.get(shard, w, key);
        boolean created = acc == null;
        if (created) {
            if (sharded && ss.existsInOtherShard(shard, w, key)) {
                throw keyInTwoShards(key, shard);
            }
            acc = newAccumulator();
        }
        A added = addValue(acc, r);
        if (added == null) {
            return; // dead-lettered: a new slice entry is not kept
        }
        if (created) {
            addLive(w);
        } else if (added == acc && slicesInPlace) {
            return; // changed in place: already stored
        }
        ss.put(shard, w, key, added);
    }

    /** Column mode: {@link #onRecordSliced} with the window's accumulators in a {@link ColumnTable}. */
    private void onRecordColumns(StreamRecord<K, V> r) {
        K key = r.key();
        if (!(key instanceof Long)) {
            leaveColumns();
            onRecordSliced(r);
            return;
        }
        TimeWindow w = hotSlice(r.timestamp());
        long lastStart = hotLastStart[0];
        if (lastStart + size - 1 <= watermark) {
            late(r, lastStart, lastStart + size);
            return;
        }
        int shard = sharded ? r.origin().partition() : 0;
        ColumnTable tb = table;
        if (w != tableWindow || shard != tableShard || tb == null) {
            Map<Integer, ColumnTable> byShard = tables.get(w);
            if (byShard == null) {
                byShard = new HashMap<>();
                tables.put(w, byShard);
                addLive(w); // purged with the window, even if its first record is dead-lettered
            }
            tb = byShard.get(shard);
            if (tb == null) {
                tb = new ColumnTable(columns.width(), tableHint);
                byShard.put(shard, tb);
                readAhead(tableHint >= READ_AHEAD_KEYS);
            }
            table = tb;
            tableWindow = w;
            tableShard = shard;
            tableShards = byShard;
        }
        long k = (Long) key;
        int o = tb.find(k);
        if (o < 0 && sharded && tableShards.size() > 1 && inOtherShard(tableShards, shard, k)) {
            throw keyInTwoShards(key, shard);
        }
        long[] rows = tb.rows();
        ColumnAggregate<V, A, R> c = columns;
        try {
            c.addTo(rows, (o < 0 ? ~o : o) + 1, r.value());
        } catch (Throwable t) {
            int at = (o < 0 ? ~o : o) + 1;
            if (addFailed(r, t, v -> {
                c.addTo(rows, at, v);
                return Boolean.TRUE;
            }) == null) {
                return; // dead-lettered: a new row stays free
            }
        }
        if (o < 0) {
            tb.insert(~o, k);
            columnEntries++;
            if (tb.size() == READ_AHEAD_KEYS) {
                readAhead(true);
            }
        }
    }

    /** Column mode: turns reading ahead on or off. */
    private void readAhead(boolean on) {
        if (on != readingAhead) {
            readingAhead = on;
            readAhead(on ? READ_AHEAD : 0);
        }
    }

    /**
     * Column mode: notes the key of a record bound for the table of the last record, whose row
     * {@link #readAheadDone()} reads. A checkpoint barrier (any element but a record or a
     * watermark) ends the batch.
     */
    @Override
    protected boolean onReadAhead(StreamElement<K, V> e) {
        if (e instanceof StreamRecord<K, V> r) {
            TimeWindow w = tableWindow;
            if (columns != null && table != null && r.key() instanceof Long k
                    && r.timestamp() >= w.start() && r.timestamp() < w.end()
                    && (!sharded || r.origin().partition() == tableShard)) {
                aheadKeys[aheadKeyCount++] = k;
            }
            return true;
        }
        return e instanceof Watermark;
    }

    /** Column mode: reads the noted keys' rows one after another, so that their cache misses overlap. */
    @Override
    protected void readAheadDone() {
        int n = aheadKeyCount;
        if (n != 0) {
            ColumnTable tb = table;
            long[] ks = aheadKeys;
            long sum = 0;
            for (int i = 0; i < n; i++) {
                sum += tb.touch(ks[i]);
            }
            touched += sum;
            aheadKeyCount = 0;
        }
    }

    /** Column mode: whether the table of another shard (of one window) holds the key. */
    private static boolean inOtherShard(Map<Integer, ColumnTable> byShard, int shard, long key) {
        for (Map.Entry<Integer, ColumnTable> e : byShard.entrySet()) {
            if (e.getKey() != shard && e.getValue().find(key) >= 0) {
                return true;
            }
        }
        return false;
    }

    /** Column mode: the shards with a table in the window, in ascending order. */
    private int[] tableShards(TimeWindow w) {
        Map<Integer, ColumnTable> byShard = tables.get(w);
        return byShard == null ? new int[0] : byShard.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /** Leaves column mode for good: every row goes into the keyed state as an accumulator object. */
    private void leaveColumns() {
        ColumnAggregate<V, A, R> c = columns;
        columns = null;
        readAhead(false);
        for (Map.Entry<TimeWindow, Map<Integer, ColumnTable>> e : tables.entrySet()) {
            for (Map.Entry<Integer, ColumnTable> se : e.getValue().entrySet()) {
                ColumnTable tb = se.getValue();
                for (int o = tb.nextRow(0); o >= 0; o = tb.nextRow(tb.after(o))) {
                    @SuppressWarnings("unchecked")
                    K key = (K) Long.valueOf(tb.keyAt(o));
                    sliceState.put(se.getKey(), e.getKey(), key, c.accumulatorOf(tb.rows(), o + 1));
                }
            }
        }
        tables.clear();
        table = null;
        tableWindow = null;
        tableShards = null;
        columnEntries = 0;
    }

    /** Column mode: drops the table of a purged window, remembering its size for the next one. */
    private void dropTable(TimeWindow s) {
        Map<Integer, ColumnTable> byShard = tables.remove(s);
        if (byShard != null) {
            int largest = 0;
            for (ColumnTable tb : byShard.values()) {
                columnEntries -= tb.size();
                largest = Math.max(largest, tb.size());
            }
            tableHint = Math.max(16, largest);
        }
        table = null;
        tableWindow = null;
        tableShards = null;
    }

    /**
     * Sliced: fires the windows whose end the watermark passed, then purges slices no open window needs.
     * Only windows that hold a live slice are listed, so a watermark that jumps far ahead costs
     * what the state holds, not one step per window length it jumped.
     */
    private void onWatermarkSliced(long previous, long current) {
        List<TimeWindow> toFire = new ArrayList<>();
        // windows with previous < end - 1 <= current, i.e. start in [previous - size + 2, current - size + 1]
        if (!live.isEmpty() && current >= Long.MIN_VALUE + (size - 1)) {
            long minSlice = live.first().start();
            long maxSlice = live.last().start();
            // below Long.MIN_VALUE a lower bound is Long.MIN_VALUE: no window starts before it
            long lower = EventTime.add(minSlice, 1 - size);
            if (previous != Long.MIN_VALUE) {
                lower = Math.max(lower, EventTime.add(previous, 2 - size));
            }
            long upper = Math.min(maxSlice, current - (size - 1));
            // every window start up to upper is the start of a window that ends by Long.MAX_VALUE: a live
            // slice starts at or after it, and the windows of a live slice fit
            long ws = alignUp(lower);
            while (ws <= upper) {
                TimeWindow next = live.ceiling(new TimeWindow(ws, ws + slice));
                if (next == null) {
                    break;
                }
                // next.start() >= ws: the differences below are exact as unsigned numbers
                if (Long.compareUnsigned(next.start() - ws, size) >= 0) {
                    // no live slice in the window at ws: go on at the first window that holds the next one
                    ws = Math.max(ws + slide, alignUp(next.start() - (size - 1)));
                    continue;
                }
                toFire.add(new TimeWindow(ws, ws + size));
                if (Long.compareUnsigned(upper - ws, slide) < 0) {
                    break;
                }
                ws += slide;
            }
        }
        List<TimeWindow> toPurge = new ArrayList<>();
        for (TimeWindow s : live) {
            long lastWindowStart = s.start() - EventTime.phase(s.start(), offset, slide);
            if (lastWindowStart + size - 1 > current) {
                break;
            }
            toPurge.add(s);
        }
        if (toFire.isEmpty() && toPurge.isEmpty()) {
            forwardWatermark(current);
            return;
        }
        setPending(new SlicedFiring(toFire, toPurge, current));
    }

    /** The smallest window start at or after {@code t} ({@code Long.MAX_VALUE} when there is none). */
    private long alignUp(long t) {
        return EventTime.add(t, Math.floorMod(offset - Math.floorMod(t, slide), slide));
    }

    @Override
    void onWatermark(long previous, long current) {
        if (slice != 0) {
            onWatermarkSliced(previous, current);
            return;
        }
        List<TimeWindow> toFire = new ArrayList<>();
        List<TimeWindow> toPurge = new ArrayList<>();
        for (TimeWindow w : live) {
            long maxTs = w.maxTimestamp();
            if (maxTs > current) {
                if (cleanupTime(maxTs) > current) {
                    break; // later windows end later; cleanup times are ordered like ends
                }
                continue;
            }
            if (maxTs > previous) {
                toFire.add(w);
            }
            if (cleanupTime(maxTs) <= current) {
                toPurge.add(w);
            }
        }
        if (toFire.isEmpty() && toPurge.isEmpty()) {
            forwardWatermark(current);
            metrics.stateEntries(state.size());
            return;
        }
        setPending(new Firing(toFire, toPurge, current));
    }

    @Override
    void onEarlyTimer() {
        List<TimeWindow> open = new ArrayList<>();
        for (TimeWindow w : live) {
            if (w.maxTimestamp() > watermark) {
                open.add(w);
            }
        }
        if (!open.isEmpty()) {
            setPending(new Firing(open, List.of(), Long.MIN_VALUE));
        }
    }

    /**
     * Rebuilds {@link #live} from the namespaces (windows, or slices when sliced) that hold state.
     * A window the uninterrupted operator also lists without state (its first record went to the
     * dead-letter output) fires and purges nothing, so leaving it out changes no output.
     */
    @Override
    void restoreState() {
        KeyedState<K, TimeWindow, ?> st = state != null ? state : sliceState;
        for (int shard : st.shards()) {
            for (TimeWindow w : st.namespaces(shard)) {
                live.add(w);
            }
        }
    }

    @Override
    void releaseState() {
        if (!durable) {
            (state != null ? state : sliceState).clear();
        }
        live.clear();
        lastLive = null;
        tables.clear();
        table = null;
        tableWindow = null;
        tableShards = null;
        columnEntries = 0;
    }

    /**
     * Fires {@code toFire} (ON_TIME, or EARLY for dirty states when this is an early timer, marked by
     * {@code watermarkToForward == Long.MIN_VALUE}), then purges {@code toPurge}, then forwards the
     * watermark. One key per step.
     */
    private final class Firing extends Work<StreamElement<K, WindowResult<K, R>>> {
        private final List<TimeWindow> toFire;
        private final List<TimeWindow> toPurge;
        private final long watermarkToForward;
        private final boolean early;
        private int windowIdx;
        private int purgeIdx;
        private int[] shards;
        private int shardIdx;
        private Iterator<K> keys;
        private boolean purging;

        Firing(List<TimeWindow> toFire, List<TimeWindow> toPurge, long watermarkToForward) {
            this.toFire = toFire;
            this.toPurge = toPurge;
            this.watermarkToForward = watermarkToForward;
            this.early = watermarkToForward == Long.MIN_VALUE;
        }

        @Override
        protected boolean step() {
            for (;;) {
                List<TimeWindow> windows = purging ? toPurge : toFire;
                int idx = purging ? purgeIdx : windowIdx;
                if (idx >= windows.size()) {
                    if (!purging) {
                        purging = true;
                        shards = null;
                        keys = null;
                        continue;
                    }
                    if (!early) {
                        forwardWatermark(watermarkToForward);
                    }
                    metrics.stateEntries(state.size());
                    return false;
                }
                TimeWindow w = windows.get(idx);
                if (shards == null) {
                    shards = state.shards();
                    shardIdx = 0;
                    keys = null;
                }
                if (keys == null) {
                    if (shardIdx >= shards.length) {
                        if (purging) {
                            for (int s : shards) {
                                state.removeNamespace(s, w);
                            }
                            live.remove(w);
                            lastLive = null;
                            purgeIdx++;
                        } else {
                            windowIdx++;
                        }
                        shards = null;
                        continue;
                    }
                    keys = state.keys(shards[shardIdx], w).iterator();
                }
                if (!keys.hasNext()) {
                    keys = null;
                    shardIdx++;
                    continue;
                }
                int shard = shards[shardIdx];
                K key = keys.next();
                WindowState<A> st = state.get(shard, w, key);
                if (st == null) {
                    continue;
                }
                if (purging) {
                    if (trigger.closingPane()) {
                        fire(shard, key, w.start(), w.end(), st, PaneInfo.Timing.LATE, true);
                        return true;
                    }
                    continue;
                }
                if (early) {
                    if (st.dirty) {
                        fire(shard, key, w.start(), w.end(), st, PaneInfo.Timing.EARLY, false);
                        state.put(shard, w, key, st);
                        return true;
                    }
                    continue;
                }
                if (trigger.isAccumulating() || st.dirty) {
                    boolean isFinal = !trigger.closingPane() && cleanupTime(w.maxTimestamp()) <= watermarkToForward;
                    fire(shard, key, w.start(), w.end(), st, PaneInfo.Timing.ON_TIME, isFinal);
                    state.put(shard, w, key, st);
                    return true;
                }
            }
        }
    }

    /**
     * Fires sliced windows (one key per step: the key's slice accumulators merged into a fresh one),
     * then purges {@code toPurge} slices and forwards the watermark.
     */
    private final class SlicedFiring extends Work<StreamElement<K, WindowResult<K, R>>> {
        private final List<TimeWindow> toFire;
        private final List<TimeWindow> toPurge;
        private final long watermarkToForward;
        private int windowIdx;
        private List<TimeWindow> slices;
        private int[] shards;
        private int shardIdx;
        private int sliceIdx;
        private Iterator<Map.Entry<K, A>> entries;
        /** Column mode: the table being fired and the offset of its next row to look at. */
        private ColumnTable firingTable;
        private int firingRow;
        private final Object[] aheadKeys = new Object[AHEAD];
        private final Object[] aheadResults = new Object[AHEAD];
        private int aheadNext;
        private int aheadSize;
        /** What the aggregate function threw for the entry after the computed ones, thrown when they are out. */
        private Throwable aheadFailure;

        SlicedFiring(List<TimeWindow> toFire, List<TimeWindow> toPurge, long watermarkToForward) {
            this.toFire = toFire;
            this.toPurge = toPurge;
            this.watermarkToForward = watermarkToForward;
        }

        @Override
        protected boolean step() {
            for (;;) {
                if (windowIdx >= toFire.size()) {
                    for (TimeWindow s : toPurge) {
                        for (int sh : sliceState.shards()) {
                            sliceState.removeNamespace(sh, s);
                        }
                        if (columns != null) {
                            dropTable(s);
                        }
                        live.remove(s);
                        lastLive = null;
                    }
                    forwardWatermark(watermarkToForward);
                    metrics.stateEntries(sliceState.size() + columnEntries);
                    return false;
                }
                TimeWindow w = toFire.get(windowIdx);
                if (slices == null) {
                    // the window's first slice to its last (no slice after the window: it may end past Long.MAX_VALUE)
                    slices = new ArrayList<>(live.subSet(new TimeWindow(w.start(), w.start() + slice), true,
                            new TimeWindow(w.end() - slice, w.end()), true));
                    shards = columns != null ? tableShards(w) : sliceState.shards();
                    shardIdx = 0;
                    sliceIdx = 0;
                }
                if (shardIdx >= shards.length) {
                    windowIdx++;
                    slices = null;
                    continue;
                }
                int shard = shards[shardIdx];
                if (size == slice && columns != null) {
                    if (emitColumns(shard, w)) {
                        return true;
                    }
                    shardIdx++;
                    continue;
                }
                if (size == slice) {
                    // tumbling: the window's one slice is its accumulator (purged right after), so
                    // its entries are the results, without a lookup per key
                    if (entries == null) {
                        if (sliceIdx >= slices.size()) {
                            shardIdx++;
                            sliceIdx = 0;
                            continue;
                        }
                        entries = sliceState.entries(shard, slices.get(sliceIdx));
                    }
                    if (emitAhead(shard, w)) {
                        return true;
                    }
                    entries = null;
                    sliceIdx++;
                    continue;
                }
                // sliding: the window's slices are merged, in slice order, into a scratch map (each
                // slice read in its own order, one lookup per entry); its entries are the results
                if (entries == null) {
                    entries = mergeSlices(shard, w, slices);
                }
                if (emitAhead(shard, w)) {
                    return true;
                }
                entries = null;
                mergeScratch.removeNamespace(0, w);
                shardIdx++;
                continue;
            }
        }

        /**
         * Column mode, tumbling: emits the result of the next row of the window's table.
         * @return {@code false} when the rows are exhausted
         */
        private boolean emitColumns(int shard, TimeWindow w) {
            ColumnTable tb = firingTable;
            if (tb == null) {
                tb = tables.get(w).get(shard);
                firingTable = tb;
                firingRow = 0;
            }
            int o = tb.nextRow(firingRow);
            if (o < 0) {
                firingTable = null;
                return false;
            }
            firingRow = tb.after(o);
            @SuppressWarnings("unchecked")
            K key = (K) Long.valueOf(tb.keyAt(o));
            emitSliced(shard, key, w, columns.resultOf(tb.rows(), o + 1));
            return true;
        }

        /**
         * Emits the next result of {@link #entries}: results are computed {@link #AHEAD} entries at
         * a time, so the reads of their accumulators, scattered over the heap in a large map, overlap
         * instead of waiting one after another (the state does not change while a firing is pending).
         * If the aggregate function throws, the results computed before it are emitted first, and
         * the failure is thrown where emitting one at a time would have thrown it.
         * @return {@code false} when the entries are exhausted
         */
        private boolean emitAhead(int shard, TimeWindow w) {
            if (aheadNext == aheadSize) {
                Throwable failure = aheadFailure;
                if (failure != null) {
                    aheadFailure = null;
                    throw rethrow(failure);
                }
                int n = 0;
                Object[] ks = aheadKeys;
                Object[] rs = aheadResults;
                Iterator<Map.Entry<K, A>> it = entries;
                while (n < AHEAD && it.hasNext()) {
                    Map.Entry<K, A> e = it.next();
                    ks[n] = e.getKey();
                    try {
                        rs[n] = fn.result(e.getValue());
                    } catch (Throwable t) {
                        Exceptions.throwIfFatal(t);
                        if (n == 0) {
                            throw rethrow(t);
                        }
                        ks[n] = null;
                        aheadFailure = t;
                        break;
                    }
                    n++;
                }
                aheadNext = 0;
                aheadSize = n;
                if (n == 0) {
                    return false;
                }
            }
            int i = aheadNext++;
            @SuppressWarnings("unchecked")
            K key = (K) aheadKeys[i];
            @SuppressWarnings("unchecked")
            R value = (R) aheadResults[i];
            aheadKeys[i] = null;
            aheadResults[i] = null;
            emitSliced(shard, key, w, value);
            return true;
        }
    }

    /** {@code t} itself when unchecked (an {@link Error} is thrown here), else wrapped. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return Exceptions.propagate(t);
    }

    /** The merged accumulators of one shard's keys in the window's slices, merged in slice order. */
    private Iterator<Map.Entry<K, A>> mergeSlices(int shard, TimeWindow w, List<TimeWindow> slices) {
        KeyedState<K, TimeWindow, A> m = mergeScratch;
        for (TimeWindow s : slices) {
            for (Iterator<Map.Entry<K, A>> it = sliceState.entries(shard, s); it.hasNext(); ) {
                Map.Entry<K, A> e = it.next();
                K key = e.getKey();
                A acc = m.get(0, w, key);
                // a fresh accumulator takes the first slice's: merge may change its first argument
                A merged = fn.merge(acc == null ? newAccumulator() : acc, e.getValue());
                if (merged != acc) { // the scratch map is on the heap: one merged in place is stored already
                    m.put(0, w, key, merged);
                }
            }
        }
        return m.entries(0, w);
    }

    private void emitSliced(int shard, K key, TimeWindow w, R value) {
        emit(StreamRecord.of(key, new WindowResult<>(key, w.start(), w.end(), value, ON_TIME_ONLY),
                w.end() - 1, origin(shard)));
        metrics.paneFired();
    }
}
