package io.streamflow.reactive.internal;

import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.Fuseable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.function.LongFunction;

/**
 * A source of {@code factory.apply(i)} for {@code i} in {@code [from, end)}, emitting exactly what
 * downstream requests with a primitive counter (no boxed state per element). A factory that throws
 * or returns {@code null} terminates the sequence with {@code onError}.
 * <p>
 * It supports synchronous fusion ({@link Fuseable#SYNC}): a consumer that asks for it pulls each
 * element with {@code poll()} in its own loop, with no {@code onNext} call or demand accounting per
 * element. A throwing factory then throws from {@code poll()}, which the consumer turns into
 * {@code onError}.
 */
public final class GeneratorFlux<T> extends Flux<T> implements Fuseable {

    private final long from;
    private final long end;
    private final LongFunction<? extends T> factory;

    public GeneratorFlux(long from, long end, LongFunction<? extends T> factory) {
        this.from = from;
        this.end = end;
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
        if (from >= end) {
            Operators.complete(actual);
            return;
        }
        actual.onSubscribe(new Generation<>(actual, from, end, factory));
    }

    static final class Generation<T> implements Fuseable.QueueSubscription<T> {
        private final CoreSubscriber<? super T> actual;
        private final long end;
        private final LongFunction<? extends T> factory;
        private long index;
        private volatile boolean cancelled;

        private volatile long requested;
        @SuppressWarnings("rawtypes")
        private static final AtomicLongFieldUpdater<Generation> REQUESTED =
                AtomicLongFieldUpdater.newUpdater(Generation.class, "requested");

        Generation(CoreSubscriber<? super T> actual, long from, long end, LongFunction<? extends T> factory) {
            this.actual = actual;
            this.index = from;
            this.end = end;
            this.factory = factory;
        }

        @Override
        public void request(long n) {
            if (Operators.validate(n) && Operators.addCap(REQUESTED, this, n) == 0) {
                emit(n);
            }
        }

        private void emit(long n) {
            long e = 0;
            long i = index;
            CoreSubscriber<? super T> a = actual;
            for (;;) {
                while (e != n && i != end) {
                    if (cancelled) {
                        return;
                    }
                    T t;
                    try {
                        t = Objects.requireNonNull(factory.apply(i), "the record factory returned null");
                    } catch (Throwable ex) {
                        Exceptions.throwIfFatal(ex);
                        cancelled = true;
                        a.onError(Operators.onOperatorError(this, ex, a.currentContext()));
                        return;
                    }
                    i++;
                    a.onNext(t);
                    e++;
                }
                if (cancelled) {
                    return;
                }
                if (i == end) {
                    a.onComplete();
                    return;
                }
                n = requested;
                if (n == e) {
                    index = i;
                    n = REQUESTED.addAndGet(this, -e);
                    if (n == 0) {
                        return;
                    }
                    e = 0;
                }
            }
        }

        @Override
        public void cancel() {
            cancelled = true;
        }

        @Override
        public int requestFusion(int requestedMode) {
            return (requestedMode & Fuseable.SYNC) != 0 ? Fuseable.SYNC : Fuseable.NONE;
        }

        @Override
        public T poll() {
            long i = index;
            if (i == end) {
                return null;
            }
            index = i + 1;
            return Objects.requireNonNull(factory.apply(i), "the record factory returned null");
        }

        @Override
        public boolean isEmpty() {
            return index == end;
        }

        @Override
        public int size() {
            return (int) Math.min(Integer.MAX_VALUE, end - index);
        }

        @Override
        public void clear() {
            index = end;
        }

    }
}
