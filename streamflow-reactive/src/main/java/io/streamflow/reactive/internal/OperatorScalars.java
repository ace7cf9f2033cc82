package io.streamflow.reactive.internal;

import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;

/**
 * Small named values of one operator that are not keyed (its watermark, per-partition watermarks,
 * counters), kept in the operator's state named {@code "operator"} so that they are checkpointed
 * and restored together with its keyed state. Operators write them when a checkpoint barrier
 * reaches them and read them when they start.
 */
public final class OperatorScalars {

    private static final String NAMESPACE = "scalars";

    private final KeyedState<String, String, Object> state;

    private OperatorScalars(KeyedState<String, String, Object> state) {
        this.state = state;
    }

    public static OperatorScalars of(StateBackend backend, String operator) {
        return new OperatorScalars(backend.keyedState(operator, "operator"));
    }

    public long getLong(String name, long absent) {
        Object v = state.get(0, NAMESPACE, name);
        return v == null ? absent : (Long) v;
    }

    public void putLong(String name, long value) {
        state.put(0, NAMESPACE, name, value);
    }

    /** @return the stored value (a type the state serialisation supports), or {@code null} */
    @SuppressWarnings("unchecked")
    public <T> T get(String name) {
        return (T) state.get(0, NAMESPACE, name);
    }

    public void put(String name, Object value) {
        state.put(0, NAMESPACE, name, value);
    }
}
