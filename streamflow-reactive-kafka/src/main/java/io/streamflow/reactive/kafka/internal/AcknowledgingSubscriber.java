package io.streamflow.reactive.kafka.internal;

import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

import java.util.function.Consumer;

/**
 * Passes every signal on unchanged and, after the downstream {@code onNext} of an element returned,
 * calls the acknowledgement of that element: an element is acknowledged only once it was handed to
 * the subscriber, never when an error or a cancel came first.
 *
 * @param <T> the element type
 */
public final class AcknowledgingSubscriber<T> implements CoreSubscriber<T>, Subscription {

    private final CoreSubscriber<? super T> actual;
    private final Consumer<? super T> acknowledge;
    private Subscription upstream;
    private boolean done;

    /**
     * @param actual      the downstream subscriber
     * @param acknowledge called with each element after the downstream {@code onNext} returned
     */
    public AcknowledgingSubscriber(CoreSubscriber<? super T> actual, Consumer<? super T> acknowledge) {
        this.actual = actual;
        this.acknowledge = acknowledge;
    }

    @Override
    public Context currentContext() {
        return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription s) {
        if (Operators.validate(upstream, s)) {
            upstream = s;
            actual.onSubscribe(this);
        }
    }

    @Override
    public void onNext(T t) {
        if (done) {
            Operators.onNextDropped(t, actual.currentContext());
            return;
        }
        actual.onNext(t);
        try {
            acknowledge.accept(t);
        } catch (RuntimeException e) {
            upstream.cancel();
            onError(Operators.onOperatorError(e, actual.currentContext()));
        }
    }

    @Override
    public void onError(Throwable t) {
        if (done) {
            Operators.onErrorDropped(t, actual.currentContext());
            return;
        }
        done = true;
        actual.onError(t);
    }

    @Override
    public void onComplete() {
        if (done) {
            return;
        }
        done = true;
        actual.onComplete();
    }

    @Override
    public void request(long n) {
        upstream.request(n);
    }

    @Override
    public void cancel() {
        upstream.cancel();
    }
}
