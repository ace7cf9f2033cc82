package io.streamflow.reactive;

import io.streamflow.reactive.window.AggregateFunction;
import reactor.core.CoreSubscriber;

/** Running aggregate per key; see {@link KeyedOperators#runningAggregate}. */
final class RunningAggregateSubscriber<K, V, A, R>
        extends ExpiringKeyedSubscriber<K, V, RunningAggregateSubscriber.Acc<A>, R, K> {

    static final class Acc<A> extends ExpiringKeyedSubscriber.Entry {
        A acc;
    }

    private final AggregateFunction<V, A, R> fn;

    RunningAggregateSubscriber(CoreSubscriber<? super StreamElement<K, R>> actual, AggregateFunction<V, A, R> fn,
                               long ttl, OperatorSettings settings) {
        super(actual, ttl, settings, "running");
        this.fn = fn;
    }

    @Override
    void onRecord(StreamRecord<K, V> r, int shard) {
        K key = r.key();
        Acc<A> entry = state.get(shard, NS, key);
        boolean created = entry == null;
        if (created) {
            if (sharded && state.existsInOtherShard(shard, NS, key)) {
                throw keyInTwoShards(key, shard);
            }
            entry = new Acc<>();
            entry.acc = fn.createAccumulator();
        }
        R result;
        try {
            result = addAndGet(entry, r);
        } catch (Throwable t) {
            Acc<A> e = entry;
            Retried<R> retried = retryOrDeadLetter(r, x -> addAndGet(e, x), t);
            if (retried == null) {
                return;
            }
            result = retried.value();
        }
        touch(shard, key, entry, r.timestamp());
        state.put(shard, NS, key, entry);
        metrics.recordOut();
        emit(r.withValue(result));
    }

    private R addAndGet(Acc<A> entry, StreamRecord<K, V> r) {
        entry.acc = fn.add(entry.acc, r.value());
        return fn.result(entry.acc);
    }
}
