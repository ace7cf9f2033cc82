package io.streamflow.reactive.http;

import java.util.Objects;

/**
 * The error of a {@link io.streamflow.reactive.DeadLetter} for a record of an HTTP request that
 * {@link HttpIngest} could not take: its JSON could not be decoded, its bytes are not valid UTF-8,
 * or it is longer than {@link HttpIngest.Builder#maxRecordBytes(int)}. It says which request
 * ({@link #requestId()}) and which record of it ({@link #line()}) failed, and why; the cause is the
 * decoder's {@link io.streamflow.reactive.json.JsonDecodingException} or, for bytes that were not
 * read as text, a {@link io.streamflow.reactive.LineDecodingException} whose offsets are byte
 * offsets in the request body.
 */
public final class HttpIngestException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The request's id ({@code X-Request-Id}, or the one generated for it). */
    private final String requestId;
    /** The record's line (JSON lines) or element (JSON array), 1-based. */
    private final long line;

    /**
     * Creates the error of one record; {@link HttpIngest} makes these. It has no stack trace: it
     * describes the input, not a failure of the code.
     *
     * @param requestId the request's id
     * @param line      the record's line in a JSON-lines body, or its element in a JSON array, 1-based
     * @param problem   what was wrong with the record, for people
     * @param cause     the decoder's or the text decoding's exception, or {@code null}
     * @throws NullPointerException if {@code requestId} or {@code problem} is {@code null}
     */
    public HttpIngestException(String requestId, long line, String problem, Throwable cause) {
        super("request " + Objects.requireNonNull(requestId, "requestId") + " line " + line + ": "
                + Objects.requireNonNull(problem, "problem"), cause, true, false);
        this.requestId = requestId;
        this.line = line;
    }

    /** @return the id of the request the record came in: its {@code X-Request-Id}, or the generated one */
    public String requestId() {
        return requestId;
    }

    /** @return the record's line in a JSON-lines body (empty lines counted), or its element in a JSON array; 1-based */
    public long line() {
        return line;
    }
}
