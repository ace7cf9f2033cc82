package io.streamflow.reactive;

import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.OperatorMetrics;
import io.streamflow.reactive.internal.OperatorScalars;
import io.streamflow.reactive.internal.SourceCheckpointing;
import io.streamflow.reactive.internal.Retry;
import io.streamflow.reactive.internal.StreamOperatorSubscriber;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.Exceptions;
import reactor.core.scheduler.Scheduler;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Per-partition watermark generation with idleness; see {@link WatermarkStrategy}. Its input is a
 * source's records and the dead letters of the source or of a decoder before it (inputs it could
 * not make a record of): those pass through in place, are counted here (sources have no meters)
 * and consume their position like a record. A record whose timestamp is not an event time, or that
 * the strategy's guard rejects, is handled by the error policy before its partition's generator
 * sees it; its position still counts as consumed for checkpoints, so a restart does not read it
 * again. A source's {@link InputStatus#released(int) release marker} makes it forget that
 * partition; it is consumed here.
 */
final class WatermarkAssigner<K, V> extends StreamOperatorSubscriber<StreamElement<K, V>, StreamElement<K, V>> {

    static final int PREFETCH = 256;

    private final WatermarkStrategy<K, V> strategy;
    private final OperatorMetrics metrics;
    private final long idleTimeoutMillis;
    private final boolean periodic;
    /** {@link WatermarkStrategy#withMaxTimestampAhead} in milliseconds, {@code -1} without the guard. */
    private final long maxAheadMillis;
    private final Map<Integer, Partition> partitions = new HashMap<>();
    /**
     * Checkpointed source: positions of partitions whose records were all rejected so far. Such a
     * partition is not in {@link #partitions}, so it does not hold the watermark back, as it would not
     * had it produced nothing; its position is checkpointed all the same.
     */
    private final Map<Integer, Long> rejectedOnly = new HashMap<>();
    private Partition lastPartition;
    private int lastPartitionId = -1;
    private long emitted = Long.MIN_VALUE;
    private boolean statusIdle;
    /** Processing time when the operator subscribed: an input with no record yet is idle since then. */
    private long startedAt;
    /** Set by the periodic-emit timer, so the idleness check timer does not emit periodic watermarks. */
    private final AtomicBoolean periodicDue = new AtomicBoolean();
    private final Disposable.Composite timers = Disposables.composite();
    /** Set when this assigner is the first operator of a checkpointed source: it injects the barriers. */
    private final SourceCheckpointing checkpointing;
    private final OperatorScalars scalars;
    private volatile boolean barrierWake;
    /** After a fallback: positions at which to inject catch-up barriers; see {@link #catchUp}. */
    private java.util.List<Map<Integer, Long>> catchUpTargets;
    private int nextCatchUp;

    WatermarkAssigner(CoreSubscriber<? super StreamElement<K, V>> actual, WatermarkStrategy<K, V> strategy) {
        this(actual, strategy, null);
    }

    WatermarkAssigner(CoreSubscriber<? super StreamElement<K, V>> actual, WatermarkStrategy<K, V> strategy,
                      SourceCheckpointing checkpointing) {
        super(actual, PREFETCH);
        this.strategy = strategy;
        this.checkpointing = checkpointing;
        this.scalars = checkpointing == null ? null
                : OperatorScalars.of(checkpointing.backend(), "source:" + checkpointing.sourceName());
        this.metrics = new OperatorMetrics(strategy.registry(), strategy.pipeline(), strategy.name(),
                strategy.scheduler());
        this.idleTimeoutMillis = strategy.idleTimeout() == null ? -1 : EventTime.toMillis(strategy.idleTimeout());
        this.periodic = strategy.periodicInterval() != null;
        this.maxAheadMillis = strategy.maxAheadMillis();
    }

    static final class Partition implements WatermarkGenerator.WatermarkOutput {
        final WatermarkGenerator generator;
        long watermark = Long.MIN_VALUE;
        /** Position of the last record of this partition ({@code -1}: none yet). */
        long position = -1;
        long lastActive;
        boolean idle;
        /** Its watermark meters, removed when the source releases it. */
        java.util.List<io.micrometer.core.instrument.Meter> meters = java.util.List.of();

        Partition(WatermarkGenerator generator) {
            this.generator = generator;
        }

        @Override
        public void emitWatermark(long w) {
            if (w > watermark) {
                watermark = w;
            }
        }
    }

