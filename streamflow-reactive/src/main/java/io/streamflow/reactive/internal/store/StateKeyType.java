package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCorruptedException;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * MVStore key type of durable state: byte arrays, ordered unsigned-lexicographically (so that a
 * prefix of bytes addresses a contiguous range). The keys of every page, leaf or inner, are
 * written as one block followed by a CRC32C, which is checked when the page is read
 * ({@link StateCorruptedException} naming the map when it does not match).
 */
public final class StateKeyType extends BasicDataType<byte[]> {

    private final String mapName;

    /** @param mapName the map's name, for error messages */
    public StateKeyType(String mapName) {
        this.mapName = mapName;
    }

    @Override
    public int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    @Override
    public int binarySearch(byte[] key, Object storage, int size, int initialGuess) {
        byte[][] keys = (byte[][]) storage;
        int low = 0;
        int high = size - 1;
        int x = initialGuess - 1;
        if (x < 0 || x > high) {
            x = high >>> 1;
        }
        while (low <= high) {
            int c = Arrays.compareUnsigned(key, keys[x]);
            if (c > 0) {
                low = x + 1;
            } else if (c < 0) {
                high = x - 1;
            } else {
                return x;
            }
            x = (low + high) >>> 1;
        }
        return ~low;
    }

    @Override
    public int getMemory(byte[] key) {
        return 16 + ((key.length + 7) & ~7);
    }

    @Override
    public byte[][] createStorage(int size) {
        return new byte[size][];
    }

    /** A single key, unframed (MVStore writes pages through the bulk method below). */
    @Override
    public void write(WriteBuffer buff, byte[] key) {
        buff.putVarInt(key.length);
        buff.put(key);
    }

    @Override
    public byte[] read(ByteBuffer buff) {
        int n = DataUtils.readVarInt(buff);
        if (n < 0 || n > buff.remaining()) {
            throw new StateCorruptedException("key of " + n + " bytes in state map '" + mapName + "' exceeds the buffer");
        }
        byte[] key = new byte[n];
        buff.get(key);
        return key;
    }

    /** The keys of one page: one block with its CRC. */
    @Override
    public void write(WriteBuffer buff, Object storage, int len) {
        byte[][] keys = (byte[][]) storage;
        ByteSink body = PageBlock.sink();
        try {
            for (int i = 0; i < len; i++) {
                byte[] k = keys[i];
                body.putVarInt(k.length);
                body.putBytes(k, 0, k.length);
            }
            PageBlock.write(buff, body, len);
        } finally {
            PageBlock.release(body);
        }
    }

    @Override
    public void read(ByteBuffer buff, Object storage, int len) {
        byte[][] keys = (byte[][]) storage;
        ByteSource in = PageBlock.read(buff, len, mapName, "keys");
        for (int i = 0; i < len; i++) {
            byte[] k = new byte[in.getLength(1)];
            in.getBytes(k, 0, k.length);
            keys[i] = k;
        }
        if (in.remaining() != 0) {
            throw in.malformed(in.remaining() + " bytes left after " + len + " keys");
        }
    }

    @Override
    public String toString() {
        return "StateKeyType[" + mapName + "]";
    }
}
