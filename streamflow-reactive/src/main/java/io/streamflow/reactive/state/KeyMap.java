package io.streamflow.reactive.state;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Open-addressing hash map for the heap backend's hot path: keys, values and spread hashes in
 * parallel arrays (linear probing, backward-shift removal), so a lookup compares an {@code int}
 * before it touches a key object and allocates nothing. Remembers the slot of the last lookup, so
 * the operator's {@code get} then {@code put} of the same, mutated value costs one comparison.
 */
final class KeyMap<K, V> {

    private Object[] keys;
    private Object[] vals;
    private int[] hashes;
    private int mask;
    private int size;
    private int lastSlot = -1;

    KeyMap() {
        alloc(16);
    }

    private void alloc(int cap) {
        keys = new Object[cap];
        vals = new Object[cap];
        hashes = new int[cap];
        mask = cap - 1;
        lastSlot = -1;
    }

    private static int spread(Object key) {
        int h = key.hashCode() * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    private int find(Object key, int h) {
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

    @SuppressWarnings("unchecked")
    V get(Object key) {
        int i = find(key, spread(key));
        if (i < 0) {
            return null;
        }
        lastSlot = i;
        return (V) vals[i];
    }

    boolean containsKey(Object key) {
        return find(key, spread(key)) >= 0;
    }

    /** @return the previous value, or {@code null} */
    @SuppressWarnings("unchecked")
    V put(K key, V value) {
        int last = lastSlot;
        if (last >= 0 && vals[last] == value && keys[last] == key) {
            return value; // the value just read, mutated in place
        }
        int h = spread(key);
        Object[] ks = keys;
        int i = h & mask;
        for (;;) {
            Object k = ks[i];
            if (k == null) {
                ks[i] = key;
                vals[i] = value;
                hashes[i] = h;
                lastSlot = i;
                if (++size * 2 > ks.length) {
                    grow();
                }
                return null;
            }
            if (hashes[i] == h && (k == key || k.equals(key))) {
                V old = (V) vals[i];
                vals[i] = value;
                lastSlot = i;
                return old;
            }
            i = (i + 1) & mask;
        }
    }

    @SuppressWarnings("unchecked")
    V remove(Object key) {
        int h = spread(key);
        int i = find(key, h);
        if (i < 0) {
            return null;
        }
        V old = (V) vals[i];
        size--;
        lastSlot = -1;
        int m = mask;
        int hole = i;
        int j = i;
        for (;;) {
            j = (j + 1) & m;
            Object k = keys[j];
            if (k == null) {
                break;
            }
            int home = hashes[j] & m;
            // move j into the hole unless its home lies cyclically in (hole, j]
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                keys[hole] = k;
                vals[hole] = vals[j];
                hashes[hole] = hashes[j];
                hole = j;
            }
        }
        keys[hole] = null;
        vals[hole] = null;
        return old;
    }

    private void grow() {
        Object[] ok = keys;
        Object[] ov = vals;
        int[] oh = hashes;
        alloc(ok.length * 2);
        int m = mask;
        for (int i = 0; i < ok.length; i++) {
            Object k = ok[i];
            if (k != null) {
                int j = oh[i] & m;
                while (keys[j] != null) {
                    j = (j + 1) & m;
                }
                keys[j] = k;
                vals[j] = ov[i];
                hashes[j] = oh[i];
            }
        }
    }

    @SuppressWarnings("unchecked")
    void forEach(BiConsumer<? super K, ? super V> visitor) {
        Object[] ks = keys;
        Object[] vs = vals;
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] != null) {
                visitor.accept((K) ks[i], (V) vs[i]);
            }
        }
    }

    @SuppressWarnings("unchecked")
    List<K> keyList() {
        List<K> out = new ArrayList<>(size);
        for (Object k : keys) {
            if (k != null) {
                out.add((K) k);
            }
        }
        return out;
    }
}
