package io.streamflow.reactive.state;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Heap keyed state: shard → namespace → key → value, with the last used namespace map cached so
 * that consecutive accesses to the same window cost one hash lookup.
 */
final class HeapKeyedState<K, N, S> implements KeyedState<K, N, S> {

    private final Map<Integer, Map<N, Map<K, S>>> shards = new HashMap<>();
    private int cachedShard = Integer.MIN_VALUE;
    private N cachedNamespace;
    private Map<K, S> cachedMap;
    private long size;

    private Map<K, S> map(int shard, N namespace, boolean create) {
        if (shard == cachedShard && cachedMap != null && namespace.equals(cachedNamespace)) {
            return cachedMap;
        }
        Map<N, Map<K, S>> byNs = shards.get(shard);
        if (byNs == null) {
            if (!create) {
                return null;
            }
            byNs = new HashMap<>();
            shards.put(shard, byNs);
        }
        Map<K, S> m = byNs.get(namespace);
        if (m == null) {
            if (!create) {
                return null;
            }
            m = new HashMap<>();
            byNs.put(namespace, m);
        }
        cachedShard = shard;
        cachedNamespace = namespace;
        cachedMap = m;
        return m;
    }

    @Override
    public S get(int shard, N namespace, K key) {
        Map<K, S> m = map(shard, namespace, false);
        return m == null ? null : m.get(key);
    }

    @Override
    public void put(int shard, N namespace, K key, S value) {
        if (map(shard, namespace, true).put(key, value) == null) {
            size++;
        }
    }

    @Override
    public S remove(int shard, N namespace, K key) {
        Map<K, S> m = map(shard, namespace, false);
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
        Map<K, S> m = map(shard, namespace, false);
        if (m != null) {
            m.forEach(visitor);
        }
    }

    @Override
    public Iterable<K> keys(int shard, N namespace) {
        Map<K, S> m = map(shard, namespace, false);
        return m == null ? java.util.List.of() : new ArrayList<>(m.keySet());
    }

    @Override
    public void removeNamespace(int shard, N namespace) {
        Map<N, Map<K, S>> byNs = shards.get(shard);
        if (byNs == null) {
            return;
        }
        Map<K, S> m = byNs.remove(namespace);
        if (m != null) {
            size -= m.size();
        }
        if (byNs.isEmpty()) {
            shards.remove(shard);
        }
        if (shard == cachedShard && namespace.equals(cachedNamespace)) {
            cachedMap = null;
            cachedNamespace = null;
            cachedShard = Integer.MIN_VALUE;
        }
    }

    @Override
    public int[] shards() {
        return shards.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    @Override
    public boolean existsInOtherShard(int shard, N namespace, K key) {
        if (shards.size() < 2 && (shards.isEmpty() || shards.containsKey(shard))) {
            return false;
        }
        for (Map.Entry<Integer, Map<N, Map<K, S>>> e : shards.entrySet()) {
            if (e.getKey() != shard) {
                Map<K, S> m = e.getValue().get(namespace);
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
        cachedMap = null;
        cachedNamespace = null;
        cachedShard = Integer.MIN_VALUE;
        size = 0;
    }
}
