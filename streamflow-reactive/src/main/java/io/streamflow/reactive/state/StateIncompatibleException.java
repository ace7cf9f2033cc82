package io.streamflow.reactive.state;

/**
 * Durable state that this build cannot read although it is intact: the store was written with
 * another format version, or a class stored in it has changed its layout (record components,
 * fields, codec or codec version) or no longer exists.
 */
public class StateIncompatibleException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what is incompatible and where (file, map, key), for people
     */
    public StateIncompatibleException(String message) {
        super(message);
    }

    /**
     * @param message what is incompatible and where (file, map, key), for people
     * @param cause   the error that revealed it
     */
    public StateIncompatibleException(String message, Throwable cause) {
        super(message, cause);
    }
}
