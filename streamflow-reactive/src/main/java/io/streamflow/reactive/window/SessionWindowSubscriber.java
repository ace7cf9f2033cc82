package io.streamflow.reactive.window;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import reactor.core.CoreSubscriber;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Session windows: per key, a sorted list of non-touching sessions. A record at {@code t} opens
 * {@code [t, t + gap)} and merges with every session it overlaps or touches; accumulators are
 * combined with {@link AggregateFunction#merge}. Timers (firing at a session's max timestamp and
 * purging at max timestamp + allowed lateness) are kept in a time-ordered index that is checked
 * lazily: an entry left behind by a merge finds nothing to do.
 */
final class SessionWindowSubscriber<K, V, A, R> extends AbstractWindowSubscriber<K, V, A, R> {

    private static final String NS = "sessions";

    private final long gap;
    private final KeyedState<K, String, List<WindowState<A>>> state;
    private final boolean sharded;
    private final TreeMap<Long, List<KeyRef<K>>> timers = new TreeMap<>();

    record KeyRef<K>(int shard, K key) {
    }

    SessionWindowSubscriber(CoreSubscriber<? super StreamElement<K, WindowResult<K, R>>> actual,
                            WindowOperator<K, V> spec, long gap, AggregateFunction<V, A, R> fn) {
        super(actual, spec, fn);
        this.gap = gap;
        this.state = settings.stateBackendOrHeap().keyedState(name, NS);
        this.sharded = settings.shardBySourcePartition();
    }

    private void timer(long time, int shard, K key) {
        timers.computeIfAbsent(time, t -> new ArrayList<>(2)).add(new KeyRef<>(shard, key));
    }

    @Override
    void onRecord(StreamRecord<K, V> r) {
        long t = r.timestamp();
        int shard = sharded ? r.origin().partition() : 0;
        K key = r.key();
        long start = t;
        long end = saturatedAdd(t, gap);
        List<WindowState<A>> sessions = state.get(shard, NS, key);
        if (sessions == null) {
            if (cleanupTime(end - 1) <= watermark) {
                late(r, start, end);
                return;
            }
            if (sharded && state.existsInOtherShard(shard, NS, key)) {
                throw keyInTwoShards(key, shard);
            }
            sessions = new ArrayList<>(2);
        }
        // sessions are sorted by start and do not touch each other: find the run that touches [start, end)
        int first = -1;
        int last = -1;
        for (int i = 0; i < sessions.size(); i++) {
            WindowState<A> s = sessions.get(i);
            if (s.start <= end && start <= s.end) {
                if (first < 0) {
                    first = i;
                }
                last = i;
            } else if (s.start > end) {
                break;
            }
        }
        WindowState<A> target;
        if (first < 0) {
            if (cleanupTime(end - 1) <= watermark) {
                late(r, start, end);
                return;
            }
            target = new WindowState<>(fn.createAccumulator());
            target.start = start;
            target.end = end;
            // a session created behind the watermark (within the allowed lateness) fires LATE panes, never ON_TIME
            target.onTimeFired = end - 1 <= watermark;
            int pos = 0;
            while (pos < sessions.size() && sessions.get(pos).start < start) {
                pos++;
            }
            sessions.add(pos, target);
        } else {
            target = sessions.get(first);
            long newStart = Math.min(start, target.start);
            long newEnd = Math.max(end, target.end);
            for (int i = first + 1; i <= last; i++) {
                WindowState<A> other = sessions.get(i);
                target.acc = fn.merge(target.acc, other.acc);
                target.panes = Math.max(target.panes, other.panes);
                target.sinceFire += other.sinceFire;
                target.dirty |= other.dirty;
                newEnd = Math.max(newEnd, other.end);
            }
            for (int i = last; i > first; i--) {
                sessions.remove(i);
            }
            // the merged session fires ON_TIME (again) only if the watermark has not passed its new end
            target.onTimeFired = newEnd - 1 <= watermark;
            target.start = newStart;
            target.end = newEnd;
        }
        if (!add(target, r)) {
            if (target.sinceFire == 0 && !target.dirty && target.panes == 0) {
                sessions.remove(target);
            }
            if (sessions.isEmpty()) {
                state.remove(shard, NS, key);
            } else {
                state.put(shard, NS, key, sessions);
            }
            return;
        }
        long maxTs = target.maxTimestamp();
        if (maxTs > watermark) {
            timer(maxTs, shard, key);
        }
        if (lateness > 0) {
            timer(cleanupTime(maxTs), shard, key);
        }
        state.put(shard, NS, key, sessions);
        afterAdd(shard, key, target.start, target.end, target);
    }

