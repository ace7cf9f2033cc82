package io.streamflow.reactive;

/**
 * One element of a StreamFlow pipeline: a data {@link StreamRecord} or an in-band control
 * element ({@link Watermark}, {@link InputStatus}, {@link CheckpointBarrier}) or a side
 * output ({@link LateRecord}, {@link DeadLetter}).
 * <p>
 * Control elements travel in-band with the records so that they survive merges, async
 * boundaries and chained operators. Element-wise user functions ({@code map}, {@code filter},
 * ...) only ever see records; every operator forwards control elements and side outputs it does
 * not consume.
 *
 * @param <K> key type of the records
 * @param <V> value type of the records
 */
public sealed interface StreamElement<K, V>
        permits StreamRecord, Watermark, InputStatus, CheckpointBarrier, LateRecord, DeadLetter {

    /** @return {@code true} for a {@link StreamRecord}, {@code false} for every other element */
    default boolean isRecord() {
        return false;
    }

    /**
     * Re-types an element that does not carry records of its own type (a control element or a
     * side output) so it can be forwarded on a stream of another record type. The element itself
     * is returned unchanged; only its static type changes.
     *
     * @param <K>     key type of the stream it is forwarded on
     * @param <V>     value type of the stream it is forwarded on
     * @param element a control element or side output
     * @return {@code element}, typed for the other stream
     * @throws IllegalArgumentException for a {@link StreamRecord}, which cannot change type
     */
    @SuppressWarnings("unchecked")
    static <K, V> StreamElement<K, V> forward(StreamElement<?, ?> element) {
        if (element instanceof StreamRecord) {
            throw new IllegalArgumentException("a record cannot be forwarded as another type: " + element);
        }
        return (StreamElement<K, V>) element;
    }
}
