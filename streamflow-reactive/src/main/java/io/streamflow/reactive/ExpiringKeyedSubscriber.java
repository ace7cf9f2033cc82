package io.streamflow.reactive;

import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.OperatorMetrics;
import io.streamflow.reactive.internal.OperatorScalars;
import io.streamflow.reactive.internal.Retry;
import io.streamflow.reactive.internal.StreamOperatorSubscriber;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Base of keyed operators whose entries expire in event time. Each entry has one registered
 * expiry timer at a time; when it is due and the entry was touched since, it is registered again
 * at the new expiry, so a busy key costs no timer work per record.
 * <p>
 * Checkpoints: entries are put after every change (their registered expiry included). At a
 * {@link CheckpointBarrier} the operator writes its watermark with {@link OperatorScalars},
 * forwards the barrier and takes no input until the checkpoint is committed. When it starts it
 * reads the watermark back and rebuilds the expiry timers from the entries' registered expiries
 * (an entry has one registered timer; older timers of an entry are skipped when due anyway). On
 * cancel or termination the keyed state of a {@linkplain StateBackend#isDurable() durable} backend
 * is kept; other backends are cleared.
 * <p>
 * Expiry times ({@code timestamp + ttl}) saturate at {@code Long.MAX_VALUE}: such an entry expires at
 * the end of input. With a time-to-live, a record whose timestamp is not an event time
 * ({@code Long.MIN_VALUE}, {@code Long.MAX_VALUE}) goes to the dead-letter output or fails the
 * pipeline, as the error policy says.
 */
abstract class ExpiringKeyedSubscriber<K, V, S extends ExpiringKeyedSubscriber.Entry, O, SK>
        extends StreamOperatorSubscriber<StreamElement<K, V>, StreamElement<K, O>> {

    /** State entry: the last event timestamp that touched it and the expiry currently registered. */
    abstract static class Entry {
        long lastTimestamp = Long.MIN_VALUE;
        long registeredExpiry = Long.MIN_VALUE;
    }

    record Ref<SK>(int shard, SK key) {
    }

    static final String NS = "keys";

    final OperatorSettings settings;
    final OperatorMetrics metrics;
    final KeyedState<SK, String, S> state;
    final long ttl;
    final boolean sharded;
    /** The state backend, taken once: {@code stateBackendOrHeap()} makes a new heap backend per call. */
    private final StateBackend backend;
    private final OperatorScalars scalars;
    long watermark = Long.MIN_VALUE;
    private final TreeMap<Long, List<Ref<SK>>> timers = new TreeMap<>();

    private static final String WATERMARK = "watermark";

    ExpiringKeyedSubscriber(CoreSubscriber<? super StreamElement<K, O>> actual, long ttl, OperatorSettings settings,
                            String stateName) {
        super(actual, settings.prefetch());
        this.settings = settings;
        this.ttl = ttl;
        this.metrics = new OperatorMetrics(settings.registry(), settings.pipeline(), settings.name(),
                settings.scheduler());
        this.backend = settings.stateBackendOrHeap();
        this.scalars = OperatorScalars.of(backend, settings.name());
        this.state = backend.keyedState(settings.name(), stateName);
        this.sharded = settings.shardBySourcePartition();
    }

    /** Reads the watermark back and rebuilds the expiry timers from the entries (none on a fresh start). */
    @Override
    protected final void onStart() {
        watermark = scalars.getLong(WATERMARK, Long.MIN_VALUE);
        if (watermark != Long.MIN_VALUE) {
            metrics.watermark(watermark);
        }
        if (ttl > 0) {
            for (int shard : state.shards()) {
                state.forEach(shard, NS, (key, entry) -> {
                    if (entry.registeredExpiry != Long.MIN_VALUE) {
                        timers.computeIfAbsent(entry.registeredExpiry, t -> new ArrayList<>(1))
                                .add(new Ref<>(shard, key));
                    }
                });
            }
        }
    }

    abstract void onRecord(StreamRecord<K, V> r, int shard);

    final int shardOf(StreamRecord<K, V> r) {
        return sharded ? r.origin().partition() : 0;
    }

    /** Marks the entry touched at {@code ts} and makes sure an expiry timer is registered. */
    final void touch(int shard, SK key, S entry, long ts) {
        if (ts > entry.lastTimestamp) {
            entry.lastTimestamp = ts;
        }
        if (ttl > 0 && entry.registeredExpiry == Long.MIN_VALUE) {
            register(shard, key, entry);
        }
    }

    private void register(int shard, SK key, S entry) {
        long expiry = expiry(entry.lastTimestamp);
        entry.registeredExpiry = expiry;
        timers.computeIfAbsent(expiry, t -> new ArrayList<>(1)).add(new Ref<>(shard, key));
    }

    /** When an entry last touched at {@code timestamp} expires ({@code Long.MAX_VALUE}: at the end of input). */
    final long expiry(long timestamp) {
        return EventTime.add(timestamp, ttl);
    }

    @Override
    protected final void onInput(StreamElement<K, V> e) {
        if (e instanceof StreamRecord<K, V> r) {
            metrics.recordIn();
            String invalid = ttl > 0 ? EventTime.invalidReason(r.timestamp()) : null;
            if (invalid != null) {
                IllegalArgumentException error = EventTime.unusable(r, r.timestamp(), settings.name(), invalid);
                if (!settings.errorPolicy().isDeadLetter()) {
                    throw error;
                }
                metrics.deadLetter(); // not retried: the same timestamp fails the same way
                emit(new DeadLetter<>(r, r.origin(), settings.name(), error));
                return;
            }
            onRecord(r, shardOf(r));
        } else if (e instanceof Watermark<K, V> w) {
            if (w.timestamp() > watermark) {
                watermark = w.timestamp();
                metrics.watermark(watermark);
                expire();
                emit(StreamElement.forward(e));
                metrics.stateEntries(state.size());
                metrics.flush();
            }
        } else if (e instanceof CheckpointBarrier<K, V> b) {
            scalars.putLong(WATERMARK, watermark);
            metrics.flush();
            emit(StreamElement.forward(b));
            pauseUntilCommitted(b);
        } else {
            emit(StreamElement.forward(e));
        }
    }

    private void expire() {
        while (!timers.isEmpty() && timers.firstKey() <= watermark) {
            Map.Entry<Long, List<Ref<SK>>> due = timers.pollFirstEntry();
            for (Ref<SK> ref : due.getValue()) {
                S entry = state.get(ref.shard(), NS, ref.key());
                if (entry == null || entry.registeredExpiry != due.getKey()) {
                    continue;
                }
                if (expiry(entry.lastTimestamp) <= watermark) {
                    state.remove(ref.shard(), NS, ref.key());
                } else {
                    register(ref.shard(), ref.key(), entry);
                    state.put(ref.shard(), NS, ref.key(), entry); // the new registered expiry
                }
            }
        }
    }

    final IllegalStateException keyInTwoShards(Object key, int shard) {
        return new IllegalStateException("key '" + key + "' arrives from more than one source partition (now "
                + shard + ") in operator '" + settings.name() + "': keyed state is sharded by source partition; "
                + "partition the source by this key, or use OperatorSettings.withShardBySourcePartition(false)");
    }

    /** The result of a user function that succeeded when called again. */
    record Retried<T>(T value) {
    }

    /**
     * Applies the error policy after {@code call} threw {@code first} on {@code r}: fails, or calls it
     * again as many times as the policy allows and then sends {@code r} to the dead-letter output.
     *
     * @return the result of a successful retry, or {@code null} when {@code r} went to the dead-letter output
     */
    final <T> Retried<T> retryOrDeadLetter(StreamRecord<K, V> r, Function<StreamRecord<K, V>, T> call,
                                           Throwable first) {
        Exceptions.throwIfFatal(first);
        ErrorPolicy policy = settings.errorPolicy();
        if (!policy.isDeadLetter()) {
            throw Exceptions.propagate(first);
        }
        Throwable failure = first;
        if (policy.retries() > 0) {
            try {
                return new Retried<>(Retry.again(call, r, policy.retries(), first));
            } catch (Throwable last) {
                Exceptions.throwIfFatal(last);
                failure = Exceptions.unwrap(last);
            }
        }
        metrics.deadLetter();
        emit(new DeadLetter<>(r, r.origin(), settings.name(), failure));
        return null;
    }

    @Override
    protected void onEndOfInput() {
        metrics.flush();
    }

    /** Drops the timers, and the keyed state too unless the backend is durable. */
    @Override
    protected void clearState() {
        metrics.flush();
        if (!backend.isDurable()) {
            state.clear();
        }
        timers.clear();
    }
}
