package io.streamflow.reactive;

import java.util.Objects;

/**
 * Side output: an input that could not be processed (it could not be decoded, a user function
 * threw on it, no timestamp could be extracted, or its timestamp cannot be used: it is not an event
 * time, it cannot be placed in a window or join range, or it is absurdly far ahead) together with
 * the error and where it happened. It is counted in {@code streamflow.records.dead.letter}.
 *
 * @param <K> key type of the stream the dead letter travels on
 * @param <V> value type of the stream the dead letter travels on
 */
public final class DeadLetter<K, V> implements StreamElement<K, V> {

    private final Object input;
    private final Origin origin;
    private final String operator;
    private final Throwable error;

    /**
     * Creates a dead letter; operators and sources make these, user code usually only reads them.
     *
     * @param input    what failed (see {@link #input()}), may be {@code null}
     * @param origin   where the input came from ({@link Origin#NONE} when unknown)
     * @param operator name of the operator, source or decoder the input failed in
     * @param error    why it failed
     * @throws NullPointerException if {@code origin}, {@code operator} or {@code error} is {@code null}
     */
    public DeadLetter(Object input, Origin origin, String operator, Throwable error) {
        this.input = input;
        this.origin = Objects.requireNonNull(origin, "origin");
        this.operator = Objects.requireNonNull(operator, "operator");
        this.error = Objects.requireNonNull(error, "error");
    }

    /**
     * @return what failed: usually the {@link StreamRecord}, or the raw input of a decoder (the
     * {@code byte[]} of a line that is not valid UTF-8; {@code null} when it was not kept)
     */
    public Object input() {
        return input;
    }

    /** @return where the failed input came from: the record's origin, or the line's in a file source */
    public Origin origin() {
        return origin;
    }

    /** @return name of the operator, source or decoder the input failed in (its configured name) */
    public String operator() {
        return operator;
    }

    /**
     * @return why the input failed: what the user function or decoder threw (after any retries), or the
     * exception describing an unusable timestamp or undecodable line
     */
    public Throwable error() {
        return error;
    }

    @Override
    public String toString() {
        return "DeadLetter{operator=" + operator + ", origin=" + origin + ", error=" + error + ", input="
                + (input instanceof byte[] b ? b.length + " bytes" : input) + '}';
    }
}
