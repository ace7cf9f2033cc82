package io.streamflow.reactive.state;

/**
 * Creates the keyed state of stateful operators. Operators ask for their state by their stable
 * operator name and a state name, so a restarted pipeline finds the state of the same operator.
 * <p>
 * {@link #heap()} keeps everything on the Java heap; durable backends plug in behind the same
 * interface without changes to the operators.
 */
public interface StateBackend {

    /**
     * Called by an operator when it starts, once per state it keeps.
     *
     * @param <K>      key type
     * @param <N>      namespace type
     * @param <S>      state value type
     * @param operator stable operator name
     * @param name     state name within the operator
     * @return the operator's keyed state of that name, created empty if absent
     */
    <K, N, S> KeyedState<K, N, S> keyedState(String operator, String name);

    /**
     * @return whether the state outlives the pipeline (it is checkpointed and restored): then
     * operators must not clear it when they are cancelled or terminate, only drop what they keep
     * in memory besides it
     */
    default boolean isDurable() {
        return false;
    }

    /** @return a new heap backend (state lives as long as the pipeline) */
    static StateBackend heap() {
        return new HeapStateBackend();
    }
}
