package io.streamflow.reactive.internal.store;

import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

import java.nio.ByteBuffer;

/**
 * MVStore value type of durable state: objects in the {@link StateTypes} serialisation. The
 * values of every leaf page are written as one block followed by a CRC32C, which is checked when
 * the page is read ({@link StateCorruptedException} naming the map when it does not match).
 * <p>
 * Values are serialised when MVStore writes a page, i.e. during a commit; a value must not be
 * changed while a commit runs, and must have been checked with
 * {@link StateTypes#checkEncodable} when it was put (a failure while writing a page closes the
 * store).
 */
public final class StateValueType extends BasicDataType<Object> {

    private final StateTypes types;
    private final String mapName;

    /**
     * @param types   the serialisation
     * @param mapName the map's name, for error messages
     */
    public StateValueType(StateTypes types, String mapName) {
        this.types = types;
        this.mapName = mapName;
    }

    @Override
    public int getMemory(Object value) {
        return types.estimateMemory(value);
    }

    @Override
    public Object[] createStorage(int size) {
        return new Object[size];
    }

    /** A single value, unframed (MVStore writes pages through the bulk method below). */
    @Override
    public void write(WriteBuffer buff, Object value) {
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
        return v;
    }

    /** The values of one leaf page: one block with its CRC. */
    @Override
    public void write(WriteBuffer buff, Object storage, int len) {
        Object[] values = (Object[]) storage;
        ByteSink body = PageBlock.sink();
        try {
            for (int i = 0; i < len; i++) {
                types.write(values[i], body, StateTypes.NO_REGISTER, 0);
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
            values[i] = types.read(in, 0);
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
