package io.streamflow.reactive.window;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import reactor.core.CoreSubscriber;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Session windows: per key, a chain of non-touching sessions sorted by start (the state value is
 * the first; each links to the next, so a lookup reaches a key's first session in one step). A record at {@code t} opens
 * {@code [t, t + gap)} and merges with every session it overlaps or touches; accumulators are
 * combined with {@link AggregateFunction#merge}. Timers (firing at a session's max timestamp and
 * purging at max timestamp + allowed lateness) are kept in a time-ordered index that is checked
 * lazily: an entry left behind by a merge finds nothing to do.
 * <p>
 * Timers are armed per session and lazily, so that a record that only extends a session costs no
 * timer: every session has an entry at or before the time it next falls due (its max timestamp
 * before it fired, its cleanup time after), noted in the session as {@code timerAt}. A new
 * session, a fired one that a record reopens, or one whose entry came due is armed at its due
 * time; extending or merging an open session only moves its due time later, so its entry stays
 * valid. Since {@code timerAt} is part of the session's state, a restored operator arms exactly
 * as the uninterrupted one.
 * <p>
 * Checkpoints: the sessions are state values put after every change. The timer index cannot be
 * derived from them: an entry left behind by a merge still makes its key fire at that earlier
 * time, which decides the order of the panes of one watermark. So at a barrier the timer lists
 * that changed since the previous barrier are written to the keyed state {@code "timers"}
 * ({@code (shard, time, key) -> position of the key's first entry in the time's list}; a later
 * entry of the same key at the same time finds nothing to do), and the lists of times that fired
 * are removed from it. On start the index is rebuilt from it in the same order.
 */
final class SessionWindowSubscriber<K, V, A, R> extends AbstractWindowSubscriber<K, V, A, R> {

    private static final String NS = "sessions";
    /** Entries of the cache of recently armed due times (a power of two). */
    private static final int RECENT = 256;
    /** Keys whose sessions a firing looks up ahead of processing them. */
    private static final int AHEAD = 16;

    private final long gap;
    /** Per key, the first of its sessions; each links to the next by start. */
    private final KeyedState<K, String, WindowState<A>> state;
    private final boolean sharded;
    /** Whether a firing looks keys up ahead ({@link #touchAhead}): only where a lookup is cheap. */
    private final boolean touchesAhead;
    /** Keeps the reads of {@link #touchAhead} from being optimised away. */
    private long touched;
    private final TreeMap<Long, Refs<K>> timers = new TreeMap<>();
    /**
     * The lists of recently armed due times, direct-mapped by time: arming at a time seen lately
     * skips the search of {@link #timers} and the boxing of the time. A list leaves it when its time
     * fires or the state is released.
     */
    private final long[] recentTimes = new long[RECENT];
    @SuppressWarnings("unchecked")
    private final Refs<K>[] recentRefs = new Refs[RECENT];
    /** The timer index as of the last barrier: {@code (shard, time, key) -> position in the time's list}. */
    private final KeyedState<K, Long, Long> timerState;
    /** Times whose list got entries since the last barrier; always a subset of the keys of {@link #timers}. */
    private final Set<Long> changedTimes = new HashSet<>();
    /** Times that have entries in {@link #timerState}. */
    private final TreeSet<Long> persistedTimes = new TreeSet<>();

    record KeyRef<K>(int shard, K key) {
    }

    /** The keys due at one time, in arming order: parallel arrays, no object per entry. */
    static final class Refs<K> {
        private int[] shards = new int[2];
        private Object[] keys = new Object[2];
        private int size;

        void add(int shard, Object key) {
            if (size == keys.length) {
                shards = java.util.Arrays.copyOf(shards, size * 2);
                keys = java.util.Arrays.copyOf(keys, size * 2);
            }
            shards[size] = shard;
            keys[size] = key;
            size++;
        }

        int size() {
            return size;
        }

        int shard(int i) {
            return shards[i];
        }

        @SuppressWarnings("unchecked")
        K key(int i) {
            return (K) keys[i];
        }
    }

    SessionWindowSubscriber(CoreSubscriber<? super StreamElement<K, WindowResult<K, R>>> actual,
                            WindowOperator<K, V> spec, long gap, AggregateFunction<V, A, R> fn) {
        super(actual, spec, fn);
        this.gap = gap;
        this.state = backend.keyedState(name, NS);
        this.timerState = backend.keyedState(name, "timers");
        this.sharded = settings.shardBySourcePartition();
        this.touchesAhead = state.storesReferences();
    }

    private void timer(long time, int shard, K key) {
        int slot = (int) time & (RECENT - 1);
        Refs<K> refs = recentRefs[slot];
        if (refs == null || recentTimes[slot] != time) {
            refs = timers.computeIfAbsent(time, t -> new Refs<>());
            recentRefs[slot] = refs;
            recentTimes[slot] = time;
        }
        refs.add(shard, key);
        if (durable) {
            changedTimes.add(time); // only a durable backend's checkpoint stores the index
        }
    }

    /**
     * Gives the session an entry at the time it next falls due after {@code w} (its max timestamp
     * before it fired, else its cleanup time, only with allowed lateness) unless its pending entry
     * is at or before that already.
     */
    private void arm(WindowState<A> s, int shard, K key, long w) {
        long maxTs = s.maxTimestamp();
        long due;
        if (maxTs > w) {
            due = maxTs;
        } else if (lateness > 0 && cleanupTime(maxTs) > w) {
            due = cleanupTime(maxTs);
        } else {
            return;
        }
        if (s.timerAt <= w || s.timerAt > due) {
            timer(due, shard, key);
            s.timerAt = due;
        }
    }

    @Override
    void onRecord(StreamRecord<K, V> r) {
        long t = r.timestamp();
        int shard = sharded ? r.origin().partition() : 0;
        K key = r.key();
        long start = t;
        long end = t + gap; // fits: the operator placed t (at most Long.MAX_VALUE - gap)
        WindowState<A> head = state.get(shard, NS, key);
        if (head == null) {
            if (cleanupTime(end - 1) <= watermark) {
                late(r, start, end);
                return;
            }
            if (sharded && state.existsInOtherShard(shard, NS, key)) {
                throw keyInTwoShards(key, shard);
            }
        }
        // sessions are sorted by start and do not touch each other: find the run that touches [start, end)
        WindowState<A> beforeFirst = null;
        WindowState<A> first = null;
        WindowState<A> last = null;
        for (WindowState<A> s = head, p = null; s != null; p = s, s = s.next) {
            if (s.start <= end && start <= s.end) {
                if (first == null) {
                    first = s;
                    beforeFirst = p;
                }
                last = s;
            } else if (s.start > end) {
                break;
            }
        }
        WindowState<A> target;
        WindowState<A> beforeTarget;
        if (first == null) {
            if (cleanupTime(end - 1) <= watermark) {
                late(r, start, end);
                return;
            }
            target = new WindowState<>(newAccumulator());
            target.start = start;
            target.end = end;
            // a session created behind the watermark (within the allowed lateness) fires LATE panes, never ON_TIME
            target.onTimeFired = end - 1 <= watermark;
            // after every session that starts earlier
            beforeTarget = null;
            for (WindowState<A> s = head; s != null && s.start < start; s = s.next) {
                beforeTarget = s;
            }
            if (beforeTarget == null) {
                target.next = head;
                head = target;
            } else {
                target.next = beforeTarget.next;
                beforeTarget.next = target;
            }
        } else {
            target = first;
            beforeTarget = beforeFirst;
            long newStart = Math.min(start, target.start);
            long newEnd = Math.max(end, target.end);
            if (last != first) {
                WindowState<A> other = first;
                do {
                    other = other.next;
                    target.acc = fn.merge(target.acc, other.acc);
                    target.panes = Math.max(target.panes, other.panes);
                    target.sinceFire += other.sinceFire;
                    target.dirty |= other.dirty;
                    newEnd = Math.max(newEnd, other.end);
                } while (other != last);
                target.next = last.next;
            }
            // the merged session fires ON_TIME (again) only if the watermark has not passed its new end
            target.onTimeFired = newEnd - 1 <= watermark;
            target.start = newStart;
            target.end = newEnd;
        }
        if (!add(target, r)) {
            if (target.sinceFire == 0 && !target.dirty && target.panes == 0) {
                if (beforeTarget == null) {
                    head = target.next;
                } else {
                    beforeTarget.next = target.next;
                }
            }
            if (head == null) {
                state.remove(shard, NS, key);
            } else {
                state.put(shard, NS, key, head);
            }
            return;
        }
        arm(target, shard, key, watermark);
        afterAdd(shard, key, target.start, target.end, target);
        state.put(shard, NS, key, head); // after afterAdd: a LATE or EARLY pane updates the session too
    }

    @Override
    void onWatermark(long previous, long current) {
        setPending(new Work<>() {
            private Refs<K> refs;
            private int next;
            /** The entries before this one have been touched ahead. */
            private int touchedTo;

            @Override
            protected boolean step() {
                for (;;) {
                    if (refs != null && next < refs.size()) {
                        int i = next++;
                        if (i >= touchedTo && touchesAhead) {
                            touchedTo = touchAhead(refs, i);
                        }
                        if (processKey(refs.shard(i), refs.key(i), current)) {
                            return true;
                        }
                        continue;
                    }
                    Map.Entry<Long, Refs<K>> e = timers.firstEntry();
                    if (e == null || e.getKey() > current) {
                        forwardWatermark(current);
                        metrics.stateEntries(state.size());
                        return false;
                    }
                    timers.pollFirstEntry();
                    long t = e.getKey();
                    int slot = (int) t & (RECENT - 1);
                    if (recentRefs[slot] == e.getValue()) {
                        recentRefs[slot] = null; // fired: later arms at this time start a new list
                    }
                    if (durable) {
                        changedTimes.remove(t);
                    }
                    refs = e.getValue();
                    next = 0;
                    touchedTo = 0;
                }
            }
        });
    }

    /**
     * Looks up the sessions of the {@link #AHEAD} keys from {@code from} on and reads each first
     * session's bounds, so that with a large key set their cache misses overlap instead of coming
     * one after another inside {@link #processKey}, which looks them up again (a key can be listed
     * twice, and processing one key may replace its first session, so nothing read here is used).
     * Only for a backend that stores references, where a lookup is a hash probe.
     * @return the index after the last entry touched
     */
    private int touchAhead(Refs<K> refs, int from) {
        int to = Math.min(refs.size(), from + AHEAD);
        long sum = 0;
        for (int j = from; j < to; j++) {
            WindowState<A> head = state.get(refs.shard(j), NS, refs.key(j));
            if (head != null) {
                sum += head.end;
            }
        }
        touched += sum;
        return to;
    }

    /** Fires due sessions of one key and purges expired ones. @return whether anything was emitted */
    private boolean processKey(int shard, K key, long w) {
        WindowState<A> head = state.get(shard, NS, key);
        if (head == null) {
            return false;
        }
        boolean emitted = false;
        for (WindowState<A> s = head, p = null; s != null; s = s.next) {
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
                if (p == null) {
                    head = s.next;
                } else {
                    p.next = s.next;
                }
            } else {
                arm(s, shard, key, w); // its entry may be the one that came due
                p = s;
            }
        }
        if (head == null) {
            state.remove(shard, NS, key);
        } else {
            state.put(shard, NS, key, head);
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
                    WindowState<A> head = state.get(ref.shard(), NS, ref.key());
                    if (head == null) {
                        continue;
                    }
                    boolean emitted = false;
                    for (WindowState<A> s = head; s != null; s = s.next) {
                        if (s.dirty && s.maxTimestamp() > watermark) {
                            fire(ref.shard(), ref.key(), s.start, s.end, s, PaneInfo.Timing.EARLY, false);
                            emitted = true;
                        }
                    }
                    if (emitted) {
                        state.put(ref.shard(), NS, ref.key(), head);
                        return true;
                    }
                }
                return false;
            }
        });
    }

    /**
     * Writes the timer index to {@link #timerState}: removes the lists of times that fired since the
     * last barrier (they are at or behind the watermark, and every remaining timer is after it) and
     * writes the lists that got entries.
     */
    @Override
    void snapshotState() {
        if (!durable) {
            return; // the state of another backend is never restored: the index need not be written
        }
        for (Iterator<Long> it = persistedTimes.iterator(); it.hasNext(); ) {
            long t = it.next();
            if (t > watermark) {
                break;
            }
            if (!timers.containsKey(t)) {
                for (int shard : timerState.shards()) {
                    timerState.removeNamespace(shard, t);
                }
                it.remove();
            }
        }
        for (long t : changedTimes) {
            Refs<K> refs = timers.get(t);
            // backwards, so that a key listed twice keeps the position of its first entry
            for (int i = refs.size() - 1; i >= 0; i--) {
                timerState.put(refs.shard(i), t, refs.key(i), (long) i);
            }
            persistedTimes.add(t);
        }
        changedTimes.clear();
    }

    /** Rebuilds the timer index from {@link #timerState}, each time's keys in their original order. */
    @Override
    void restoreState() {
        TreeMap<Long, TreeMap<Long, KeyRef<K>>> byTime = new TreeMap<>();
        for (int shard : timerState.shards()) {
            for (Long t : timerState.namespaces(shard)) {
                TreeMap<Long, KeyRef<K>> refs = byTime.computeIfAbsent(t, x -> new TreeMap<>());
                timerState.forEach(shard, t, (key, position) -> refs.put(position, new KeyRef<>(shard, key)));
            }
        }
        for (Map.Entry<Long, TreeMap<Long, KeyRef<K>>> e : byTime.entrySet()) {
            Refs<K> refs = new Refs<>();
            for (KeyRef<K> ref : e.getValue().values()) {
                refs.add(ref.shard(), ref.key());
            }
            timers.put(e.getKey(), refs);
            persistedTimes.add(e.getKey());
        }
    }

    @Override
    void releaseState() {
        if (!durable) {
            state.clear();
            timerState.clear();
        }
        timers.clear();
        java.util.Arrays.fill(recentRefs, null);
        changedTimes.clear();
        persistedTimes.clear();
    }
}
