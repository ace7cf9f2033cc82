package io.streamflow.reactive.window;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.OperatorMetrics;
import io.streamflow.reactive.internal.Retry;
import io.streamflow.reactive.internal.StreamOperatorSubscriber;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What every window operator shares: dispatch of in-band elements, the watermark, the trigger's
 * pane bookkeeping, the late-data output, metrics and the error policy. Subclasses own the window
 * layout (fixed time windows, merging sessions, counts).
 */
abstract class AbstractWindowSubscriber<K, V, A, R>
        extends StreamOperatorSubscriber<StreamElement<K, V>, StreamElement<K, WindowResult<K, R>>> {

    static final Logger LOG = Loggers.getLogger(WindowOperator.class);

    final AggregateFunction<V, A, R> fn;
    final Trigger trigger;
    final long lateness;
    final OperatorSettings settings;
    final String name;
    final OperatorMetrics metrics;
    /** Current input watermark; {@code Long.MIN_VALUE} before the first one. */
    long watermark = Long.MIN_VALUE;
    private final Map<Integer, Origin> origins = new HashMap<>();
    private Disposable earlyTimer;

    AbstractWindowSubscriber(CoreSubscriber<? super StreamElement<K, WindowResult<K, R>>> actual,
                             WindowOperator<K, V> spec, AggregateFunction<V, A, R> fn) {
        super(actual, spec.settingsSpec().prefetch());
        this.fn = fn;
        this.trigger = spec.triggerSpec();
        this.lateness = spec.allowedLatenessMillis();
        this.settings = spec.settingsSpec();
        this.name = settings.name();
        this.metrics = new OperatorMetrics(settings.registry(), settings.pipeline(), name);
    }

    @Override
    protected void onStart() {
        if (trigger.earlyInterval() != null) {
            long i = trigger.earlyInterval().toMillis();
            earlyTimer = settings.scheduler().schedulePeriodically(this::signalTimer, i, i, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    protected final void onInput(StreamElement<K, V> e) {
        if (e instanceof StreamRecord<K, V> r) {
            metrics.recordIn();
            if (r.key() == null) {
                deadLetterOrFail(r, new IllegalArgumentException("record has no key in window operator '" + name
                        + "': did you forget keyBy(...) before window(...)? " + r));
                return;
            }
            onRecord(r);
        } else if (e instanceof Watermark<K, V> w) {
            long ts = w.timestamp();
            if (ts > watermark) {
                long previous = watermark;
                watermark = ts;
                metrics.watermark(ts);
                onWatermark(previous, ts);
            }
        } else if (e instanceof InputStatus<K, V> || !e.isRecord()) {
            emit(StreamElement.forward(e));
        }
    }

    @Override
    protected final void onTimer() {
        onEarlyTimer();
    }

    @Override
    protected void onEndOfInput() {
        if (watermark < Watermark.END) {
            long previous = watermark;
            watermark = Watermark.END;
            onWatermark(previous, Watermark.END);
        }
    }

    @Override
    protected void clearState() {
        Disposable t = earlyTimer;
        if (t != null) {
            t.dispose();
        }
        metrics.flush();
        releaseState();
    }

    abstract void onRecord(StreamRecord<K, V> r);

    /** The watermark advanced from {@code previous} to {@code current}: fire and purge, then forward it. */
    abstract void onWatermark(long previous, long current);

    /** Processing-time early firing of every window that changed since its last pane. */
    abstract void onEarlyTimer();

    abstract void releaseState();

    // ------------------------------------------------------------------ helpers

    static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    /** Time at which a window with this max timestamp is purged. */
    final long cleanupTime(long maxTimestamp) {
        return saturatedAdd(maxTimestamp, lateness);
    }

    /** Adds the value to the state's accumulator, applying the error policy; false when it went to the DLQ. */
    final boolean add(WindowState<A> st, StreamRecord<K, V> r) {
        A acc;
        try {
            acc = fn.add(st.acc, r.value());
        } catch (Throwable t) {
            Exceptions.throwIfFatal(t);
            if (!settings.errorPolicy().isDeadLetter()) {
                throw Exceptions.propagate(t);
            }
            if (settings.errorPolicy().retries() > 0) {
                try {
                    acc = Retry.again(v -> fn.add(st.acc, v), r.value(), settings.errorPolicy().retries(), t);
                } catch (Throwable t2) {
                    deadLetterOrFail(r, t2);
                    return false;
                }
            } else {
                deadLetterOrFail(r, t);
                return false;
            }
        }
        st.acc = acc;
        st.dirty = true;
        st.sinceFire++;
        return true;
    }

    final void deadLetterOrFail(StreamRecord<K, V> r, Throwable t) {
        if (!settings.errorPolicy().isDeadLetter()) {
            throw Exceptions.propagate(t);
        }
        metrics.deadLetter();
        emit(new DeadLetter<>(r, r.origin(), name, t));
    }

    final void late(StreamRecord<K, V> r, long windowStart, long windowEnd) {
        metrics.late();
        if (LOG.isDebugEnabled()) {
            LOG.debug("late record dropped from windows and sent to the late output: operator={} ts={} window=[{}, {}) "
                    + "watermark={} origin={}", name, r.timestamp(), windowStart, windowEnd, watermark, r.origin());
        }
        emit(new LateRecord<>(r, name, windowStart, windowEnd, watermark));
    }

    /** Emits one pane and updates the state for the next one (discarding resets the accumulator). */
    final void fire(int shard, K key, long start, long end, WindowState<A> st, PaneInfo.Timing timing,
                    boolean isFinal) {
        R value = fn.result(st.acc);
        PaneInfo pane = new PaneInfo(timing, st.panes++, isFinal);
        emit(StreamRecord.of(key, new WindowResult<>(key, start, end, value, pane), end - 1, origin(shard)));
        metrics.paneFired();
        st.dirty = false;
        st.sinceFire = 0;
        if (!trigger.isAccumulating()) {
            st.acc = fn.createAccumulator();
        }
    }

    /** After a record was added: fire a LATE pane if the window is behind the watermark, or an EARLY one by count. */
    final void afterAdd(int shard, K key, long start, long end, WindowState<A> st) {
        long maxTs = end - 1;
        if (maxTs <= watermark) {
            if (trigger.lateFirings()) {
                fire(shard, key, start, end, st, PaneInfo.Timing.LATE, false);
            }
        } else if (trigger.earlyCount() > 0 && st.sinceFire >= trigger.earlyCount()) {
            fire(shard, key, start, end, st, PaneInfo.Timing.EARLY, false);
        }
    }

    final Origin origin(int shard) {
        Origin o = origins.get(shard);
        if (o == null) {
            o = Origin.of(name, shard, -1L);
            origins.put(shard, o);
        }
        return o;
    }

    final IllegalStateException keyInTwoShards(K key, int shard) {
        return new IllegalStateException("key '" + key + "' arrives from more than one source partition (now "
                + shard + ") in operator '" + name + "': keyed state is sharded by source partition, so every "
                + "record of a key must come from the same partition; partition the source by this key "
                + "(e.g. a Kafka topic keyed by it), or, when the state never has to move with a partition, use "
                + "OperatorSettings.withShardBySourcePartition(false)");
    }

    final void forwardWatermark(long w) {
        emit(Watermark.of(w));
        metrics.flush();
    }
}
