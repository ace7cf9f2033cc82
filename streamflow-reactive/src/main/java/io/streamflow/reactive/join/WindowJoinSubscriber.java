package io.streamflow.reactive.join;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.window.TimeWindow;
import io.streamflow.reactive.window.TimeWindowAssigner;
import reactor.core.CoreSubscriber;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * Window join: records of both inputs with the same key in the same window are joined when the
 * watermark passes the window's end; results carry the window's max timestamp. State per input is
 * {@code (shard, window, key) -> rows}; a window's rows are removed once it fired, and a record
 * whose windows have all fired goes to the late output. A record whose windows would not fit in a
 * {@code long} (a timestamp within a window size of the ends) goes to the dead-letter output or
 * fails the pipeline, as the error policy says.
 * <p>
 * Checkpoints: rows are put after every change, so aligned barriers only write the scalars of
 * {@link TwoInputSubscriber}; on start the index of live windows is rebuilt from the namespaces of
 * both inputs' state.
 */
final class WindowJoinSubscriber<K, L, R, O> extends TwoInputSubscriber<K, L, R, O> {

    private final TimeWindowAssigner assigner;
    private final JoinType type;
    private final KeyedState<K, TimeWindow, Rows<L>> left;
    private final KeyedState<K, TimeWindow, Rows<R>> right;
    /** Windows holding rows of either input, by end. */
    private final TreeSet<TimeWindow> live = new TreeSet<>();

    WindowJoinSubscriber(CoreSubscriber<? super StreamElement<K, O>> actual, OperatorSettings settings,
                         BiFunction<? super L, ? super R, ? extends O> joiner, TimeWindowAssigner assigner,
                         JoinType type) {
        super(actual, settings, joiner);
        this.assigner = assigner;
        this.type = type;
        this.left = backend.keyedState(name, "left");
        this.right = backend.keyedState(name, "right");
    }

    @Override
    void onLeft(StreamRecord<K, L> r, int shard) {
        add(r, shard, left, right, true);
    }

    @Override
    void onRight(StreamRecord<K, R> r, int shard) {
        add(r, shard, right, left, false);
    }

    private <V> void add(StreamRecord<K, V> r, int shard, KeyedState<K, TimeWindow, Rows<V>> own,
                         KeyedState<K, TimeWindow, ?> other, boolean isLeft) {
        List<TimeWindow> windows;
        try {
            windows = assigner.windowsOf(r.timestamp());
        } catch (IllegalArgumentException noWindow) {
            // its windows would not fit in a long (the one thing windowsOf rejects, the base class checked
            // that the timestamp is an event time)
            unusableTimestamp(r, noWindow.getMessage());
            return;
        }
        TimeWindow lastClosed = null;
        boolean accepted = false;
        K key = r.key();
        for (TimeWindow w : windows) {
            if (w.maxTimestamp() <= watermark) {
                lastClosed = w;
                continue;
            }
            accepted = true;
            Rows<V> rows = own.get(shard, w, key);
            if (rows == null) {
                if (sharded && (own.existsInOtherShard(shard, w, key) || other.existsInOtherShard(shard, w, key))) {
                    throw notCoPartitioned(key, shard);
                }
                rows = new Rows<>();
                live.add(w);
            }
            rows.add(r.value(), r.timestamp());
            own.put(shard, w, key, rows);
        }
        if (!accepted) {
            late(r, isLeft, lastClosed == null ? r.timestamp() : lastClosed.start(),
                    lastClosed == null ? r.timestamp() + 1 : lastClosed.end());
        }
    }

    @Override
    Work<StreamElement<K, O>> onWatermark(long previous, long current) {
        if (live.isEmpty() || live.first().maxTimestamp() > current) {
            return null;
        }
        ArrayDeque<TimeWindow> due = new ArrayDeque<>();
        while (!live.isEmpty() && live.first().maxTimestamp() <= current) {
            due.add(live.pollFirst());
        }
        return new Firing(due);
    }

    /** Joins the due windows one key at a time, then removes their rows. */
    private final class Firing extends Work<StreamElement<K, O>> {
        private final ArrayDeque<TimeWindow> windows;
        private TimeWindow window;
        private int[] shards;
        private int shardIndex;
        private Iterator<K> keys;

        Firing(ArrayDeque<TimeWindow> windows) {
            this.windows = windows;
        }

        @Override
        protected boolean step() {
            for (;;) {
                if (keys != null && keys.hasNext()) {
                    joinKey(window, shards[shardIndex], keys.next());
                    return true;
                }
                if (keys != null) {
                    shardIndex++;
                    keys = null;
                }
                if (window != null && shardIndex < shards.length) {
                    int shard = shards[shardIndex];
                    Set<K> union = new LinkedHashSet<>();
                    left.keys(shard, window).forEach(union::add);
                    right.keys(shard, window).forEach(union::add);
                    keys = union.iterator();
                    continue;
                }
                if (window != null) {
                    for (int shard : shards) {
                        left.removeNamespace(shard, window);
                        right.removeNamespace(shard, window);
                    }
                    window = null;
                }
                if (windows.isEmpty()) {
                    return false;
                }
                window = windows.poll();
                shards = shardsOf();
                shardIndex = 0;
            }
        }
    }

    private int[] shardsOf() {
        TreeSet<Integer> all = new TreeSet<>();
        for (int s : left.shards()) {
            all.add(s);
        }
        for (int s : right.shards()) {
            all.add(s);
        }
        return all.stream().mapToInt(Integer::intValue).toArray();
    }

    private void joinKey(TimeWindow w, int shard, K key) {
        Rows<L> ls = left.get(shard, w, key);
        Rows<R> rs = right.get(shard, w, key);
        long ts = w.maxTimestamp();
        if (ls != null && rs != null) {
            for (int i = 0; i < ls.size(); i++) {
                for (int j = 0; j < rs.size(); j++) {
                    emitJoined(key, ls.value(i), rs.value(j), ts, shard);
                }
            }
        } else if (ls != null) {
            if (type == JoinType.INNER) {
                for (int i = 0; i < ls.size(); i++) {
                    metrics.unmatched();
                }
            } else {
                for (int i = 0; i < ls.size(); i++) {
                    emitJoined(key, ls.value(i), null, ts, shard);
                }
            }
        } else if (rs != null) {
            if (type == JoinType.FULL_OUTER) {
                for (int j = 0; j < rs.size(); j++) {
                    emitJoined(key, null, rs.value(j), ts, shard);
                }
            } else {
                for (int j = 0; j < rs.size(); j++) {
                    metrics.unmatched();
                }
            }
        }
    }

    private void emitJoined(K key, L l, R r, long ts, int shard) {
        O out = join(l, r, null);
        if (out != null) {
            result(key, out, ts, shard);
        }
    }

    @Override
    long stateSize() {
        return left.size() + right.size();
    }

    /** Rebuilds {@link #live}: every window that holds rows of either input. */
    @Override
    void restoreState() {
        for (KeyedState<K, TimeWindow, ?> state : List.of(left, right)) {
            for (int shard : state.shards()) {
                for (TimeWindow w : state.namespaces(shard)) {
                    live.add(w);
                }
            }
        }
    }

    @Override
    void clear() {
        if (!durable) {
            left.clear();
            right.clear();
        }
        live.clear();
    }
}
