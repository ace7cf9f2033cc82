package io.streamflow.reactive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A test file built line by line together with what {@link StreamSources#fileLines} must make of
 * each line: the reference model of the file source. Each line is described independently of the
 * reader (its offset is the sum of the bytes before it, the first invalid byte is where the test
 * put it), so comparing {@link #describe(List)} of the source's output with {@link #expected} checks
 * every offset, value and error exactly.
 */
public final class LineFile {

    /** What the source must emit for a line. */
    enum Kind { RECORD, MALFORMED, TOO_LONG }

    /**
     * One line: {@code content} without its terminator, {@code badAt} the index in it of the first
     * byte that is not valid UTF-8 ({@code -1}: none).
     */
    record Line(long offset, byte[] content, String terminator, int badAt) {
    }

    /** Invalid UTF-8 sequences; each is invalid from its first byte whatever valid text follows. */
    static final byte[][] INVALID = {
            {(byte) 0x80},                                      // continuation byte with no lead
            {(byte) 0xBF},
            {(byte) 0xC0, (byte) 0x80},                         // overlong NUL
            {(byte) 0xC1, (byte) 0xBF},                         // overlong 2-byte
            {(byte) 0xE0, (byte) 0x80, (byte) 0x80},            // overlong 3-byte
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80},            // UTF-16 surrogate D800
            {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // overlong 4-byte
            {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
            {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80},
            {(byte) 0xFE},
            {(byte) 0xFF},
            {(byte) 0xE2, (byte) 0x82},                         // truncated euro sign
            {(byte) 0xC3},                                      // truncated 2-byte
            {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},            // truncated 4-byte
    };

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<Line> lines = new ArrayList<>();
    private final int maxLineBytes;

    LineFile(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    /** Appends a line; {@code terminator} is {@code "\n"}, {@code "\r\n"}, or for the last line {@code ""}. */
    LineFile add(byte[] content, String terminator, int badAt) {
        lines.add(new Line(bytes.size(), content, terminator, badAt));
        bytes.writeBytes(content);
        bytes.writeBytes(terminator.getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    LineFile add(String content, String terminator) {
        return add(content.getBytes(StandardCharsets.UTF_8), terminator, -1);
    }

    List<Line> lines() {
        return lines;
    }

    byte[] bytes() {
        return bytes.toByteArray();
    }

    Path write(Path file) throws IOException {
        Files.write(file, bytes());
        return file;
    }

    static Kind kind(Line line, int maxLineBytes) {
        return line.content().length > maxLineBytes ? Kind.TOO_LONG : line.badAt() >= 0 ? Kind.MALFORMED : Kind.RECORD;
    }

    /** The model's output from line {@code from} on, in the form of {@link #describe(List)}. */
    List<String> expected(int from, boolean lenient) {
        List<String> out = new ArrayList<>();
        for (Line l : lines.subList(from, lines.size())) {
            Kind kind = kind(l, maxLineBytes);
            if (kind == Kind.RECORD || kind == Kind.MALFORMED && lenient) {
                out.add("record@" + l.offset() + " " + new String(l.content(), StandardCharsets.UTF_8));
            } else if (kind == Kind.MALFORMED) {
                out.add("dead@" + l.offset() + " MALFORMED_UTF8 length=" + l.content().length + " error@"
                        + (l.offset() + l.badAt()) + " input=" + HexFormat.of().formatHex(l.content()));
            } else {
                out.add("dead@" + l.offset() + " TOO_LONG length=" + l.content().length + " error@"
                        + (l.offset() + maxLineBytes) + " input=null");
            }
        }
        return out;
    }

    /** What the source emitted, one string per element, comparable with {@link #expected}. */
    static List<String> describe(List<? extends StreamElement<?, ?>> elements) {
        List<String> out = new ArrayList<>();
        for (StreamElement<?, ?> e : elements) {
            if (e instanceof StreamRecord<?, ?> r) {
                out.add("record@" + r.origin().position() + " " + r.value());
            } else if (e instanceof DeadLetter<?, ?> d && d.error() instanceof LineDecodingException x) {
                if (d.origin().position() != x.lineOffset()) {
                    out.add("dead letter at " + d.origin() + " but its error names the line at " + x.lineOffset());
                }
                out.add("dead@" + d.origin().position() + " " + x.reason() + " length=" + x.lineLength() + " error@"
                        + x.errorOffset() + " input=" + (d.input() == null ? "null"
                        : HexFormat.of().formatHex((byte[]) d.input())));
            } else {
                out.add("unexpected " + e);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ random files

    /**
     * A random file of {@code count} lines: valid text of 1- to 4-byte characters, lines with an
     * invalid sequence at a random place, lines longer than {@code maxLineBytes} (by one byte or
     * many), lines of exactly the limit, empty lines, CRs inside lines; LF or CRLF, and sometimes a
     * last line without terminator.
     */
    static LineFile random(SplittableRandom rnd, int count, int maxLineBytes) {
        LineFile f = new LineFile(maxLineBytes);
        for (int i = 0; i < count; i++) {
            boolean last = i == count - 1;
            String terminator = last && rnd.nextInt(2) == 0 ? "" : rnd.nextInt(3) == 0 ? "\r\n" : "\n";
            int shape = rnd.nextInt(20);
            byte[] content;
            int badAt = -1;
            if (shape < 9) {
                content = text(rnd, rnd.nextInt(maxLineBytes + 1));
            } else if (shape < 12) {
                byte[] prefix = text(rnd, rnd.nextInt(maxLineBytes / 2 + 1));
                byte[] bad = INVALID[rnd.nextInt(INVALID.length)];
                byte[] suffix = text(rnd, rnd.nextInt(maxLineBytes / 3 + 1));
                content = concat(prefix, bad, suffix);
                badAt = prefix.length;
            } else if (shape < 14) {
                content = text(rnd, maxLineBytes + 1 + (rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(maxLineBytes * 5)));
                if (rnd.nextInt(3) == 0 && content.length > 2) {
                    content[rnd.nextInt(content.length - 1)] = (byte) 0xFF; // too long wins over malformed
                }
            } else if (shape < 16) {
                content = text(rnd, maxLineBytes);
            } else if (shape < 18) {
                content = new byte[0];
            } else {
                content = concat(text(rnd, rnd.nextInt(maxLineBytes / 2)), new byte[]{'\r'},
                        text(rnd, 1 + rnd.nextInt(maxLineBytes / 2)));
            }
            if (content.length > maxLineBytes && shape < 12) {
                content = text(rnd, maxLineBytes / 2);
                badAt = -1;
            }
            if (terminator.isEmpty() && content.length == 0) {
                terminator = "\n"; // an empty last line without terminator is no line at all
            }
            f.add(content, terminator, badAt);
        }
        return f;
    }

    /** Valid UTF-8 of exactly {@code length} bytes (no LF; CR only inside), from characters of 1 to 4 bytes. */
    static byte[] text(SplittableRandom rnd, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length);
        while (out.size() < length) {
            int left = length - out.size();
            int cp = switch (rnd.nextInt(left >= 4 ? 8 : Math.min(left, 3) * 2)) {
                case 0, 1 -> 0x20 + rnd.nextInt(0x5F);              // printable ASCII
                case 2, 3 -> 0x80 + rnd.nextInt(0x800 - 0x80);      // 2 bytes
                case 4, 5 -> {
                    int c = 0x800 + rnd.nextInt(0x10000 - 0x800);   // 3 bytes, no surrogates
                    yield c >= 0xD800 && c <= 0xDFFF ? 0xE000 + (c & 0xFF) : c;
                }
                default -> 0x10000 + rnd.nextInt(0x110000 - 0x10000); // 4 bytes
            };
            byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
            if (b.length <= left) {
                out.writeBytes(b);
            } else {
                out.write('a' + rnd.nextInt(26));
            }
        }
        return out.toByteArray();
    }

    /**
     * The bytes of {@code parts}: a {@code String} as UTF-8, an {@code Integer} as one byte (for
     * bytes that are not valid UTF-8).
     */
    public static byte[] bytesOf(Object... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                out.writeBytes(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } else {
                out.write((Integer) p);
            }
        }
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
