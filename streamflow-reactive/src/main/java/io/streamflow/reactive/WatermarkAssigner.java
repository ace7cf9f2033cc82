package io.streamflow.reactive;

import io.streamflow.reactive.internal.OperatorMetrics;
import io.streamflow.reactive.internal.StreamOperatorSubscriber;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Exceptions;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Per-partition watermark generation with idleness; see {@link WatermarkStrategy}. */
final class WatermarkAssigner<K, V> extends StreamOperatorSubscriber<StreamRecord<K, V>, StreamElement<K, V>> {

    static final int PREFETCH = 256;

    private final WatermarkStrategy<K, V> strategy;
    private final OperatorMetrics metrics;
    private final long idleTimeoutMillis;
    private final boolean periodic;
    private final Map<Integer, Partition> partitions = new HashMap<>();
    private Partition lastPartition;
    private int lastPartitionId = -1;
    private long emitted = Long.MIN_VALUE;
    private boolean statusIdle;
    private Disposable timer;

    WatermarkAssigner(CoreSubscriber<? super StreamElement<K, V>> actual, WatermarkStrategy<K, V> strategy) {
        super(actual, PREFETCH);
        this.strategy = strategy;
        this.metrics = new OperatorMetrics(strategy.registry(), strategy.pipeline(), strategy.name());
        this.idleTimeoutMillis = strategy.idleTimeout() == null ? -1 : strategy.idleTimeout().toMillis();
        this.periodic = strategy.periodicInterval() != null;
    }

    static final class Partition implements WatermarkGenerator.WatermarkOutput {
        final WatermarkGenerator generator;
        long watermark = Long.MIN_VALUE;
        long lastActive;
        boolean idle;

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
        long interval = Long.MAX_VALUE;
        if (periodic) {
            interval = strategy.periodicInterval().toMillis();
        }
        if (idleTimeoutMillis > 0) {
            interval = Math.min(interval, Math.max(1, idleTimeoutMillis / 2));
        }
        if (interval != Long.MAX_VALUE) {
            long i = Math.max(1, interval);
            timer = strategy.scheduler().schedulePeriodically(this::signalTimer, i, i, TimeUnit.MILLISECONDS);
        }
    }

    private Partition partition(int id) {
        if (id == lastPartitionId) {
            return lastPartition;
        }
        Partition p = partitions.get(id);
        if (p == null) {
            p = new Partition(strategy.generator().get());
            partitions.put(id, p);
        }
        lastPartition = p;
        lastPartitionId = id;
        return p;
    }

    @Override
    protected void onInput(StreamRecord<K, V> record) {
        metrics.recordIn();
        long ts;
        try {
            ts = strategy.timestampAssigner().applyAsLong(record);
        } catch (Throwable t) {
            Exceptions.throwIfFatal(t);
            if (!strategy.errorPolicy().isDeadLetter()) {
                throw new IllegalArgumentException("cannot extract the event timestamp of " + record
                        + " in operator '" + strategy.name() + "': " + t, t);
            }
            metrics.deadLetter();
            emit(new DeadLetter<>(record, record.origin(), strategy.name(), t));
            return;
        }
        Partition p = partition(record.origin().partition());
        if (idleTimeoutMillis > 0) {
            p.lastActive = strategy.scheduler().now(TimeUnit.MILLISECONDS);
            p.idle = false;
        }
        if (statusIdle) {
            statusIdle = false;
            emit(InputStatus.active());
        }
        p.generator.onEvent(ts, p);
        emit(ts == record.timestamp() ? record : record.withTimestamp(ts));
        if (!periodic) {
            forwardWatermark();
        }
    }

    private void forwardWatermark() {
        long min;
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
        long now = strategy.scheduler().now(TimeUnit.MILLISECONDS);
        boolean allIdle = !partitions.isEmpty();
        for (Partition p : partitions.values()) {
            if (periodic) {
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
        emitted = Watermark.END;
        metrics.watermark(Watermark.END);
        metrics.flush();
        emit(Watermark.end());
    }

    @Override
    protected void clearState() {
        Disposable t = timer;
        if (t != null) {
            t.dispose();
        }
        metrics.flush();
    }
}
