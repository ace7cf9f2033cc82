package io.streamflow.reactive.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.Map;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Open-addressing hash map for the heap backend's hot path (linear probing, backward-shift
 * removal, no allocation per lookup). Remembers the slot of the last lookup, so the operator's
 * {@code get} then {@code put} of the same, mutated value costs one comparison.
 * <p>
 * Two layouts. While every key is a {@link Long} and no value is {@code null} (the common case of
 * numeric ids) the map holds only primitive keys and values: a lookup or insert touches two arrays
 * and no key object (a record's fresh box is never the stored one, so following stored boxes would
 * cost a cache miss per lookup in a large map), and no key object is retained. The first other key
 * or {@code null} value switches the map for good to key objects with their spread hashes, where a
 * lookup compares an {@code int} before it touches a key.
 */
public final class KeyMap<K, V> {

    /** Generic layout only (else {@code null}): the keys and their spread hashes. */
    private Object[] keys;
    private int[] hashes;
    /** Primitive layout only (else {@code null}): the keys. */
    private long[] lkeys;
    private Object[] vals;
    private boolean longKeys = true;
    private int mask;
    private int size;
    private int lastSlot = -1;
    /** Counts inserts, removals and layout changes (not value replacements), for {@link #entryWalk()}. */
    private int mods;
    /** The key object of the last {@link #get}, so a {@code put} of the same box skips the probe. */
    private Object lastKey;

    /** An empty map. */
    public KeyMap() {
        alloc(16);
    }

    private void alloc(int cap) {
        vals = new Object[cap];
        if (longKeys) {
            lkeys = new long[cap];
        } else {
            keys = new Object[cap];
            hashes = new int[cap];
        }
        mask = cap - 1;
        lastSlot = -1;
        lastKey = null;
    }

    private static int spread(Object key) {
        return spreadHash(key.hashCode());
    }

    private static int spreadLong(long x) {
        return spreadHash(Long.hashCode(x)); // equal to spread(Long.valueOf(x))
    }

    private static int spreadHash(int hashCode) {
        int h = hashCode * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    /** @return the number of keys */
    public int size() {
        return size;
    }

    /** @return whether the map holds no key */
    public boolean isEmpty() {
        return size == 0;
    }

    private boolean occupied(int i) {
        return longKeys ? vals[i] != null : keys[i] != null;
    }

    @SuppressWarnings("unchecked")
    private K keyAt(int i) {
        return longKeys ? (K) Long.valueOf(lkeys[i]) : (K) keys[i];
    }

    private int find(Object key) {
        if (longKeys) {
            if (key instanceof Long l) {
                int i = probeLong(l);
                return i >= 0 ? i : -1;
            }
            return -1; // every stored key is a Long
        }
        int h = spread(key);
        Object[] ks = keys;
        int[] hs = hashes;
        int m = mask;
        int i = h & m;
        for (;;) {
            Object k = ks[i];
            if (k == null) {
                return -1;
            }
            if (hs[i] == h && (k == key || k.equals(key))) {
                return i;
            }
            i = (i + 1) & m;
        }
    }

    /** @return the key's slot, or {@code ~slot} of the empty slot where it would go */
    private int probeLong(long x) {
        long[] lk = lkeys;
        Object[] vs = vals;
        int m = mask;
        int i = spreadLong(x) & m;
        for (;;) {
            if (vs[i] == null) { // values are never null in this layout: an empty slot
                return ~i;
            }
            if (lk[i] == x) {
                return i;
            }
            i = (i + 1) & m;
        }
    }

    /**
     * @param key the key
     * @return its value, or {@code null}
     */
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        int i = find(key);
        if (i < 0) {
            return null;
        }
        lastSlot = i;
        lastKey = key;
        return (V) vals[i];
    }

    /**
     * @param key the key
     * @return whether the map holds it
     */
    public boolean containsKey(Object key) {
        return find(key) >= 0;
    }

    /** Switches to the generic layout: key objects and hashes, for keys other than {@code Long} or null values. */
    private void dropLongKeys() {
        int cap = vals.length;
        Object[] ks = new Object[cap];
        int[] hs = new int[cap];
        for (int i = 0; i < cap; i++) {
            if (vals[i] != null) {
                ks[i] = Long.valueOf(lkeys[i]);
                hs[i] = spreadLong(lkeys[i]);
            }
        }
        keys = ks;
        hashes = hs;
        lkeys = null;
        longKeys = false;
        mods++;
        lastSlot = -1;
        lastKey = null;
    }

    /**
     * @param key   the key
     * @param value the value
     * @return the previous value, or {@code null}
     */
    @SuppressWarnings("unchecked")
    public V put(K key, V value) {
        int last = lastSlot;
        if (last >= 0 && lastKey == key && vals[last] == value && value != null) {
            return value; // the value just read, mutated in place
        }
        if (longKeys && (value == null || !(key instanceof Long))) {
            dropLongKeys();
        }
        int i;
        if (longKeys) {
            long x = (Long) key;
            i = probeLong(x);
            if (i < 0) {
                i = ~i;
                lkeys[i] = x;
                return inserted(i, key, value);
            }
        } else {
            i = find(key);
            if (i < 0) {
                int h = spread(key);
                int m = mask;
                i = h & m;
                while (keys[i] != null) {
                    i = (i + 1) & m;
                }
                keys[i] = key;
                hashes[i] = h;
                return inserted(i, key, value);
            }
        }
        V old = (V) vals[i];
        vals[i] = value;
        lastSlot = i;
        lastKey = key;
        return old;
    }

