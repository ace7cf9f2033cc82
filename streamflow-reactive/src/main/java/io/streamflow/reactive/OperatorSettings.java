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
     * Defaults: pipeline {@code "default"}, the global Micrometer registry, {@code Schedulers.parallel()}
     * for processing time, a new heap state backend per operator, {@link ErrorPolicy#fail()},
     * prefetch 256.
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

    public OperatorSettings withName(String newName) {
        return new OperatorSettings(requireName(newName), pipeline, registry, scheduler, stateBackend, errorPolicy,
                prefetch, shardBySourcePartition);
    }

    public OperatorSettings withPipeline(String newPipeline) {
        return new OperatorSettings(name, requireName(newPipeline), registry, scheduler, stateBackend, errorPolicy,
                prefetch, shardBySourcePartition);
    }

    public OperatorSettings withMeterRegistry(MeterRegistry newRegistry) {
        return new OperatorSettings(name, pipeline, Objects.requireNonNull(newRegistry, "registry"), scheduler,
                stateBackend, errorPolicy, prefetch, shardBySourcePartition);
    }

    public OperatorSettings withScheduler(Scheduler newScheduler) {
        return new OperatorSettings(name, pipeline, registry, Objects.requireNonNull(newScheduler, "scheduler"),
                stateBackend, errorPolicy, prefetch, shardBySourcePartition);
    }

    public OperatorSettings withStateBackend(StateBackend backend) {
        return new OperatorSettings(name, pipeline, registry, scheduler, Objects.requireNonNull(backend, "backend"),
                errorPolicy, prefetch, shardBySourcePartition);
    }

    public OperatorSettings withErrorPolicy(ErrorPolicy policy) {
        return new OperatorSettings(name, pipeline, registry, scheduler, stateBackend,
                Objects.requireNonNull(policy, "policy"), prefetch, shardBySourcePartition);
    }

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
     */
    public OperatorSettings withShardBySourcePartition(boolean enabled) {
        return new OperatorSettings(name, pipeline, registry, scheduler, stateBackend, errorPolicy, prefetch, enabled);
    }

    public boolean shardBySourcePartition() {
        return shardBySourcePartition;
    }

    public String name() {
        return name;
    }

    public String pipeline() {
        return pipeline;
    }

    public MeterRegistry registry() {
        return registry;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /** @return the configured backend, or a new heap backend when none was set */
    public StateBackend stateBackendOrHeap() {
        return stateBackend != null ? stateBackend : StateBackend.heap();
    }

    public ErrorPolicy errorPolicy() {
        return errorPolicy;
    }

    public int prefetch() {
        return prefetch;
    }

    @Override
    public String toString() {
        return "OperatorSettings{name=" + name + ", pipeline=" + pipeline + ", errorPolicy=" + errorPolicy
                + ", prefetch=" + prefetch + '}';
    }
}
