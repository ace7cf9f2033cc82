package io.streamflow.reactive.state;

import java.util.HashMap;
import java.util.Map;

/** Heap state backend; see {@link StateBackend#heap()}. */
final class HeapStateBackend implements StateBackend {

    private final Map<String, HeapKeyedState<?, ?, ?>> states = new HashMap<>();

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <K, N, S> KeyedState<K, N, S> keyedState(String operator, String name) {
        return (KeyedState<K, N, S>) states.computeIfAbsent(operator + "/" + name, n -> new HeapKeyedState<>());
    }

    @Override
    public String toString() {
        return "StateBackend.heap";
    }
}
