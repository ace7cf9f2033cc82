package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCorruptedException;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The framing of the keys or the values of one MVStore page: {@code varint length, bytes,
 * CRC32C}, where the CRC covers the number of entries and the bytes. Reading checks the CRC
 * before decoding anything, so a damaged page is reported instead of being misread.
 */
final class PageBlock {

    private static final int MAX_RETAINED = 1 << 20;
    private static final ThreadLocal<ByteSink> SINK = ThreadLocal.withInitial(() -> new ByteSink(8192));

    private PageBlock() {
    }

    /** @return this thread's scratch sink, empty */
    static ByteSink sink() {
        ByteSink s = SINK.get();
        s.reset();
        return s;
    }

    /** Lets go of a scratch sink's array when one page made it big. */
    static void release(ByteSink s) {
        s.trim(MAX_RETAINED);
    }

    private static int crc(int count, byte[] b, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(count >>> 24);
        crc.update(count >>> 16);
        crc.update(count >>> 8);
        crc.update(count);
        crc.update(b, off, len);
        return (int) crc.getValue();
    }

    static void write(WriteBuffer buff, ByteSink body, int count) {
        int len = body.size();
        buff.putVarInt(len);
        buff.put(body.array(), 0, len);
        buff.putInt(crc(count, body.array(), 0, len));
    }

    /**
     * Checks the CRC of the block at the buffer's position and returns its bytes; the buffer is
     * left after the block.
     *
     * @param what "keys" or "values", for the message
     */
    static ByteSource read(ByteBuffer buff, int count, String mapName, String what) {
        int start = buff.position();
        int len;
        try {
            len = DataUtils.readVarInt(buff);
        } catch (RuntimeException e) {
            throw damaged(mapName, what, "its length cannot be read", e);
        }
        if (len < 0 || len > buff.remaining() - 4) {
            throw damaged(mapName, what, "its length " + len + " exceeds the page (" + buff.remaining()
                    + " bytes left at offset " + start + ")", null);
        }
        byte[] arr;
        int off;
        int pos = buff.position();
        if (buff.hasArray()) {
            arr = buff.array();
            off = buff.arrayOffset() + pos;
        } else {
            arr = new byte[len];
            off = 0;
            buff.get(arr);
            buff.position(pos);
        }
        int stored = buff.getInt(pos + len);
        int actual = crc(count, arr, off, len);
        if (stored != actual) {
            throw damaged(mapName, what, String.format("their CRC32C is %08x but %08x was written with them", actual,
                    stored), null);
        }
        buff.position(pos + len + 4);
        return new ByteSource(arr, off, len, "the " + what + " of a page of state map '" + mapName + "'");
    }

    private static StateCorruptedException damaged(String mapName, String what, String problem, Throwable cause) {
        return new StateCorruptedException("The " + what + " of a page of state map '" + mapName + "' are damaged: "
                + problem + ". The state file is corrupted; nothing is read from this page.", cause);
    }
}
