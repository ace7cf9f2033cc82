package io.streamflow.reactive.state;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Writes and reads values of one class of yours to and from durable state (an MVStore
 * checkpoint).
 * <p>
 * Durable state stores JDK value types (boxed primitives, strings, arrays, lists, maps, sets),
 * enums and records by itself. Register a codec for any other class you keep in state or use as
 * a key, typically a mutable accumulator:
 * <pre>{@code
 * final class MinMax { long min = Long.MAX_VALUE; long max = Long.MIN_VALUE; }
 *
 * StateCodec<MinMax> codec = new StateCodec<>() {
 *     public void encode(MinMax v, DataOutput out) throws IOException {
 *         out.writeLong(v.min);
 *         out.writeLong(v.max);
 *     }
 *     public MinMax decode(DataInput in) throws IOException {
 *         MinMax v = new MinMax();
 *         v.min = in.readLong();
 *         v.max = in.readLong();
 *         return v;
 *     }
 * };
 * }</pre>
 * A codec is registered for exactly one class (not its subclasses). {@link #decode} must read
 * exactly the bytes {@link #encode} wrote; reading fewer or more is reported as an error. When
 * the class is used as a state key, {@link #encode} must write equal bytes for equal values,
 * because keys are compared by their bytes.
 * <p>
 * The store remembers the codec's class name and {@link #version()} with the data. When you
 * change the byte format, increase the version: state written with another version (or by
 * another codec class) is then reported as unreadable by this build instead of being misread.
 * <p>
 * Codecs are called from operator threads and from the checkpoint thread, possibly at the same
 * time, so they must be thread-safe (a codec without fields is).
 *
 * @param <T> the class the codec writes
 */
public interface StateCodec<T> {

    /**
     * Writes {@code value}, which is never {@code null}.
     *
     * @param value the value to write
     * @param out   where to write it
     * @throws IOException only if {@code out} throws it
     */
    void encode(T value, DataOutput out) throws IOException;

    /**
     * Reads a value written by {@link #encode}.
     *
     * @param in the bytes {@link #encode} wrote, and no more
     * @return the value, not {@code null}
     * @throws IOException when the input ends early or is malformed
     */
    T decode(DataInput in) throws IOException;

    /**
     * @return the version of the byte format; state written with a different version cannot be
     * read by this codec and is reported instead of misread
     */
    default int version() {
        return 1;
    }
}
