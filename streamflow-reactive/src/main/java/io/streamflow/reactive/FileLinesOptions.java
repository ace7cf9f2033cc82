package io.streamflow.reactive;

/**
 * How {@link StreamSources#fileLines(java.nio.file.Path, long, FileLinesOptions)} turns bytes into
 * lines: the longest line it accepts and whether invalid UTF-8 is an error. Immutable; each setter
 * returns a copy.
 * <p>
 * By default ({@link #defaults()}) decoding is strict and a line holds at most
 * {@value #DEFAULT_MAX_LINE_BYTES} bytes:
 * <ul>
 * <li>a line whose bytes are not valid UTF-8 becomes a {@link DeadLetter} whose error is a
 * {@link LineDecodingException} naming the byte offset of the first bad byte, instead of a record
 * with replacement characters in it;</li>
 * <li>a line longer than {@link #maxLineBytes()} (not counting its LF or CRLF) becomes a
 * {@link DeadLetter} with its length and offset. The reader keeps at most the limit in memory: it
 * skips the rest of the line while counting its bytes.</li>
 * </ul>
 * {@link #lenientDecoding()} brings back the replacing decoder for files known to hold some
 * invalid bytes: each invalid byte sequence becomes {@code U+FFFD} in the record and no dead letter
 * is produced for it. Over-long lines are dead letters either way.
 *
 * @see StreamSources#fileLines(java.nio.file.Path, long, FileLinesOptions)
 */
public final class FileLinesOptions {

    /** Default longest line, in bytes: 1 MiB. */
    public static final int DEFAULT_MAX_LINE_BYTES = 1 << 20;

    private static final FileLinesOptions DEFAULTS = new FileLinesOptions(DEFAULT_MAX_LINE_BYTES, false);

    private final int maxLineBytes;
    private final boolean lenient;

    private FileLinesOptions(int maxLineBytes, boolean lenient) {
        this.maxLineBytes = maxLineBytes;
        this.lenient = lenient;
    }

    /**
     * The options {@link StreamSources#fileLines(java.nio.file.Path, long)} uses.
     *
     * @return strict UTF-8, lines of at most {@value #DEFAULT_MAX_LINE_BYTES} bytes
     */
    public static FileLinesOptions defaults() {
        return DEFAULTS;
    }

    /**
     * @param bytes the longest line accepted, in bytes without its line terminator; longer lines are
     *              dead letters
     * @return a copy with this limit
     * @throws IllegalArgumentException when {@code bytes < 1} or it leaves no room for a line terminator
     */
    public FileLinesOptions maxLineBytes(int bytes) {
        if (bytes < 1 || bytes == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxLineBytes must be between 1 and " + (Integer.MAX_VALUE - 1)
                    + ", was " + bytes);
        }
        return new FileLinesOptions(bytes, lenient);
    }

    /**
     * @return a copy that decodes invalid UTF-8 with replacement characters ({@code U+FFFD}) instead
     * of making the line a dead letter: the file's text is then changed silently where it is invalid
     */
    public FileLinesOptions lenientDecoding() {
        return new FileLinesOptions(maxLineBytes, true);
    }

    /** @return a copy that makes lines with invalid UTF-8 dead letters (the default) */
    public FileLinesOptions strictDecoding() {
        return new FileLinesOptions(maxLineBytes, false);
    }

    /** @return the longest line accepted, in bytes without its line terminator */
    public int maxLineBytes() {
        return maxLineBytes;
    }

    /** @return whether invalid UTF-8 is replaced rather than dead-lettered */
    public boolean isLenientDecoding() {
        return lenient;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileLinesOptions f && f.maxLineBytes == maxLineBytes && f.lenient == lenient;
    }

    @Override
    public int hashCode() {
        return 31 * maxLineBytes + (lenient ? 1 : 0);
    }

    @Override
    public String toString() {
        return "FileLinesOptions{maxLineBytes=" + maxLineBytes + ", decoding=" + (lenient ? "lenient" : "strict")
                + '}';
    }
}
