package io.streamflow.reactive.internal;

import io.streamflow.reactive.LineDecodingException;
import io.streamflow.reactive.LineDecodingException.Reason;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads the lines of a UTF-8 file (LF or CRLF, the last one may lack its terminator) one at a
 * time, tracking the byte offset of each, with a bound on the memory a line may take.
 * <p>
 * A line is the bytes up to the next LF; one CR before the LF (or before the end of the file) is
 * dropped. A line of more than {@code maxLineBytes} bytes is not kept: the reader keeps the first
 * {@code maxLineBytes + 1} bytes at most, skips the rest while counting it and reports a
 * {@link Reason#TOO_LONG} error. With strict decoding, a line that is not valid UTF-8 is reported
 * as {@link Reason#MALFORMED_UTF8} with the offset of its first invalid byte; with lenient decoding
 * invalid sequences become {@code U+FFFD}. After an error the reader stands at the next line, so
 * reading goes on. Blocking; one thread at a time.
 */
public final class LineReader implements AutoCloseable {

    private static final int CHUNK_BYTES = 64 * 1024;
    private static final int INITIAL_LINE_BYTES = 256;

    private final InputStream in;
    private final int maxLineBytes;
    private final boolean lenient;
    private final CharsetDecoder decoder;
    private final byte[] chunk;
    private int chunkPos;
    private int chunkEnd;
    /** Bytes of a line that spans chunks; grows up to {@code maxLineBytes + 1}. */
    private byte[] line = new byte[0];
    private long offset;
    private byte[] badLine;

    /**
     * Opens {@code file} at byte {@code from}, which must be the start of a line.
     *
     * @throws UncheckedIOException when the file cannot be opened or is shorter than {@code from}
     */
    public LineReader(Path file, long from, int maxLineBytes, boolean lenient) {
        if (from < 0) {
            throw new IllegalArgumentException("start offset must be >= 0, was " + from);
        }
        if (maxLineBytes < 1 || maxLineBytes == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxLineBytes must be between 1 and " + (Integer.MAX_VALUE - 1)
                    + ", was " + maxLineBytes);
        }
        this.maxLineBytes = maxLineBytes;
        this.lenient = lenient;
        this.decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        this.chunk = new byte[(int) Math.min(CHUNK_BYTES, Math.max(1024, maxLineBytes + 1L))];
        try {
            InputStream raw = Files.newInputStream(file);
            long skipped = raw.skip(from);
            if (skipped != from) {
                raw.close();
                throw new IOException("file is shorter (" + skipped + " bytes) than the offset " + from);
            }
            this.in = raw;
            this.offset = from;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file, e);
        }
    }

    /** @return byte offset of the next line's first byte (after the last one read, or the end of the file) */
    public long offset() {
        return offset;
    }

    /**
     * Reads the next line.
     *
     * @return the line without its terminator, or {@code null} at the end of the file
     * @throws LineDecodingException when the line is too long or (strict) not valid UTF-8; the reader
     *                               has moved past it, and {@link #badLine()} holds its bytes
     * @throws IOException           when the file cannot be read
     */
    public String readLine() throws IOException {
        badLine = null;
        long start = offset;
        long length = 0;      // bytes before the LF, CR included
        int kept = 0;         // of which in `line`
        byte last = 0;        // the byte before the LF
        boolean any = false;
        boolean terminated = false;
        while (!terminated) {
            if (chunkPos == chunkEnd && !fill()) {
                break;
            }
            any = true;
            int from = chunkPos;
            int lf = indexOfLf(from, chunkEnd);
            int end = lf < 0 ? chunkEnd : lf;
            int n = end - from;
            chunkPos = lf < 0 ? chunkEnd : lf + 1;
            terminated = lf >= 0;
            if (terminated && length == 0) {
                // the whole line lies in the chunk: no copy
                offset = start + n + 1;
                return finish(chunk, from, n, start, n);
            }
            if (n > 0) {
                last = chunk[end - 1];
                int room = (int) Math.min(n, maxLineBytes + 1L - kept);
                if (room > 0) {
                    ensureLine(kept + room);
                    System.arraycopy(chunk, from, line, kept, room);
                    kept += room;
                }
                length += n;
            }
        }
        if (!any) {
            return null;
        }
        offset = start + length + (terminated ? 1 : 0);
        if (length > kept) {
            long content = length - (last == '\r' ? 1 : 0);
            if (content > maxLineBytes) {
                throw tooLong(start, content);
            }
        }
        return finish(line, 0, kept, start, length);
    }

    /** @return the bytes of the line of the last {@link LineDecodingException} that are not valid UTF-8, else {@code null} */
    public byte[] badLine() {
        return badLine;
    }

    /** @return bytes the reader holds for lines that span its read buffer (for tests: at most {@code maxLineBytes + 1}) */
    public int lineBufferBytes() {
        return line.length;
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // nothing was written; closing a reader cannot lose data
        }
    }

    private String finish(byte[] bytes, int from, int n, long start, long length) {
        int len = n > 0 && bytes[from + n - 1] == '\r' ? n - 1 : n;
        if (len > maxLineBytes) {
            throw tooLong(start, len);
        }
        if (lenient) {
            return new String(bytes, from, len, StandardCharsets.UTF_8);
        }
        int i = from;
        int end = from + len;
        while (i < end && bytes[i] >= 0) {
            i++;
        }
        if (i == end) {
            return new String(bytes, from, len, StandardCharsets.ISO_8859_1); // ASCII
        }
        decoder.reset();
        ByteBuffer src = ByteBuffer.wrap(bytes, from, len);
        CharBuffer dst = CharBuffer.allocate(len);
        CoderResult result = decoder.decode(src, dst, true);
        if (!result.isError()) {
            result = decoder.flush(dst);
        }
        if (result.isError()) {
            int bad = src.position() - from;
            badLine = Arrays.copyOfRange(bytes, from, end);
            throw new LineDecodingException(Reason.MALFORMED_UTF8, start, len, start + bad,
                    "line at byte " + start + " is not valid UTF-8: " + describe(bytes, src.position(),
                            result.length()) + " at byte " + (start + bad) + " (byte " + bad + " of the line); "
                            + "FileLinesOptions.lenientDecoding() would replace it with U+FFFD");
        }
        dst.flip();
        return dst.toString();
    }

    private LineDecodingException tooLong(long start, long content) {
        return new LineDecodingException(Reason.TOO_LONG, start, content, start + maxLineBytes,
                "line at byte " + start + " is " + content + " bytes long, more than the limit of " + maxLineBytes
                        + " (FileLinesOptions.maxLineBytes); it was skipped");
    }

    private static String describe(byte[] bytes, int at, int length) {
        StringBuilder b = new StringBuilder(length == 1 ? "invalid byte" : "invalid sequence");
        for (int i = at; i < at + length && i < bytes.length; i++) {
            b.append(String.format(" 0x%02X", bytes[i] & 0xFF));
        }
        return b.toString();
    }

    private int indexOfLf(int from, int to) {
        byte[] c = chunk;
        for (int i = from; i < to; i++) {
            if (c[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void ensureLine(int size) {
        if (size > line.length) {
            long grown = Math.max(INITIAL_LINE_BYTES, 2L * line.length);
            line = Arrays.copyOf(line, (int) Math.min(Math.max(grown, size), maxLineBytes + 1L));
        }
    }

    private boolean fill() throws IOException {
        int n = in.read(chunk, 0, chunk.length);
        while (n == 0) {
            n = in.read(chunk, 0, chunk.length);
        }
        chunkPos = 0;
        chunkEnd = Math.max(n, 0);
        return n > 0;
    }
}
