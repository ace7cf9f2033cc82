package io.streamflow.reactive.join;

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
import io.streamflow.reactive.internal.StreamOperatorSubscriber;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.StateBackend;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.publisher.Operators;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Base of the two-input operators (joins). Its input is the two inputs merged, each element tagged
 * with its {@link Side}. It keeps one watermark per input; the operator's watermark is their
 * minimum over the inputs that are not idle, never goes backwards, and is forwarded after the
 * subclass has emitted what it releases. Records without a key go to the dead-letter output; a
 * record whose timestamp is not an event time ({@code Long.MIN_VALUE}, {@code Long.MAX_VALUE}), or
 * whose join range would not fit in a {@code long}, goes there too or fails the pipeline, as the
 * error policy says.
 * <h2>Checkpoints: barrier alignment</h2>
 * A checkpoint barrier with id {@code N} reaches the operator once per input. The state written for
 * checkpoint {@code N} must hold exactly what both inputs sent before their barrier {@code N}, so
 * once barrier {@code N} arrived on one input, that input's later elements are not processed until
 * barrier {@code N} arrived on the other input too (an input that ended, shown by its
 * {@link Watermark#END}, has passed every barrier). Then the operator writes its scalars (the
 * operator's and each input's watermark, the idle flags, the last barrier id) with
 * {@link OperatorScalars} and lets the subclass write what it keeps in memory
 * ({@link #snapshotState()}), forwards barrier {@code N} once and takes no input until the
 * checkpoint is committed ({@link #pauseUntilCommitted}).
 * <p>
 * How the waiting input is held back: both inputs reach this subscriber as one merged sequence
 * with one demand, and the base class requests more whenever an element was taken from its queue,
 * so it cannot leave the elements of one input unread while it reads the other's. The least
 * invasive way that keeps every other path unchanged is a holding queue per input here: an
 * element of the waiting input (and any element of that input while its queue is not empty, so
 * its order is kept) is appended to the queue without being looked at. After alignment the held
 * elements are processed one per {@linkplain #signalTimer() drain-loop tick}: ticks run after the
 * previous element's outputs and lazy firing, after the checkpoint commit, and before the next
 * queued input, so the held elements keep their place ahead of that input's later elements. What
 * is held is what the waiting input delivered while the other input's elements up to its barrier
 * were processed; the merge interleaves the two inputs, so that is about as many elements as the
 * other input had in flight before its barrier, not a fixed number. Held elements are discarded on
 * cancel, like queued ones.
 * <h2>Checkpoints: restore</h2>
 * When the operator starts, it reads its scalars back and the subclass rebuilds its in-memory
 * indexes from the keyed state ({@link #restoreState()}); over an empty backend that is a fresh
 * start. On cancel or termination the keyed state of a {@linkplain StateBackend#isDurable()
 * durable} backend is kept (it belongs to the checkpoint); other backends are cleared.
 *
 * @param <K> key type of both inputs and of the output
 * @param <L> left value type
 * @param <R> right value type
 * @param <O> output value type
 */
abstract class TwoInputSubscriber<K, L, R, O> extends StreamOperatorSubscriber<Side, StreamElement<K, O>> {

    static final Logger LOG = Loggers.getLogger(Joins.class);

    final OperatorSettings settings;
    final String name;
    final OperatorMetrics metrics;
    final boolean sharded;
    /** The state backend, taken once: {@code stateBackendOrHeap()} makes a new heap backend per call. */
    final StateBackend backend;
    /** Whether the keyed state outlives this operator instance (then it is never cleared here). */
    final boolean durable;
    private final OperatorScalars scalars;
    private final BiFunction<? super L, ? super R, ? extends O> joiner;
    /** The operator's watermark: the minimum of the inputs' ({@code Long.MIN_VALUE} before the first). */
    long watermark = Long.MIN_VALUE;
    private long leftWatermark = Long.MIN_VALUE;
    private long rightWatermark = Long.MIN_VALUE;
    private boolean leftIdle;
    private boolean rightIdle;
    private boolean emittedIdle;
    private final Map<Integer, Origin> origins = new HashMap<>();

    /** Id of the latest barrier each input passed ({@code -1}: none; {@code Long.MAX_VALUE}: the input ended). */
    private long leftBarrier = -1;
    private long rightBarrier = -1;
    /** Id of the latest barrier forwarded (its checkpoint written), {@code -1} before the first. */
    private long forwardedBarrier = -1;
    /** The barrier one input passed and the other has not yet, or {@code null}. */
    private CheckpointBarrier<?, ?> aligning;
    /** Elements of an input that waits at {@link #aligning}, or that are not yet released after it. */
    private final ArrayDeque<Side> heldLeft = new ArrayDeque<>();
    private final ArrayDeque<Side> heldRight = new ArrayDeque<>();

    private static final String WATERMARK = "watermark";
    private static final String LEFT_WATERMARK = "leftWatermark";
    private static final String RIGHT_WATERMARK = "rightWatermark";
    private static final String IDLE = "idle";
    private static final String BARRIER = "barrier";

    TwoInputSubscriber(CoreSubscriber<? super StreamElement<K, O>> actual, OperatorSettings settings,
                       BiFunction<? super L, ? super R, ? extends O> joiner) {
        super(actual, settings.prefetch());
        this.joiner = joiner;
        this.settings = settings;
        this.name = settings.name();
        this.metrics = new OperatorMetrics(settings.registry(), settings.pipeline(), name, settings.scheduler());
        this.sharded = settings.shardBySourcePartition();
        this.backend = settings.stateBackendOrHeap();
        this.durable = backend.isDurable();
        this.scalars = OperatorScalars.of(backend, name);
    }

    /** A left record with a key. */
    abstract void onLeft(StreamRecord<K, L> r, int shard);

    /** A right record with a key. */
    abstract void onRight(StreamRecord<K, R> r, int shard);

    /**
     * The watermark advanced from {@code previous} to {@code current} ({@link #watermark} is already
     * {@code current}): emit what it releases and purge the state it makes useless.
     *
     * @return work that emits the released results lazily, or {@code null} when all was emitted
     */
    abstract Work<StreamElement<K, O>> onWatermark(long previous, long current);

    /** @return entries held in state, for the {@code streamflow.state.entries} gauge */
    abstract long stateSize();

    /**
     * Cancel or termination: drops the in-memory indexes, and the keyed state too unless the
     * backend is {@link #durable}.
     */
    abstract void clear();

    /**
     * Called when the operator starts, before any input, after the scalars were read back: rebuilds
     * every in-memory index from the keyed state (which is empty on a fresh start).
     */
    abstract void restoreState();

    /**
     * Called when a checkpoint's barriers are aligned, after the scalars were written: writes what
     * the subclass keeps in memory besides its keyed state values (which are up to date already).
     */
    void snapshotState() {
    }

    @Override
    protected final void onStart() {
        watermark = scalars.getLong(WATERMARK, Long.MIN_VALUE);
        leftWatermark = scalars.getLong(LEFT_WATERMARK, Long.MIN_VALUE);
        rightWatermark = scalars.getLong(RIGHT_WATERMARK, Long.MIN_VALUE);
        boolean[] idle = scalars.get(IDLE);
        if (idle != null) {
            leftIdle = idle[0];
            rightIdle = idle[1];
            emittedIdle = idle[2];
        }
        forwardedBarrier = scalars.getLong(BARRIER, -1);
        leftBarrier = leftWatermark == Watermark.END ? Long.MAX_VALUE : forwardedBarrier;
        rightBarrier = rightWatermark == Watermark.END ? Long.MAX_VALUE : forwardedBarrier;
        if (watermark != Long.MIN_VALUE) {
            metrics.watermark(watermark);
        }
        restoreState();
    }

    @Override
    protected final void onInput(Side s) {
        ArrayDeque<Side> held = s.left() ? heldLeft : heldRight;
        if (!held.isEmpty() || waiting(s.left())) {
            held.add(s); // behind what this input already holds
            return;
        }
        dispatch(s);
    }

    /** @return whether the input passed the barrier being aligned and so must not be read further */
    private boolean waiting(boolean left) {
        long passed = left ? leftBarrier : rightBarrier;
        return aligning != null && passed >= aligning.id() && passed != Long.MAX_VALUE;
    }

    /**
     * A drain-loop tick: completes an alignment that an input's end made possible (after that end's
     * lazy firing), else releases one held element of an input that no longer waits.
     */
    @Override
    protected final void onTimer() {
        if (tryAlign()) {
            return;
        }
        ArrayDeque<Side> held = !heldLeft.isEmpty() && !waiting(true) ? heldLeft
                : !heldRight.isEmpty() && !waiting(false) ? heldRight : null;
        if (held != null) {
            dispatch(held.poll());
            releaseHeldLater();
        }
    }

    /** Asks for another tick when a held element can be released. */
    private void releaseHeldLater() {
        if (!heldLeft.isEmpty() && !waiting(true) || !heldRight.isEmpty() && !waiting(false)) {
            signalTimer();
        }
    }

    private void onBarrier(boolean left, CheckpointBarrier<?, ?> b) {
        long id = b.id();
        if (left) {
            leftBarrier = Math.max(leftBarrier, id);
        } else {
            rightBarrier = Math.max(rightBarrier, id);
        }
        if (id <= forwardedBarrier) {
            return; // forwarded already: the other input had ended
        }
        if (aligning == null || id > aligning.id()) {
            aligning = b; // barriers come in id order on each input: a newer one only when none is pending
        }
        tryAlign();
    }

    /**
     * When both inputs passed the barrier being aligned: writes the checkpoint's state, forwards the
     * barrier and pauses until the checkpoint is committed; held elements are released after that.
     *
     * @return whether the barrier was forwarded
     */
    private boolean tryAlign() {
        CheckpointBarrier<?, ?> b = aligning;
        if (b == null || leftBarrier < b.id() || rightBarrier < b.id()) {
            return false;
        }
        aligning = null;
        forwardedBarrier = b.id();
        scalars.putLong(WATERMARK, watermark);
        scalars.putLong(LEFT_WATERMARK, leftWatermark);
        scalars.putLong(RIGHT_WATERMARK, rightWatermark);
        scalars.put(IDLE, new boolean[] {leftIdle, rightIdle, emittedIdle});
        scalars.putLong(BARRIER, forwardedBarrier);
        snapshotState();
        metrics.flush();
        emit(StreamElement.forward(b));
        pauseUntilCommitted(b);
        releaseHeldLater();
        return true;
    }

    @SuppressWarnings("unchecked")
    private void dispatch(Side s) {
        StreamElement<?, ?> e = s.element();
        if (e instanceof StreamRecord<?, ?> r) {
            metrics.recordIn();
            if (r.key() == null) {
                metrics.deadLetter();
                emit(new DeadLetter<>(r, r.origin(), name, new IllegalArgumentException("record has no key in join '"
                        + name + "' (" + (s.left() ? "left" : "right") + " input): key both inputs by the join key "
                        + "before joining: " + r)));
                return;
            }
            String invalid = EventTime.invalidReason(r.timestamp());
            if (invalid != null) {
                unusableTimestamp(r, invalid);
                return;
            }
            int shard = sharded ? r.origin().partition() : 0;
            if (s.left()) {
                onLeft((StreamRecord<K, L>) r, shard);
            } else {
                onRight((StreamRecord<K, R>) r, shard);
            }
        } else if (e instanceof Watermark<?, ?> w) {
            boolean ended = w.timestamp() == Watermark.END;
            if (s.left()) {
                leftWatermark = Math.max(leftWatermark, w.timestamp());
                if (ended) {
                    leftIdle = false;
                    leftBarrier = Long.MAX_VALUE;
                }
            } else {
                rightWatermark = Math.max(rightWatermark, w.timestamp());
                if (ended) {
                    rightIdle = false;
                    rightBarrier = Long.MAX_VALUE;
                }
            }
            advance();
            if (ended && aligning != null) {
                signalTimer(); // the other input waits at a barrier: align after this end's firing
            }
        } else if (e instanceof CheckpointBarrier<?, ?> b) {
            onBarrier(s.left(), b);
        } else if (e instanceof InputStatus<?, ?> st && !st.isReleased()) {
            if (s.left()) {
                leftIdle = st.isIdle();
            } else {
                rightIdle = st.isIdle();
            }
            advance();
        } else {
            // side outputs of upstream operators pass through
            emit(StreamElement.forward(e));
        }
    }

    private void advance() {
        if (leftIdle && rightIdle) {
            if (!emittedIdle) {
                emittedIdle = true;
                emit(InputStatus.idle());
            }
            return;
        }
        if (emittedIdle) {
            emittedIdle = false;
            emit(InputStatus.active());
        }
        long min = leftIdle ? rightWatermark : rightIdle ? leftWatermark : Math.min(leftWatermark, rightWatermark);
        if (min <= watermark) {
            return;
        }
        long previous = watermark;
        watermark = min;
        metrics.watermark(min);
        Work<StreamElement<K, O>> work = onWatermark(previous, min);
        if (work == null) {
            forwardWatermark(min);
        } else {
            setPending(new Work<StreamElement<K, O>>() {
                private boolean forwarded;

                @Override
                protected boolean step() {
                    if (work.hasNext()) {
                        work.next();
                        return true;
                    }
                    if (!forwarded) {
                        forwarded = true;
                        forwardWatermark(min);
                    }
                    return false;
                }
            });
        }
    }

    private void forwardWatermark(long w) {
        emit(Watermark.of(w));
        metrics.stateEntries(stateSize());
        metrics.flush();
    }

    /** Emits a join result. */
    final void result(K key, O value, long timestamp, int shard) {
        metrics.recordOut();
        emit(StreamRecord.of(key, value, timestamp, origin(shard)));
    }

    /** Sends a record that can no longer be joined correctly to the late output and counts it. */
    final void late(StreamRecord<?, ?> r, boolean left, long rangeStart, long rangeEnd) {
        metrics.late();
        if (LOG.isDebugEnabled()) {
            LOG.debug("late record sent to the late output: join={} input={} ts={} range=[{}, {}) watermark={} "
                    + "origin={}", name, left ? "left" : "right", r.timestamp(), rangeStart, rangeEnd, watermark,
                    r.origin());
        }
        emit(new LateRecord<>(r, name, rangeStart, rangeEnd, watermark));
    }

    /**
     * A record whose timestamp the join cannot use (not an event time, or its join range would not
     * fit in a {@code long}): goes to the dead-letter output and is counted, or fails the pipeline
     * with the same message, as the error policy says. Not retried: the same timestamp fails the
     * same way.
     */
    final void unusableTimestamp(StreamRecord<?, ?> r, String reason) {
        IllegalArgumentException e = EventTime.unusable(r, r.timestamp(), name, reason);
        if (!settings.errorPolicy().isDeadLetter()) {
            throw e;
        }
        metrics.deadLetter();
        emit(new DeadLetter<>(r, r.origin(), name, e));
    }

    /**
     * Calls the user's join function, applying the error policy when it throws or returns
     * {@code null}.
     *
     * @return the result, or {@code null} when the pair went to the dead-letter output
     */
    final O join(L l, R r, StreamRecord<?, ?> trigger) {
        try {
            return callJoiner(l, r);
        } catch (Throwable t) {
            Exceptions.throwIfFatal(t);
            if (!settings.errorPolicy().isDeadLetter()) {
                throw Exceptions.propagate(t);
            }
            Throwable failure = t;
            for (int i = 0; i < settings.errorPolicy().retries(); i++) {
                try {
                    return callJoiner(l, r);
                } catch (Throwable again) {
                    Exceptions.throwIfFatal(again);
                    failure = again;
                }
            }
            metrics.deadLetter();
            StreamRecord<?, ?> failed = trigger != null ? trigger
                    : StreamRecord.of(null, new JoinPair<>(l, r), watermark);
            emit(new DeadLetter<>(failed, failed.origin(), name, failure));
            return null;
        }
    }

    /** The two values a join function failed on, as the value of its dead letter when no single record caused it. */
    record JoinPair<A, B>(A left, B right) {
    }

    private O callJoiner(L l, R r) {
        return Objects.requireNonNull(joiner.apply(l, r), "the join function returned null");
    }

    final IllegalStateException notCoPartitioned(Object key, int shard) {
        return new IllegalStateException("key '" + key + "' arrives from more than one source partition (now "
                + shard + ") in join '" + name + "': join state is sharded by source partition, so both inputs "
                + "must be partitioned by the join key into the same partitions (co-partitioned); repartition "
                + "them, or use OperatorSettings.withShardBySourcePartition(false)");
    }

    final Origin origin(int shard) {
        Origin o = origins.get(shard);
        if (o == null) {
            o = Origin.of(name, shard, -1L);
            origins.put(shard, o);
        }
        return o;
    }

    @Override
    protected void onEndOfInput() {
        metrics.flush();
    }

    @Override
    protected final void clearState() {
        metrics.flush();
        Operators.onDiscardMultiple(heldLeft, currentContext());
        Operators.onDiscardMultiple(heldRight, currentContext());
        heldLeft.clear();
        heldRight.clear();
        aligning = null;
        clear();
    }
}
