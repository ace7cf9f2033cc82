package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCorruptedException;

import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

import java.nio.ByteBuffer;

/**
 * MVStore value type of durable state: objects in the {@link StateTypes} serialisation. The
 * values of every leaf page are written as one block followed by a CRC32C, which is checked when
 * the page is read ({@link StateCorruptedException} naming the map when it does not match).
 * <p>
 * In keyed-state maps ({@code stored}) every value is a {@link StoredValue}, encoded when it was
 * put: a commit copies its bytes, so operators may change state while a commit writes the previous
 * version. In the library's own maps values are objects, serialised when MVStore writes a page
 * (they must not change while a commit runs, and must have been checked with
 * {@link StateTypes#checkEncodable} when they were put: a failure while writing a page closes the
 * store).
 */
public final class StateValueType extends BasicDataType<Object> {

    private final StateTypes types;
    private final String mapName;
    private final boolean stored;

    /**
     * @param types   the serialisation
     * @param mapName the map's name, for error messages
     * @param stored  whether the map's values are {@link StoredValue}s (keyed state)
     */
    public StateValueType(StateTypes types, String mapName, boolean stored) {
        this.types = types;
        this.mapName = mapName;
        this.stored = stored;
    }

    @Override
    public int getMemory(Object value) {
        if (stored) {
            // the bytes, and an object of about their size
            return 2 * ((StoredValue) value).bytes.length + 48;
        }
        return types.estimateMemory(value);
    }

    @Override
    public Object[] createStorage(int size) {
        return new Object[size];
    }

    /** A single value, unframed (MVStore writes pages through the bulk method below). */
    @Override
    public void write(WriteBuffer buff, Object value) {
        if (stored) {
            buff.put(((StoredValue) value).bytes);
            return;
        }
        ByteSink body = PageBlock.sink();
        try {
            types.write(value, body, StateTypes.NO_REGISTER, 0);
            buff.put(body.array(), 0, body.size());
        } finally {
            PageBlock.release(body);
        }
    }

    @Override
    public Object read(ByteBuffer buff) {
        byte[] arr;
        int off;
        int pos = buff.position();
        int len = buff.remaining();
        if (buff.hasArray()) {
            arr = buff.array();
            off = buff.arrayOffset() + pos;
        } else {
            arr = new byte[len];
            off = 0;
            buff.duplicate().get(arr);
        }
        ByteSource in = new ByteSource(arr, off, len, "a value of state map '" + mapName + "'");
        Object v = types.read(in, 0);
        buff.position(pos + (in.position() - off));
        return stored ? new StoredValue(java.util.Arrays.copyOfRange(arr, off, in.position()), v) : v;
    }

    /** The values of one leaf page: one block with its CRC. */
    @Override
    public void write(WriteBuffer buff, Object storage, int len) {
        Object[] values = (Object[]) storage;
        ByteSink body = PageBlock.sink();
        try {
            for (int i = 0; i < len; i++) {
                if (stored) {
                    byte[] b = ((StoredValue) values[i]).bytes;
                    body.putBytes(b, 0, b.length);
                } else {
                    types.write(values[i], body, StateTypes.NO_REGISTER, 0);
                }
            }
            PageBlock.write(buff, body, len);
        } finally {
            PageBlock.release(body);
        }
    }

    @Override
    public void read(ByteBuffer buff, Object storage, int len) {
        Object[] values = (Object[]) storage;
        ByteSource in = PageBlock.read(buff, len, mapName, "values");
        for (int i = 0; i < len; i++) {
            int from = in.position();
            Object v = types.read(in, 0);
            values[i] = stored ? new StoredValue(java.util.Arrays.copyOfRange(in.array(), from, in.position()), v) : v;
        }
        if (in.remaining() != 0) {
            throw in.malformed(in.remaining() + " bytes left after " + len + " values");
        }
    }

    @Override
    public String toString() {
        return "StateValueType[" + mapName + "]";
    }
}