    @Override
    protected void onStart() {
        Scheduler scheduler = strategy.scheduler();
        startedAt = scheduler.now(TimeUnit.MILLISECONDS);
        if (checkpointing != null) {
            restore();
            catchUpTargets = checkpointing.catchUpTargets();
            checkpointing.attach(() -> {
                barrierWake = true;
                signalTimer();
            });
        }
        if (periodic) {
            long i = Math.max(1, EventTime.toMillis(strategy.periodicInterval()));
            timers.add(scheduler.schedulePeriodically(() -> {
                periodicDue.set(true);
                signalTimer();
            }, i, i, TimeUnit.MILLISECONDS));
        }
        if (idleTimeoutMillis > 0) {
            long i = Math.max(1, idleTimeoutMillis / 2);
            timers.add(scheduler.schedulePeriodically(this::signalTimer, i, i, TimeUnit.MILLISECONDS));
        }
    }

    /** Pulled synchronously by a downstream operator only when nothing here runs on a timer. */
    @Override
    protected boolean offersSyncFusion() {
        return checkpointing == null && !periodic && idleTimeoutMillis <= 0;
    }

    /**
     * Restores the last checkpoint's positions and watermarks. Watermark generators start afresh
     * (their internal state is not checkpointed); the restored per-partition watermarks and the
     * last emitted one keep the watermark from going back, so replayed records see the watermark
     * they saw before the crash.
     */
    private void restore() {
        Map<Integer, Long> watermarks = scalars.get("watermarks");
        emitted = scalars.getLong("emitted", Long.MIN_VALUE);
        Map<Integer, Long> positions = checkpointing.restoredPositions();
        java.util.TreeSet<Integer> ids = new java.util.TreeSet<>(positions.keySet());
        if (watermarks != null) {
            ids.addAll(watermarks.keySet());
        }
        for (int id : ids) {
            if (watermarks != null && !watermarks.containsKey(id)) {
                rejectedOnly.put(id, positions.get(id)); // no record of it was accepted before the checkpoint
                continue;
            }
            Partition p = partition(id);
            p.position = positions.getOrDefault(id, -1L);
            if (watermarks != null) {
                p.watermark = watermarks.getOrDefault(id, Long.MIN_VALUE);
            }
        }
    }

    /** Writes the watermarks for the checkpoint and injects its barrier after the records so far. */
    private void injectBarrier(io.streamflow.reactive.CheckpointBarrier<?, ?> barrier) {
        Map<Integer, Long> watermarks = new HashMap<>();
        for (Map.Entry<Integer, Partition> e : partitions.entrySet()) {
            watermarks.put(e.getKey(), e.getValue().watermark);
        }
        scalars.put("watermarks", watermarks);
        scalars.putLong("emitted", emitted);
        checkpointing.positionsAt(barrier.id(), positions());
        emit(StreamElement.forward(barrier));
    }

    private Map<Integer, Long> positions() {
        Map<Integer, Long> positions = new HashMap<>();
        positions.putAll(rejectedOnly);
        for (Map.Entry<Integer, Partition> e : partitions.entrySet()) {
            positions.put(e.getKey(), e.getValue().position);
        }
        return positions;
    }

    private Partition partition(int id) {
        if (id == lastPartitionId) {
            return lastPartition;
        }
        Partition p = partitions.get(id);
        if (p == null) {
            p = new Partition(strategy.generator().get());
            // a gauge reads the field written by this operator's thread: a slightly stale value at worst
            p.meters = metrics.partitionWatermark(id, p, q -> q.watermark);
            partitions.put(id, p);
            rejectedOnly.remove(id);
        }
        lastPartition = p;
        lastPartitionId = id;
        return p;
    }

    @Override
    protected void onInput(StreamElement<K, V> element) {
        Origin origin;
        if (element instanceof StreamRecord<K, V> record) {
            origin = record.origin();
            onRecord(record);
        } else if (element instanceof DeadLetter<K, V> dead) {
            origin = dead.origin();
            metrics.deadLetter();
            consumed(origin);
            emit(dead);
        } else if (element instanceof InputStatus<K, V> status && status.isReleased()) {
            release(status.partition());
            return;
        } else {
            throw new IllegalArgumentException("operator '" + strategy.name() + "' assigns watermarks to a source's "
                    + "records (and its dead letters), but got " + element + ": a stream that already carries "
                    + "watermarks or other control elements goes in with EventStream.of(...)");
        }
        if (catchUpTargets != null && nextCatchUp < catchUpTargets.size()) {
            catchUp(origin);
        }
    }

