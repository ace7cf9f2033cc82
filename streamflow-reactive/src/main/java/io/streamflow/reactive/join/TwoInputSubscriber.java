package io.streamflow.reactive.join;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.OperatorMetrics;
import io.streamflow.reactive.internal.StreamOperatorSubscriber;
import io.streamflow.reactive.internal.Work;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Base of the two-input operators (joins). Its input is the two inputs merged, each element tagged
 * with its {@link Side}. It keeps one watermark per input; the operator's watermark is their
 * minimum over the inputs that are not idle, never goes backwards, and is forwarded after the
 * subclass has emitted what it releases. Records without a key go to the dead-letter output.
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
    private final BiFunction<? super L, ? super R, ? extends O> joiner;
    /** The operator's watermark: the minimum of the inputs' ({@code Long.MIN_VALUE} before the first). */
    long watermark = Long.MIN_VALUE;
    private long leftWatermark = Long.MIN_VALUE;
    private long rightWatermark = Long.MIN_VALUE;
    private boolean leftIdle;
    private boolean rightIdle;
    private boolean emittedIdle;
    private final Map<Integer, Origin> origins = new HashMap<>();

    TwoInputSubscriber(CoreSubscriber<? super StreamElement<K, O>> actual, OperatorSettings settings,
                       BiFunction<? super L, ? super R, ? extends O> joiner) {
        super(actual, settings.prefetch());
        this.joiner = joiner;
        this.settings = settings;
        this.name = settings.name();
        this.metrics = new OperatorMetrics(settings.registry(), settings.pipeline(), name);
        this.sharded = settings.shardBySourcePartition();
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

    /** Releases all state. */
    abstract void clear();

    @Override
    @SuppressWarnings("unchecked")
    protected final void onInput(Side s) {
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
            int shard = sharded ? r.origin().partition() : 0;
            if (s.left()) {
                onLeft((StreamRecord<K, L>) r, shard);
            } else {
                onRight((StreamRecord<K, R>) r, shard);
            }
        } else if (e instanceof Watermark<?, ?> w) {
            if (s.left()) {
                leftWatermark = Math.max(leftWatermark, w.timestamp());
                if (w.timestamp() == Watermark.END) {
                    leftIdle = false;
                }
            } else {
                rightWatermark = Math.max(rightWatermark, w.timestamp());
                if (w.timestamp() == Watermark.END) {
                    rightIdle = false;
                }
            }
            advance();
        } else if (e instanceof InputStatus<?, ?> st) {
            if (s.left()) {
                leftIdle = st.isIdle();
            } else {
                rightIdle = st.isIdle();
            }
            advance();
        } else {
            // checkpoint barriers and side outputs of upstream operators pass through
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
        clear();
    }
}
