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
     * <p>
     * Nothing is buffered: each result is emitted as soon as its record is added. Watermarks,
     * barriers and side outputs are forwarded. On cancel or error the accumulators are dropped
     * unless the state backend is durable (then they belong to the last checkpoint). A throwing
     * {@code function} is handled by the settings' {@link ErrorPolicy}; a key that arrives from two
     * source partitions fails the pipeline with an {@link IllegalStateException} while state is
     * {@linkplain OperatorSettings#withShardBySourcePartition sharded by partition}.
     *
     * @param <K>      key type
     * @param <V>      value type of the input records
     * @param <A>      accumulator type
     * @param <R>      result type
     * @param function creates, updates and reads the accumulator of each key
     * @param stateTtl how long an idle key's state is kept, in event time ({@code null}: forever); with
     *                 a time-to-live, records whose timestamp is not an event time are handled by
     *                 the error policy
     * @param settings name, state backend, error policy and meters of the operator
     * @return the operator, for {@code Flux.transform} or {@link EventStream#transform}
     * @throws NullPointerException     if {@code function} or {@code settings} is {@code null}
     * @throws IllegalArgumentException if {@code stateTtl} is shorter than 1 ms
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
     * <p>
     * The id's state is kept for the operator as a whole, not per key: an id first seen at time
     * {@code t} is remembered until the watermark reaches {@code t + ttl}; a duplicate does not
     * extend that. Records are emitted (or dropped) as they arrive, nothing is buffered. On cancel or
     * error the ids are dropped unless the state backend is durable. A throwing {@code idFn} is
     * handled by the settings' {@link ErrorPolicy}, as is a record whose timestamp is not an event
     * time.
     *
     * @param <K>      key type
     * @param <V>      value type
     * @param <I>      id type; ids are compared with {@code equals}
     * @param idFn     the id of a record
     * @param ttl      how long an id is remembered, in event time, at least 1 ms
     * @param settings name, state backend, error policy and meters of the operator
     * @return the operator, for {@code Flux.transform} or {@link EventStream#transform}
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code ttl} is shorter than 1 ms
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
