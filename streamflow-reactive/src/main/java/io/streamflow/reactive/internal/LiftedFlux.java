package io.streamflow.reactive.internal;

import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxOperator;

import java.util.function.Function;

/**
 * A {@link FluxOperator} that subscribes the source with the subscriber made by {@code factory}
 * for each downstream subscriber. Every StreamFlow stateful operator is applied through it.
 */
public final class LiftedFlux<I, O> extends FluxOperator<I, O> {

    private final Function<CoreSubscriber<? super O>, CoreSubscriber<? super I>> factory;

    public LiftedFlux(Flux<? extends I> source,
                      Function<CoreSubscriber<? super O>, CoreSubscriber<? super I>> factory) {
        super(source);
        this.factory = factory;
    }

    @Override
    public void subscribe(CoreSubscriber<? super O> actual) {
        source.subscribe(factory.apply(actual));
    }
}
