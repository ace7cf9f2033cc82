package io.streamflow.reactive;

import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.LiftedFlux;
import io.streamflow.reactive.window.AggregateFunction;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * Keyed operators without windows. Their state is kept in the settings' state backend, sharded by
 * source partition, and expires in event time: an entry whose key saw no record for the
 * time-to-live is removed once the watermark passes {@code last timestamp + ttl}.
 */
public final class KeyedOperators {

    private KeyedOperators() {
    }

    /**
     * Running aggregate per key: every record updates its key's accumulator and emits the new
     * result as a record with the same key and timestamp.
     *
     * @param stateTtl how long an idle key's state is kept ({@code null}: forever)
     */
    public static <K, V, A, R> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, R>>> runningAggregate(
            AggregateFunction<? super V, A, R> function, Duration stateTtl, OperatorSettings settings) {
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(settings, "settings");
        long ttl = ttlMillis(stateTtl);
        @SuppressWarnings("unchecked")
        AggregateFunction<V, A, R> fn = (AggregateFunction<V, A, R>) function;
        return flux -> new LiftedFlux<StreamElement<K, V>, StreamElement<K, R>>(flux,
                actual -> new RunningAggregateSubscriber<>(actual, fn, ttl, settings));
    }

    /**
     * Drops records whose id (by {@code idFn}) was already seen within {@code ttl} of event time;
     * dropped records are counted in {@code streamflow.records.deduplicated}. A record so old that
     * the watermark passed {@code timestamp + ttl} cannot be checked any more and goes to the late
     * output.
     */
    public static <K, V, I> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, V>>> deduplicate(
            Function<? super StreamRecord<K, V>, ? extends I> idFn, Duration ttl, OperatorSettings settings) {
        Objects.requireNonNull(idFn, "idFn");
        Objects.requireNonNull(settings, "settings");
        long t = ttlMillis(Objects.requireNonNull(ttl, "ttl"));
        return flux -> new LiftedFlux<StreamElement<K, V>, StreamElement<K, V>>(flux,
                actual -> new DeduplicateSubscriber<K, V, I>(actual, idFn, t, settings));
    }

    private static long ttlMillis(Duration ttl) {
        if (ttl == null) {
            return -1;
        }
        long millis = EventTime.toMillis(ttl);
        if (millis < 1) {
            throw new IllegalArgumentException("time-to-live must be at least 1 ms, was " + ttl);
        }
        return millis;
    }
}
