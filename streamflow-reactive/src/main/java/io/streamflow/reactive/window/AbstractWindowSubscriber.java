package io.streamflow.reactive.window;

import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.OperatorMetrics;
import io.streamflow.reactive.internal.OperatorScalars;
import io.streamflow.reactive.internal.Retry;
import io.streamflow.reactive.internal.StreamOperatorSubscriber;
import io.streamflow.reactive.state.StateBackend;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What every window operator shares: dispatch of in-band elements, the watermark, the trigger's
 * pane bookkeeping, the late-data output, metrics and the error policy. Subclasses own the window
 * layout (fixed time windows, merging sessions, counts).
 * <p>
 * Checkpoints: a {@link CheckpointBarrier} is handled after the previous input's outputs (a lazy
 * firing included, since inputs wait for it). The operator writes its watermark with
 * {@link OperatorScalars} and lets the subclass write whatever else it keeps in memory
 * ({@link #snapshotState()}), forwards the barrier and then takes no input until the checkpoint is
 * committed. Every keyed state value is {@code put} again after each change, so the state backend
 * holds the operator's state as of the barrier. When the operator starts it reads the watermark
 * back and the subclass rebuilds its in-memory indexes from the keyed state
 * ({@link #restoreState()}); over an empty backend that is today's fresh start. On cancel or
 * termination the keyed state of a {@linkplain StateBackend#isDurable() durable} backend is kept
 * (it belongs to the checkpoint); other backends are cleared.
 * <p>
 * A record whose timestamp cannot be placed in a window of the assigner (it is not an event time,
 * or its window would not fit in a {@code long}) is bad data: it goes to the dead-letter output, or
 * fails the pipeline with the same message, before any window sees it.
 */
abstract class AbstractWindowSubscriber<K, V, A, R>
        extends StreamOperatorSubscriber<StreamElement<K, V>, StreamElement<K, WindowResult<K, R>>> {

    static final Logger LOG = Loggers.getLogger(WindowOperator.class);
    private static final String WATERMARK = "watermark";

    final AggregateFunction<V, A, R> fn;
    final Trigger trigger;
    final long lateness;
    final OperatorSettings settings;
    final String name;
    final OperatorMetrics metrics;
    /** The assigner's windowing: records outside {@code [firstPlaceable, lastPlaceable]} cannot be placed. */
    private final WindowAssigner assigner;
    private final long firstPlaceable;
    private final long lastPlaceable;
    /** The state backend, taken once: {@code stateBackendOrHeap()} makes a new heap backend per call. */
    final StateBackend backend;
    /** Whether the keyed state outlives this operator instance (then it is never cleared here). */
    final boolean durable;
    private final OperatorScalars scalars;
    /** Current input watermark; {@code Long.MIN_VALUE} before the first one. */
    long watermark = Long.MIN_VALUE;
    private final Map<Integer, Origin> origins = new HashMap<>();
    private Origin lastOrigin;
    private Disposable earlyTimer;

    AbstractWindowSubscriber(CoreSubscriber<? super StreamElement<K, WindowResult<K, R>>> actual,
                             WindowOperator<K, V> spec, AggregateFunction<V, A, R> fn) {
        super(actual, spec.settingsSpec().prefetch());
        this.fn = fn;
        this.trigger = spec.triggerSpec();
        this.lateness = spec.allowedLatenessMillis();
        this.settings = spec.settingsSpec();
        this.name = settings.name();
        this.metrics = new OperatorMetrics(settings.registry(), settings.pipeline(), name, settings.scheduler());
        this.assigner = spec.assigner();
        this.firstPlaceable = assigner.firstPlaceable();
        this.lastPlaceable = assigner.lastPlaceable();
        this.backend = settings.stateBackendOrHeap();
        this.durable = backend.isDurable();
        this.scalars = OperatorScalars.of(backend, name);
    }

    @Override
    protected void onStart() {
        watermark = scalars.getLong(WATERMARK, Long.MIN_VALUE);
        if (watermark != Long.MIN_VALUE) {
            metrics.watermark(watermark);
        }
        restoreState();
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
            long t = r.timestamp();
            if (t < firstPlaceable || t > lastPlaceable) {
                // not retried: the same timestamp fails the same way
                deadLetterOrFail(r, EventTime.unusable(r, t, name, assigner.placementProblem(t)));
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
        } else if (e instanceof CheckpointBarrier<K, V> b) {
            scalars.putLong(WATERMARK, watermark);
            snapshotState();
            metrics.flush();
            emit(StreamElement.forward(b));
            pauseUntilCommitted(b);
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

    /**
     * Cancel or termination: drops the in-memory indexes, and the keyed state too unless the
     * backend is {@link #durable}.
     */
    abstract void releaseState();

    /**
     * Called when the operator starts, before any input, after the watermark was read back: rebuilds
     * every in-memory index from the keyed state (which is empty on a fresh start).
     */
    abstract void restoreState();

    /**
     * Called at a checkpoint barrier, after the watermark was written: writes what the subclass
     * keeps in memory besides its keyed state values (which are up to date already).
     */
    void snapshotState() {
    }

    // ------------------------------------------------------------------ helpers

    /** Time at which a window with this max timestamp is purged ({@code Long.MAX_VALUE}: at the end of input). */
    final long cleanupTime(long maxTimestamp) {
        return EventTime.add(maxTimestamp, lateness);
    }

    /** Adds the value to the state's accumulator, applying the error policy; false when it went to the DLQ. */
    final boolean add(WindowState<A> st, StreamRecord<K, V> r) {
        A acc = addValue(st.acc, r);
        if (acc == null) {
            return false;
        }
        st.acc = acc;
        st.dirty = true;
        st.sinceFire++;
        return true;
    }

    /** A fresh accumulator from the aggregate function, which must not be {@code null}. */
    final A newAccumulator() {
        A acc = fn.createAccumulator();
        if (acc == null) {
            throw new NullPointerException("aggregate function " + fn + " created a null accumulator in window "
                    + "operator '" + name + "'; accumulators must not be null");
        }
        return acc;
    }

    private A addChecked(A acc, V value) {
        A added = fn.add(acc, value);
        if (added == null) {
            throw new NullPointerException("aggregate function " + fn + " returned a null accumulator from add "
                    + "in window operator '" + name + "'; accumulators must not be null");
        }
        return added;
    }

    /**
     * Adds the record's value to {@code acc}, applying the error policy: the new accumulator, or
     * {@code null} when the record went to the dead-letter output.
     */
    final A addValue(A acc, StreamRecord<K, V> r) {
        try {
            return addChecked(acc, r.value());
        } catch (Throwable t) {
            return addFailed(r, t, v -> addChecked(acc, v));
        }
    }

    /**
     * Adding {@code r}'s value threw {@code t}: fails, or retries with {@code again} as the error
     * policy says and sends the record to the dead-letter output if that fails too.
     * @return what a retry returned, or {@code null} when the record went to the dead-letter output
     */
    final <T> T addFailed(StreamRecord<K, V> r, Throwable t, Function<V, T> again) {
        Exceptions.throwIfFatal(t);
        if (!settings.errorPolicy().isDeadLetter()) {
            throw Exceptions.propagate(t);
        }
        if (settings.errorPolicy().retries() > 0) {
            try {
                return Retry.again(again, r.value(), settings.errorPolicy().retries(), t);
            } catch (Throwable t2) {
                Exceptions.throwIfFatal(t2); // never a dead letter: the base class fails the pipeline with it
                deadLetterOrFail(r, t2);
                return null;
            }
        }
        deadLetterOrFail(r, t);
        return null;
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

    /** The first pane (index 0) of each timing, not final and final: most windows fire one pane. */
    private static final PaneInfo[] FIRST_PANES = firstPanes();

    private static PaneInfo[] firstPanes() {
        PaneInfo.Timing[] timings = PaneInfo.Timing.values();
        PaneInfo[] panes = new PaneInfo[2 * timings.length];
        for (PaneInfo.Timing t : timings) {
            panes[2 * t.ordinal()] = new PaneInfo(t, 0, false);
            panes[2 * t.ordinal() + 1] = new PaneInfo(t, 0, true);
        }
        return panes;
    }

    private static PaneInfo pane(PaneInfo.Timing timing, long index, boolean isFinal) {
        return index == 0 ? FIRST_PANES[2 * timing.ordinal() + (isFinal ? 1 : 0)] : new PaneInfo(timing, index, isFinal);
    }

    /** Emits one pane and updates the state for the next one (discarding resets the accumulator). */
    final void fire(int shard, K key, long start, long end, WindowState<A> st, PaneInfo.Timing timing,
                    boolean isFinal) {
        R value = fn.result(st.acc);
        PaneInfo pane = pane(timing, st.panes++, isFinal);
        emit(StreamRecord.of(key, new WindowResult<>(key, start, end, value, pane), end - 1, origin(shard)));
        metrics.paneFired();
        st.dirty = false;
        st.sinceFire = 0;
        if (!trigger.isAccumulating()) {
            st.acc = newAccumulator();
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
        Origin o = lastOrigin;
        if (o != null && o.partition() == shard) {
            return o;
        }
        o = origins.get(shard);
        if (o == null) {
            o = Origin.of(name, shard, -1L);
            origins.put(shard, o);
        }
        lastOrigin = o;
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
