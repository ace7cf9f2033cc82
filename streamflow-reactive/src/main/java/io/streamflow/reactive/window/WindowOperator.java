package io.streamflow.reactive.window;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.LiftedFlux;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * Keyed event-time window aggregation as a {@code Function<Flux, Flux>} for
 * {@link Flux#transform}:
 * <pre>{@code
 * Flux<StreamElement<String, WindowResult<String, Long>>> counts = keyed.transform(
 *     WindowOperator.<String, Click>of(Windows.tumbling(Duration.ofMinutes(1)))
 *         .allowedLateness(Duration.ofSeconds(10))
 *         .aggregate(Aggregations.count()));
 * }</pre>
 * Semantics (watermark {@code W}, allowed lateness {@code L}): a window fires ON_TIME when
 * {@code W >= maxTimestamp}; its state is kept until {@code W >= maxTimestamp + L}; a record that
 * lands in a window the watermark has passed but that is not purged fires a LATE pane at once; a
 * record all of whose windows are purged goes to the late-data side output as a
 * {@link io.streamflow.reactive.LateRecord}, is counted in {@code streamflow.records.late} and
 * logged at debug. Lateness is judged against the watermark before the record. Each result is a
 * record keyed like the input, timestamped with the window's {@code maxTimestamp}, carrying a
 * {@link WindowResult}.
 * <p>
 * Demand: the operator requests at most {@code prefetch} inputs ahead and emits firings lazily as
 * downstream requests them. On cancel, buffered inputs are discarded and the state is cleared (kept, when the backend is durable). A
 * throwing aggregate function fails the pipeline or goes to the dead-letter output, by the
 * settings' {@link io.streamflow.reactive.ErrorPolicy}. A record with a {@code null} key is an
 * error of the same kind (did you forget {@code keyBy}?), and so is a record whose timestamp cannot be
 * placed in a window: {@code Long.MIN_VALUE} ({@link io.streamflow.reactive.StreamRecord#NO_TIMESTAMP}),
 * {@code Long.MAX_VALUE} (the end-of-input watermark), or a timestamp whose window would not fit in a
 * {@code long} (within a window size of the ends). Such records never reach a window; none of
 * the window arithmetic (bounds, {@code maxTimestamp + L}) overflows.
 *
 * @param <K> key type
 * @param <V> input value type
 */
public final class WindowOperator<K, V> {

    private final WindowAssigner assigner;
    private final long allowedLateness;
    private final Trigger trigger;
    private final OperatorSettings settings;

    private WindowOperator(WindowAssigner assigner, long allowedLateness, Trigger trigger,
                           OperatorSettings settings) {
        this.assigner = assigner;
        this.allowedLateness = allowedLateness;
        this.trigger = trigger;
        this.settings = settings;
    }

    /**
     * A window operator over {@code assigner}'s windows with the defaults: no allowed lateness, the
     * {@linkplain Trigger#onWatermark() watermark trigger} and the settings of
     * {@code OperatorSettings.named("window")}.
     *
     * @param <K>      key type
     * @param <V>      input value type
     * @param assigner which windows a record belongs to (see {@link Windows})
     * @return the operator's configuration, to finish with {@link #aggregate}
     * @throws NullPointerException if {@code assigner} is {@code null}
     */
    public static <K, V> WindowOperator<K, V> of(WindowAssigner assigner) {
        return new WindowOperator<>(Objects.requireNonNull(assigner, "assigner"), 0, Trigger.onWatermark(),
                OperatorSettings.named("window"));
    }

    /**
     * How long after the watermark passed a window's end its state is kept for late records
     * (default zero). Example: a window {@code [12:00, 12:01)} with 10 seconds of lateness fires
     * ON_TIME at watermark 12:00:59.999, takes late records until the watermark reaches
     * 12:01:09.999, and is purged then.
     *
     * @param lateness the allowed lateness, at millisecond precision, not negative
     * @return a copy with this lateness
     * @throws NullPointerException     if {@code lateness} is {@code null}
     * @throws IllegalArgumentException if {@code lateness} is negative
     */
    public WindowOperator<K, V> allowedLateness(Duration lateness) {
        Objects.requireNonNull(lateness, "lateness");
        if (lateness.isNegative()) {
            throw new IllegalArgumentException("allowed lateness must not be negative, was " + lateness);
        }
        return new WindowOperator<>(assigner, EventTime.toMillis(lateness), trigger, settings);
    }

    /**
     * @param newTrigger when windows fire (default {@link Trigger#onWatermark()})
     * @return a copy with this trigger
     * @throws NullPointerException if {@code newTrigger} is {@code null}
     */
    public WindowOperator<K, V> trigger(Trigger newTrigger) {
        return new WindowOperator<>(assigner, allowedLateness, Objects.requireNonNull(newTrigger, "trigger"),
                settings);
    }

    /**
     * @param newSettings name, state backend, error policy, prefetch, meters and scheduler of the
     *                    operator
     * @return a copy with these settings
     * @throws NullPointerException if {@code newSettings} is {@code null}
     */
    public WindowOperator<K, V> settings(OperatorSettings newSettings) {
        return new WindowOperator<>(assigner, allowedLateness, trigger,
                Objects.requireNonNull(newSettings, "settings"));
    }

    /**
     * @param name the operator's name, for its state, meters and logs; keep it stable across restarts
     * @return a copy with the settings renamed
     * @throws NullPointerException     if {@code name} is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public WindowOperator<K, V> name(String name) {
        return settings(settings.withName(name));
    }

    /**
     * Finishes the configuration. Each subscription to the operator's output gets its own operator
     * instance and state, taken from the settings' state backend.
     *
     * @param <A>      accumulator type
     * @param <R>      result type
     * @param function the aggregate of each key's window
     * @return the operator that aggregates each key's windows with {@code function}
     * @throws NullPointerException     if {@code function} is {@code null}
     * @throws IllegalArgumentException when the configuration cannot work, saying what to change
     *                                  (count windows with an early trigger)
     */
    public <A, R> Function<Flux<StreamElement<K, V>>, Flux<StreamElement<K, WindowResult<K, R>>>> aggregate(
            AggregateFunction<? super V, A, R> function) {
        Objects.requireNonNull(function, "function");
        if (assigner instanceof WindowAssigner.Count && (trigger.earlyCount() > 0 || trigger.earlyInterval() != null)) {
            throw new IllegalArgumentException("count windows fire every " + ((WindowAssigner.Count) assigner).size()
                    + " records and take no early trigger; remove the early firing or use a global window");
        }
        @SuppressWarnings("unchecked")
        AggregateFunction<V, A, R> fn = (AggregateFunction<V, A, R>) function;
        return flux -> new LiftedFlux<StreamElement<K, V>, StreamElement<K, WindowResult<K, R>>>(flux, actual -> {
            if (assigner instanceof TimeWindowAssigner t) {
                TimeWindowAssigner own = t instanceof TimeWindowAssigner.Calendar c ? c.copy() : t;
                return new TimeWindowSubscriber<>(actual, this, own, fn);
            }
            if (assigner instanceof WindowAssigner.Session s) {
                return new SessionWindowSubscriber<>(actual, this, s.gapMillis(), fn);
            }
            return new CountWindowSubscriber<>(actual, this, ((WindowAssigner.Count) assigner).size(), fn);
        });
    }

    WindowAssigner assigner() {
        return assigner;
    }

    long allowedLatenessMillis() {
        return allowedLateness;
    }

    Trigger triggerSpec() {
        return trigger;
    }

    OperatorSettings settingsSpec() {
        return settings;
    }

    @Override
    public String toString() {
        return "WindowOperator{" + assigner + ", allowedLateness=" + allowedLateness + "ms, " + trigger + ", "
                + settings + '}';
    }
}
