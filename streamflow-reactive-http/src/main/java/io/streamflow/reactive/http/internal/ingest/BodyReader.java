package io.streamflow.reactive.http.internal.ingest;

import io.netty.buffer.ByteBuf;
import io.streamflow.reactive.LineDecodingException;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads one request body as it arrives, counting its bytes against the request limit and taking
 * its SHA-256 (for idempotency keys). JSON lines are split as they come: only the line being read
 * is kept as bytes, at most the record limit of it (a longer line is noted as too long and skipped),
 * and each complete line is decoded from UTF-8 strictly. A JSON body is kept whole (within the
 * request limit) for the parser. Not thread-safe: one request's body is delivered serially.
 */
final class BodyReader {

    /** How the body is split into records. */
    enum Format {
        /** One record per line: {@code application/x-ndjson}, {@code application/jsonl}. */
        LINES,
        /** A JSON array of records, or one record: {@code application/json}. */
        JSON
    }

    /**
     * One record of the body: its text, or why it could not be read as text.
     *
     * @param line  1-based line (or array element)
     * @param text  the record's text, or {@code null} when {@code error} is set
     * @param input what a dead letter keeps when the text could not be read: the bytes, or {@code null}
     * @param error why the record could not be read as text
     */
    record RawRecord(long line, String text, Object input, LineDecodingException error) {
    }

    static {
        // the first lookup loads the security providers (reading their configuration): at class
        // initialisation, not on the event loop in the middle of a request
        sha256();
    }

    private final Format format;
    private final long maxBytes;
    private final int maxRecordBytes;
    private final MessageDigest digest;
    private long total;

    // LINES
    private final List<RawRecord> records = new ArrayList<>();
    private byte[] line = new byte[128];
    /** Bytes kept of the current line (at most maxRecordBytes + 1: the +1 for a CR). */
    private int kept;
    /** All bytes of the current line, kept or not. */
    private long lineLength;
    private long lineStart;
    private long lineNumber = 1;
    private byte lastByte;
    private boolean blank = true;

    // JSON
    private byte[] body;
    private int bodyLength;

    BodyReader(Format format, long maxBytes, int maxRecordBytes) {
        this.format = format;
        this.maxBytes = maxBytes;
        this.maxRecordBytes = maxRecordBytes;
        this.digest = sha256();
        if (format == Format.JSON) {
            body = new byte[(int) Math.min(maxBytes, 8192)];
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    Format format() {
        return format;
    }

    /** @return bytes read so far */
    long bytes() {
        return total;
    }

    /**
     * Takes the next part of the body.
     *
     * @return {@code false}, having taken nothing of it, when the body would pass the request limit
     */
    boolean consume(ByteBuf buf) {
        int n = buf.readableBytes();
        if (total + n > maxBytes) {
            total += n;
            return false;
        }
        byte[] chunk = new byte[n];
        buf.getBytes(buf.readerIndex(), chunk);
        consume(chunk);
        return true;
    }

    /** Takes the next part of the body; the caller checked the limit. */
    void consume(byte[] chunk) {
        digest.update(chunk);
        if (format == Format.JSON) {
            if (bodyLength + chunk.length > body.length) {
                body = Arrays.copyOf(body, (int) Math.min(maxBytes, Math.max(body.length * 2L,
                        (long) bodyLength + chunk.length)));
            }
            System.arraycopy(chunk, 0, body, bodyLength, chunk.length);
            bodyLength += chunk.length;
            total += chunk.length;
            return;
        }
        for (byte b : chunk) {
            if (b == '\n') {
                endLine();
                lineStart = total + 1;
            } else {
                if (kept <= maxRecordBytes) {
                    if (kept == line.length) {
                        line = Arrays.copyOf(line, (int) Math.min((long) maxRecordBytes + 1, line.length * 2L));
                    }
                    line[kept++] = b;
                }
                lineLength++;
                lastByte = b;
                if (b != ' ' && b != '\t' && b != '\r') {
                    blank = false;
                }
            }
            total++;
        }
    }

    /** @return the SHA-256 of the whole body; call once, after the last part */
    byte[] finishDigest() {
        return digest.digest();
    }

    /** Ends the body: the JSON-lines records, the last line counted even without its line end. */
    List<RawRecord> lines() {
        if (lineLength > 0) {
            endLine();
        }
        return records;
    }

    /** @return the whole body of a JSON request */
    byte[] body() {
        return Arrays.copyOf(body, bodyLength);
    }

    private void endLine() {
        long number = lineNumber++;
        long length = lineLength - (lastByte == '\r' && lineLength > 0 ? 1 : 0);
        try {
            if (blank) {
                return;
            }
            if (length > maxRecordBytes) {
                records.add(new RawRecord(number, null, null, new LineDecodingException(
                        LineDecodingException.Reason.TOO_LONG, lineStart, length, lineStart + maxRecordBytes,
                        "line is " + length + " bytes, longer than the limit of " + maxRecordBytes
                                + " bytes per record (maxRecordBytes)")));
                return;
            }
            int len = (int) length;
            int bad = firstInvalidUtf8(line, len);
            if (bad >= 0) {
                byte[] bytes = Arrays.copyOf(line, len);
                records.add(new RawRecord(number, null, bytes, new LineDecodingException(
                        LineDecodingException.Reason.MALFORMED_UTF8, lineStart, len, lineStart + bad,
                        "line is not valid UTF-8: byte 0x" + String.format("%02X", line[bad] & 0xFF)
                                + " at byte " + bad + " of the line (byte " + (lineStart + bad)
                                + " of the body) is not part of a valid sequence; send UTF-8 text")));
                return;
            }
            records.add(new RawRecord(number, new String(line, 0, len, StandardCharsets.UTF_8), null, null));
        } finally {
            kept = 0;
            lineLength = 0;
            lastByte = 0;
            blank = true;
            if (line.length > 4096) {
                line = new byte[128]; // do not keep a long line's buffer for the rest of the body
            }
        }
    }

    /** @return the index of the first byte of {@code bytes[0, len)} that is not valid UTF-8, or -1 */
    static int firstInvalidUtf8(byte[] bytes, int len) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, len);
        CharBuffer out = CharBuffer.allocate(Math.min(len, 8192) + 1);
        for (; ; ) {
            CoderResult r = decoder.decode(in, out, true);
            if (r.isError()) {
                return in.position();
            }
            if (r.isUnderflow()) {
                r = decoder.flush(out);
                if (r.isOverflow()) {
                    out.clear();
                    continue;
                }
                return -1;
            }
            out.clear(); // overflow: only validity matters here
        }
    }
}
