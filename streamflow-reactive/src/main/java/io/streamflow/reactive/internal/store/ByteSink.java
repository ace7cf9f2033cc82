package io.streamflow.reactive.internal.store;

import java.io.DataOutput;
import java.io.UTFDataFormatException;
import java.util.Arrays;

/**
 * A growable byte array that {@link StateTypes} encodes into: variable-length integers, strings
 * and raw bytes. It is also the {@link DataOutput} handed to {@link io.streamflow.reactive.state.StateCodec}s
 * (big-endian, as {@link java.io.DataOutputStream}). Not thread-safe.
 */
final class ByteSink implements DataOutput {

    private byte[] buf;
    private int size;

    ByteSink(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    int size() {
        return size;
    }

    /** @return the backing array; bytes {@code [0, size())} are the content */
    byte[] array() {
        return buf;
    }

    void reset() {
        size = 0;
    }

    /** Drops the content back to {@code newSize} bytes. */
    void truncate(int newSize) {
        size = newSize;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    /** Shrinks a buffer that grew large for one big value, so a pooled sink does not pin it. */
    void trim(int maxRetained) {
        if (buf.length > maxRetained) {
            buf = new byte[maxRetained];
        }
        size = 0;
    }

    private void ensure(int more) {
        int need = size + more;
        if (need > buf.length) {
            if (need < 0) {
                throw new IllegalArgumentException("encoded state value exceeds 2 GB");
            }
            buf = Arrays.copyOf(buf, Math.max(need, buf.length * 2));
        }
    }

    void put(int b) {
        if (size == buf.length) {
            ensure(1);
        }
        buf[size++] = (byte) b;
    }

    void putBytes(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, size, len);
        size += len;
    }

    /** Unsigned LEB128 of an int that is {@code >= 0} (a length or an id). */
    void putVarInt(int v) {
        ensure(5);
        while ((v & ~0x7F) != 0) {
            buf[size++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
    }

    /** Unsigned LEB128 of a long. */
    void putVarLong(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[size++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
    }

    /** Zigzag varint: small negative and positive values both take few bytes. */
    void putZigZagInt(int v) {
        putVarInt((v << 1) ^ (v >> 31));
    }

    void putZigZagLong(long v) {
        putVarLong((v << 1) ^ (v >> 63));
    }

    void putIntBE(int v) {
        ensure(4);
        buf[size] = (byte) (v >>> 24);
        buf[size + 1] = (byte) (v >>> 16);
        buf[size + 2] = (byte) (v >>> 8);
        buf[size + 3] = (byte) v;
        size += 4;
    }

    void putLongBE(long v) {
        putIntBE((int) (v >>> 32));
        putIntBE((int) v);
    }

    /**
     * A string as its length in bytes and UTF-8. Unpaired surrogates (which {@link String#getBytes}
     * would replace by '?') are kept, each as the 3-byte form of its code unit (as WTF-8 does), so
     * every string round-trips exactly.
     */
    void putString(String s) {
        int n = s.length();
        int lengthAt = size;
        // optimistic: ASCII strings take n bytes; reserve the length varint for that case
        putVarInt(n);
        int start = size;
        ensure(n);
        int i = 0;
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                break;
            }
            buf[size++] = (byte) c;
        }
        if (i == n) {
            return;
        }
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                put(c);
            } else if (c < 0x800) {
                ensure(2);
                buf[size++] = (byte) (0xC0 | (c >> 6));
                buf[size++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                ensure(4);
                buf[size++] = (byte) (0xF0 | (cp >> 18));
                buf[size++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[size++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[size++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                ensure(3);
                buf[size++] = (byte) (0xE0 | (c >> 12));
                buf[size++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                buf[size++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        // the byte length differs from n: rewrite the length prefix in front of the bytes
        int byteLength = size - start;
        byte[] body = Arrays.copyOfRange(buf, start, size);
        size = lengthAt;
        putVarInt(byteLength);
        putBytes(body, 0, body.length);
    }

    // ---- DataOutput, for codecs (big-endian like DataOutputStream)

    @Override
    public void write(int b) {
        put(b);
    }

    @Override
    public void write(byte[] b) {
        putBytes(b, 0, b.length);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        putBytes(b, off, len);
    }

    @Override
    public void writeBoolean(boolean v) {
        put(v ? 1 : 0);
    }

    @Override
    public void writeByte(int v) {
        put(v);
    }

    @Override
    public void writeShort(int v) {
        put(v >>> 8);
        put(v);
    }

    @Override
    public void writeChar(int v) {
        writeShort(v);
    }

    @Override
    public void writeInt(int v) {
        putIntBE(v);
    }

    @Override
    public void writeLong(long v) {
        putLongBE(v);
    }

    @Override
    public void writeFloat(float v) {
        putIntBE(Float.floatToIntBits(v));
    }

    @Override
    public void writeDouble(double v) {
        putLongBE(Double.doubleToLongBits(v));
    }

    @Override
    public void writeBytes(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[size++] = (byte) s.charAt(i);
        }
    }

    @Override
    public void writeChars(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            writeChar(s.charAt(i));
        }
    }

    /** Modified UTF-8 with a 2-byte length, exactly as {@link java.io.DataOutputStream#writeUTF}. */
    @Override
    public void writeUTF(String s) throws UTFDataFormatException {
        int n = s.length();
        int utfLen = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            utfLen += c >= 0x0001 && c <= 0x007F ? 1 : c <= 0x07FF ? 2 : 3;
        }
        if (utfLen > 65535) {
            throw new UTFDataFormatException("encoded string too long: " + utfLen + " bytes");
        }
        writeShort(utfLen);
        ensure(utfLen);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x0001 && c <= 0x007F) {
                buf[size++] = (byte) c;
            } else if (c <= 0x07FF) {
                buf[size++] = (byte) (0xC0 | ((c >> 6) & 0x1F));
                buf[size++] = (byte) (0x80 | (c & 0x3F));
            } else {
                buf[size++] = (byte) (0xE0 | ((c >> 12) & 0x0F));
                buf[size++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                buf[size++] = (byte) (0x80 | (c & 0x3F));
            }
        }
    }
}