    /**
     * The source released partition {@code id} (see {@link InputStatus#released(int)}): it no longer
     * holds the watermark back, and a record of it later starts a new partition, with a new
     * generator. Its position stays in the checkpoints (as that of a partition without a watermark),
     * so a restart does not read again what was consumed. The marker is consumed here. The watermark
     * of the remaining partitions may advance now; it never goes back, also when a partition comes
     * (back) with older records.
     */
    private void release(int id) {
        Partition p = partitions.remove(id);
        if (p == null) {
            return;
        }
        metrics.remove(p.meters);
        if (checkpointing != null && p.position >= 0) {
            rejectedOnly.put(id, p.position);
        }
        if (partitions.size() == 1) {
            Map.Entry<Integer, Partition> only = partitions.entrySet().iterator().next();
            lastPartitionId = only.getKey();
            lastPartition = only.getValue();
        } else {
            lastPartitionId = -1;
            lastPartition = null;
        }
        forwardWatermark();
    }

    /**
     * The input at {@code origin} was consumed: a checkpoint from now on resumes after it. A
     * partition none of whose inputs made a record yet is not created: it would hold the watermark
     * back, as it would not had it produced nothing.
     */
    private void consumed(Origin origin) {
        int id = origin.partition();
        Partition p = partitions.get(id);
        if (p != null) {
            p.position = origin.position();
        } else if (checkpointing != null) {
            rejectedOnly.put(id, origin.position());
        }
    }

    /**
     * After a fallback, while the pipeline replays output a sink already holds: injects a barrier
     * when the positions reach the next target, right after the input (and its watermark) that
     * reached it, where the original run's barrier was.
     */
    private void catchUp(Origin origin) {
        Map<Integer, Long> target = catchUpTargets.get(nextCatchUp);
        Map<Integer, Long> positions = positions();
        boolean reached = true;
        for (Map.Entry<Integer, Long> e : positions.entrySet()) {
            long at = e.getValue();
            long to = target.getOrDefault(e.getKey(), -1L);
            if (at > to) {
                throw new IllegalStateException("after a checkpoint fallback the source '"
                        + checkpointing.sourceName() + "' replayed " + origin + ", past the positions " + target
                        + " up to which a sink already holds the output: the input changed since (or its partitions "
                        + "are read in another order), so that output cannot be matched; nothing was delivered");
            }
            reached &= at == to;
        }
        for (Map.Entry<Integer, Long> e : target.entrySet()) {
            reached &= positions.getOrDefault(e.getKey(), -1L).longValue() == e.getValue();
        }
        if (reached) {
            nextCatchUp++;
            injectBarrier(checkpointing.catchUpBarrier());
        }
    }

    private void onRecord(StreamRecord<K, V> record) {
        metrics.recordIn();
        long ts;
        try {
            ts = strategy.timestampAssigner().applyAsLong(record);
        } catch (Throwable t) {
            Exceptions.throwIfFatal(t);
            ErrorPolicy policy = strategy.errorPolicy();
            if (!policy.isDeadLetter()) {
                throw new IllegalArgumentException("cannot extract the event timestamp of " + record
                        + " in operator '" + strategy.name() + "': " + t, t);
            }
            Long retried = null;
            Throwable failure = t;
            if (policy.retries() > 0) {
                try {
                    retried = Retry.again(r -> strategy.timestampAssigner().applyAsLong(r), record, policy.retries(),
                            t);
                } catch (Throwable last) {
                    Exceptions.throwIfFatal(last);
                    failure = Exceptions.unwrap(last);
                }
            }
            if (retried == null) {
                deadLetter(record, failure);
                return;
            }
            ts = retried;
        }
        String problem = timestampProblem(record, ts);
        if (problem != null) {
            IllegalArgumentException e = EventTime.unusable(record, ts, strategy.name(), problem);
            if (!strategy.errorPolicy().isDeadLetter()) {
                throw e;
            }
            deadLetter(record, e); // not retried: the same timestamp fails the same way
            return;
        }
        Partition p = partition(record.origin().partition());
        p.position = record.origin().position();
        if (idleTimeoutMillis > 0) {
            p.lastActive = strategy.scheduler().now(TimeUnit.MILLISECONDS);
            p.idle = false;
        }
        if (statusIdle) {
            statusIdle = false;
            emit(InputStatus.active());
        }
        p.generator.onEvent(ts, p);
        metrics.recordOut();
        emit(ts == record.timestamp() ? record : record.withTimestamp(ts));
        if (!periodic) {
            forwardWatermark();
        }
    }

