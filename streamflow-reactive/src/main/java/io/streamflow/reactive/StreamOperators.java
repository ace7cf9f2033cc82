package io.streamflow.reactive;

import io.micrometer.core.instrument.Counter;
import io.streamflow.reactive.internal.FatalErrors;
import io.streamflow.reactive.internal.Retry;
import org.reactivestreams.Publisher;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SynchronousSink;
import reactor.core.scheduler.Scheduler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Stateless and routing operators on streams of {@link StreamElement}s, each a
 * {@code Function<Flux, Flux>} for {@link Flux#transform}. User functions only see records;
 * watermarks, idleness markers, barriers and side outputs pass through unchanged and in order.
 * <p>
 * Element-wise operators are built on Reactor's {@code handle}/{@code flatMapIterable}, so they
 * keep Reactor's demand handling: one request upstream per request downstream (plus replenishment
 * for filtered records). A throwing user function fails the stream or, with
 * {@link ErrorPolicy#deadLetter()}, turns the record into a {@link DeadLetter} in the stream. A
 * JVM-fatal error ({@link OutOfMemoryError}, {@link StackOverflowError}) always fails the stream,
 * as the cause of the exception it fails with.
 */
public final class StreamOperators {

    private StreamOperators() {
    }

    /**
     * Maps record values, keeping key, timestamp, headers and origin. A throwing {@code fn} fails the
     * stream (operator name {@code "map"}, {@link ErrorPolicy#fail()}); see
     * {@link #map(Function, OperatorSettings)} to dead-letter instead.
     *
     * @param <K>  key type
     * @param <V>  value type of the input
     * @param <V2> value type of the output
     * @param fn   the new value of a record, from its value; may return {@code null}
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException if {@code fn} is {@code null}
     */
    public static <K, V, V2> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, V2>>> map(
            Function<? super V, ? extends V2> fn) {
        return map(fn, OperatorSettings.named("map"));
    }

    /**
     * Maps record values, keeping key, timestamp, headers and origin; a throwing {@code fn} is
     * handled by the settings' error policy. Only the name, error policy, pipeline and meter
     * registry of {@code settings} are used.
     *
     * @param <K>      key type
     * @param <V>      value type of the input
     * @param <V2>     value type of the output
     * @param fn       the new value of a record, from its value; may return {@code null}
     * @param settings name and error policy of the operator
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException if {@code fn} or {@code settings} is {@code null}
     */
    public static <K, V, V2> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, V2>>> map(
            Function<? super V, ? extends V2> fn, OperatorSettings settings) {
        Objects.requireNonNull(fn, "fn");
        return mapRecord(r -> r.withValue(fn.apply(r.value())), settings);
    }

    /**
     * Maps whole records (key, value, timestamp may all change). A {@code null} result drops the
     * record; a throwing {@code fn} is handled by the settings' error policy.
     *
     * @param <K>      key type of the input
     * @param <V>      value type of the input
     * @param <K2>     key type of the output
     * @param <V2>     value type of the output
     * @param fn       the record that replaces a record, or {@code null} to drop it
     * @param settings name and error policy of the operator
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException if {@code fn} or {@code settings} is {@code null}
     */
    public static <K, V, K2, V2> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K2, V2>>> mapRecord(
            Function<? super StreamRecord<K, V>, ? extends StreamRecord<K2, V2>> fn, OperatorSettings settings) {
        Objects.requireNonNull(fn, "fn");
        Guard guard = new Guard(settings);
        return flux -> flux.handle((StreamElement<K, V> e, SynchronousSink<StreamElement<K2, V2>> sink) -> {
            if (e instanceof StreamRecord<K, V> r) {
                StreamRecord<K2, V2> out = guard.apply(fn, r, sink);
                if (out != null) {
                    sink.next(out);
                }
            } else {
                sink.next(StreamElement.forward(e));
            }
        });
    }

    /**
     * Keeps the records whose value matches; requests more from upstream for each record dropped. A
     * throwing {@code predicate} fails the stream (operator name {@code "filter"}).
     *
     * @param <K>       key type
     * @param <V>       value type
     * @param predicate whether to keep a record, from its value
     * @return the operator, for {@code Flux.transform}
     */
    public static <K, V> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, V>>> filter(
            Predicate<? super V> predicate) {
        return filterRecord(r -> predicate.test(r.value()), OperatorSettings.named("filter"));
    }

    /**
     * Keeps the records that match; requests more from upstream for each record dropped. A
     * throwing {@code predicate} is handled by the settings' error policy.
     *
     * @param <K>       key type
     * @param <V>       value type
     * @param predicate whether to keep a record
     * @param settings  name and error policy of the operator
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException if {@code predicate} or {@code settings} is {@code null}
     */
    public static <K, V> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, V>>> filterRecord(
            Predicate<? super StreamRecord<K, V>> predicate, OperatorSettings settings) {
        Objects.requireNonNull(predicate, "predicate");
        Guard guard = new Guard(settings);
        Function<StreamRecord<K, V>, Boolean> test = predicate::test;
        return flux -> flux.handle((StreamElement<K, V> e, SynchronousSink<StreamElement<K, V>> sink) -> {
            if (e instanceof StreamRecord<K, V> r) {
                Boolean keep = guard.apply(test, r, sink);
                if (Boolean.TRUE.equals(keep)) {
                    sink.next(r);
                }
            } else {
                sink.next(e);
            }
        });
    }

    /**
     * Replaces each record's value by zero or more values, each a record with the same key, time,
     * headers and origin. The {@code Iterable} is read completely before any of its records is
     * emitted, so an error while reading it is handled by the error policy like an error of
     * {@code fn}, and a failed record emits none of its values.
     *
     * @param <K>      key type
     * @param <V>      value type of the input
     * @param <V2>     value type of the output
     * @param fn       the values that replace a record's value; an empty {@code Iterable} drops it
     * @param settings name and error policy of the operator
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException if {@code fn} or {@code settings} is {@code null}
     */
    public static <K, V, V2> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, V2>>> flatMap(
            Function<? super V, ? extends Iterable<? extends V2>> fn, OperatorSettings settings) {
        Objects.requireNonNull(fn, "fn");
        Guard guard = new Guard(settings);
        return flux -> flux.flatMapIterable(e -> {
            if (e instanceof StreamRecord<K, V> r) {
                List<StreamElement<K, V2>> out = new ArrayList<>();
                // the Iterable is consumed inside the guard, so an error while iterating follows the policy too
                List<StreamElement<K, V2>> mapped = guard.apply(x -> {
                    List<StreamElement<K, V2>> l = new ArrayList<>();
                    for (V2 v : fn.apply(x.value())) {
                        l.add(x.withValue(v));
                    }
                    return l;
                }, r, out);
                if (mapped != null) {
                    out.addAll(mapped);
                }
                return out;
            }
            return List.of(StreamElement.forward(e));
        });
    }

    /**
     * Re-keys records by a function of the value; value, timestamp, headers and origin are kept. A
     * throwing {@code keyFn} fails the stream (operator name {@code "keyBy"}).
     *
     * @param <K>   key type of the input
     * @param <V>   value type
     * @param <K2>  key type of the output
     * @param keyFn the new key of a record, from its value; keys are compared with {@code equals}
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException if {@code keyFn} is {@code null}
     */
    public static <K, V, K2> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K2, V>>> keyBy(
            Function<? super V, ? extends K2> keyFn) {
        return keyBy(keyFn, OperatorSettings.named("keyBy"));
    }

    /**
     * Re-keys records by a function of the value; a throwing {@code keyFn} is handled by the
     * settings' error policy.
     *
     * @param <K>      key type of the input
     * @param <V>      value type
     * @param <K2>     key type of the output
     * @param keyFn    the new key of a record, from its value
     * @param settings name and error policy of the operator
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException if {@code keyFn} or {@code settings} is {@code null}
     */
    public static <K, V, K2> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K2, V>>> keyBy(
            Function<? super V, ? extends K2> keyFn, OperatorSettings settings) {
        Objects.requireNonNull(keyFn, "keyFn");
        return mapRecord(r -> r.withKey(keyFn.apply(r.value())), settings);
    }

    /**
     * Merges several inputs into one. Records are interleaved as they arrive; the merged watermark
     * is the minimum of the inputs' watermarks, over the inputs that are not idle, and never goes
     * backwards. An input that completes counts as having reached {@link Watermark#END}. When
     * every input is idle the merge emits {@link InputStatus#idle()}.
     * <p>
     * The inputs' own watermarks and idleness markers are consumed; only the merged ones are
     * emitted. Every input is subscribed at once; the merge completes when all of them have, and
     * the first error of an input fails it and cancels the others.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param inputs the streams to merge, at least one
     * @return the merged stream
     * @throws IllegalArgumentException if there is no input
     * @throws NullPointerException     if an input is {@code null}
     */
    @SafeVarargs
    public static <K, V> Flux<StreamElement<K, V>> merge(Publisher<? extends StreamElement<K, V>>... inputs) {
        return merge(List.of(inputs));
    }

    /**
     * Merges several inputs into one; see {@link #merge(Publisher[])}.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param inputs the streams to merge, at least one
     * @return the merged stream
     * @throws IllegalArgumentException if {@code inputs} is empty
     */
    public static <K, V> Flux<StreamElement<K, V>> merge(List<? extends Publisher<? extends StreamElement<K, V>>> inputs) {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("merge needs at least one input");
        }
        int n = inputs.size();
        List<Flux<Object>> tagged = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int idx = i;
            tagged.add(Flux.<Object>from(inputs.get(i))
                    .map(e -> e instanceof Watermark || e instanceof InputStatus<?, ?> s && !s.isReleased()
                            ? new Tagged(idx, e) : e) // a partition's release marker passes through
                    .concatWith(Mono.fromSupplier(() -> new Tagged(idx, Watermark.end()))));
        }
        return Flux.defer(() -> {
            WatermarkMerger merger = new WatermarkMerger(n);
            return Flux.merge(tagged).handle(merger::accept);
        });
    }

    record Tagged(int input, Object element) {
    }

    /** Keeps the minimum watermark over the active inputs of a merge. */
    static final class WatermarkMerger {
        private final long[] watermarks;
        private final boolean[] idle;
        private long emitted = Long.MIN_VALUE;
        private boolean emittedIdle;

        WatermarkMerger(int n) {
            watermarks = new long[n];
            idle = new boolean[n];
            java.util.Arrays.fill(watermarks, Long.MIN_VALUE);
        }

        @SuppressWarnings("unchecked")
        <K, V> void accept(Object o, SynchronousSink<StreamElement<K, V>> sink) {
            if (!(o instanceof Tagged t)) {
                sink.next((StreamElement<K, V>) o);
                return;
            }
            if (t.element() instanceof Watermark<?, ?> w) {
                watermarks[t.input()] = Math.max(watermarks[t.input()], w.timestamp());
                if (w.timestamp() == Watermark.END) {
                    idle[t.input()] = false;
                }
            } else if (t.element() instanceof InputStatus<?, ?> s) {
                idle[t.input()] = s.isIdle();
            }
            long min = Long.MAX_VALUE;
            boolean anyActive = false;
            for (int i = 0; i < watermarks.length; i++) {
                if (!idle[i]) {
                    anyActive = true;
                    min = Math.min(min, watermarks[i]);
                }
            }
            if (!anyActive) {
                if (!emittedIdle) {
                    emittedIdle = true;
                    sink.next(InputStatus.idle());
                }
                return;
            }
            if (emittedIdle) {
                emittedIdle = false;
                sink.next(InputStatus.active());
            }
            if (min > emitted) {
                emitted = min;
                sink.next(Watermark.of(min));
            }
        }
    }

    /** Name of the branch that receives records no predicate matched. */
    public static final String UNMATCHED = "unmatched";
    /** Name of the branch that receives side outputs ({@link LateRecord}, {@link DeadLetter}). */
    public static final String SIDE_OUTPUTS = "side-outputs";

    /**
     * Splits a stream into named branches: each record goes to the first branch whose predicate
     * matches, or to {@link #UNMATCHED}; side outputs go to {@link #SIDE_OUTPUTS}; watermarks,
     * idleness and barriers go to every branch. {@code wiring} receives the branches (including
     * the two special ones) and returns what the split stream becomes. Branches that
     * {@code wiring} does not subscribe to are not consumed (their records are discarded); the
     * shared upstream is consumed at the pace of the slowest subscribed branch.
     * <p>
     * The predicates are called once per record, in order, until one matches; one that throws fails
     * the stream. Cancelling the result cancels upstream.
     *
     * @param <K>      key type
     * @param <V>      value type
     * @param <R>      element type of what {@code wiring} returns
     * @param branches branch names and their predicates, tried in the map's order; the names
     *                 {@link #UNMATCHED} and {@link #SIDE_OUTPUTS} are reserved
     * @param wiring   called once per subscription with every branch by name; returns the stream
     *                 that the split stream becomes
     * @return the operator, for {@code Flux.transform}
     * @throws NullPointerException     if {@code branches} or {@code wiring} is {@code null}
     * @throws IllegalArgumentException if a branch uses a reserved name
     */
    public static <K, V, R> Function<Flux<StreamElement<K, V>>, Flux<R>> split(
            LinkedHashMap<String, Predicate<? super StreamRecord<K, V>>> branches,
            Function<Map<String, Flux<StreamElement<K, V>>>, ? extends Publisher<R>> wiring) {
        Objects.requireNonNull(wiring, "wiring");
        List<String> names = new ArrayList<>(branches.keySet());
        for (String reserved : List.of(UNMATCHED, SIDE_OUTPUTS)) {
            if (branches.containsKey(reserved)) {
                throw new IllegalArgumentException("branch name '" + reserved + "' is reserved; choose another name");
            }
        }
        List<Predicate<? super StreamRecord<K, V>>> predicates = new ArrayList<>(branches.values());
        return flux -> flux
                .map(e -> {
                    if (e instanceof StreamRecord<K, V> r) {
                        for (int i = 0; i < predicates.size(); i++) {
                            if (predicates.get(i).test(r)) {
                                return new Routed<>(names.get(i), e);
                            }
                        }
                        return new Routed<>(UNMATCHED, e);
                    }
                    if (e instanceof LateRecord || e instanceof DeadLetter) {
                        return new Routed<>(SIDE_OUTPUTS, e);
                    }
                    return new Routed<>(null, e);
                })
                .publish(shared -> {
                    Map<String, Flux<StreamElement<K, V>>> out = new LinkedHashMap<>();
                    List<String> all = new ArrayList<>(names);
                    all.add(UNMATCHED);
                    all.add(SIDE_OUTPUTS);
                    for (String name : all) {
                        out.put(name, shared.filter(r -> r.branch() == null || r.branch().equals(name))
                                .map(Routed::element));
                    }
                    return Flux.from(wiring.apply(out));
                });
    }

    record Routed<K, V>(String branch, StreamElement<K, V> element) {
    }

    /**
     * Runs a keyed operator on {@code rails} parallel rails: records are split by the hash of their
     * key, each rail runs its own instance of {@code operator} on {@code scheduler}, watermarks,
     * idleness and barriers go to every rail, and the outputs are merged with
     * {@link #merge(List) the minimum-watermark merge}. Side outputs arriving from upstream stay on
     * rail 0 so they are not duplicated.
     * <p>
     * {@code operator} is applied once per rail, so it must make a new operator instance each time it
     * is applied (every operator of this library does). Every record of a key goes to the same rail
     * (records with a {@code null} key go to rail 0). Each rail hands its elements to
     * {@code scheduler} through a queue of Reactor's default size; an error of one rail fails the
     * result and cancels the others. With one rail, {@code operator} is returned as it is.
     *
     * @param <K>       key type of the input
     * @param <V>       value type of the input
     * @param <K2>      key type of the output
     * @param <V2>      value type of the output
     * @param rails     how many parallel instances, {@code >= 1}
     * @param scheduler where the rails run; use one with at least {@code rails} workers, such as
     *                  {@code Schedulers.parallel()}
     * @param operator  the keyed operator to run on each rail
     * @return the operator, for {@code Flux.transform}
     * @throws IllegalArgumentException if {@code rails < 1}
     * @throws NullPointerException     if {@code scheduler} or {@code operator} is {@code null}
     */
    public static <K, V, K2, V2> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K2, V2>>> parallel(
            int rails, Scheduler scheduler,
            Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K2, V2>>> operator) {
        if (rails < 1) {
            throw new IllegalArgumentException("rails must be >= 1, was " + rails);
        }
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(operator, "operator");
        if (rails == 1) {
            return operator;
        }
        return flux -> flux.publish(shared -> {
            List<Flux<StreamElement<K2, V2>>> outs = new ArrayList<>(rails);
            for (int i = 0; i < rails; i++) {
                int rail = i;
                outs.add(shared.filter(e -> {
                            if (e instanceof StreamRecord<K, V> r) {
                                return Math.floorMod(Objects.hashCode(r.key()), rails) == rail;
                            }
                            if (e instanceof LateRecord || e instanceof DeadLetter) {
                                return rail == 0;
                            }
                            return true;
                        })
                        .publishOn(scheduler)
                        .transform(operator));
            }
            return merge(outs);
        });
    }

    /** Applies an {@link ErrorPolicy} around one user function call. */
    static final class Guard {
        private final OperatorSettings settings;
        private volatile Counter deadLetters;

        Guard(OperatorSettings settings) {
            this.settings = Objects.requireNonNull(settings, "settings");
        }

        /** @return the result, or {@code null} after a dead letter was emitted to {@code sink} */
        <K, V, K2, V2, T> T apply(Function<? super StreamRecord<K, V>, ? extends T> fn, StreamRecord<K, V> r,
                                  SynchronousSink<StreamElement<K2, V2>> sink) {
            try {
                return call(fn, r);
            } catch (Failed f) {
                sink.next(this.<K2, V2>deadLetter(r, f.getCause()));
                return null;
            }
        }

        /** @return the result, or {@code null} after a dead letter was added to {@code out} */
        <K, V, K2, V2, T> T apply(Function<? super StreamRecord<K, V>, ? extends T> fn, StreamRecord<K, V> r,
                                  List<StreamElement<K2, V2>> out) {
            try {
                return call(fn, r);
            } catch (Failed f) {
                out.add(this.<K2, V2>deadLetter(r, f.getCause()));
                return null;
            }
        }

        private <K, V, T> T call(Function<? super StreamRecord<K, V>, ? extends T> fn, StreamRecord<K, V> r) {
            try {
                return fn.apply(r);
            } catch (Throwable t) {
                failIfFatal(t);
                ErrorPolicy policy = settings.errorPolicy();
                if (!policy.isDeadLetter()) {
                    throw Exceptions.propagate(t);
                }
                if (policy.retries() > 0) {
                    try {
                        return Retry.again(fn, r, policy.retries(), t);
                    } catch (Throwable last) {
                        failIfFatal(last);
                        throw new Failed(Exceptions.unwrap(last));
                    }
                }
                throw new Failed(t);
            }
        }

        /**
         * A fatal error is never a dead letter. Reactor would throw a JVM-fatal one on the thread
         * that met it (a scheduler worker: the pipeline would wait forever), so it fails the stream
         * carried by an exception instead.
         */
        private void failIfFatal(Throwable t) {
            if (Exceptions.isFatal(t)) {
                throw FatalErrors.rethrow(t, "operator '" + settings.name() + "'");
            }
        }

        private <K2, V2> DeadLetter<K2, V2> deadLetter(StreamRecord<?, ?> r, Throwable t) {
            Counter c = deadLetters;
            if (c == null) {
                StreamFlowMeters m = StreamFlowMeters.RECORDS_DEAD_LETTER;
                c = Counter.builder(m.meterName()).description(m.description()).baseUnit(m.baseUnit())
                        .tag("pipeline", settings.pipeline()).tag("operator", settings.name())
                        .register(settings.registry());
                deadLetters = c;
            }
            c.increment();
            return new DeadLetter<>(r, r.origin(), settings.name(), t);
        }
    }

    /** Internal marker carrying the error of a call that goes to the dead-letter output. */
    static final class Failed extends RuntimeException {
        Failed(Throwable cause) {
            super(cause);
        }
    }
}
