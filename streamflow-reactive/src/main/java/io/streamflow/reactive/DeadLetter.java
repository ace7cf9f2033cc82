package io.streamflow.reactive;

import java.util.Objects;

/**
 * Side output: an input that could not be processed (it could not be decoded, a user function
 * threw on it, no timestamp could be extracted, or its timestamp cannot be used: it is not an event
 * time, it cannot be placed in a window or join range, or it is absurdly far ahead) together with
 * the error and where it happened. It is counted in {@code streamflow.records.dead.letter}.
 */
public final class DeadLetter<K, V> implements StreamElement<K, V> {

    private final Object input;
    private final Origin origin;
    private final String operator;
    private final Throwable error;

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

    public Origin origin() {
        return origin;
    }

    public String operator() {
        return operator;
    }

    public Throwable error() {
        return error;
    }

    @Override
    public String toString() {
        return "DeadLetter{operator=" + operator + ", origin=" + origin + ", error=" + error + ", input="
                + (input instanceof byte[] b ? b.length + " bytes" : input) + '}';
    }
}
