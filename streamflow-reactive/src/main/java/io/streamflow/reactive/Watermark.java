package io.streamflow.reactive;

/**
 * An in-band watermark {@code W}: no more records with a timestamp {@code <= W} are expected on
 * this stream. Watermarks of one stream never go backwards.
 * {@link #END} ({@code Long.MAX_VALUE}) is the final watermark of a bounded input; it fires every
 * remaining window.
 * <p>
 * Two watermarks are equal when their timestamps are.
 *
 * @param <K> key type of the stream the watermark travels on
 * @param <V> value type of the stream the watermark travels on
 */
public final class Watermark<K, V> implements StreamElement<K, V> {

    /** The final watermark: the input has ended, every window may fire. */
    @SuppressWarnings("rawtypes")
    private static final Watermark END_OF_INPUT = new Watermark<>(Long.MAX_VALUE);

    /** Timestamp of the end-of-input watermark. */
    public static final long END = Long.MAX_VALUE;

    private final long timestamp;

    private Watermark(long timestamp) {
        this.timestamp = timestamp;
    }

    /**
     * A watermark at {@code timestamp}; {@link #END} gives the shared {@link #end()} instance.
     *
     * @param <K>       key type of the stream
     * @param <V>       value type of the stream
     * @param timestamp event time in epoch milliseconds up to which (inclusive) records are complete
     * @return the watermark at {@code timestamp}
     */
    @SuppressWarnings("unchecked")
    public static <K, V> Watermark<K, V> of(long timestamp) {
        return timestamp == END ? END_OF_INPUT : new Watermark<>(timestamp);
    }

    /**
     * The watermark at {@link #END}: a bounded input has ended and every window may fire.
     *
     * @param <K> key type of the stream
     * @param <V> value type of the stream
     * @return the final (end of input) watermark
     */
    @SuppressWarnings("unchecked")
    public static <K, V> Watermark<K, V> end() {
        return END_OF_INPUT;
    }

    /** @return the watermark's event time in epoch milliseconds; {@link #END} at end of input */
    public long timestamp() {
        return timestamp;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Watermark<?, ?> w && w.timestamp == timestamp;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(timestamp);
    }

    @Override
    public String toString() {
        return timestamp == END ? "Watermark{END}" : "Watermark{" + timestamp + '}';
    }
}
