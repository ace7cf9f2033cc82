package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCorruptedException;

import java.io.DataInput;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads what {@link ByteSink} wrote from a region of a byte array. Running past the region or
 * meeting an impossible length is reported as {@link StateCorruptedException}; through the
 * {@link DataInput} view (used by {@link io.streamflow.reactive.state.StateCodec}s) running past
 * the end is an {@link EOFException}, as the interface requires. Not thread-safe.
 */
final class ByteSource implements DataInput {

    private final byte[] buf;
    private int pos;
    private int limit;
    /** Where the bytes came from, for error messages. */
    private final String what;

    ByteSource(byte[] buf, int off, int len, String what) {
        this.buf = buf;
        this.pos = off;
        this.limit = off + len;
        this.what = what;
    }

    int position() {
        return pos;
    }

    /** @return the array read from (positions are offsets into it) */
    byte[] array() {
        return buf;
    }

    int limit() {
        return limit;
    }

    /** Temporarily narrows the readable region (a codec's payload); returns the previous limit. */
    int narrow(int newLimit) {
        int old = limit;
        limit = newLimit;
        return old;
    }

    void widen(int oldLimit) {
        limit = oldLimit;
    }

    int remaining() {
        return limit - pos;
    }

    StateCorruptedException malformed(String problem) {
        return new StateCorruptedException("malformed state bytes in " + what + " at offset " + pos + ": " + problem);
    }

    private void need(int n) {
        if (n < 0 || limit - pos < n) {
            throw malformed("needs " + n + " more bytes, " + (limit - pos) + " left");
        }
    }

    /** @return a length read as varint, checked to fit in the remaining bytes at {@code bytesPerItem} each */
    int getLength(int bytesPerItem) {
        int n = getVarInt();
        if (n < 0 || (long) n * bytesPerItem > limit - pos) {
            throw malformed("length " + n + " does not fit in the " + (limit - pos) + " remaining bytes");
        }
        return n;
    }

    int get() {
        need(1);
        return buf[pos++] & 0xFF;
    }

    void getBytes(byte[] dst, int off, int len) {
        need(len);
        System.arraycopy(buf, pos, dst, off, len);
        pos += len;
    }

    int getVarInt() {
        int result = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = get();
            result |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw malformed("varint longer than 5 bytes");
    }

    long getVarLong() {
        long result = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            int b = get();
            result |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw malformed("varlong longer than 10 bytes");
    }

    int getZigZagInt() {
        int v = getVarInt();
        return (v >>> 1) ^ -(v & 1);
    }

    long getZigZagLong() {
        long v = getVarLong();
        return (v >>> 1) ^ -(v & 1);
    }

    int getIntBE() {
        need(4);
        int v = ((buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8)
                | (buf[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    long getLongBE() {
        return ((long) getIntBE() << 32) | (getIntBE() & 0xFFFFFFFFL);
    }

    /** Reads what {@link ByteSink#putString} wrote. */
    String getString() {
        int len = getLength(1);
        int end = pos + len;
        int i = pos;
        while (i < end && buf[i] >= 0) {
            i++;
        }
        if (i == end) {
            String ascii = new String(buf, pos, len, StandardCharsets.ISO_8859_1);
            pos = end;
            return ascii;
        }
        char[] out = new char[len];
        int n = 0;
        while (pos < end) {
            int b = buf[pos++] & 0xFF;
            if (b < 0x80) {
                out[n++] = (char) b;
            } else if ((b & 0xE0) == 0xC0) {
                out[n++] = (char) (((b & 0x1F) << 6) | continuation(end));
            } else if ((b & 0xF0) == 0xE0) {
                int c = ((b & 0x0F) << 12) | (continuation(end) << 6);
                out[n++] = (char) (c | continuation(end));
            } else if ((b & 0xF8) == 0xF0) {
                int cp = ((b & 0x07) << 18) | (continuation(end) << 12);
                cp |= continuation(end) << 6;
                cp |= continuation(end);
                if (cp < 0x10000 || cp > Character.MAX_CODE_POINT) {
                    throw malformed("invalid code point " + cp);
                }
                out[n++] = Character.highSurrogate(cp);
                out[n++] = Character.lowSurrogate(cp);
            } else {
                throw malformed("invalid UTF-8 lead byte " + b);
            }
        }
        return new String(out, 0, n);
    }

    private int continuation(int end) {
        if (pos >= end) {
            throw malformed("truncated UTF-8 sequence");
        }
        int b = buf[pos++] & 0xFF;
        if ((b & 0xC0) != 0x80) {
            throw malformed("invalid UTF-8 continuation byte " + b);
        }
        return b & 0x3F;
    }

    // ---- DataInput, for codecs

    private void needIo(int n) throws EOFException {
        if (limit - pos < n) {
            throw new EOFException("state codec read past the " + (limit - pos) + " bytes left of its value in " + what);
        }
    }

    @Override
    public void readFully(byte[] b) throws IOException {
        readFully(b, 0, b.length);
    }

    @Override
    public void readFully(byte[] b, int off, int len) throws IOException {
        needIo(len);
        System.arraycopy(buf, pos, b, off, len);
        pos += len;
    }

    @Override
    public int skipBytes(int n) {
        int k = Math.max(0, Math.min(n, limit - pos));
        pos += k;
        return k;
    }

    @Override
    public boolean readBoolean() throws IOException {
        return readUnsignedByte() != 0;
    }

    @Override
    public byte readByte() throws IOException {
        return (byte) readUnsignedByte();
    }

    @Override
    public int readUnsignedByte() throws IOException {
        needIo(1);
        return buf[pos++] & 0xFF;
    }

    @Override
    public short readShort() throws IOException {
        return (short) readUnsignedShort();
    }

    @Override
    public int readUnsignedShort() throws IOException {
        needIo(2);
        int v = ((buf[pos] & 0xFF) << 8) | (buf[pos + 1] & 0xFF);
        pos += 2;
        return v;
    }

    @Override
    public char readChar() throws IOException {
        return (char) readUnsignedShort();
    }

    @Override
    public int readInt() throws IOException {
        needIo(4);
        return getIntBE();
    }

    @Override
    public long readLong() throws IOException {
        needIo(8);
        return getLongBE();
    }

    @Override
    public float readFloat() throws IOException {
        return Float.intBitsToFloat(readInt());
    }

    @Override
    public double readDouble() throws IOException {
        return Double.longBitsToDouble(readLong());
    }

    /** Reads a line of 8-bit characters, as {@link java.io.DataInputStream#readLine} does. */
    @Override
    public String readLine() {
        if (pos >= limit) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        while (pos < limit) {
            int c = buf[pos++] & 0xFF;
            if (c == '\n') {
                break;
            }
            if (c == '\r') {
                if (pos < limit && buf[pos] == '\n') {
                    pos++;
                }
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    @Override
    public String readUTF() throws IOException {
        return DataInputStream.readUTF(this);
    }
}
