package io.streamflow.reactive;

/**
 * In-band idleness marker. An input that emits {@link #idle()} stops holding back the watermark
 * of any merge or multi-input operator downstream until it emits {@link #active()} (which a
 * watermark assigner does before the first record after an idle period).
 */
public final class InputStatus<K, V> implements StreamElement<K, V> {

    @SuppressWarnings("rawtypes")
    private static final InputStatus IDLE = new InputStatus<>(true);
    @SuppressWarnings("rawtypes")
    private static final InputStatus ACTIVE = new InputStatus<>(false);

    private final boolean idle;

    private InputStatus(boolean idle) {
        this.idle = idle;
    }

    @SuppressWarnings("unchecked")
    public static <K, V> InputStatus<K, V> idle() {
        return IDLE;
    }

    @SuppressWarnings("unchecked")
    public static <K, V> InputStatus<K, V> active() {
        return ACTIVE;
    }

    public boolean isIdle() {
        return idle;
    }

    @Override
    public String toString() {
        return idle ? "InputStatus{IDLE}" : "InputStatus{ACTIVE}";
    }
}
