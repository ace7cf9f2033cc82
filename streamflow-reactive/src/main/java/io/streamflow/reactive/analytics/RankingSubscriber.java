package io.streamflow.reactive.analytics;

import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.DeadLetter;
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
import io.streamflow.reactive.window.TimeWindow;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;

import java.util.function.Function;

/**
 * Base of the operators that emit {@link Ranking}s per interval of event time: watermark
 * handling (rankings are emitted, then the watermark is forwarded), the late output, the error
 * policy and metrics. The ranking is over all keys, so its state is one shard.
 * <p>
 * Checkpoints: subclasses put every state value after each change; at a
 * {@link CheckpointBarrier} the operator writes its watermark with {@link OperatorScalars} (and
 * the subclass what else it keeps in memory, {@link #snapshotState()}), forwards the barrier and
 * takes no input until the checkpoint is committed. When it starts it reads the watermark back and
 * the subclass rebuilds its in-memory indexes from the keyed state ({@link #restoreState()}); over
 * an empty backend that is a fresh start. On cancel or termination the keyed state of a
 * {@linkplain StateBackend#isDurable() durable} backend is kept; other backends are cleared.
 */
abstract class RankingSubscriber<K, V, RV>
        extends StreamOperatorSubscriber<StreamElement<K, V>, StreamElement<TimeWindow, Ranking<K, RV>>> {

    final OperatorSettings settings;
    final String name;
    final OperatorMetrics metrics;
    final Origin origin;
    /** The state backend, taken once: {@code stateBackendOrHeap()} makes a new heap backend per call. */
    final StateBackend backend;
    /** Whether the keyed state outlives this operator instance (then it is never cleared here). */
    final boolean durable;
    private final OperatorScalars scalars;
    long watermark = Long.MIN_VALUE;

    private static final String WATERMARK = "watermark";

    RankingSubscriber(CoreSubscriber<? super StreamElement<TimeWindow, Ranking<K, RV>>> actual,
                      OperatorSettings settings) {
        super(actual, settings.prefetch());
        this.settings = settings;
        this.name = settings.name();
        this.metrics = new OperatorMetrics(settings.registry(), settings.pipeline(), name, settings.scheduler());
        this.origin = Origin.of(name, 0, -1L);
        this.backend = settings.stateBackendOrHeap();
        this.durable = backend.isDurable();
        this.scalars = OperatorScalars.of(backend, name);
    }

    abstract void onRecord(StreamRecord<K, V> r);

    /** Emits the rankings the watermark completes and purges their state. */
    abstract void onWatermark(long current);

    abstract long stateSize();

    /**
     * Cancel or termination: drops the in-memory indexes, and the keyed state too unless the
     * backend is {@link #durable}.
     */
    abstract void clear();

    /**
     * Called when the operator starts, before any input, after the watermark was read back: rebuilds
     * every in-memory index from the keyed state (which is empty on a fresh start).
     */
    abstract void restoreState();

    /** Called at a checkpoint barrier, after the watermark was written: writes what else the subclass keeps in memory. */
    void snapshotState() {
    }

    @Override
    protected final void onStart() {
        watermark = scalars.getLong(WATERMARK, Long.MIN_VALUE);
        if (watermark != Long.MIN_VALUE) {
            metrics.watermark(watermark);
        }
        restoreState();
    }

    @Override
    protected final void onInput(StreamElement<K, V> e) {
        if (e instanceof StreamRecord<K, V> r) {
            metrics.recordIn();
            onRecord(r);
        } else if (e instanceof Watermark<K, V> w) {
            if (w.timestamp() > watermark) {
                watermark = w.timestamp();
                metrics.watermark(watermark);
                onWatermark(watermark);
                emit(Watermark.of(watermark));
                metrics.stateEntries(stateSize());
                metrics.flush();
            }
        } else if (e instanceof CheckpointBarrier<K, V> b) {
            scalars.putLong(WATERMARK, watermark);
            snapshotState();
            metrics.flush();
            emit(StreamElement.forward(b));
            pauseUntilCommitted(b);
        } else {
            emit(StreamElement.forward(e));
        }
    }

    final void ranking(Ranking<K, RV> ranking) {
        metrics.recordOut();
        emit(StreamRecord.of(new TimeWindow(ranking.start(), ranking.end()), ranking, ranking.end() - 1, origin));
    }

    final void late(StreamRecord<K, V> r, long start, long end) {
        metrics.late();
        emit(new LateRecord<>(r, name, start, end, watermark));
    }

    /**
     * A record whose timestamp the operator cannot use: goes to the dead-letter output and is
     * counted, or fails the pipeline with the same message, as the error policy says (not retried:
     * the same timestamp fails the same way).
     */
    final void unusableTimestamp(StreamRecord<K, V> r, String reason) {
        IllegalArgumentException e = EventTime.unusable(r, r.timestamp(), name, reason);
        if (!settings.errorPolicy().isDeadLetter()) {
            throw e;
        }
        metrics.deadLetter();
        emit(new DeadLetter<>(r, r.origin(), name, e));
    }

    /** Applies {@code fn} to the record, or the error policy when it throws; {@code null}: dead-lettered. */
    final <T> T call(Function<StreamRecord<K, V>, T> fn, StreamRecord<K, V> r) {
        try {
            return fn.apply(r);
        } catch (Throwable t) {
            Exceptions.throwIfFatal(t);
            if (!settings.errorPolicy().isDeadLetter()) {
                throw Exceptions.propagate(t);
            }
            Throwable failure = t;
            if (settings.errorPolicy().retries() > 0) {
                try {
                    return Retry.again(fn, r, settings.errorPolicy().retries(), t);
                } catch (Throwable last) {
                    Exceptions.throwIfFatal(last);
                    failure = Exceptions.unwrap(last);
                }
            }
            metrics.deadLetter();
            emit(new DeadLetter<>(r, r.origin(), name, failure));
            return null;
        }
    }

    @Override
    protected void onEndOfInput() {
        if (watermark < Watermark.END) {
            watermark = Watermark.END;
            onWatermark(Watermark.END);
        }
        metrics.flush();
    }

    @Override
    protected final void clearState() {
        metrics.flush();
        clear();
    }
}
