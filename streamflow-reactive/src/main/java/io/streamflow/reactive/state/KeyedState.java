package io.streamflow.reactive.state;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Keyed state of one operator: values addressed by {@code (shard, namespace, key)}.
 * <p>
 * The shard is the source partition the records came from, so a partition can move to another
 * instance together with its state. The namespace groups entries that expire together (for a
 * window operator, the window), so purging a window is one call.
 * <p>
 * A value returned by {@link #get} may be mutated in place by the operator; the operator then
 * calls {@link #put} again so that durable backends see the change (for the heap backend that
 * second put is a cheap replace). Implementations are used by one operator thread at a time and
 * need not be thread-safe.
 *
 * @param <K> key type
 * @param <N> namespace type (must have value equality)
 * @param <S> state value type
 */
public interface KeyedState<K, N, S> {

    /** @return the value, or {@code null} when absent */
    S get(int shard, N namespace, K key);

    void put(int shard, N namespace, K key, S value);

    /**
     * Whether {@link #get} returns the stored object itself, so that a change made in place to a
     * mutable value is already stored and a {@link #put} of that same object changes nothing.
     * Default {@code false}: a value must be put back after every change (a serializing store).
     */
    default boolean storesReferences() {
        return false;
    }

    /** @return the removed value, or {@code null} */
    S remove(int shard, N namespace, K key);

    /** Visits every entry of the namespace in the shard; the visitor must not modify this state. */
    void forEach(int shard, N namespace, BiConsumer<? super K, ? super S> visitor);

    /** @return a snapshot of the keys of the namespace in the shard (safe to modify state while iterating) */
    Iterable<K> keys(int shard, N namespace);

    /**
     * @return the entries of the namespace in the shard; the values are the stored objects, not
     * copies. The caller must not add or remove keys of that namespace while iterating, and must not
     * keep an entry past the next {@code next()} (a backend may reuse one entry object). The default
     * reads the {@linkplain #keys keys} and looks each one up; backends that can walk their entries
     * directly override it (the heap backend walks its table in place).
     */
    default Iterator<Map.Entry<K, S>> entries(int shard, N namespace) {
        List<Map.Entry<K, S>> out = new ArrayList<>();
        for (K k : keys(shard, namespace)) {
            S v = get(shard, namespace, k);
            if (v != null) {
                out.add(Map.entry(k, v));
            }
        }
        return out.iterator();
    }

    /**
     * @return a snapshot of the namespaces of the shard that hold at least one entry (safe to
     * modify state while iterating); operators use it to rebuild their indexes after a restore
     */
    Iterable<N> namespaces(int shard);

    /** Removes the namespace with all its entries from the shard. */
    void removeNamespace(int shard, N namespace);

    /** @return the shards that hold at least one entry */
    int[] shards();

    /** @return whether any shard other than {@code shard} holds an entry for the key in the namespace */
    boolean existsInOtherShard(int shard, N namespace, K key);

    /** @return number of entries in all shards and namespaces */
    long size();

    /** Removes every entry. */
    void clear();
}
