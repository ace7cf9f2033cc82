package io.streamflow.reactive;

import io.streamflow.reactive.analytics.Analytics;
import io.streamflow.reactive.analytics.SessionSummary;
import io.streamflow.reactive.join.JoinType;
import io.streamflow.reactive.join.Joins;
import io.streamflow.reactive.join.TableLookup;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.WindowAssigner;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Fluent facade over a {@code Flux<StreamElement<K, V>>}: each method applies one of the
 * {@code Function<Flux, Flux>} operators ({@link StreamOperators}, {@link KeyedOperators},
 * {@link WindowOperator}) and returns a new stream; nothing runs until the result is subscribed.
 * <pre>{@code
 * EventStream.from(source, WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(100)))
 *     .filter(v -> v > 50)
 *     .map(v -> v * 2)
 *     .window(Windows.tumbling(Duration.ofMinutes(1)))
 *     .aggregate(Aggregations.count())
 *     .sink(StreamSinks.stdout());
 * }</pre>
 * Operators created through the facade use the stream's {@link OperatorSettings} (see
 * {@link #settings(OperatorSettings)}), with an operator name made unique by its position.
 * <p>
 * Side outputs (late records, dead letters) travel in-band; route them with
 * {@link #onLateData(Function)} and {@link #onDeadLetter(Function)}. Terminal methods that only
 * deliver records ({@link #records()}, {@link #sink(Function)}) log side outputs nobody routed at
 * WARN (they were already counted by the operator that produced them).
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class EventStream<K, V> {

    private static final Logger LOG = Loggers.getLogger(EventStream.class);

    private final Flux<StreamElement<K, V>> elements;
    private final OperatorSettings settings;
    private final boolean hasWatermarks;
    private final int depth;

    private EventStream(Flux<StreamElement<K, V>> elements, OperatorSettings settings, boolean hasWatermarks,
                        int depth) {
        this.elements = elements;
        this.settings = settings;
        this.hasWatermarks = hasWatermarks;
        this.depth = depth;
    }

    /**
     * A stream of records with timestamps and watermarks from {@code strategy}. Besides records the
     * source may emit {@link DeadLetter}s for inputs it could not decode (as
     * {@link StreamSources#fileLines(java.nio.file.Path)} does): they keep their place in the stream.
     *
     * @param <K>      key type
     * @param <V>      value type
     * @param source   the records, and possibly dead letters, of the source
     * @param strategy how timestamps are taken and watermarks generated
     * @return the stream, with the default settings ({@code OperatorSettings.named("stream")})
     * @throws NullPointerException     if {@code source} or {@code strategy} is {@code null}
     * @throws IllegalArgumentException if {@code strategy} is invalid (see {@link WatermarkStrategy#assign()})
     */
    public static <K, V> EventStream<K, V> from(Publisher<? extends StreamElement<K, V>> source,
                                                WatermarkStrategy<K, V> strategy) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(strategy, "strategy");
        return new EventStream<>(Flux.<StreamElement<K, V>>from(source).transform(strategy.assign(null)),
                OperatorSettings.named("stream"), true, 0);
    }

    /**
     * A stream of records (and the source's dead letters) with no watermarks: fine for stateless
     * work; windows will refuse it.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param source the records, and possibly dead letters, of the source
     * @return the stream; {@link #window}, the joins, {@link #sessions} and {@link #deduplicate} throw
     * an {@link IllegalStateException} on it
     * @throws NullPointerException if {@code source} is {@code null}
     */
    public static <K, V> EventStream<K, V> fromRecords(Publisher<? extends StreamElement<K, V>> source) {
        Objects.requireNonNull(source, "source");
        return new EventStream<>(Flux.<StreamElement<K, V>>from(source).map(r -> r), OperatorSettings.named("stream"),
                false, 0);
    }

    /**
     * A stream of elements that already carry their watermarks (another pipeline, a test stream).
     * The elements are taken as they are: nothing checks that watermarks are really there.
     *
     * @param <K>      key type
     * @param <V>      value type
     * @param elements records, watermarks and other elements
     * @return the stream
     * @throws NullPointerException if {@code elements} is {@code null}
     */
    public static <K, V> EventStream<K, V> of(Publisher<StreamElement<K, V>> elements) {
        return new EventStream<>(Flux.from(Objects.requireNonNull(elements, "elements")),
                OperatorSettings.named("stream"), true, 0);
    }

    /**
     * Uses {@code newSettings} (pipeline name, meters, scheduler, error policy, state backend) for
     * the operators added after this call. Their names are not taken from {@code newSettings}: each
     * operator is named after its kind and position, such as {@code "window-3"}, so keep the order
     * of the operators stable to find their state again after a restart.
     *
     * @param newSettings the settings of later operators
     * @return a stream whose later operators use these settings
     * @throws NullPointerException if {@code newSettings} is {@code null}
     */
    public EventStream<K, V> settings(OperatorSettings newSettings) {
        return new EventStream<>(elements, Objects.requireNonNull(newSettings, "settings"), hasWatermarks, depth);
    }

    /**
     * Error policy for the user functions of the operators added after this call.
     *
     * @param policy what to do when a user function throws or a timestamp is unusable
     * @return a stream whose later operators use this policy
     * @throws NullPointerException if {@code policy} is {@code null}
     */
    public EventStream<K, V> errorPolicy(ErrorPolicy policy) {
        return settings(settings.withErrorPolicy(policy));
    }

    private OperatorSettings op(String kind) {
        return settings.withName(kind + "-" + (depth + 1));
    }

    private <K2, V2> EventStream<K2, V2> next(Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K2, V2>>> f) {
        return new EventStream<>(elements.transform(f), settings, hasWatermarks, depth + 1);
    }

    /**
     * Keeps the records whose value matches; see {@link StreamOperators#filterRecord}.
     *
     * @param predicate whether to keep a record, from its value
     * @return the filtered stream
     * @throws NullPointerException if {@code predicate} is {@code null}
     */
    public EventStream<K, V> filter(Predicate<? super V> predicate) {
        Objects.requireNonNull(predicate, "predicate");
        return next(StreamOperators.filterRecord(r -> predicate.test(r.value()), op("filter")));
    }

    /**
     * Maps record values, keeping key, timestamp, headers and origin; see
     * {@link StreamOperators#map(Function, OperatorSettings)}.
     *
     * @param <V2> the new value type
     * @param fn   the new value of a record, from its value
     * @return the mapped stream
     * @throws NullPointerException if {@code fn} is {@code null}
     */
    public <V2> EventStream<K, V2> map(Function<? super V, ? extends V2> fn) {
        return next(StreamOperators.map(fn, op("map")));
    }

    /**
     * Maps whole records; a {@code null} result drops the record. See {@link StreamOperators#mapRecord}.
     *
     * @param <K2> the new key type
     * @param <V2> the new value type
     * @param fn   the record that replaces a record, or {@code null} to drop it
     * @return the mapped stream
     * @throws NullPointerException if {@code fn} is {@code null}
     */
    public <K2, V2> EventStream<K2, V2> mapRecord(Function<? super StreamRecord<K, V>, ? extends StreamRecord<K2, V2>> fn) {
        return next(StreamOperators.mapRecord(fn, op("mapRecord")));
    }

    /**
     * Replaces each record's value by zero or more values; see {@link StreamOperators#flatMap}.
     *
     * @param <V2> the new value type
     * @param fn   the values that replace a record's value
     * @return the mapped stream
     * @throws NullPointerException if {@code fn} is {@code null}
     */
    public <V2> EventStream<K, V2> flatMap(Function<? super V, ? extends Iterable<? extends V2>> fn) {
        return next(StreamOperators.flatMap(fn, op("flatMap")));
    }

    /**
     * Re-keys records by a function of the value, as keyed operators (windows, joins) need.
     *
     * @param <K2>  the new key type
     * @param keyFn the new key of a record, from its value
     * @return the re-keyed stream
     * @throws NullPointerException if {@code keyFn} is {@code null}
     */
    public <K2> EventStream<K2, V> keyBy(Function<? super V, ? extends K2> keyFn) {
        return next(StreamOperators.keyBy(keyFn, op("keyBy")));
    }

    /**
     * Any operator on elements, for example one of your own. It must forward the elements it does not
     * consume (watermarks, barriers, side outputs), as the built-in operators do.
     *
     * @param <K2> key type of the output
     * @param <V2> value type of the output
     * @param f    the operator
     * @return the stream after the operator
     * @throws NullPointerException if {@code f} is {@code null}
     */
    public <K2, V2> EventStream<K2, V2> transform(Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K2, V2>>> f) {
        return next(Objects.requireNonNull(f, "f"));
    }

    /**
     * Merges with other streams; the merged watermark is the minimum of the inputs'. See
     * {@link StreamOperators#merge(Publisher[])}. The result has watermarks only if every input has.
     *
     * @param others the streams to merge with this one
     * @return the merged stream
     */
    @SafeVarargs
    public final EventStream<K, V> merge(EventStream<K, V>... others) {
        List<Flux<StreamElement<K, V>>> inputs = new ArrayList<>();
        inputs.add(elements);
        boolean wm = hasWatermarks;
        for (EventStream<K, V> o : others) {
            inputs.add(o.elements);
            wm &= o.hasWatermarks;
        }
        return new EventStream<>(StreamOperators.merge(inputs), settings, wm, depth + 1);
    }

    /**
     * Keyed event-time windows over this stream, to finish with {@link WindowedStream#aggregate}.
     * The records must be keyed ({@link #keyBy}): a {@code null} key is an error of the record.
     *
     * @param assigner which windows a record belongs to (see {@link io.streamflow.reactive.window.Windows})
     * @return the windowed stream being configured
     * @throws IllegalStateException if this stream has no watermarks
     * @throws NullPointerException  if {@code assigner} is {@code null}
     */
    public WindowedStream<K, V> window(WindowAssigner assigner) {
        if (!hasWatermarks) {
            throw new IllegalStateException("window(" + assigner + ") needs event time: this stream has no "
                    + "watermarks. Did you forget to create it with EventStream.from(source, WatermarkStrategy...)?");
        }
        return new WindowedStream<>(this, WindowOperator.<K, V>of(assigner).settings(op("window")), 1);
    }

    /**
     * Running aggregate per key; idle keys expire after {@code stateTtl} of event time
     * ({@code null}: never). See {@link KeyedOperators#runningAggregate}.
     *
     * @param <A>      accumulator type
     * @param <R>      result type
     * @param fn       creates, updates and reads each key's accumulator
     * @param stateTtl how long an idle key's state is kept, or {@code null} for ever
     * @return the stream of running results
     * @throws NullPointerException     if {@code fn} is {@code null}
     * @throws IllegalArgumentException if {@code stateTtl} is under 1 ms
     */
    public <A, R> EventStream<K, R> runningAggregate(AggregateFunction<? super V, A, R> fn, Duration stateTtl) {
        return next(KeyedOperators.runningAggregate(fn, stateTtl, op("running")));
    }

    /**
     * Window join with {@code right} (same key, same window); see {@link Joins#window}. The result
     * stream's watermark is the minimum of the two inputs'.
     *
     * @param <R>     value type of the right stream
     * @param <O>     value type of the results
     * @param right   the right stream, keyed like this one
     * @param windows tumbling, sliding, calendar or global windows
     * @param type    {@code INNER}, {@code LEFT} or {@code FULL_OUTER}
     * @param joiner  the result of a pair; must not return {@code null}
     * @return the stream of join results
     * @throws IllegalStateException    if either stream has no watermarks
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code windows} are session or count windows
     */
    public <R, O> EventStream<K, O> windowJoin(EventStream<K, R> right, WindowAssigner windows, JoinType type,
                                               BiFunction<? super V, ? super R, ? extends O> joiner) {
        requireEventTime("windowJoin", right);
        return join(Joins.window(right.elements, windows, type, joiner, op("window-join")));
    }

    /**
     * Interval join with {@code right}: right timestamps in {@code [t + lower, t + upper]}, both
     * inclusive; see {@link Joins#interval}.
     *
     * @param <R>    value type of the right stream
     * @param <O>    value type of the results
     * @param right  the right stream, keyed like this one
     * @param lower  lower bound of the right timestamp relative to the left one; may be negative
     * @param upper  upper bound, at least {@code lower}
     * @param type   {@code INNER} or {@code LEFT}
     * @param joiner the result of a pair; must not return {@code null}
     * @return the stream of join results
     * @throws IllegalStateException    if either stream has no watermarks
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code lower > upper} or {@code type} is {@code FULL_OUTER}
     */
    public <R, O> EventStream<K, O> intervalJoin(EventStream<K, R> right, Duration lower, Duration upper,
                                                 JoinType type, BiFunction<? super V, ? super R, ? extends O> joiner) {
        requireEventTime("intervalJoin", right);
        return join(Joins.interval(right.elements, lower, upper, type, joiner, op("interval-join")));
    }

    /**
     * Enriches each record with its key's row of the {@code changelog} table (a {@code null} value
     * deletes a row); see {@link Joins#table}.
     *
     * @param <T>       value type of the table rows
     * @param <O>       value type of the results
     * @param changelog the table's changes, keyed like this stream
     * @param lookup    which row a record sees: the one valid at its event time, or the latest
     * @param type      {@code INNER} or {@code LEFT}
     * @param joiner    the result for a record and its key's row; must not return {@code null}
     * @return the stream of join results
     * @throws IllegalStateException    if either stream has no watermarks
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code type} is {@code FULL_OUTER}
     */
    public <T, O> EventStream<K, O> tableJoin(EventStream<K, T> changelog, TableLookup lookup, JoinType type,
                                              BiFunction<? super V, ? super T, ? extends O> joiner) {
        requireEventTime("tableJoin", changelog);
        return join(Joins.table(changelog.elements, lookup, type, joiner, op("table-join")));
    }

    private void requireEventTime(String what, EventStream<?, ?> other) {
        if (!hasWatermarks || !other.hasWatermarks) {
            throw new IllegalStateException(what + " needs event time on both inputs: create both streams with "
                    + "EventStream.from(source, WatermarkStrategy...)");
        }
    }

    private <O> EventStream<K, O> join(Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, O>>> f) {
        return new EventStream<>(elements.transform(f), settings, true, depth + 1);
    }

    /**
     * Per-key session summaries (events at most {@code gap} apart); see {@link Analytics#sessions}.
     *
     * @param gap       the longest quiet time within a session, at least 1 ms
     * @param eventType the type of an event, counted per type
     * @param pageView  which events are page views
     * @return the stream of session summaries, keyed like this one
     * @throws IllegalStateException    if this stream has no watermarks
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code gap} is under 1 ms
     */
    public EventStream<K, SessionSummary> sessions(Duration gap, Function<? super V, String> eventType,
                                                   Predicate<? super V> pageView) {
        if (!hasWatermarks) {
            throw new IllegalStateException("sessions needs event time: create the stream with "
                    + "EventStream.from(source, WatermarkStrategy...)");
        }
        return next(Analytics.sessions(gap, eventType, pageView, op("sessions")));
    }

    /**
     * Drops records whose id was seen within {@code ttl} of event time; see
     * {@link KeyedOperators#deduplicate}.
     *
     * @param <I>  id type
     * @param idFn the id of a record
     * @param ttl  how long an id is remembered, in event time, at least 1 ms
     * @return the stream without duplicates
     * @throws IllegalStateException    if this stream has no watermarks
     * @throws NullPointerException     if {@code idFn} or {@code ttl} is {@code null}
     * @throws IllegalArgumentException if {@code ttl} is under 1 ms
     */
    public <I> EventStream<K, V> deduplicate(Function<? super StreamRecord<K, V>, ? extends I> idFn, Duration ttl) {
        if (!hasWatermarks) {
            throw new IllegalStateException("deduplicate needs event time to expire ids: create the stream with "
                    + "EventStream.from(source, WatermarkStrategy...)");
        }
        return next(KeyedOperators.deduplicate(idFn, ttl, op("dedup")));
    }

    /**
     * Sends late records to {@code handler} and removes them here. The handler must subscribe to the
     * flux it is given, typically by returning it with operators applied
     * ({@code late -> late.doOnNext(log::warn)}; to drop late records, {@code late -> late.then()}).
     * It may subscribe later, on another thread: nothing flows before it does, so no late record is
     * missed. The stream completes when both the main path and the handler's publisher have completed.
     * If the handler's publisher terminates without the handler having subscribed to the flux, the
     * stream fails with an {@link IllegalStateException} saying so (a handler whose publisher never
     * terminates and never subscribes keeps the stream from starting).
     * <p>
     * An error of the stream upstream reaches both the main path and the handler's flux; the stream
     * fails with it once (the handler's copy of the same error is not reported again).
     *
     * @param handler receives the flux of late records and returns a publisher that the stream waits
     *                for; called once per subscription to the stream
     * @return the stream without late records
     * @throws NullPointerException if {@code handler} is {@code null}
     */
    public EventStream<K, V> onLateData(Function<Flux<LateRecord<?, ?>>, ? extends Publisher<?>> handler) {
        return route(LateRecord.class, "onLateData", "late records", handler);
    }

    /**
     * Sends dead letters to {@code handler} and removes them here; the handler must subscribe to the
     * flux it is given, as for {@link #onLateData(Function)}.
     *
     * @param handler receives the flux of dead letters and returns a publisher that the stream waits
     *                for; called once per subscription to the stream
     * @return the stream without dead letters
     * @throws NullPointerException if {@code handler} is {@code null}
     */
    public EventStream<K, V> onDeadLetter(Function<Flux<DeadLetter<?, ?>>, ? extends Publisher<?>> handler) {
        return route(DeadLetter.class, "onDeadLetter", "dead letters", handler);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private <T> EventStream<K, V> route(Class<?> type, String method, String what,
                                        Function<Flux<T>, ? extends Publisher<?>> handler) {
        Objects.requireNonNull(handler, "handler");
        String position = depth == 0 ? "right after the source" : "after operator " + depth + " of the stream";
        String pipeline = settings.pipeline();
        Flux<StreamElement<K, V>> routed = Flux.defer(() -> {
            AtomicReference<Throwable> upstreamError = new AtomicReference<>();
            AtomicBoolean subscribed = new AtomicBoolean();
            Sinks.Empty<Void> sideTerminated = Sinks.empty();
            // refCount(2): nothing flows until both the main path and the handler have subscribed (a
            // handler may subscribe later, on another thread), so no side output is missed.
            Flux<StreamElement<K, V>> shared = elements.doOnError(upstreamError::set).publish().refCount(2);
            Flux<T> side = Flux.defer(() -> {
                subscribed.set(true);
                return (Flux<T>) (Flux) shared.filter(type::isInstance)
                        .doFinally(signal -> sideTerminated.tryEmitEmpty());
            });
            // An upstream error reaches both paths, one after the other. The main path reports it once
            // the handler's path has received it too: failing at once would cancel the handler's path
            // first, and its copy of the error would then go to the dropped-error hook.
            Flux<StreamElement<K, V>> main = shared.filter(e -> !type.isInstance(e))
                    .onErrorResume(e -> Mono.<StreamElement<K, V>>error(e)
                            .delaySubscription(sideTerminated.asMono()));
            Mono<StreamElement<K, V>> handled = Flux.from(handler.apply(side))
                    .then(Mono.defer(() -> subscribed.get() ? Mono.<StreamElement<K, V>>empty()
                            : Mono.error(new IllegalStateException("the " + method + " handler (pipeline '"
                                    + pipeline + "', " + position + ") completed without subscribing to the flux of "
                                    + what + " it was given, so the stream could never start: a handler must "
                                    + "subscribe to that flux, for example by returning it with operators applied ("
                                    + "x -> x.doOnNext(...)), or x -> x.then() to drop them"))))
                    // the handler's copy of an upstream error: the main path reports it
                    .onErrorResume(e -> isCausedBy(e, upstreamError.get()), e -> Mono.empty());
            return Flux.merge(main, handled);
        });
        return new EventStream<>(routed, settings, hasWatermarks, depth);
    }

    /** Whether {@code e} is {@code cause} or has it in its chain of causes. */
    private static boolean isCausedBy(Throwable e, Throwable cause) {
        if (cause == null) {
            return false;
        }
        Throwable t = e;
        for (int depth = 0; t != null && depth < 32; depth++) { // bounded: a chain may loop
            if (t == cause) {
                return true;
            }
            t = t.getCause();
        }
        return false;
    }

    /** @return every element: records, watermarks, control elements and side outputs */
    public Flux<StreamElement<K, V>> elements() {
        return elements;
    }

    /** @return the records only; side outputs nobody routed are logged at WARN */
    @SuppressWarnings("unchecked")
    public Flux<StreamRecord<K, V>> records() {
        AtomicBoolean warnedLate = new AtomicBoolean();
        AtomicBoolean warnedDead = new AtomicBoolean();
        return elements.filter(e -> {
            if (e instanceof LateRecord<?, ?> l) {
                logUnrouted(warnedLate, "late record", l);
            } else if (e instanceof DeadLetter<?, ?> d) {
                logUnrouted(warnedDead, "dead letter", d);
            }
            return e.isRecord();
        }).map(e -> (StreamRecord<K, V>) e);
    }

    private static void logUnrouted(AtomicBoolean warned, String what, Object e) {
        if (warned.compareAndSet(false, true)) {
            LOG.warn("{} reached the end of the pipeline with no handler (route it with onLateData/onDeadLetter); "
                    + "further ones are logged at debug: {}", what, e);
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("unrouted {}: {}", what, e);
        }
    }

    /** @return the record values only */
    public Flux<V> values() {
        return records().map(StreamRecord::value);
    }

    /**
     * Writes the records to {@code sink} (see {@link StreamSinks}); completes when the sink does.
     * Side outputs nobody routed are logged at WARN, as by {@link #records()}.
     *
     * @param sink applied once to the records; its publisher's elements are ignored
     * @return a {@code Mono} that runs the pipeline when subscribed and completes when the sink does,
     * or fails with the first error of the pipeline or the sink
     * @throws NullPointerException if {@code sink} is {@code null}
     */
    public Mono<Void> sink(Function<Flux<StreamRecord<K, V>>, ? extends Publisher<?>> sink) {
        Objects.requireNonNull(sink, "sink");
        return Flux.from(sink.apply(records())).then();
    }

    /**
     * A windowed stream being configured; {@link #aggregate} returns to an {@link EventStream}.
     * Immutable: each method returns a copy.
     *
     * @param <K> key type
     * @param <V> value type
     */
    public static final class WindowedStream<K, V> {
        private final EventStream<K, V> parent;
        private final WindowOperator<K, V> operator;
        private final int rails;

        WindowedStream(EventStream<K, V> parent, WindowOperator<K, V> operator, int rails) {
            this.parent = parent;
            this.operator = operator;
            this.rails = rails;
        }

        /**
         * @param lateness how long after the watermark passed a window's end its state is kept for late
         *                 records; see {@link WindowOperator#allowedLateness}
         * @return a copy with this lateness
         * @throws NullPointerException     if {@code lateness} is {@code null}
         * @throws IllegalArgumentException if {@code lateness} is negative
         */
        public WindowedStream<K, V> allowedLateness(Duration lateness) {
            return new WindowedStream<>(parent, operator.allowedLateness(lateness), rails);
        }

        /**
         * @param trigger when windows fire (default {@link io.streamflow.reactive.window.Trigger#onWatermark()})
         * @return a copy with this trigger
         * @throws NullPointerException if {@code trigger} is {@code null}
         */
        public WindowedStream<K, V> trigger(io.streamflow.reactive.window.Trigger trigger) {
            return new WindowedStream<>(parent, operator.trigger(trigger), rails);
        }

        /**
         * @param name the window operator's name instead of the positional {@code "window-N"}: a
         *             name that stays the same when the pipeline changes keeps its state findable
         * @return a copy with this name
         * @throws NullPointerException     if {@code name} is {@code null}
         * @throws IllegalArgumentException if {@code name} is blank
         */
        public WindowedStream<K, V> name(String name) {
            return new WindowedStream<>(parent, operator.name(name), rails);
        }

        /**
         * Runs the window operator on {@code n} rails split by key hash (on {@code Schedulers.parallel()});
         * see {@link StreamOperators#parallel}. Default 1: no rails, no thread hand-off.
         *
         * @param n how many rails, {@code >= 1}
         * @return a copy with this parallelism
         * @throws IllegalArgumentException if {@code n < 1}
         */
        public WindowedStream<K, V> parallelism(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("parallelism must be >= 1, was " + n);
            }
            return new WindowedStream<>(parent, operator, n);
        }

        /**
         * Aggregates each key's windows with {@code fn}: one {@link WindowResult} per pane; see
         * {@link WindowOperator}.
         *
         * @param <A> accumulator type
         * @param <R> result type
         * @param fn  the aggregate of each window (see {@link io.streamflow.reactive.window.Aggregations})
         * @return the stream of window results, keyed like the input
         * @throws NullPointerException     if {@code fn} is {@code null}
         * @throws IllegalArgumentException if the configuration cannot work (count windows with an
         *                                  early trigger)
         */
        public <A, R> EventStream<K, WindowResult<K, R>> aggregate(AggregateFunction<? super V, A, R> fn) {
            Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, WindowResult<K, R>>>> op = operator.aggregate(fn);
            return parent.next(StreamOperators.parallel(rails, reactor.core.scheduler.Schedulers.parallel(), op));
        }
    }
}
