package io.streamflow.reactive;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamflow.reactive.state.StateBackend;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.Objects;

/**
 * Settings shared by stateful operators: a stable name (used for state, meters and logs), the
 * pipeline name, the meter registry, the scheduler that supplies processing time, the state
 * backend, the error policy for user functions and how many inputs are requested ahead.
 * Immutable; each {@code with*} returns a copy.
 */
public final class OperatorSettings {

    private final String name;
    private final String pipeline;
    private final MeterRegistry registry;
    private final Scheduler scheduler;
    private final StateBackend stateBackend;
    private final ErrorPolicy errorPolicy;
    private final int prefetch;
    private final boolean shardBySourcePartition;

    private OperatorSettings(String name, String pipeline, MeterRegistry registry, Scheduler scheduler,
                             StateBackend stateBackend, ErrorPolicy errorPolicy, int prefetch,
                             boolean shardBySourcePartition) {
        this.shardBySourcePartition = shardBySourcePartition;
        this.name = name;
        this.pipeline = pipeline;
        this.registry = registry;
        this.scheduler = scheduler;
        this.stateBackend = stateBackend;
        this.errorPolicy = errorPolicy;
        this.prefetch = prefetch;
    }

    /**
     * Settings for the operator called {@code name}, with every other setting at its default.
     * Defaults: pipeline {@code "default"}, the global Micrometer registry, {@code Schedulers.parallel()}
     * for processing time, a new heap state backend per operator, {@link ErrorPolicy#fail()},
     * prefetch 256, state sharded by source partition.
     *
     * @param name the operator's name: it names its state (keep it stable across restarts so a
     *             checkpoint's state is found again) and tags its meters and log lines
     * @return settings with that name and the defaults
     * @throws NullPointerException     if {@code name} is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static OperatorSettings named(String name) {
        return new OperatorSettings(requireName(name), "default", Metrics.globalRegistry, Schedulers.parallel(), null,
                ErrorPolicy.fail(), 256, true);
    }

    private static String requireName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("operator name must not be blank");
        }
        return name;
    }

    /**
     * @param newName the operator's name (see {@link #named(String)})
     * @return a copy with that name; the other settings are kept, so one settings object can be
     * renamed for each operator of a pipeline
     * @throws NullPointerException     if {@code newName} is {@code null}
     * @throws IllegalArgumentException if {@code newName} is blank
     */
    public OperatorSettings withName(String newName) {
        return new OperatorSettings(requireName(newName), pipeline, registry, scheduler, stateBackend, errorPolicy,
                prefetch, shardBySourcePartition);
    }

    /**
     * @param newPipeline the pipeline's name, the {@code pipeline} tag of every meter (default
     *                    {@code "default"})
     * @return a copy with that pipeline name
     * @throws NullPointerException     if {@code newPipeline} is {@code null}
     * @throws IllegalArgumentException if {@code newPipeline} is blank
     */
    public OperatorSettings withPipeline(String newPipeline) {
        return new OperatorSettings(name, requireName(newPipeline), registry, scheduler, stateBackend, errorPolicy,
                prefetch, shardBySourcePartition);
    }

    /**
     * @param newRegistry where the operator registers its meters ({@link StreamFlowMeters}); default
     *                    the global registry, {@code Metrics.globalRegistry}
     * @return a copy with that registry
     * @throws NullPointerException if {@code newRegistry} is {@code null}
     */
    public OperatorSettings withMeterRegistry(MeterRegistry newRegistry) {
        return new OperatorSettings(name, pipeline, Objects.requireNonNull(newRegistry, "registry"), scheduler,
                stateBackend, errorPolicy, prefetch, shardBySourcePartition);
    }

