package io.streamflow.reactive.http;

import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler that records the delay of every delayed task scheduled on it directly (the sink's
 * backoff waits; the batch timer schedules on workers and is not recorded) and runs them on
 * {@code delegate}.
 */
final class RecordingScheduler implements Scheduler {

    private final Scheduler delegate;
    final List<Duration> delays = new CopyOnWriteArrayList<>();

    RecordingScheduler(Scheduler delegate) {
        this.delegate = delegate;
    }

    @Override
    public Disposable schedule(Runnable task) {
        return delegate.schedule(task);
    }

    @Override
    public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
        delays.add(Duration.ofNanos(unit.toNanos(delay)));
        return delegate.schedule(task, delay, unit);
    }

    @Override
    public long now(TimeUnit unit) {
        return delegate.now(unit);
    }

    @Override
    public Worker createWorker() {
        return delegate.createWorker();
    }

    @Override
    public void dispose() {
        // the delegate belongs to the test
    }
}
