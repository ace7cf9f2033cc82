package io.streamflow.reactive.http.internal.results;

import io.streamflow.reactive.http.ResultEvent;
import io.streamflow.reactive.http.SlowClientException;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.function.Predicate;

/**
 * One client of a {@link RetainedLog}: a cursor into the log, read on the client's own serialized
 * drain (work-in-progress counter, run on the log's delivery scheduler). The appender only wakes it;
 * it never waits for it. The client's buffer is the log itself: it may fall at most
 * {@code clientBuffer} events behind the head, and is cut off with a {@link SlowClientException}
 * beyond that (or when events it has not read leave retention).
 */
final class LogSubscription implements org.reactivestreams.Subscription, Runnable {

    private static final AtomicIntegerFieldUpdater<LogSubscription> WIP =
            AtomicIntegerFieldUpdater.newUpdater(LogSubscription.class, "wip");
    private static final AtomicLongFieldUpdater<LogSubscription> REQUESTED =
            AtomicLongFieldUpdater.newUpdater(LogSubscription.class, "requested");

    private final RetainedLog log;
    private final CoreSubscriber<? super ResultEvent> actual;
    private final Long lastEventId;
    private final boolean snapshot;
    private final Predicate<LogEntry> filter;
    private final long headAtSubscribe;

    private volatile int wip;
    private volatile long requested;
    private volatile boolean cancelled;
    private volatile boolean heartbeatDue;
    private volatile boolean closed;

    // drain-only state
    private boolean started;
    private boolean done;
    private long emitted;
    private long cursor;
    private long lastIdGiven;
    private final ArrayDeque<ResultEvent> prefix = new ArrayDeque<>();

    LogSubscription(RetainedLog log, CoreSubscriber<? super ResultEvent> actual, Long lastEventId, boolean snapshot,
                    Predicate<LogEntry> filter, long headAtSubscribe) {
        this.log = log;
        this.actual = actual;
        this.lastEventId = lastEventId;
        this.snapshot = snapshot;
        this.filter = filter;
        this.headAtSubscribe = headAtSubscribe;
        this.lastIdGiven = lastEventId == null ? 0 : Math.max(0, lastEventId);
    }

    /**
     * Arms the heartbeat: a one-shot timer re-armed at each tick and never cancelled (cancelling a
     * timer task takes the timer queue's lock, which may park the cancelling thread); after the
     * client is gone the pending tick finds it closed and stops.
     */
    void startHeartbeat() {
        if (log.heartbeatMillis > 0 && !closed) {
            log.clock.schedule(this::heartbeatTick, log.heartbeatMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void heartbeatTick() {
        if (closed) {
            return;
        }
        heartbeatDue = true;
        wake();
        startHeartbeat();
    }

    void wake() {
        if (WIP.getAndIncrement(this) == 0) {
            try {
                log.delivery.schedule(this);
            } catch (RuntimeException rejected) {
                // the delivery scheduler is shut down: drain here rather than lose the client
                run();
            }
        }
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            Operators.addCap(REQUESTED, this, n);
            wake();
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        wake();
    }

    @Override
    public void run() {
        int missed = 1;
        for (;;) {
            if (cancelled || done) {
                cleanUp();
                return;
            }
            try {
                if (!started) {
                    started = true;
                    start();
                }
                drainOnce();
            } catch (Throwable t) {
                fail(t);
            }
            if (cancelled || done) {
                cleanUp();
                return;
            }
            missed = WIP.addAndGet(this, -missed);
            if (missed == 0) {
                return;
            }
        }
    }

    private void start() {
        if (lastEventId == null && !snapshot) {
            cursor = headAtSubscribe;
            return;
        }
        log.trim();
        long h = log.head();
        String reason;
        if (lastEventId == null) {
            reason = "no last event id, snapshot requested";
        } else {
            long id = lastEventId;
            if (id >= 0 && id <= h && id + 1 >= log.first()) {
                cursor = id;
                return;
            }
            reason = id > h || id < 0
                    ? "last event id " + id + " is unknown to this log, whose newest event is " + h
                      + " (an id of another run?)"
                    : "last event id " + id + " is no longer retained, the oldest retained event is " + log.first();
        }
        List<ResultEvent> snap = new java.util.ArrayList<>();
        h = log.snapshot(filter, snap);
        if (filter == null) {
            // a key's watch starts with its snapshot, without reset: the watcher has nothing to drop
            prefix.add(new ResultEvent(null, ResultEvent.Type.RESET, "{\"reason\":\"" + reason + "\",\"lastEventId\":"
                    + lastEventId + ",\"head\":" + h + "}"));
        }
        prefix.addAll(snap);
        prefix.add(new ResultEvent(h, ResultEvent.Type.SNAPSHOT_END, "{\"head\":" + h + "}"));
        cursor = h;
    }

    private void drainOnce() {
        long r = requested;
        long e = emitted;
        while (e != r && !prefix.isEmpty()) {
            ResultEvent ev = prefix.poll();
            if (ev.id() != null) {
                lastIdGiven = ev.id();
            }
            actual.onNext(ev);
            e++;
            if (cancelled) {
                return;
            }
        }
        long h = log.head();
        if (prefix.isEmpty()) {
            while (cursor < h && (e != r || filter != null)) {
                LogEntry en = log.entry(cursor + 1);
                if (en == null) {
                    emitted = e;
                    fail(new SlowClientException(log.name, h - cursor, log.clientBuffer, lastIdGiven, true));
                    return;
                }
                if (filter != null && !filter.test(en)) {
                    cursor++;
                    continue;
                }
                if (e == r) {
                    break;
                }
                cursor++;
                lastIdGiven = en.id;
                actual.onNext(en.event);
                e++;
                if (cancelled) {
                    return;
                }
            }
        }
        // behind is what the client's demand did not let it take: a client with demand left (this
        // drain has not reached what was appended meanwhile, the next pass will) is not slow
        long behind = log.head() - cursor;
        if (e == r && behind > log.clientBuffer) {
            emitted = e;
            fail(new SlowClientException(log.name, behind, log.clientBuffer, lastIdGiven, false));
            return;
        }
        if (heartbeatDue) {
            heartbeatDue = false;
            if (e != r) {
                actual.onNext(ResultEvent.HEARTBEAT);
                e++;
            }
        }
        emitted = e;
    }

    private void fail(Throwable t) {
        if (done) {
            Operators.onErrorDropped(t, actual.currentContext());
            return;
        }
        done = true;
        cleanUp();
        actual.onError(t);
    }

    private void cleanUp() {
        closed = true;
        log.unregister(this);
        prefix.clear();
    }
}