    /** Completes an insert at slot {@code i}, whose key the caller has stored; @return {@code null} */
    private V inserted(int i, Object key, V value) {
        mods++;
        vals[i] = value;
        lastSlot = i;
        lastKey = key;
        if (++size > (vals.length >> 1) + (vals.length >> 2)) { // load factor 3/4
            grow();
        }
        return null;
    }

    /**
     * @param key the key
     * @return the removed value, or {@code null}
     */
    @SuppressWarnings("unchecked")
    public V remove(Object key) {
        int i = find(key);
        if (i < 0) {
            return null;
        }
        V old = (V) vals[i];
        size--;
        mods++;
        lastSlot = -1;
        lastKey = null;
        int m = mask;
        int hole = i;
        int j = i;
        for (;;) {
            j = (j + 1) & m;
            if (!occupied(j)) {
                break;
            }
            int home = (longKeys ? spreadLong(lkeys[j]) : hashes[j]) & m;
            // move j into the hole unless its home lies cyclically in (hole, j]
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                vals[hole] = vals[j];
                if (longKeys) {
                    lkeys[hole] = lkeys[j];
                } else {
                    keys[hole] = keys[j];
                    hashes[hole] = hashes[j];
                }
                hole = j;
            }
        }
        vals[hole] = null;
        if (!longKeys) {
            keys[hole] = null;
        }
        return old;
    }

    private void grow() {
        Object[] ov = vals;
        Object[] ok = keys;
        int[] oh = hashes;
        long[] olk = lkeys;
        alloc(ov.length * 2);
        int m = mask;
        for (int i = 0; i < ov.length; i++) {
            if (olk != null) {
                if (ov[i] != null) {
                    int j = spreadLong(olk[i]) & m;
                    while (vals[j] != null) {
                        j = (j + 1) & m;
                    }
                    lkeys[j] = olk[i];
                    vals[j] = ov[i];
                }
            } else if (ok[i] != null) {
                int j = oh[i] & m;
                while (keys[j] != null) {
                    j = (j + 1) & m;
                }
                keys[j] = ok[i];
                vals[j] = ov[i];
                hashes[j] = oh[i];
            }
        }
    }

    /** @param visitor called with each key and value */
    public void forEach(BiConsumer<? super K, ? super V> visitor) {
        for (int i = 0; i < vals.length; i++) {
            if (occupied(i)) {
                @SuppressWarnings("unchecked")
                V v = (V) vals[i];
                visitor.accept(keyAt(i), v);
            }
        }
    }

    /**
     * Walks the entries in place, without copying the map: the returned entry is one mutable object,
     * refilled by every {@code next()}. The map must not gain or lose a key meanwhile; if it does,
     * the walk throws {@link java.util.ConcurrentModificationException}.
     */
    public Iterator<Map.Entry<K, V>> entryWalk() {
        return new Iterator<>() {
            private final int expectedMods = mods;
            private final ReusedEntry<K, V> entry = new ReusedEntry<>();
            private int i = advance(0);

            private int advance(int from) {
                int j = from;
                int n = vals.length;
                while (j < n && !occupied(j)) {
                    j++;
                }
                return j;
            }

            @Override
            public boolean hasNext() {
                return i < vals.length;
            }

            @Override
            @SuppressWarnings("unchecked")
            public Map.Entry<K, V> next() {
                if (mods != expectedMods) {
                    throw new java.util.ConcurrentModificationException("a key was added or removed while walking "
                            + "the entries");
                }
                if (i >= vals.length) {
                    throw new java.util.NoSuchElementException();
                }
                entry.key = keyAt(i);
                entry.value = (V) vals[i];
                i = advance(i + 1);
                return entry;
            }
        };
    }

    /** A read-only entry refilled by each step of a walk (such as {@link #entryWalk()}). */
    public static final class ReusedEntry<K, V> implements Map.Entry<K, V> {
        K key;
        V value;

        /**
         * Refills the entry.
         *
         * @param k the key
         * @param v the value
         * @return this entry
         */
        public ReusedEntry<K, V> set(K k, V v) {
            key = k;
            value = v;
            return this;
        }

        @Override
        public K getKey() {
            return key;
        }

        @Override
        public V getValue() {
            return value;
        }

        @Override
        public V setValue(V v) {
            throw new UnsupportedOperationException("read-only entry");
        }
    }

    /** @return a copy of the keys */
    public List<K> keyList() {
        List<K> out = new ArrayList<>(size);
        for (int i = 0; i < vals.length; i++) {
            if (occupied(i)) {
                out.add(keyAt(i));
            }
        }
        return out;
    }
}
