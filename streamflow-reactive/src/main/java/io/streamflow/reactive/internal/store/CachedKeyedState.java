package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.internal.KeyMap;
import io.streamflow.reactive.state.KeyedState;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Checkpointed keyed state with its working set on the heap: a write-back table over the
 * operator's MVStore map ({@link DurableKeyedState}).
 * <p>
 * Reads and writes of the operator touch only the table (shard → namespace → key, open addressing,
 * the values are the operator's own objects); an entry changed since the last checkpoint is
 * <em>dirty</em>, noted once per checkpoint interval in a list. A checkpoint takes a
 * {@linkplain #snapshot() snapshot}: it ends the interval in constant time while the operator is
 * paused, and the operator goes on at once. The checkpoint thread then {@linkplain #flush flushes}
 * the snapshot's dirty entries into the map (encoded there, not per access), and the store commit
 * writes what changed since the previous checkpoint. Purged namespaces are dropped from the table in
 * one step and removed from the map by one range deletion in the flush.
 * <p>
 * Copy on write: an entry of the snapshot that the operator touches again before the flush has
 * written it is encoded first by the operator thread (the bytes the flush then writes), so the
 * operator may go on changing its objects in place. A small handshake per entry decides which
 * thread encodes it (see {@link Entry#handshake}); when the flush has taken the entry already, the
 * operator thread does not wait for it but gives the entry a copy of the value to change.
 * <p>
 * Memory: entries are weighed (their encoded size plus a fixed overhead, estimated for entries not
 * yet written); once the table passes its share of the {@link CacheBudget}, clean entries (written
 * by a finished flush, unchanged since) are evicted, oldest flush first, and the namespace they
 * leave is marked incomplete: a lookup that misses there reads the map. A namespace that the map
 * held when the state was opened starts incomplete too. Dirty entries are never evicted; when they
 * pass the budget's dirty limit the budget asks for an early checkpoint.
 * <p>
 * One operator thread uses the state; {@link #snapshot} runs while that operator is paused, with a
 * happens-before edge to it both ways (the checkpoint protocol provides it), and {@link #flush} runs
 * on the checkpoint thread while the operator goes on.
 *
 * @param <K> key type
 * @param <N> namespace type
 * @param <S> value type
 */
public final class CachedKeyedState<K, N, S> implements KeyedState<K, N, S> {

    /** The value of a removed entry whose removal has not been flushed yet. */
    static final Object REMOVED = new Object() {
        @Override
        public String toString() {
            return "REMOVED";
        }
    };

    /** Heap bytes of an entry beside its value's encoded bytes (entry, table slot, key). */
    static final int ENTRY_OVERHEAD = 96;

    // handshake phases, per checkpoint interval: handshake = interval << 3 | phase
    private static final int TAKEN = 1;
    private static final int FROZEN = 2;
    private static final int FLUSHING = 3;
    private static final int DONE = 4;

    private static final VarHandle HANDSHAKE;

    static {
        try {
            HANDSHAKE = MethodHandles.lookup().findVarHandle(Entry.class, "handshake", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One key's value in the table. */
    static final class Entry {
        final Object key;
        final Table table;
        /** The operator's object, or {@link #REMOVED}. Written by the operator thread only. */
        Object value;
        /** The checkpoint interval of the entry's last change (operator thread). */
        long interval;
        /**
         * Who encodes the entry for the snapshot of interval {@code i}: {@code i << 3} plus TAKEN (the
         * operator thread is encoding it into {@link #frozen}), FROZEN (it has), FLUSHING (the flush is
         * encoding {@link #value}) or DONE (it has). A value below {@code i << 3} means neither yet.
         */
        volatile long handshake;
        /** The snapshot's bytes, encoded by the operator thread before changing the value; {@code REMOVED}; or the failure. */
        Object frozen;
        /** Estimated heap bytes when it entered the table (operator thread). */
        int weight;
        /** Created in a complete namespace in the current interval and never part of a snapshot: the map cannot hold it. */
        boolean fresh;

        Entry(Object key, Table table) {
            this.key = key;
            this.table = table;
        }
    }

    /** The entries of one namespace of one shard. */
    static final class Table {
        final int shard;
        final Object namespace;
        final KeyMap<Object, Entry> map = new KeyMap<>();
        /** Whether every entry of the namespace is in {@link #map} (a miss is an absent key). */
        boolean complete;
        /** Live entries in {@link #map} (not counting removed ones awaiting their flush). */
        int live;
        /** The interval in which the namespace was removed; {@code Long.MAX_VALUE} while it is not. */
        volatile long removedIn = Long.MAX_VALUE;
        /** The interval in which the table was created (operator thread). */
        final long createdIn;
        /** Estimated heap bytes of the entries in {@link #map} (operator thread). */
        long bytes;
        /**
         * The last interval in which an entry of the namespace (or of an earlier table of it) left
         * the map while the store may still hold it; until that interval's flush the table must stay
         * complete, or a miss would read the removed value back from the store.
         */
        long unshadowed;

        Table(int shard, Object namespace, long createdIn) {
            this.shard = shard;
            this.namespace = namespace;
            this.createdIn = createdIn;
        }
    }

    /** The changes of one checkpoint interval, for {@link #flush}. */
    public static final class Snapshot {
        final CachedKeyedState<?, ?, ?> owner;
        final long interval;
        final List<Entry> dirty;
        final List<Table> removed;
        /** Estimated bytes of the changed entries that the map did not hold, and of those it did. */
        final long newBytes;
        final long storedBytes;

        Snapshot(CachedKeyedState<?, ?, ?> owner, long interval, List<Entry> dirty, List<Table> removed,
                 long newBytes, long storedBytes) {
            this.owner = owner;
            this.interval = interval;
            this.dirty = dirty;
            this.removed = removed;
            this.newBytes = newBytes;
            this.storedBytes = storedBytes;
        }

        /** @return the number of changed entries */
        public int changes() {
            return dirty.size();
        }

        /** Writes the snapshot's changes into the state's map (on the checkpoint thread). */
        public void flush() {
            owner.flush(this);
        }
    }

    private final DurableKeyedState<K, N, S> reader;
    private final DurableKeyedState<K, N, S> writer;
    private final CacheBudget budget;
    private final String mapName;

    private final Map<Integer, Map<Object, Table>> shards = new HashMap<>();
    /** Namespaces the map held when the state was opened, per shard (loaded on first use of the shard). */
    private final Map<Integer, Set<Object>> storedNamespaces = new HashMap<>();
    private final boolean startedEmpty;
    private static final int CACHE = 8;
    private final int[] cachedShard = new int[CACHE];
    private final Object[] cachedNamespace = new Object[CACHE];
    private final Table[] cachedTable = new Table[CACHE];
    private int cacheNext;
    private Table lastTable;

    /** The current checkpoint interval (operator thread; advanced by {@link #snapshot}). */
    private long interval = 1;
    private ArrayList<Entry> dirty = new ArrayList<>();
    private ArrayList<Table> removed = new ArrayList<>();
    /** The interval of the snapshot being flushed, or -1 (operator thread). */
    private long pendingInterval = -1;
    /** The interval of the last snapshot whose flush finished (written by the flush). */
    private volatile long flushedInterval;
    /** Shards holding entries in the table or (at open) in the map, sorted; {@code null} when to be recomputed. */
    private int[] shardList;
    private int[] storedShards;
    /** Where the last eviction sweep stopped: the index of the table to start from. */
    private int sweepFrom;
    /** Namespaces dropped from the table whose removal is not flushed yet: (shard, namespace) → interval. */
    private final Map<ShardNamespace, Long> dropped = new HashMap<>();

    private record ShardNamespace(int shard, Object namespace) {
    }

    private long size;
    /** Estimated heap bytes of the entries in the table (operator thread). */
    private long bytes;
    /**
     * Estimated heap bytes of the entries dirty in this interval, those the map holds counted with the
     * budget's page amplification (writing one into the store copies its page until the commit).
     */
    private long dirtyBytes;
    /** The parts of this interval's changes: entries new to the map, and entries it holds (unamplified). */
    private long newDirty;
    private long storedDirty;
    private long reportedBytes;
    private long reportedDirty;
    /** Average encoded size of a value, for the weight of entries not yet encoded. */
    private volatile int averageWeight = ENTRY_OVERHEAD + 32;
    private int sampleCountdown;
    private final Set<Class<?>> checkedClasses = new HashSet<>();

    /**
     * @param reader the map's state used by the operator thread (misses, iteration of incomplete namespaces)
     * @param writer a second state over the same map, used by the flush
     * @param budget the memory budget shared by the backend's states
     */
    CachedKeyedState(DurableKeyedState<K, N, S> reader, DurableKeyedState<K, N, S> writer, CacheBudget budget) {
        this.reader = Objects.requireNonNull(reader, "reader");
        this.writer = Objects.requireNonNull(writer, "writer");
        this.budget = Objects.requireNonNull(budget, "budget");
        this.mapName = reader.mapName();
        this.size = reader.size();
        this.startedEmpty = size == 0;
        budget.register(this);
    }

    /** @return the name of the map holding this state */
    public String mapName() {
        return mapName;
    }

    // ------------------------------------------------------------------ tables

    private Table table(int shard, N namespace, boolean create) {
        Table t = lastTable;
        if (t != null && t.shard == shard && (t.namespace == namespace || t.namespace.equals(namespace))) {
            return t;
        }
        for (int i = 0; i < CACHE; i++) {
            Table c = cachedTable[i];
            if (c != null && cachedShard[i] == shard) {
                Object ns = cachedNamespace[i];
                if (ns == namespace || ns.equals(namespace)) {
                    lastTable = c;
                    return c;
                }
            }
        }
        if (shard < 0) {
            throw new IllegalArgumentException("shard must be >= 0, was " + shard);
        }
        Objects.requireNonNull(namespace, "namespace");
        Map<Object, Table> byNs = shards.get(shard);
        t = byNs == null ? null : byNs.get(namespace);
        if (t == null) {
            boolean stored = storedNamespaces(shard).contains(namespace);
            if (!create && !stored) {
                return null;
            }
            t = new Table(shard, namespace, interval);
            t.complete = !stored;
            if (!dropped.isEmpty()) {
                Long d = dropped.get(new ShardNamespace(shard, namespace));
                if (d != null && d > flushedInterval) {
                    t.unshadowed = d;
                }
            }
            shardList = null;
            if (byNs == null) {
                byNs = new HashMap<>();
                shards.put(shard, byNs);
                shardList = null;
            }
            byNs.put(namespace, t);
        }
        int slot = cacheNext;
        cacheNext = (slot + 1) % CACHE;
        cachedShard[slot] = shard;
        cachedNamespace[slot] = namespace;
        cachedTable[slot] = t;
        lastTable = t;
        return t;
    }

    private Set<Object> storedNamespaces(int shard) {
        if (startedEmpty) {
            return Set.of();
        }
        Set<Object> s = storedNamespaces.get(shard);
        if (s == null) {
            s = new HashSet<>();
            for (N ns : reader.namespaces(shard)) {
                s.add(ns);
            }
            storedNamespaces.put(shard, s);
        }
        return s;
    }

    private void dropTable(Table t) {
        if (t.unshadowed > flushedInterval) {
            dropped.put(new ShardNamespace(t.shard, t.namespace), t.unshadowed);
        }
        Map<Object, Table> byNs = shards.get(t.shard);
        if (byNs != null && byNs.get(t.namespace) == t) {
            byNs.remove(t.namespace);
            if (byNs.isEmpty()) {
                shards.remove(t.shard);
                shardList = null;
            }
        }
        lastTable = null;
        for (int i = 0; i < CACHE; i++) {
            if (cachedTable[i] == t) {
                cachedTable[i] = null;
                cachedNamespace[i] = null;
            }
        }
    }

    // ------------------------------------------------------------------ entries

    @SuppressWarnings("unchecked")
    private N ns(Table t) {
        return (N) t.namespace;
    }

    @SuppressWarnings("unchecked")
    private K key(Entry e) {
        return (K) e.key;
    }

    /** @return the entry of the key (a removed one included), loading it from the map on a miss in an incomplete namespace */
    private Entry find(Table t, K key) {
        Entry e = t.map.get(key);
        if (e != null || t.complete) {
            return e;
        }
        S stored = reader.getCopy(t.shard, ns(t), key);
        if (stored == null) {
            return null;
        }
        e = new Entry(key, t);
        e.value = stored;
        e.interval = 0; // clean: as the map holds it
        e.weight = reader.lastCopyBytes + ENTRY_OVERHEAD;
        t.map.put(key, e);
        t.live++;
        t.bytes += e.weight;
        bytes += e.weight; // reported with the next change (an eviction now could drop this very entry)
        return e;
    }

    /**
     * Makes the entry dirty in the current interval, first encoding it for the snapshot being flushed
     * when it belongs to that snapshot and the flush has not written it yet.
     */
    private void touch(Entry e) {
        long iv = e.interval;
        if (iv == interval) {
            return;
        }
        if (iv == pendingInterval && iv > flushedInterval) {
            freeze(e, iv);
        }
        e.interval = interval;
        e.fresh = false;
        dirty.add(e);
        storedDirty += e.weight;
        dirtyBytes += (long) (e.weight * budget.amplification());
        maybeReport();
    }

    private void freeze(Entry e, long iv) {
        long base = iv << 3;
        for (;;) {
            long h = e.handshake;
            if (h < base) {
                if (HANDSHAKE.compareAndSet(e, h, base | TAKEN)) {
                    Object f;
                    try {
                        f = e.value == REMOVED ? REMOVED : reader.encodeValue(e.value);
                    } catch (RuntimeException ex) {
                        f = ex;
                    }
                    e.frozen = f;
                    e.handshake = base | FROZEN;
                    return;
                }
            } else if (h == (base | FLUSHING)) {
                // the flush is encoding the object it read before it took the entry: rather than wait
                // for it (on 2 cores the flush thread may be descheduled for a whole time slice), the
                // entry gets a copy of its own, which the operator changes from here on
                Object v = e.value;
                if (v != REMOVED) {
                    e.value = reader.copyValue(v);
                }
                return;
            } else {
                return; // FROZEN or DONE
            }
        }
    }

    private void checkEncodable(Object value) {
        if (checkedClasses.add(value.getClass())) {
            try {
                reader.encodeValue(value);
            } catch (RuntimeException ex) {
                checkedClasses.remove(value.getClass());
                throw ex;
            }
        }
    }

    private int newWeight(Object value) {
        if (--sampleCountdown <= 0) {
            sampleCountdown = 16;
            try {
                int w = reader.encodeValue(value).length + ENTRY_OVERHEAD;
                averageWeight = (averageWeight * 7 + w) >>> 3;
                return w;
            } catch (RuntimeException ex) {
                return averageWeight; // reported by the flush that cannot encode it
            }
        }
        return averageWeight;
    }

    // ------------------------------------------------------------------ KeyedState

    @Override
    @SuppressWarnings("unchecked")
    public S get(int shard, N namespace, K key) {
        Objects.requireNonNull(key, "key");
        Table t = table(shard, namespace, false);
        if (t == null) {
            return null;
        }
        Entry e = find(t, key);
        if (e == null || e.value == REMOVED) {
            return null;
        }
        touch(e); // the caller may change the object in place
        return (S) e.value;
    }

    @Override
    public void put(int shard, N namespace, K key, S value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value (use remove to delete an entry)");
        Table t = table(shard, namespace, true);
        Entry e = find(t, key);
        if (e == null) {
            checkEncodable(value);
            e = new Entry(key, t);
            e.value = value;
            e.weight = newWeight(value);
            e.interval = interval;
            e.fresh = t.complete;
            t.map.put(key, e);
            t.live++;
            t.bytes += e.weight;
            size++;
            bytes += e.weight;
            dirty.add(e);
            if (e.fresh) {
                newDirty += e.weight;
                dirtyBytes += e.weight;
            } else {
                storedDirty += e.weight; // the map may hold the key
                dirtyBytes += (long) (e.weight * budget.amplification());
            }
            maybeReport();
            return;
        }
        if (e.value != value) {
            checkEncodable(value);
            touch(e);
            if (e.value == REMOVED) {
                t.live++;
                size++;
                shardList = null;
            }
            e.value = value;
        } else {
            touch(e);
        }
    }

    @Override
    public boolean storesReferences() {
        return true; // get() marks the entry dirty: a change in place is written by the next checkpoint
    }

    @Override
    @SuppressWarnings("unchecked")
    public S remove(int shard, N namespace, K key) {
        Objects.requireNonNull(key, "key");
        Table t = table(shard, namespace, false);
        if (t == null) {
            return null;
        }
        Entry e = find(t, key);
        if (e == null || e.value == REMOVED) {
            return null;
        }
        S old = (S) e.value;
        boolean fresh = e.fresh && e.interval == interval;
        touch(e);
        e.value = REMOVED;
        t.live--;
        size--;
        if (t.live == 0) {
            shardList = null;
        }
        if (fresh || t.complete) {
            // a complete namespace needs no removed entry in the table (a miss is an absent key); the
            // dirty list keeps it for the flush, which skips a fresh one (the map never held it)
            t.map.remove(key);
            t.bytes -= e.weight;
            bytes -= e.weight;
            if (!fresh) {
                t.unshadowed = interval;
            }
            if (t.live == 0 && t.complete) {
                dropTable(t);
            }
        }
        maybeReport();
        return old;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void forEach(int shard, N namespace, BiConsumer<? super K, ? super S> visitor) {
        Table t = table(shard, namespace, false);
        if (t == null) {
            return;
        }
        if (t.complete) {
            t.map.forEach((k, e) -> {
                if (e.value != REMOVED) {
                    visitor.accept((K) k, (S) e.value);
                }
            });
            return;
        }
        for (Iterator<Map.Entry<K, S>> it = merged(t); it.hasNext(); ) {
            Map.Entry<K, S> en = it.next();
            visitor.accept(en.getKey(), en.getValue());
        }
    }

    /**
     * The entries of an incomplete namespace, lazily: the table's (a snapshot of them), then the
     * map's that the table does not hold, decoded one at a time as the walk reaches them, so that a
     * namespace larger than the heap can be walked.
     */
    @SuppressWarnings("unchecked")
    private Iterator<Map.Entry<K, S>> merged(Table t) {
        List<Map.Entry<K, S>> cached = new ArrayList<>(Math.max(0, t.live));
        t.map.forEach((k, e) -> {
            if (e.value != REMOVED) {
                cached.add(new AbstractMap.SimpleImmutableEntry<>((K) k, (S) e.value));
            }
        });
        Iterator<Map.Entry<K, S>> stored = reader.entriesCopy(t.shard, ns(t));
        Iterator<Map.Entry<K, S>> first = cached.iterator();
        return new Iterator<>() {
            private Map.Entry<K, S> next = advance();

            private Map.Entry<K, S> advance() {
                if (first.hasNext()) {
                    return first.next();
                }
                while (stored.hasNext()) {
                    Map.Entry<K, S> e = stored.next();
                    if (t.map.get(e.getKey()) == null) {
                        return e;
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Map.Entry<K, S> next() {
                Map.Entry<K, S> n = next;
                if (n == null) {
                    throw new java.util.NoSuchElementException();
                }
                next = advance();
                return n;
            }
        };
    }

    private long count(Table t) {
        long n = 0;
        for (Iterator<Map.Entry<K, S>> it = merged(t); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Iterable<K> keys(int shard, N namespace) {
        Table t = table(shard, namespace, false);
        if (t == null) {
            return List.of();
        }
        List<K> out = new ArrayList<>(Math.max(0, t.live));
        if (t.complete) {
            t.map.forEach((k, e) -> {
                if (e.value != REMOVED) {
                    out.add((K) k);
                }
            });
            return out;
        }
        for (Iterator<Map.Entry<K, S>> it = merged(t); it.hasNext(); ) {
            out.add(it.next().getKey());
        }
        return out;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Iterator<Map.Entry<K, S>> entries(int shard, N namespace) {
        Table t = table(shard, namespace, false);
        if (t == null) {
            return java.util.Collections.emptyIterator();
        }
        if (!t.complete) {
            return merged(t);
        }
        Iterator<Map.Entry<Object, Entry>> walk = t.map.entryWalk();
        // a complete table holds no removed entries: every one is live
        return new Iterator<>() {
            private final KeyMap.ReusedEntry<K, S> out = new KeyMap.ReusedEntry<>();

            @Override
            public boolean hasNext() {
                return walk.hasNext();
            }

            @Override
            public Map.Entry<K, S> next() {
                Map.Entry<Object, Entry> n = walk.next();
                return out.set((K) n.getKey(), (S) n.getValue().value);
            }
        };
    }

    @Override
    @SuppressWarnings("unchecked")
    public Iterable<N> namespaces(int shard) {
        List<N> out = new ArrayList<>();
        Map<Object, Table> byNs = shards.get(shard);
        if (byNs != null) {
            for (Table t : byNs.values()) {
                if (hasEntries(t)) {
                    out.add((N) t.namespace);
                }
            }
        }
        for (Object ns : storedNamespaces(shard)) {
            if (byNs == null || !byNs.containsKey(ns)) {
                out.add((N) ns); // untouched since the state was opened: its stored entries are all there
            }
        }
        return out;
    }

    /** @return whether the namespace holds an entry: one in the table, or (incomplete) one in the map that the table does not shadow */
    private boolean hasEntries(Table t) {
        if (t.live > 0) {
            return true;
        }
        if (t.complete) {
            return false;
        }
        return reader.anyKey(t.shard, ns(t), k -> t.map.get(k) == null);
    }

    @Override
    public void removeNamespace(int shard, N namespace) {
        Table t = table(shard, namespace, false);
        if (t == null) {
            return;
        }
        if (t.complete) {
            size -= t.live;
        } else {
            size -= count(t);
        }
        t.removedIn = interval;
        if (!t.complete || t.createdIn < interval) {
            // the map may hold entries of it (there at open, or in an earlier snapshot): one range deletion
            removed.add(t);
            t.unshadowed = interval;
        }
        if (!startedEmpty) {
            storedNamespaces(shard).remove(namespace);
        }
        bytes -= t.bytes;
        dropTable(t);
        shardList = null;
        maybeReport();
    }

    @Override
    public int[] shards() {
        return shardList().clone();
    }

    private int[] shardList() {
        int[] l = shardList;
        if (l == null) {
            if (storedShards == null) {
                storedShards = startedEmpty ? new int[0] : reader.shards();
            }
            Set<Integer> candidates = new java.util.TreeSet<>(shards.keySet());
            for (int s : storedShards) {
                candidates.add(s);
            }
            List<Integer> out = new ArrayList<>();
            for (int s : candidates) {
                if (holdsEntries(s)) {
                    out.add(s);
                }
            }
            l = out.stream().mapToInt(Integer::intValue).toArray();
            shardList = l;
        }
        return l;
    }

    private boolean holdsEntries(int shard) {
        Map<Object, Table> byNs = shards.get(shard);
        if (byNs != null) {
            for (Table t : byNs.values()) {
                if (hasEntries(t)) {
                    return true;
                }
            }
        }
        for (Object ns : storedNamespaces(shard)) {
            if (byNs == null || !byNs.containsKey(ns)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean existsInOtherShard(int shard, N namespace, K key) {
        for (int s : shardList()) {
            if (s != shard) {
                Table t = table(s, namespace, false);
                if (t != null) {
                    Entry e = find(t, key);
                    if (e != null && e.value != REMOVED) {
                        return true;
                    }
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
        for (int s : shards()) {
            for (N ns : namespaces(s)) {
                removeNamespace(s, ns);
            }
        }
    }

    // ------------------------------------------------------------------ checkpoints

    /**
     * Ends the current checkpoint interval: its changes become the snapshot to {@link #flush}, and
     * later changes belong to the next one. Constant time; called while the operator is paused, after
     * the previous snapshot's flush finished.
     *
     * @return the snapshot
     * @throws IllegalStateException if the previous snapshot was not flushed
     */
    public Snapshot snapshot() {
        if (pendingInterval > flushedInterval) {
            throw new IllegalStateException("state " + mapName + ": snapshot of interval " + pendingInterval
                    + " not flushed before the next one");
        }
        Snapshot s = new Snapshot(this, interval, dirty, removed, newDirty, storedDirty);
        newDirty = 0;
        storedDirty = 0;
        pendingInterval = interval;
        interval++;
        dirty = new ArrayList<>(Math.max(16, s.dirty.size()));
        removed = new ArrayList<>();
        dirtyBytes = 0;
        report(true);
        return s;
    }

    /** Writes a snapshot's changes into the map: on the checkpoint thread, while the operator goes on. */
    void flush(Snapshot s) {
        long iv = s.interval;
        long base = iv << 3;
        for (Table t : s.removed) {
            writer.removeNamespace(t.shard, ns(t));
        }
        int n = 0;
        long encoded = 0;
        for (Entry e : s.dirty) {
            Table t = e.table;
            if (t.removedIn <= iv) {
                continue; // its namespace was removed in that interval: the range deletion covered it
            }
            Object bytesOrRemoved;
            long h = e.handshake;
            // read before taking the entry: once taken, the operator may put a copy in its place
            Object v = e.value;
            if (h < base && HANDSHAKE.compareAndSet(e, h, base | FLUSHING)) {
                try {
                    bytesOrRemoved = v == REMOVED ? REMOVED : writer.encodeValue(v);
                } finally {
                    e.handshake = base | DONE;
                }
            } else {
                for (int spins = 0; e.handshake == (base | TAKEN); spins++) {
                    // the operator thread is encoding this one entry (this thread may block: it writes
                    // the checkpoint)
                    if (spins < 64) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                }
                bytesOrRemoved = e.frozen;
            }
            if (bytesOrRemoved instanceof RuntimeException ex) {
                throw new IllegalStateException("state " + mapName + ": a value of key " + e.key + " cannot be stored: "
                        + ex.getMessage(), ex);
            }
            if (bytesOrRemoved == REMOVED) {
                if (!e.fresh) {
                    writer.delete(t.shard, ns(t), key(e));
                }
                continue;
            }
            byte[] b = (byte[]) bytesOrRemoved;
            writer.putEncoded(t.shard, ns(t), key(e), b);
            encoded += b.length + ENTRY_OVERHEAD;
            n++;
        }
        if (n > 0) {
            averageWeight = (int) Math.max(ENTRY_OVERHEAD, encoded / n); // for the weight of new entries
        }
        flushedInterval = iv;
    }

    /**
     * Marks the state as flushed up to interval {@code iv} without writing (used when the checkpoint is
     * given up before its flush, so the next snapshot may be taken; the pipeline then fails).
     */
    void abandon(Snapshot s) {
        flushedInterval = s.interval;
    }

    private void maybeReport() {
        long d = bytes - reportedBytes;
        long dd = dirtyBytes - reportedDirty;
        long step = budget.reportStep;
        if (d > step || d < -step || dd > step) {
            report(false);
        }
    }

    private void report(boolean snapshot) {
        if (pendingInterval >= 0 && pendingInterval <= flushedInterval) {
            pendingInterval = -1;
        }
        budget.update(bytes - reportedBytes, dirtyBytes - reportedDirty, snapshot);
        reportedBytes = bytes;
        reportedDirty = dirtyBytes;
        if (!snapshot && budget.overCache()) {
            evict(budget.excessShare(bytes));
        }
    }

    /**
     * Evicts clean entries (unchanged since a finished flush wrote them) until about {@code target}
     * bytes are freed, sweeping the tables round-robin from where the last sweep stopped; removed
     * entries whose removal is flushed leave the table too.
     */
    private void evict(long target) {
        long clean = flushedInterval;
        List<Table> tables = new ArrayList<>();
        for (Map<Object, Table> byNs : shards.values()) {
            tables.addAll(byNs.values());
        }
        long freed = 0;
        int n = tables.size();
        List<Entry> victims = new ArrayList<>();
        if (!dropped.isEmpty()) {
            dropped.values().removeIf(d -> d <= clean);
        }
        for (int i = 0; i < n && freed < target; i++) {
            Table t = tables.get((sweepFrom + i) % n);
            if (t.unshadowed > clean) {
                continue; // a removal the store may still hold: the table stays complete until it is flushed
            }
            victims.clear();
            long[] f = {freed};
            t.map.forEach((k, e) -> {
                if (f[0] < target && e.interval <= clean) {
                    victims.add(e);
                    f[0] += e.weight;
                }
            });
            freed = f[0];
            for (Entry e : victims) {
                t.map.remove(e.key);
                if (e.value != REMOVED) {
                    t.live--;
                }
                t.bytes -= e.weight;
                bytes -= e.weight;
            }
            if (!victims.isEmpty()) {
                t.complete = false;
                lastTable = null;
            }
            if (freed >= target) {
                sweepFrom = (sweepFrom + i) % Math.max(1, n);
            }
        }
        budget.update(bytes - reportedBytes, 0, false);
        reportedBytes = bytes;
    }

    /** @return estimated heap bytes of the table's entries */
    long cachedBytes() {
        return bytes;
    }

    @Override
    public String toString() {
        return "CachedKeyedState[" + mapName + ", " + size + " entries, ~" + bytes + " bytes cached]";
    }

}
