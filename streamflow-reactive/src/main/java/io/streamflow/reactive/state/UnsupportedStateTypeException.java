package io.streamflow.reactive.state;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A value that durable state cannot store: its class is neither built in, nor a record, nor an
 * enum, nor one of ours, nor registered with a {@link StateCodec}.
 * The message names the class and where in the stored value it was found.
 */
public final class UnsupportedStateTypeException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** The fields or elements through which the value was reached, outermost first. */
    private final Deque<String> path = new ArrayDeque<>();

    /**
     * @param message names the class that cannot be stored and how to make it storable
     */
    public UnsupportedStateTypeException(String message) {
        super(message);
    }

    /**
     * @param message names the class that cannot be stored and how to make it storable
     * @param cause   the error that revealed it
     */
    public UnsupportedStateTypeException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Adds the field (or element) through which the unsupported value was reached, outermost
     * last; the state store calls it while the exception passes through nested values.
     *
     * @param step the field or element, e.g. {@code "Order.lines"}
     * @return this exception
     */
    public UnsupportedStateTypeException at(String step) {
        path.addFirst(step);
        return this;
    }

    /** @return the message, followed by the path to the value when one was recorded with {@link #at} */
    @Override
    public String getMessage() {
        String m = super.getMessage();
        return path.isEmpty() ? m : m + " (found at " + String.join(" -> ", path) + ")";
    }
}
