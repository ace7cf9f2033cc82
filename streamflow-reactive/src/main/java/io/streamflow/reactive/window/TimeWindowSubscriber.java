package io.streamflow.reactive.window;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import reactor.core.CoreSubscriber;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;

/**
 * Fixed (non-merging) event-time windows: tumbling, sliding, calendar, global. State is laid out
 * window first (namespace = window), so a watermark fires and purges whole windows, and
 * consecutive records of the same window cost one hash lookup.
 */
final class TimeWindowSubscriber<K, V, A, R> extends AbstractWindowSubscriber<K, V, A, R> {

    private final TimeWindowAssigner assigner;
    private final KeyedState<K, TimeWindow, WindowState<A>> state;
    private final boolean sharded;
    /** Every window that holds state, in firing order (by end). */
    private final TreeSet<TimeWindow> live = new TreeSet<>();
    private final long[] starts;
    private final long[] ends;
    private final TimeWindow[] recent;
    private int recentNext;

    TimeWindowSubscriber(CoreSubscriber<? super StreamElement<K, WindowResult<K, R>>> actual,
                         WindowOperator<K, V> spec, TimeWindowAssigner assigner, AggregateFunction<V, A, R> fn) {
        super(actual, spec, fn);
        this.assigner = assigner;
        this.state = settings.stateBackendOrHeap().keyedState(name, "windows");
        this.sharded = settings.shardBySourcePartition();
        int n = assigner.maxWindowsPerRecord();
        this.starts = new long[n];
        this.ends = new long[n];
        this.recent = new TimeWindow[Math.max(4, 2 * n)];
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
                st = new WindowState<>(fn.createAccumulator());
                live.add(w);
            }
            if (!add(st, r)) {
                return;
            }
            state.put(shard, w, key, st);
            afterAdd(shard, key, start, end, st);
        }
        if (!accepted) {
            late(r, lastStart, lastEnd);
        }
    }

    @Override
    void onWatermark(long previous, long current) {
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

    @Override
    void releaseState() {
        state.clear();
        live.clear();
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
}
