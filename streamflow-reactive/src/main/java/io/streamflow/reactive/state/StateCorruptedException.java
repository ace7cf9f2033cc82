package io.streamflow.reactive.state;

/**
 * Durable state bytes that fail their check: a page whose keys or values do not match the CRC
 * written with them, or bytes that cannot be decoded. The state file is damaged; nothing read
 * from the damaged part is returned.
 */
public class StateCorruptedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public StateCorruptedException(String message) {
        super(message);
    }

    public StateCorruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
