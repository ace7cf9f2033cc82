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

    /**
     * Looks a value up.
     *
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
     * @param key       the key
     * @return the value, or {@code null} when absent
     * @throws StateCorruptedException     if a durable backend finds the stored bytes damaged
     * @throws StateIncompatibleException  if a durable backend holds the value in a layout this build
     *                                     cannot read
     */
    S get(int shard, N namespace, K key);

    /**
     * Stores a value, replacing the one stored for the key, if any. A durable backend keeps the
     * change on the heap until the next checkpoint writes it.
     *
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
     * @param key       the key
     * @param value     the value, not {@code null}
     * @throws UnsupportedStateTypeException if a durable backend cannot store the value's class (or
     *                                       the key's)
     */
    void put(int shard, N namespace, K key, S value);

    /**
     * Whether {@link #get} returns the stored object itself, so that a change made in place to a
     * mutable value is already stored and a {@link #put} of that same object changes nothing.
     * Default {@code false}: a value must be put back after every change (a serializing store).
     *
     * @return whether in-place changes of a value are stored without a {@code put}
     */
    default boolean storesReferences() {
        return false;
    }

    /**
     * Removes a value.
     *
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
     * @param key       the key
     * @return the removed value, or {@code null} when there was none
     */
    S remove(int shard, N namespace, K key);

    /**
     * Visits every entry of the namespace in the shard, in no particular order; the visitor must not
     * modify this state.
     *
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
     * @param visitor called with each key and value
     */
    void forEach(int shard, N namespace, BiConsumer<? super K, ? super S> visitor);

    /**
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
     * @return a snapshot of the keys of the namespace in the shard (safe to modify state while iterating)
     */
    Iterable<K> keys(int shard, N namespace);

    /**
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
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
     * @param shard the source partition
     * @return a snapshot of the namespaces of the shard that hold at least one entry (safe to
     * modify state while iterating); operators use it to rebuild their indexes after a restore
     */
    Iterable<N> namespaces(int shard);

    /**
     * Removes the namespace with all its entries from the shard: purging a window is one call.
     *
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
     */
    void removeNamespace(int shard, N namespace);

    /** @return the shards that hold at least one entry */
    int[] shards();

    /**
     * Operators use it to detect a key that arrives from two source partitions, which sharded state
     * cannot hold.
     *
     * @param shard     the source partition (0 when the operator does not shard its state)
     * @param namespace the namespace, such as a window
     * @param key       the key
     * @return whether any shard other than {@code shard} holds an entry for the key in the namespace
     */
    boolean existsInOtherShard(int shard, N namespace, K key);

    /** @return number of entries in all shards and namespaces */
    long size();

    /** Removes every entry. */
    void clear();
}