    @Override
    void onWatermark(long previous, long current) {
        setPending(new Work<>() {
            private Iterator<KeyRef<K>> refs;

            @Override
            protected boolean step() {
                for (;;) {
                    if (refs != null && refs.hasNext()) {
                        KeyRef<K> ref = refs.next();
                        if (processKey(ref.shard(), ref.key(), current)) {
                            return true;
                        }
                        continue;
                    }
                    Map.Entry<Long, List<KeyRef<K>>> e = timers.firstEntry();
                    if (e == null || e.getKey() > current) {
                        forwardWatermark(current);
                        metrics.stateEntries(state.size());
                        return false;
                    }
                    timers.pollFirstEntry();
                    refs = e.getValue().iterator();
                }
            }
        });
    }

    /** Fires due sessions of one key and purges expired ones. @return whether anything was emitted */
    private boolean processKey(int shard, K key, long w) {
        List<WindowState<A>> sessions = state.get(shard, NS, key);
        if (sessions == null) {
            return false;
        }
        boolean emitted = false;
        for (Iterator<WindowState<A>> it = sessions.iterator(); it.hasNext(); ) {
            WindowState<A> s = it.next();
            long maxTs = s.maxTimestamp();
            boolean purge = cleanupTime(maxTs) <= w;
            if (maxTs <= w && !s.onTimeFired) {
                s.onTimeFired = true;
                if (trigger.isAccumulating() || s.dirty) {
                    fire(shard, key, s.start, s.end, s, PaneInfo.Timing.ON_TIME, purge && !trigger.closingPane());
                    emitted = true;
                }
            }
            if (purge) {
                if (trigger.closingPane()) {
                    fire(shard, key, s.start, s.end, s, PaneInfo.Timing.LATE, true);
                    emitted = true;
                }
                it.remove();
            }
        }
        if (sessions.isEmpty()) {
            state.remove(shard, NS, key);
        } else {
            state.put(shard, NS, key, sessions);
        }
        return emitted;
    }

    @Override
    void onEarlyTimer() {
        List<KeyRef<K>> refs = new ArrayList<>();
        for (int shard : state.shards()) {
            for (K key : state.keys(shard, NS)) {
                refs.add(new KeyRef<>(shard, key));
            }
        }
        if (refs.isEmpty()) {
            return;
        }
        Iterator<KeyRef<K>> it = refs.iterator();
        setPending(new Work<>() {
            @Override
            protected boolean step() {
                while (it.hasNext()) {
                    KeyRef<K> ref = it.next();
                    List<WindowState<A>> sessions = state.get(ref.shard(), NS, ref.key());
                    if (sessions == null) {
                        continue;
                    }
                    boolean emitted = false;
                    for (WindowState<A> s : sessions) {
                        if (s.dirty && s.maxTimestamp() > watermark) {
                            fire(ref.shard(), ref.key(), s.start, s.end, s, PaneInfo.Timing.EARLY, false);
                            emitted = true;
                        }
                    }
                    if (emitted) {
                        state.put(ref.shard(), NS, ref.key(), sessions);
                        return true;
                    }
                }
                return false;
            }
        });
    }

    @Override
    void releaseState() {
        state.clear();
        timers.clear();
    }
}
