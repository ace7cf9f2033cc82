package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The state backend of a checkpointed pipeline: each operator's keyed state is a
 * {@link CachedKeyedState}, a heap working set written back into its MVStore map of the
 * {@link DurableStateBackend} at checkpoints. A checkpoint calls {@link #snapshot()} while the
 * operators are paused, lets them go on, then {@link #flush flushes} the snapshots before the store
 * commit. Thread-safe.
 */
public final class CachingStateBackend implements StateBackend {

    private final DurableStateBackend durable;
    private final CacheBudget budget;
    private final ConcurrentHashMap<String, CachedKeyedState<?, ?, ?>> states = new ConcurrentHashMap<>();

    /**
     * @param durable    the store's backend, which holds the maps
     * @param cacheBytes estimated heap bytes of cached entries above which clean ones are evicted (0: never)
     */
    public CachingStateBackend(DurableStateBackend durable, long cacheBytes) {
        this(durable, new CacheBudget(cacheBytes));
    }

    CachingStateBackend(DurableStateBackend durable, CacheBudget budget) {
        this.durable = Objects.requireNonNull(durable, "durable");
        this.budget = Objects.requireNonNull(budget, "budget");
    }

    /**
     * @return the default cache limit: an eighth of the heap (the store's page cache takes another
     * eighth, the changes of a checkpoint being written a sixteenth or more)
     */
    public static long defaultCacheBytes() {
        return Runtime.getRuntime().maxMemory() / 8;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, N, S> CachedKeyedState<K, N, S> keyedState(String operator, String name) {
        String mapName = DurableStateBackend.stateMapName(operator, name);
        return (CachedKeyedState<K, N, S>) states.computeIfAbsent(mapName, n -> {
            var map = durable.openMap(n);
            return new CachedKeyedState<>(new DurableKeyedState<>(map, durable.types()),
                    new DurableKeyedState<>(map, durable.types()), budget);
        });
    }

    @Override
    public boolean isDurable() {
        return true;
    }

    /** @return the budget shared by the states */
    public CacheBudget budget() {
        return budget;
    }

    /** @return the durable backend holding the maps */
    public DurableStateBackend durable() {
        return durable;
    }

    /**
     * Ends the checkpoint interval of every state (constant time each); call while every stateful
     * operator is paused.
     *
     * @return the snapshots to flush
     */
    public List<CachedKeyedState.Snapshot> snapshot() {
        List<CachedKeyedState.Snapshot> out = new ArrayList<>();
        for (CachedKeyedState<?, ?, ?> s : budget.states()) {
            out.add(s.snapshot());
        }
        return out;
    }

    /** Writes the snapshots' changes into their maps (on the checkpoint thread, the operators running). */
    public void flush(List<CachedKeyedState.Snapshot> snapshots) {
        long before = durable.store().getUnsavedMemory();
        long added = 0;
        long stored = 0;
        for (CachedKeyedState.Snapshot s : snapshots) {
            s.flush();
            added += s.newBytes;
            stored += s.storedBytes;
        }
        budget.measured(durable.store().getUnsavedMemory() - before, added, stored);
    }

    /** Gives up snapshots that were not flushed (the checkpoint failed; the pipeline fails with it). */
    public static void abandon(List<CachedKeyedState.Snapshot> snapshots) {
        for (CachedKeyedState.Snapshot s : snapshots) {
            s.owner.abandon(s);
        }
    }

    @Override
    public String toString() {
        return "StateBackend.cached(" + durable + ")";
    }
}
