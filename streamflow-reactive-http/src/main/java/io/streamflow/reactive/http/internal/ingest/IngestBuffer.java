package io.streamflow.reactive.http.internal.ingest;

import io.streamflow.reactive.StreamElement;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded buffer between the HTTP requests and the pipeline: requests append their elements
 * whole or not at all ({@link #offer}), one subscriber at a time takes them with demand. Appends
 * and takes hold a lock only to move elements; the subscriber is called from a work-in-progress
 * drain loop, never while the lock is held.
 *
 * @param <T> the decoded type
 */
final class IngestBuffer<T> extends Flux<StreamElement<Void, T>> {

    /** What {@link #offer} did. */
    enum Offer {
        /** Appended. */
        TAKEN,
        /** Not enough free room now. */
        FULL,
        /** More elements than the whole buffer holds. */
        TOO_MANY,
        /** The source was closed. */
        CLOSED
    }

    private final String source;
    private final int capacity;
    private final Object lock = new Object();
    private final ArrayDeque<Pending<T>> queue = new ArrayDeque<>();
    private final AtomicInteger wip = new AtomicInteger();
    /** Guarded by {@link #lock}. */
    private long nextSequence;
    /** Guarded by {@link #lock}. */
    private boolean closed;
    /** Guarded by {@link #lock}. */
    private Downstream<T> current;
    /** The most elements ever held at once (for tests and the status of the source). */
    private volatile int peak;
    private volatile int held;

    IngestBuffer(String source, int capacity) {
        this.source = source;
        this.capacity = capacity;
    }

    int capacity() {
        return capacity;
    }

    int held() {
        return held;
    }

    int peak() {
        return peak;
    }

    /** Appends all of {@code elements} if they fit in the free room, else nothing; then delivers what is requested. */
    Offer offer(List<Pending<T>> elements) {
        Offer result = append(elements);
        if (result == Offer.TAKEN) {
            drain();
        }
        return result;
    }

    /**
     * Appends all of {@code elements} if they fit in the free room, else nothing, without delivering:
     * for callers that hold a lock of their own, which must call {@link #drain()} after releasing it.
     */
    Offer append(List<Pending<T>> elements) {
        synchronized (lock) {
            if (closed) {
                return Offer.CLOSED;
            }
            if (elements.size() > capacity) {
                return Offer.TOO_MANY;
            }
            if (queue.size() + elements.size() > capacity) {
                return Offer.FULL;
            }
            queue.addAll(elements);
            held = queue.size();
            if (held > peak) {
                peak = held;
            }
        }
        return Offer.TAKEN;
    }

    /** Free room, for a quick answer; {@link #offer} decides. */
    int free() {
        return capacity - held;
    }

    void continueAfter(long position) {
        synchronized (lock) {
            nextSequence = Math.max(nextSequence, position + 1);
        }
    }

    boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    void close() {
        synchronized (lock) {
            closed = true;
        }
        drain();
    }

    @Override
    public void subscribe(CoreSubscriber<? super StreamElement<Void, T>> actual) {
        Downstream<T> d = new Downstream<>(this, actual);
        Downstream<T> other;
        synchronized (lock) {
            other = current;
            if (other == null) {
                current = d;
            }
        }
        if (other != null) {
            Operators.error(actual, new IllegalStateException("the HTTP ingest source '" + source + "' has a "
                    + "subscriber already; it serves one at a time (cancel the first, or share the flux with publish())"));
            return;
        }
        actual.onSubscribe(d);
        drain();
    }

    private void detach(Downstream<T> d) {
        synchronized (lock) {
            if (current == d) {
                current = null;
            }
        }
    }

    void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        for (; ; ) {
            Downstream<T> d;
            synchronized (lock) {
                d = current;
            }
            if (d != null && !d.cancelled && !d.done) {
                long r = d.requested.get();
                long e = 0;
                while (e != r && !d.cancelled) {
                    Pending<T> p;
                    long sequence;
                    synchronized (lock) {
                        p = queue.poll();
                        sequence = p == null ? -1 : nextSequence++;
                        held = queue.size();
                    }
                    if (p == null) {
                        break;
                    }
                    if (p.delivered() != null) {
                        p.delivered().accept(sequence);
                    }
                    d.actual.onNext(p.toElement(source, sequence));
                    e++;
                }
                if (e != 0 && r != Long.MAX_VALUE) {
                    d.requested.addAndGet(-e);
                }
                boolean complete;
                synchronized (lock) {
                    complete = closed && queue.isEmpty();
                }
                if (complete && !d.cancelled) {
                    d.done = true;
                    detach(d);
                    d.actual.onComplete();
                }
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    @Override
    public String toString() {
        return "IngestBuffer{" + source + ", held=" + held + "/" + capacity + '}';
    }

    /** The subscription of the one current subscriber. */
    private static final class Downstream<T> implements Subscription {
        final IngestBuffer<T> parent;
        final CoreSubscriber<? super StreamElement<Void, T>> actual;
        final AtomicLong requested = new AtomicLong();
        volatile boolean cancelled;
        /** Only touched in the drain loop. */
        boolean done;

        Downstream(IngestBuffer<T> parent, CoreSubscriber<? super StreamElement<Void, T>> actual) {
            this.parent = parent;
            this.actual = actual;
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n)) {
                requested.getAndUpdate(r -> Operators.addCap(r, n));
                parent.drain();
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
            parent.detach(this);
        }
    }
}
