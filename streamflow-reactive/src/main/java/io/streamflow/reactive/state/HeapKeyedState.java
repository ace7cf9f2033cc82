package io.streamflow.reactive.state;

import io.streamflow.reactive.internal.KeyMap;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Heap keyed state: shard → namespace → key → value. The per-namespace maps are open-addressing
 * {@link KeyMap}s; the last few namespaces used are cached, so records of the current windows (or
 * a firing that walks a window's slices) cost one key lookup.
 */
final class HeapKeyedState<K, N, S> implements KeyedState<K, N, S> {

    private static final int CACHE = 8;

    private final Map<Integer, Map<N, KeyMap<K, S>>> shards = new HashMap<>();
    private final int[] cachedShard = new int[CACHE];
    private final Object[] cachedNamespace = new Object[CACHE];
    @SuppressWarnings("unchecked")
    private final KeyMap<K, S>[] cachedMap = new KeyMap[CACHE];
    private int cacheNext;
    private long size;
    /** The map of the last lookup: consecutive records of one window need no cache scan. */
    private KeyMap<K, S> lastMap;
    private int lastShard;
    private Object lastNamespace;

    private KeyMap<K, S> map(int shard, N namespace, boolean create) {
        KeyMap<K, S> lm = lastMap;
        if (lm != null && lastNamespace == namespace && lastShard == shard) {
            return lm;
        }
        lm = cachedMap(shard, namespace, create);
        if (lm != null) {
            lastMap = lm;
            lastShard = shard;
            lastNamespace = namespace;
        }
        return lm;
    }

    private KeyMap<K, S> cachedMap(int shard, N namespace, boolean create) {
        for (int i = 0; i < CACHE; i++) {
            KeyMap<K, S> m = cachedMap[i];
            if (m != null && cachedShard[i] == shard) {
                Object ns = cachedNamespace[i];
                if (ns == namespace || ns.equals(namespace)) {
                    return m;
                }
            }
        }
        Map<N, KeyMap<K, S>> byNs = shards.get(shard);
        if (byNs == null) {
            if (!create) {
                return null;
            }
            byNs = new HashMap<>();
            shards.put(shard, byNs);
        }
        KeyMap<K, S> m = byNs.get(namespace);
        if (m == null) {
            if (!create) {
                return null;
            }
            m = new KeyMap<>();
            byNs.put(namespace, m);
        }
        int slot = cacheNext;
        cacheNext = (slot + 1) % CACHE;
        cachedShard[slot] = shard;
        cachedNamespace[slot] = namespace;
        cachedMap[slot] = m;
        return m;
    }

    private void uncache(int shard, Object namespace) {
        lastMap = null;
        lastNamespace = null;
        for (int i = 0; i < CACHE; i++) {
            if (cachedMap[i] != null && cachedShard[i] == shard && cachedNamespace[i].equals(namespace)) {
                cachedMap[i] = null;
                cachedNamespace[i] = null;
            }
        }
    }

    @Override
    public S get(int shard, N namespace, K key) {
        KeyMap<K, S> m = map(shard, namespace, false);
        return m == null ? null : m.get(key);
    }

    @Override
    public void put(int shard, N namespace, K key, S value) {
        if (map(shard, namespace, true).put(key, value) == null) {
            size++;
        }
    }

    @Override
    public boolean storesReferences() {
        return true;
    }

    @Override
    public S remove(int shard, N namespace, K key) {
        KeyMap<K, S> m = map(shard, namespace, false);
        if (m == null) {
            return null;
        }
        S old = m.remove(key);
        if (old != null) {
            size--;
            if (m.isEmpty()) {
                removeNamespace(shard, namespace);
            }
        }
        return old;
    }

    @Override
    public void forEach(int shard, N namespace, BiConsumer<? super K, ? super S> visitor) {
        KeyMap<K, S> m = map(shard, namespace, false);
        if (m != null) {
            m.forEach(visitor);
        }
    }

    @Override
    public Iterable<K> keys(int shard, N namespace) {
        KeyMap<K, S> m = map(shard, namespace, false);
        return m == null ? List.of() : m.keyList();
    }

    @Override
    public java.util.Iterator<Map.Entry<K, S>> entries(int shard, N namespace) {
        KeyMap<K, S> m = map(shard, namespace, false);
        return m == null ? java.util.Collections.emptyIterator() : m.entryWalk();
    }

    @Override
    public Iterable<N> namespaces(int shard) {
        Map<N, KeyMap<K, S>> byNs = shards.get(shard);
        return byNs == null ? List.of() : new java.util.ArrayList<>(byNs.keySet());
    }

    @Override
    public void removeNamespace(int shard, N namespace) {
        Map<N, KeyMap<K, S>> byNs = shards.get(shard);
        if (byNs == null) {
            return;
        }
        KeyMap<K, S> m = byNs.remove(namespace);
        if (m != null) {
            size -= m.size();
        }
        if (byNs.isEmpty()) {
            shards.remove(shard);
        }
        uncache(shard, namespace);
    }

    @Override
    public int[] shards() {
        return shards.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    @Override
    public boolean existsInOtherShard(int shard, N namespace, K key) {
        if (shards.size() < 2) {
            // one shard at most: the record's own (the map of the last lookup is in a live shard)
            if (shards.isEmpty() || lastMap != null && lastShard == shard || shards.containsKey(shard)) {
                return false;
            }
        }
        for (Map.Entry<Integer, Map<N, KeyMap<K, S>>> e : shards.entrySet()) {
            if (e.getKey() != shard) {
                KeyMap<K, S> m = e.getValue().get(namespace);
                if (m != null && m.containsKey(key)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void clear() {
        shards.clear();
        java.util.Arrays.fill(cachedMap, null);
        java.util.Arrays.fill(cachedNamespace, null);
        lastMap = null;
        lastNamespace = null;
        size = 0;
    }
}