    /**
     * Why {@code ts} cannot be the record's event time, or {@code null} when it can.
     *
     * @throws IllegalStateException when the record carries {@link StreamRecord#NO_TIMESTAMP} and no
     * timestamp assigner is configured: a configuration error, whatever the error policy
     */
    private String timestampProblem(StreamRecord<K, V> record, long ts) {
        if (ts == StreamRecord.NO_TIMESTAMP && strategy.usesRecordTimestamps()) {
            throw new IllegalStateException("record " + record + " has no event timestamp in operator '"
                    + strategy.name() + "': source '" + record.origin().source() + "' does not carry event time "
                    + "(its records have StreamRecord.NO_TIMESTAMP); assign one with "
                    + "WatermarkStrategy.withTimestampAssigner(...)");
        }
        String invalid = EventTime.invalidReason(ts);
        if (invalid != null || maxAheadMillis < 0) {
            return invalid;
        }
        Partition p = partitions.get(record.origin().partition());
        long watermark = p == null ? Long.MIN_VALUE : p.watermark;
        if (ts <= EventTime.add(watermark, maxAheadMillis)) {
            return null;
        }
        long now = strategy.scheduler().now(TimeUnit.MILLISECONDS);
        if (ts <= EventTime.add(now, maxAheadMillis)) {
            return null;
        }
        return "it is more than " + maxAheadMillis + " ms ahead of both the watermark of its partition ("
                + (watermark == Long.MIN_VALUE ? "none yet" : watermark) + ") and processing time (" + now
                + "), the limit set by WatermarkStrategy.withMaxTimestampAhead; is it in the right unit (epoch "
                + "milliseconds)?";
    }

    /** Sends a record to the dead-letter output; its position counts as consumed. */
    private void deadLetter(StreamRecord<K, V> record, Throwable error) {
        metrics.deadLetter();
        emit(new DeadLetter<>(record, record.origin(), strategy.name(), error));
        consumed(record.origin());
    }

    private void forwardWatermark() {
        long min;
        if (partitions.isEmpty()) {
            return;
        }
        if (partitions.size() == 1) {
            Partition only = lastPartition;
            if (only.idle) {
                return;
            }
            min = only.watermark;
        } else {
            min = Long.MAX_VALUE;
            boolean any = false;
            for (Partition p : partitions.values()) {
                if (!p.idle) {
                    any = true;
                    if (p.watermark < min) {
                        min = p.watermark;
                    }
                }
            }
            if (!any) {
                return;
            }
        }
        if (min > emitted) {
            emitted = min;
            metrics.watermark(min);
            emit(Watermark.of(min));
        }
    }

    @Override
    protected void onTimer() {
        if (barrierWake) {
            barrierWake = false;
            io.streamflow.reactive.CheckpointBarrier<?, ?> b = checkpointing.takeDueBarrier();
            if (b != null) {
                injectBarrier(b);
            }
        }
        long now = strategy.scheduler().now(TimeUnit.MILLISECONDS);
        boolean periodicEmit = periodic && periodicDue.getAndSet(false);
        // an input that has not produced any record yet has been idle since the subscription
        boolean allIdle = partitions.isEmpty() ? idleTimeoutMillis > 0 && now - startedAt >= idleTimeoutMillis
                : true;
        for (Partition p : partitions.values()) {
            if (periodicEmit) {
                p.generator.onPeriodicEmit(p);
            }
            if (idleTimeoutMillis > 0 && !p.idle && now - p.lastActive >= idleTimeoutMillis) {
                p.idle = true;
            }
            allIdle &= p.idle;
        }
        forwardWatermark();
        if (allIdle && !statusIdle) {
            statusIdle = true;
            emit(InputStatus.idle());
        }
        metrics.flush();
    }

    @Override
    protected void onEndOfInput() {
        if (checkpointing != null) {
            checkpointing.endOfInput(positions());
        }
        emitted = Watermark.END;
        metrics.watermark(Watermark.END);
        metrics.flush();
        emit(Watermark.end());
    }

    @Override
    protected void clearState() {
        timers.dispose();
        metrics.flush();
    }
}
