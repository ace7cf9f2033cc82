package io.streamflow.reactive;

/**
 * The error of a {@link DeadLetter} for a line of a text source that was not turned into a
 * record: its bytes are not valid UTF-8, or it is longer than the limit (see
 * {@link FileLinesOptions}). Offsets are byte offsets in the file; the dead letter's
 * {@link Origin#position()} is the {@linkplain #lineOffset() offset of the line}, as a record's
 * would be.
 */
public final class LineDecodingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why the line was not read. */
    public enum Reason {
        /** The line's bytes are not valid UTF-8 (strict decoding). */
        MALFORMED_UTF8,
        /** The line is longer than the limit; it was skipped without being kept in memory. */
        TOO_LONG
    }

    /** Why the line was not read. */
    private final Reason reason;
    /** Byte offset of the line's first byte. */
    private final long lineOffset;
    /** Bytes in the line, without its line terminator. */
    private final long lineLength;
    /** Byte offset of the first invalid byte, or of the first byte past the limit. */
    private final long errorOffset;

    /**
     * Creates the error for one line; the text sources make these. It has no stack trace and no
     * cause, as it describes the data, not a failure of the code.
     *
     * @param reason      why the line was not read
     * @param lineOffset  byte offset of the line's first byte
     * @param lineLength  bytes in the line, without its line terminator
     * @param errorOffset byte offset of the first invalid byte ({@link Reason#MALFORMED_UTF8}) or of the
     *                    first byte past the limit ({@link Reason#TOO_LONG})
     * @param message     what is wrong, for people
     * @throws NullPointerException if {@code reason} is {@code null}
     */
    public LineDecodingException(Reason reason, long lineOffset, long lineLength, long errorOffset, String message) {
        super(message, null, false, false);
        if (reason == null) {
            throw new NullPointerException("reason");
        }
        this.reason = reason;
        this.lineOffset = lineOffset;
        this.lineLength = lineLength;
        this.errorOffset = errorOffset;
    }

    /** @return why the line was not read */
    public Reason reason() {
        return reason;
    }

    /** @return byte offset of the line's first byte in the file */
    public long lineOffset() {
        return lineOffset;
    }

    /** @return bytes in the line, without its LF or CRLF */
    public long lineLength() {
        return lineLength;
    }

    /**
     * @return byte offset in the file of the first byte that is not valid UTF-8, or, for a line that is too
     * long, of the first byte past the limit
     */
    public long errorOffset() {
        return errorOffset;
    }
}
