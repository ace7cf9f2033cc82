package io.streamflow.reactive;

import reactor.core.CoreSubscriber;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.util.function.Function;

/** Event-time deduplication; see {@link KeyedOperators#deduplicate}. */
final class DeduplicateSubscriber<K, V, I>
        extends ExpiringKeyedSubscriber<K, V, DeduplicateSubscriber.Seen, V, I> {

    private static final Logger LOG = Loggers.getLogger(KeyedOperators.class);

    static final class Seen extends ExpiringKeyedSubscriber.Entry {
    }

    private final Function<? super StreamRecord<K, V>, ? extends I> idFn;

    DeduplicateSubscriber(CoreSubscriber<? super StreamElement<K, V>> actual,
                          Function<? super StreamRecord<K, V>, ? extends I> idFn, long ttl, OperatorSettings settings) {
        super(actual, ttl, settings, "seen");
        this.idFn = idFn;
    }

    @Override
    void onRecord(StreamRecord<K, V> r, int shard) {
        I id;
        try {
            id = idFn.apply(r);
        } catch (Throwable t) {
            Retried<I> retried = retryOrDeadLetter(r, x -> idFn.apply(x), t);
            if (retried == null) {
                return;
            }
            id = retried.value();
        }
        long expiry = expiry(r.timestamp());
        if (expiry <= watermark) {
            metrics.late();
            if (LOG.isDebugEnabled()) {
                LOG.debug("record too old to deduplicate, sent to the late output: operator={} ts={} watermark={} "
                        + "origin={}", settings.name(), r.timestamp(), watermark, r.origin());
            }
            emit(new LateRecord<>(r, settings.name(), r.timestamp(), expiry, watermark));
            return;
        }
        Seen seen = state.get(shard, NS, id);
        if (seen != null) {
            metrics.deduplicated();
            return;
        }
        if (sharded && state.existsInOtherShard(shard, NS, id)) {
            throw keyInTwoShards(id, shard);
        }
        seen = new Seen();
        touch(shard, id, seen, r.timestamp());
        state.put(shard, NS, id, seen);
        metrics.recordOut();
        emit(r);
    }
}
