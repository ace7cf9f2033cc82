package io.streamflow.reactive.state;

/**
 * Durable state bytes that fail their check: a page whose keys or values do not match the CRC
 * written with them, or bytes that cannot be decoded. The state file is damaged; nothing read
 * from the damaged part is returned.
 */
public class StateCorruptedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what is damaged and where (file, map, key), for people
     */
    public StateCorruptedException(String message) {
        super(message);
    }

    /**
     * @param message what is damaged and where (file, map, key), for people
     * @param cause   the error that revealed it
     */
    public StateCorruptedException(String message, Throwable cause) {
        super(message, cause);
    }
}
