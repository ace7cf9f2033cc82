package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.state.StateCodec;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * State backend on an open {@link MVStore}: each operator's keyed state of a given name is one
 * map, {@code "state/" + operator + "/" + name} (with {@code %} and {@code /} in the names
 * escaped as {@code %25} and {@code %2F}), whose keys and values use the {@link StateTypes}
 * serialisation with per-page CRCs.
 * <p>
 * The backend neither commits nor closes the store: the checkpoint code does, with auto-commit
 * off, while the operators are paused. Maps named {@code "streamflow.*"} are reserved for the
 * library (format version, type dictionary, checkpoint records, outbox) and are opened with the
 * same data types by {@link #openMap}.
 * <p>
 * Thread-safe; each keyed state it returns is used by one operator at a time.
 */
public final class DurableStateBackend implements StateBackend {

    /** Name prefix of keyed-state maps. */
    public static final String STATE_MAP_PREFIX = "state/";
    /** Name prefix of the library's own maps in the store. */
    public static final String OWN_MAP_PREFIX = "streamflow.";

    private final MVStore store;
    private final StateTypes types;
    private final ConcurrentHashMap<String, DurableKeyedState<?, ?, ?>> states = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, MVMap<byte[], Object>> maps = new ConcurrentHashMap<>();
    private volatile long pressureLimit;
    private volatile boolean pressureSignalled;
    private volatile Runnable pressureListener = () -> { };

    /**
     * @param store an open store (auto-commit disabled)
     * @param types the serialisation opened on the same store
     */
    public DurableStateBackend(MVStore store, StateTypes types) {
        this.store = Objects.requireNonNull(store, "store");
        this.types = Objects.requireNonNull(types, "types");
        if (types.store() != store) {
            throw new IllegalArgumentException("the StateTypes belong to another store");
        }
    }

    /** @return a backend on {@code store} without codecs */
    public static DurableStateBackend open(MVStore store) {
        return open(store, Map.of());
    }

    /**
     * @return a backend on {@code store} with codecs for classes that are not supported otherwise;
     * see {@link StateTypes#open(MVStore, Map)} for what is checked
     */
    public static DurableStateBackend open(MVStore store, Map<Class<?>, StateCodec<?>> codecs) {
        return new DurableStateBackend(store, StateTypes.open(store, codecs));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <K, N, S> DurableKeyedState<K, N, S> keyedState(String operator, String name) {
        String mapName = stateMapName(operator, name);
        return (DurableKeyedState<K, N, S>) states.computeIfAbsent(mapName,
                n -> new DurableKeyedState<>(openMap(n), types, this::afterWrite));
    }

    /**
     * Calls {@code listener} once when the store's uncommitted changes reach {@code limitBytes}
     * (MVStore's estimate of the memory they hold), until {@link #committed()}; {@code limitBytes}
     * 0 turns it off. A checkpoint coordinator uses it to commit before the changes fill the heap.
     */
    public void onUncommitted(long limitBytes, Runnable listener) {
        this.pressureListener = Objects.requireNonNull(listener, "listener");
        this.pressureLimit = limitBytes;
    }

    /** The store was committed: the uncommitted-size listener may be called again. */
    public void committed() {
        pressureSignalled = false;
    }

    private void afterWrite() {
        long limit = pressureLimit;
        if (limit > 0 && !pressureSignalled && store.getUnsavedMemory() >= limit) {
            pressureSignalled = true;
            pressureListener.run();
        }
    }

    /** @return the map of that name, opened (or created) with the state data types; cached */
    public MVMap<byte[], Object> openMap(String mapName) {
        Objects.requireNonNull(mapName, "mapName");
        MVMap<byte[], Object> m = maps.get(mapName);
        if (m == null || m.isClosed()) {
            m = types.openMap(mapName);
            maps.put(mapName, m);
        }
        return m;
    }

    /** @return the name of the map holding an operator's keyed state of the given name */
    public static String stateMapName(String operator, String name) {
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(name, "name");
        return STATE_MAP_PREFIX + escape(operator) + "/" + escape(name);
    }

    private static String escape(String s) {
        return s.replace("%", "%25").replace("/", "%2F");
    }

    private static String unescape(String s) {
        return s.replace("%2F", "/").replace("%25", "%");
    }

    /** @return whether the map of that name holds keyed state */
    public boolean isStateMap(String mapName) {
        return mapName.startsWith(STATE_MAP_PREFIX);
    }

    /** @return whether the map of that name is written with the state data types (keyed state or the library's own maps) */
    public boolean isOwnMap(String mapName) {
        return isStateMap(mapName) || mapName.startsWith(OWN_MAP_PREFIX);
    }

    /** @return keyed-state map name → number of entries, for every keyed-state map in the store (sorted by name) */
    public Map<String, Long> stateSizes() {
        Map<String, Long> out = new TreeMap<>();
        for (String name : store.getMapNames()) {
            if (isStateMap(name)) {
                out.put(name, openMap(name).sizeAsLong());
            }
        }
        return out;
    }

    /** @return the operators that have keyed-state maps in the store (sorted) */
    public Set<String> operatorNames() {
        Set<String> out = new TreeSet<>();
        for (String name : store.getMapNames()) {
            if (isStateMap(name)) {
                String rest = name.substring(STATE_MAP_PREFIX.length());
                int slash = rest.indexOf('/');
                out.add(unescape(slash < 0 ? rest : rest.substring(0, slash)));
            }
        }
        return out;
    }

    /** @return the serialisation of this backend's store */
    public StateTypes types() {
        return types;
    }

    /** @return the store (open; committed and closed by its owner) */
    public MVStore store() {
        return store;
    }

    @Override
    public String toString() {
        return "StateBackend.durable(" + (store.getFileStore() == null ? "in memory" : store.getFileStore().getFileName())
                + ")";
    }
}
