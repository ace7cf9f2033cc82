package io.streamflow.reactive.internal.store;

/**
 * A keyed-state value as a state map holds it: its bytes, encoded when it was put, and the object
 * they were encoded from (or decoded into), which is what readers get. A commit writes the bytes,
 * never the object, so operators may go on changing their objects while a commit writes the
 * pages of the previous version: the checkpoint holds each value as it was put.
 */
final class StoredValue {

    final byte[] bytes;
    final Object value;

    StoredValue(byte[] bytes, Object value) {
        this.bytes = bytes;
        this.value = value;
    }

    /** @return the object of a stored value, or {@code null} */
    static Object unwrap(Object stored) {
        return stored == null ? null : ((StoredValue) stored).value;
    }

    @Override
    public String toString() {
        return "StoredValue[" + bytes.length + " bytes: " + value + "]";
    }
}
