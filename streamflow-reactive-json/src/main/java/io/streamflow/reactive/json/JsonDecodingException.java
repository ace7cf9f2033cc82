package io.streamflow.reactive.json;

/**
 * Input that {@link JsonDecoder} could not decode: not JSON, not the expected shape, no usable
 * timestamp or key field, or not bindable to the target class. The message says what was expected
 * and where (line and column, or the field); the cause, when there is one, is Jackson's exception.
 * In a stream it is the error of the input's {@link io.streamflow.reactive.DeadLetter}.
 */
public final class JsonDecodingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public JsonDecodingException(String message, Throwable cause) {
        super(message, cause, true, false);
    }
}
