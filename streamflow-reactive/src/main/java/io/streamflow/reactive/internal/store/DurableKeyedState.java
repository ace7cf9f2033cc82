package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateCorruptedException;
import io.streamflow.reactive.state.StateIncompatibleException;
import io.streamflow.reactive.state.UnsupportedStateTypeException;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStoreException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * Keyed state in one MVStore map. The map's key is the composite
 * {@code shard (4 bytes, big-endian) | namespace length (varint) | namespace | key}, with namespace
 * and key in the canonical {@link StateTypes} encoding, so all entries of a shard, and of a
 * namespace within it, are contiguous in the byte order of the map: namespaces, shards and
 * namespace removal are range scans, and {@link #shards()} jumps from shard to shard.
 * <p>
 * {@link #put} encodes the value at once (failing at once if it cannot be stored) and keeps the
 * bytes with the object ({@link StoredValue}); {@link #get} returns the stored instance (as the
 * heap backend does), and a commit writes the bytes. So an operator that changes a value must
 * {@link #put} it again to have the change checkpointed, and may change state while a commit
 * writes the previous version.
 * <p>
 * Damaged pages are reported as {@link StateCorruptedException}, state this build cannot read as
 * {@link StateIncompatibleException}. Not thread-safe: one operator uses it at a time (commits
 * run on another thread).
 *
 * @param <K> key type
 * @param <N> namespace type
 * @param <S> value type
 */
public final class DurableKeyedState<K, N, S> implements KeyedState<K, N, S> {

    private static final int CACHE = 8;

    private final MVMap<byte[], Object> map;
    private final StateTypes types;
    private final String mapName;
    private final Runnable afterWrite;
    private final ByteSink scratch = new ByteSink(64);
    private final ByteSink nsScratch = new ByteSink(32);
    private final ByteSink valueScratch = new ByteSink(64);

    /** Encoded {@code shard | namespace} prefixes of the namespaces used last. */
    private final int[] cachedShard = new int[CACHE];
    private final Object[] cachedNamespace = new Object[CACHE];
    private final byte[][] cachedPrefix = new byte[CACHE][];
    private int cacheNext;

    /** The encoded size of the value {@link #getCopy} returned last. */
    int lastCopyBytes;

    /** The composite key built last (an operator typically gets, then puts, the same key). */
    private Object lastKey;
    private byte[] lastPrefix;
    private byte[] lastComposite;

    /**
     * @param map   the map (opened with {@link StateTypes#mapBuilder})
     * @param types the serialisation of the map's store
     */
    public DurableKeyedState(MVMap<byte[], Object> map, StateTypes types) {
        this(map, types, () -> { });
    }

    /**
     * @param afterWrite called after every change (cheap: it checks the store's uncommitted size)
     */
    DurableKeyedState(MVMap<byte[], Object> map, StateTypes types, Runnable afterWrite) {
        this.map = Objects.requireNonNull(map, "map");
        this.types = Objects.requireNonNull(types, "types");
        this.afterWrite = Objects.requireNonNull(afterWrite, "afterWrite");
        this.mapName = map.getName();
    }

    /** @return the name of the map holding this state */
    public String mapName() {
        return mapName;
    }

    // ------------------------------------------------------------------ keys

    private static void checkShard(int shard) {
        if (shard < 0) {
            throw new IllegalArgumentException("shard must be >= 0, was " + shard);
        }
    }

    private byte[] prefix(int shard, N namespace) {
        checkShard(shard);
        Objects.requireNonNull(namespace, "namespace");
        for (int i = 0; i < CACHE; i++) {
            byte[] p = cachedPrefix[i];
            if (p != null && cachedShard[i] == shard) {
                Object ns = cachedNamespace[i];
                if (ns == namespace || ns.equals(namespace)) {
                    return p;
                }
            }
        }
        nsScratch.reset();
        types.write(namespace, nsScratch, StateTypes.CANONICAL, 0);
        scratch.reset();
        scratch.putIntBE(shard);
        scratch.putVarInt(nsScratch.size());
        scratch.putBytes(nsScratch.array(), 0, nsScratch.size());
        byte[] p = scratch.toByteArray();
        int slot = cacheNext;
        cacheNext = (slot + 1) % CACHE;
        cachedShard[slot] = shard;
        cachedNamespace[slot] = namespace;
        cachedPrefix[slot] = p;
        return p;
    }

    private byte[] composite(int shard, N namespace, K key) {
        Objects.requireNonNull(key, "key");
        byte[] prefix = prefix(shard, namespace);
        if (prefix == lastPrefix && (key == lastKey || key.equals(lastKey))) {
            return lastComposite;
        }
        scratch.reset();
        scratch.putBytes(prefix, 0, prefix.length);
        types.write(key, scratch, StateTypes.CANONICAL, 0);
        byte[] ck = scratch.toByteArray();
        lastKey = key;
        lastPrefix = prefix;
        lastComposite = ck;
        return ck;
    }

    private static byte[] shardKey(int shard) {
        return new byte[]{(byte) (shard >>> 24), (byte) (shard >>> 16), (byte) (shard >>> 8), (byte) shard};
    }

    private static int shardOf(byte[] k) {
        return ((k[0] & 0xFF) << 24) | ((k[1] & 0xFF) << 16) | ((k[2] & 0xFF) << 8) | (k[3] & 0xFF);
    }

    private static boolean startsWith(byte[] k, byte[] prefix) {
        return k.length >= prefix.length
                && Arrays.equals(k, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** @return the smallest key above every key that starts with {@code k[0, len)}, or {@code null} */
    private static byte[] successor(byte[] k, int len) {
        int n = len;
        while (n > 0 && k[n - 1] == (byte) 0xFF) {
            n--;
        }
        if (n == 0) {
            return null;
        }
        byte[] s = Arrays.copyOf(k, n);
        s[n - 1]++;
        return s;
    }

    @SuppressWarnings("unchecked")
    private K keyAt(byte[] k, int prefixLength) {
        return (K) types.decodeKey(k, prefixLength, k.length - prefixLength);
    }

    private RuntimeException translate(MVStoreException e) {
        return StoreErrors.translate(e, mapName);
    }

    /** @return the object of a stored value (decoded from its bytes when it was stored as bytes only), or {@code null} */
    @SuppressWarnings("unchecked")
    private S value(Object stored) {
        if (stored == null) {
            return null;
        }
        StoredValue sv = (StoredValue) stored;
        return (S) (sv.value != null ? sv.value : types.decode(sv.bytes));
    }

    /**
     * Looks a value up and decodes a new object from its stored bytes, so that the caller owns it
     * (changing it does not change what the map holds).
     *
     * @return the value, or {@code null} when absent
     */
    @SuppressWarnings("unchecked")
    S getCopy(int shard, N namespace, K key) {
        byte[] ck = composite(shard, namespace, key);
        try {
            Object stored = map.get(ck);
            if (stored == null) {
                return null;
            }
            byte[] b = ((StoredValue) stored).bytes;
            lastCopyBytes = b.length;
            return (S) types.decode(b);
        } catch (MVStoreException e) {
            throw translate(e);
        }
    }

    /**
     * Visits the entries of the namespace in the shard in key order, each value a new object decoded
     * from its stored bytes.
     */
    @SuppressWarnings("unchecked")
    void forEachCopy(int shard, N namespace, BiConsumer<? super K, ? super S> visitor) {
        byte[] prefix = prefix(shard, namespace);
        try {
            Cursor<byte[], Object> c = map.cursor(prefix);
            while (c.hasNext()) {
                byte[] k = c.next();
                if (!startsWith(k, prefix)) {
                    break;
                }
                visitor.accept(keyAt(k, prefix.length), (S) types.decode(((StoredValue) c.getValue()).bytes));
            }
        } catch (MVStoreException e) {
            throw translate(e);
        }
    }

    /** @return whether the namespace in the shard holds a key that {@code accept} accepts (a range scan that stops at the first) */
    boolean anyKey(int shard, N namespace, java.util.function.Predicate<? super K> accept) {
        byte[] prefix = prefix(shard, namespace);
        try {
            Cursor<byte[], Object> c = map.cursor(prefix);
            while (c.hasNext()) {
                byte[] k = c.next();
                if (!startsWith(k, prefix)) {
                    return false;
                }
                if (accept.test(keyAt(k, prefix.length))) {
                    return true;
                }
            }
        } catch (MVStoreException e) {
            throw translate(e);
        }
        return false;
    }

    /**
     * Walks the entries of the namespace in the shard in key order, lazily (a cursor over the map as
     * it was when the walk started), each value a new object decoded from its stored bytes.
     */
    java.util.Iterator<java.util.Map.Entry<K, S>> entriesCopy(int shard, N namespace) {
        byte[] prefix = prefix(shard, namespace);
        Cursor<byte[], Object> c;
        try {
            c = map.cursor(prefix);
        } catch (MVStoreException e) {
            throw translate(e);
        }
        return new java.util.Iterator<>() {
            private java.util.Map.Entry<K, S> next = advance();

            @SuppressWarnings("unchecked")
            private java.util.Map.Entry<K, S> advance() {
                try {
                    if (!c.hasNext()) {
                        return null;
                    }
                    byte[] k = c.next();
                    if (!startsWith(k, prefix)) {
                        return null;
                    }
                    return new java.util.AbstractMap.SimpleImmutableEntry<>(keyAt(k, prefix.length),
                            (S) types.decode(((StoredValue) c.getValue()).bytes));
                } catch (MVStoreException e) {
                    throw translate(e);
                }
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public java.util.Map.Entry<K, S> next() {
                java.util.Map.Entry<K, S> n = next;
                if (n == null) {
                    throw new java.util.NoSuchElementException();
                }
                next = advance();
                return n;
            }
        };
    }

    /** @return a new object equal to {@code value}, through its stored bytes (this state's scratch buffer; not thread-safe) */
    Object copyValue(Object value) {
        return types.decode(types.encode(value, valueScratch));
    }

    /** @return the bytes a value is stored as (through this state's scratch buffer; not thread-safe) */
    byte[] encodeValue(Object value) {
        return types.encode(value, valueScratch);
    }

    /**
     * Stores a value as its bytes only ({@link #encodeValue}); readers decode it. The map then keeps
     * no reference to the object, which its owner may go on changing.
     */
    void putEncoded(int shard, N namespace, K key, byte[] bytes) {
        byte[] ck = composite(shard, namespace, key);
        try {
            map.put(ck, new StoredValue(bytes, null));
        } catch (MVStoreException e) {
            throw translate(e);
        }
        afterWrite.run();
    }

    /** Removes a value without decoding it. */
    void delete(int shard, N namespace, K key) {
        byte[] ck = composite(shard, namespace, key);
        try {
            map.remove(ck);
        } catch (MVStoreException e) {
            throw translate(e);
        } finally {
            afterWrite.run();
        }
    }

    // ------------------------------------------------------------------ KeyedState

    @Override
    @SuppressWarnings("unchecked")
    public S get(int shard, N namespace, K key) {
        byte[] ck = composite(shard, namespace, key);
        try {
            return value(map.get(ck));
        } catch (MVStoreException e) {
            throw translate(e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws UnsupportedStateTypeException when the value (or something in it) cannot be stored
     * @throws NullPointerException          when the value is {@code null} (use {@link #remove})
     */
    @Override
    public void put(int shard, N namespace, K key, S value) {
        Objects.requireNonNull(value, "value (use remove to delete an entry)");
        byte[] ck = composite(shard, namespace, key);
        // encoded now: a commit writes these bytes, whatever happens to the object later
        StoredValue stored = new StoredValue(types.encode(value, valueScratch), value);
        try {
            map.put(ck, stored);
        } catch (MVStoreException e) {
            throw translate(e);
        }
        afterWrite.run();
    }

    @Override
    @SuppressWarnings("unchecked")
    public S remove(int shard, N namespace, K key) {
        byte[] ck = composite(shard, namespace, key);
        try {
            return value(map.remove(ck));
        } catch (MVStoreException e) {
            throw translate(e);
        } finally {
            afterWrite.run();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void forEach(int shard, N namespace, BiConsumer<? super K, ? super S> visitor) {
        byte[] prefix = prefix(shard, namespace);
        try {
            Cursor<byte[], Object> c = map.cursor(prefix);
            while (c.hasNext()) {
                byte[] k = c.next();
                if (!startsWith(k, prefix)) {
                    break;
                }
                visitor.accept(keyAt(k, prefix.length), value(c.getValue()));
            }
        } catch (MVStoreException e) {
            throw translate(e);
        }
    }

    @Override
    public Iterable<K> keys(int shard, N namespace) {
        byte[] prefix = prefix(shard, namespace);
        List<K> out = new ArrayList<>();
        try {
            Cursor<byte[], Object> c = map.cursor(prefix);
            while (c.hasNext()) {
                byte[] k = c.next();
                if (!startsWith(k, prefix)) {
                    break;
                }
                out.add(keyAt(k, prefix.length));
            }
        } catch (MVStoreException e) {
            throw translate(e);
        }
        return out;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Iterable<N> namespaces(int shard) {
        checkShard(shard);
        List<N> out = new ArrayList<>();
        try {
            byte[] k = map.ceilingKey(shardKey(shard));
            while (k != null && shardOf(k) == shard) {
                ByteSource in = new ByteSource(k, 4, k.length - 4, "a key of state map '" + mapName + "'");
                int len = in.getLength(1);
                int start = in.position();
                out.add((N) types.decodeKey(k, start, len));
                byte[] next = successor(k, start + len);
                k = next == null ? null : map.ceilingKey(next);
            }
        } catch (MVStoreException e) {
            throw translate(e);
        }
        return out;
    }

    @Override
    public void removeNamespace(int shard, N namespace) {
        byte[] prefix = prefix(shard, namespace);
        try {
            // the cursor walks the map as it was when created, so removing while walking is safe
            Cursor<byte[], Object> c = map.cursor(prefix);
            while (c.hasNext()) {
                byte[] k = c.next();
                if (!startsWith(k, prefix)) {
                    break;
                }
                map.remove(k);
            }
            afterWrite.run();
        } catch (MVStoreException e) {
            throw translate(e);
        }
    }

    @Override
    public int[] shards() {
        int[] out = new int[4];
        int n = 0;
        try {
            byte[] k = map.firstKey();
            while (k != null) {
                int s = shardOf(k);
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = s;
                k = s == Integer.MAX_VALUE ? null : map.ceilingKey(shardKey(s + 1));
            }
        } catch (MVStoreException e) {
            throw translate(e);
        }
        return Arrays.copyOf(out, n);
    }

    @Override
    public boolean existsInOtherShard(int shard, N namespace, K key) {
        byte[] probe = composite(shard, namespace, key).clone();
        try {
            byte[] k = map.firstKey();
            while (k != null) {
                int s = shardOf(k);
                if (s != shard) {
                    probe[0] = k[0];
                    probe[1] = k[1];
                    probe[2] = k[2];
                    probe[3] = k[3];
                    if (map.containsKey(probe)) {
                        return true;
                    }
                }
                k = s == Integer.MAX_VALUE ? null : map.ceilingKey(shardKey(s + 1));
            }
        } catch (MVStoreException e) {
            throw translate(e);
        }
        return false;
    }

    @Override
    public long size() {
        return map.sizeAsLong();
    }

    @Override
    public void clear() {
        map.clear();
    }

    @Override
    public String toString() {
        return "DurableKeyedState[" + mapName + ", " + map.sizeAsLong() + " entries]";
    }
}
