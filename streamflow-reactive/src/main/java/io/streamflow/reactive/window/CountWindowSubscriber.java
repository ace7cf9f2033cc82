package io.streamflow.reactive.window;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import reactor.core.CoreSubscriber;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Count windows: every {@code size} records of a key fire one final pane whose bounds are
 * {@code [min timestamp, max timestamp + 1)} of those records. Event time plays no part in when
 * they fire, so no record is late; at the end of input the incomplete windows fire with fewer
 * records (nothing is dropped).
 * <p>
 * Checkpoints: each key's open window is a state value put after every record, so a barrier only
 * writes the watermark and there is no in-memory index to rebuild.
 */
final class CountWindowSubscriber<K, V, A, R> extends AbstractWindowSubscriber<K, V, A, R> {

    private static final String NS = "count";

    private final long size;
    private final KeyedState<K, String, WindowState<A>> state;
    private final boolean sharded;

    CountWindowSubscriber(CoreSubscriber<? super StreamElement<K, WindowResult<K, R>>> actual,
                          WindowOperator<K, V> spec, long size, AggregateFunction<V, A, R> fn) {
        super(actual, spec, fn);
        this.size = size;
        this.state = backend.keyedState(name, NS);
        this.sharded = settings.shardBySourcePartition();
    }

    @Override
    void onRecord(StreamRecord<K, V> r) {
        int shard = sharded ? r.origin().partition() : 0;
        K key = r.key();
        WindowState<A> st = state.get(shard, NS, key);
        if (st == null) {
            if (sharded && state.existsInOtherShard(shard, NS, key)) {
                throw keyInTwoShards(key, shard);
            }
            st = new WindowState<>(newAccumulator());
            st.start = r.timestamp();
            st.end = r.timestamp() + 1;
        }
        if (!add(st, r)) {
            return;
        }
        st.start = Math.min(st.start, r.timestamp());
        st.end = Math.max(st.end, r.timestamp() + 1);
        if (st.sinceFire >= size) {
            fire(shard, key, st.start, st.end, st, PaneInfo.Timing.ON_TIME, true);
            state.remove(shard, NS, key);
        } else {
            state.put(shard, NS, key, st);
        }
    }

    @Override
    void onWatermark(long previous, long current) {
        if (current != Watermark.END) {
            forwardWatermark(current);
            return;
        }
        List<StateRef<K, A>> rest = new ArrayList<>();
        for (int shard : state.shards()) {
            state.forEach(shard, NS, (k, st) -> rest.add(new StateRef<>(shard, k, st)));
        }
        Iterator<StateRef<K, A>> it = rest.iterator();
        setPending(new Work<>() {
            @Override
            protected boolean step() {
                if (it.hasNext()) {
                    StateRef<K, A> ref = it.next();
                    fire(ref.shard(), ref.key(), ref.st().start, ref.st().end, ref.st(), PaneInfo.Timing.ON_TIME,
                            true);
                    state.remove(ref.shard(), NS, ref.key());
                    return true;
                }
                forwardWatermark(current);
                return false;
            }
        });
    }

    record StateRef<K, A>(int shard, K key, WindowState<A> st) {
    }

    @Override
    void onEarlyTimer() {
    }

    /** Nothing to rebuild: the count windows live in the keyed state only. */
    @Override
    void restoreState() {
    }

    @Override
    void releaseState() {
        if (!durable) {
            state.clear();
        }
    }
}
