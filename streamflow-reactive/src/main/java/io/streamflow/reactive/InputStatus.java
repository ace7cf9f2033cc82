package io.streamflow.reactive;

/**
 * In-band idleness marker. An input that emits {@link #idle()} stops holding back the watermark
 * of any merge or multi-input operator downstream until it emits {@link #active()} (which a
 * watermark assigner does before the first record after an idle period).
 * <p>
 * There are two instances, one per status, shared by every stream; compare with {@link #isIdle()}.
 *
 * @param <K> key type of the stream the marker travels on
 * @param <V> value type of the stream the marker travels on
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

    /**
     * The marker an input emits when it stops producing for a while: downstream merges and
     * multi-input operators then leave it out of their watermark until it is active again.
     *
     * @param <K> key type of the stream
     * @param <V> value type of the stream
     * @return the shared idle marker
     */
    @SuppressWarnings("unchecked")
    public static <K, V> InputStatus<K, V> idle() {
        return IDLE;
    }

    /**
     * The marker an idle input emits before it produces again: downstream merges and multi-input
     * operators then count its watermark again.
     *
     * @param <K> key type of the stream
     * @param <V> value type of the stream
     * @return the shared active marker
     */
    @SuppressWarnings("unchecked")
    public static <K, V> InputStatus<K, V> active() {
        return ACTIVE;
    }

    /** @return {@code true} for {@link #idle()}, {@code false} for {@link #active()} */
    public boolean isIdle() {
        return idle;
    }

    @Override
    public String toString() {
        return idle ? "InputStatus{IDLE}" : "InputStatus{ACTIVE}";
    }
}