    /**
     * @param newScheduler the processing-time clock: it runs early-firing timers and measures
     *                     {@code streamflow.watermark.lag} (default {@code Schedulers.parallel()}; a
     *                     virtual-time scheduler in tests). Event time never comes from it.
     * @return a copy with that scheduler
     * @throws NullPointerException if {@code newScheduler} is {@code null}
     */
    public OperatorSettings withScheduler(Scheduler newScheduler) {
        return new OperatorSettings(name, pipeline, registry, Objects.requireNonNull(newScheduler, "scheduler"),
                stateBackend, errorPolicy, prefetch, shardBySourcePartition);
    }

    /**
     * @param backend where the operator keeps its keyed state, e.g. {@link Checkpointing#stateBackend()}
     *                for durable, checkpointed state (default: a new heap backend for each operator)
     * @return a copy with that backend
     * @throws NullPointerException if {@code backend} is {@code null}
     */
    public OperatorSettings withStateBackend(StateBackend backend) {
        return new OperatorSettings(name, pipeline, registry, scheduler, Objects.requireNonNull(backend, "backend"),
                errorPolicy, prefetch, shardBySourcePartition);
    }

    /**
     * @param policy what the operator does when a user function throws or a timestamp is unusable
     *               (default {@link ErrorPolicy#fail()})
     * @return a copy with that policy
     * @throws NullPointerException if {@code policy} is {@code null}
     */
    public OperatorSettings withErrorPolicy(ErrorPolicy policy) {
        return new OperatorSettings(name, pipeline, registry, scheduler, stateBackend,
                Objects.requireNonNull(policy, "policy"), prefetch, shardBySourcePartition);
    }

    /**
     * @param newPrefetch how many inputs the operator requests from upstream ahead of processing them
     *                    (default 256); it requests more as it consumes them
     * @return a copy with that prefetch
     * @throws IllegalArgumentException if {@code newPrefetch < 1}
     */
    public OperatorSettings withPrefetch(int newPrefetch) {
        if (newPrefetch < 1) {
            throw new IllegalArgumentException("prefetch must be >= 1, was " + newPrefetch);
        }
        return new OperatorSettings(name, pipeline, registry, scheduler, stateBackend, errorPolicy, newPrefetch, shardBySourcePartition);
    }

    /**
     * Whether keyed state is sharded by the records' source partition (the default), so that a
     * partition can move to another instance with its state. That requires every record of a key to
     * come from one partition; {@code false} keeps all state in one shard, for inputs re-keyed in
     * process whose state never moves.
     *
     * @param enabled whether to shard keyed state by source partition
     * @return a copy with that choice
     */
    public OperatorSettings withShardBySourcePartition(boolean enabled) {
        return new OperatorSettings(name, pipeline, registry, scheduler, stateBackend, errorPolicy, prefetch, enabled);
    }

    /** @return whether keyed state is sharded by source partition (default {@code true}) */
    public boolean shardBySourcePartition() {
        return shardBySourcePartition;
    }

    /** @return the operator's name, never blank */
    public String name() {
        return name;
    }

    /** @return the pipeline's name, the {@code pipeline} tag of the meters (default {@code "default"}) */
    public String pipeline() {
        return pipeline;
    }

    /** @return the registry the operator's meters go to */
    public MeterRegistry registry() {
        return registry;
    }

    /** @return the processing-time clock of timers and watermark lag */
    public Scheduler scheduler() {
        return scheduler;
    }

    /**
     * @return the configured backend, or, when none was set, a new heap backend on every call (so each
     * operator built from these settings gets state of its own)
     */
    public StateBackend stateBackendOrHeap() {
        return stateBackend != null ? stateBackend : StateBackend.heap();
    }

    /** @return what the operator does with records its user functions fail on */
    public ErrorPolicy errorPolicy() {
        return errorPolicy;
    }

    /** @return how many inputs are requested ahead, {@code >= 1} */
    public int prefetch() {
        return prefetch;
    }

    @Override
    public String toString() {
        return "OperatorSettings{name=" + name + ", pipeline=" + pipeline + ", errorPolicy=" + errorPolicy
                + ", prefetch=" + prefetch + '}';
    }
}
