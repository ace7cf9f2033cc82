package io.streamflow.reactive.json;

/**
 * Input that {@link JsonDecoder} could not decode: not JSON, not the expected shape, no usable
 * timestamp or key field, or not bindable to the target class. The message says what was expected
 * and where (line and column, or the field); the cause, when there is one, is Jackson's exception.
 * In a stream it is the error of the input's {@link io.streamflow.reactive.DeadLetter}.
 */
public final class JsonDecodingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception; {@link JsonDecoder} makes these. It has no stack trace: it describes the
     * input, not a failure of the code.
     *
     * @param message what was expected and where, for people
     * @param cause   Jackson's exception, or {@code null}
     */
    public JsonDecodingException(String message, Throwable cause) {
        super(message, cause, true, false);
    }
}
