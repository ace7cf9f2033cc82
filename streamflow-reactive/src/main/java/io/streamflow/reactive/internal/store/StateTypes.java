package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCodec;
import io.streamflow.reactive.state.StateCorruptedException;
import io.streamflow.reactive.state.StateIncompatibleException;
import io.streamflow.reactive.state.UnsupportedStateTypeException;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;

import java.lang.reflect.Array;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The binary serialisation of durable state: a tag byte per value, then its content.
 * <p>
 * Built in: {@code null}, the boxed primitives, {@link String} (UTF-8, unpaired surrogates
 * kept), primitive arrays, {@code Object[]} and arrays of supported final classes, {@link List}
 * (read back as {@link ArrayList}), {@link Map} (as {@link LinkedHashMap}, in iteration order;
 * a naturally ordered {@link SortedMap} as {@link TreeMap}), {@link Set} (as
 * {@link LinkedHashSet}; naturally ordered {@link SortedSet} as {@link TreeSet}), {@link UUID},
 * {@link BigInteger}, {@link BigDecimal}, {@link Instant} and {@link Duration}. Further:
 * enums (by constant name), records (components, rebuilt through the canonical constructor),
 * classes with a registered {@link StateCodec}, and classes in packages {@code io.streamflow.*}
 * (all non-static, non-transient fields, set on an instance made without calling a
 * constructor). Anything else is rejected with an {@link UnsupportedStateTypeException} that names
 * the class and says how to fix it. Object identity is not kept: a value reachable twice is
 * stored twice, and a cyclic graph is rejected.
 * <p>
 * Non-built-in classes are stored as small ids, kept in the store's {@value #TYPES_MAP} map
 * together with the class name and a fingerprint of its layout (record components or fields with
 * their types in order; codec class and version). Reading state whose fingerprint differs from
 * the class in this build fails with a {@link StateIncompatibleException}, as does opening a
 * store written with another {@link #FORMAT_VERSION} (kept in {@value #META_MAP}).
 * <p>
 * Keys are encoded canonically ({@link #encodeKey}): equal keys give equal bytes, also for
 * unordered maps and sets (their entries are sorted by their bytes), because keys are compared
 * as bytes.
 * <p>
 * Values must be checked with {@link #checkEncodable} before they are put into a map that uses
 * {@link StateValueType}: that check registers their classes in the dictionary (so the dictionary
 * entry is committed no later than the value) and fails early for unsupported classes, whereas a
 * failure while MVStore writes a page during a commit closes the whole store.
 * <p>
 * Thread-safe.
 */
public final class StateTypes {

    /** Version of this binary format; a store written with another version is not read. */
    public static final int FORMAT_VERSION = 1;
    /** Map holding the format version. */
    public static final String META_MAP = "streamflow.meta";
    /** Map holding the type dictionary: id → class name and fingerprint. */
    public static final String TYPES_MAP = "streamflow.types";
    static final String FORMAT_KEY = "format";
    /** Deepest nesting of collections and objects in one value. */
    static final int MAX_DEPTH = 256;

    static final int T_NULL = 0;
    static final int T_FALSE = 1;
    static final int T_TRUE = 2;
    static final int T_BYTE = 3;
    static final int T_SHORT = 4;
    static final int T_INT = 5;
    static final int T_LONG = 6;
    static final int T_FLOAT = 7;
    static final int T_DOUBLE = 8;
    static final int T_CHAR = 9;
    static final int T_STRING = 10;
    static final int T_BYTES = 11;
    static final int T_SHORTS = 12;
    static final int T_INTS = 13;
    static final int T_LONGS = 14;
    static final int T_FLOATS = 15;
    static final int T_DOUBLES = 16;
    static final int T_BOOLEANS = 17;
    static final int T_CHARS = 18;
    static final int T_OBJECTS = 19;
    static final int T_ARRAY = 20;
    static final int T_LIST = 21;
    static final int T_MAP = 22;
    static final int T_SORTED_MAP = 23;
    static final int T_SET = 24;
    static final int T_SORTED_SET = 25;
    static final int T_UUID = 26;
    static final int T_BIG_INTEGER = 27;
    static final int T_BIG_DECIMAL = 28;
    static final int T_INSTANT = 29;
    static final int T_DURATION = 30;
    /** A dictionary type: varint id, then the type's content. */
    static final int T_USER = 31;
    /**
     * A type not yet in the dictionary, met while MVStore writes a page (a value changed after it
     * was put): class name and fingerprint inline, then the content. Registering it there could
     * miss the commit being written.
     */
    static final int T_USER_INLINE = 32;

    /** Write flags. */
    static final int CANONICAL = 1;
    static final int NO_REGISTER = 2;
    /** Dictionary types by name and fingerprint, not by id: the same bytes in any store. */
    static final int PORTABLE = 4;

    /** The class of each built-in tag that stands for exactly one class (array components). */
    private static final Class<?>[] TAG_CLASS = new Class<?>[T_USER];

    static {
        TAG_CLASS[T_TRUE] = Boolean.class;
        TAG_CLASS[T_BYTE] = Byte.class;
        TAG_CLASS[T_SHORT] = Short.class;
        TAG_CLASS[T_INT] = Integer.class;
        TAG_CLASS[T_LONG] = Long.class;
        TAG_CLASS[T_FLOAT] = Float.class;
        TAG_CLASS[T_DOUBLE] = Double.class;
        TAG_CLASS[T_CHAR] = Character.class;
        TAG_CLASS[T_STRING] = String.class;
        TAG_CLASS[T_BYTES] = byte[].class;
        TAG_CLASS[T_SHORTS] = short[].class;
        TAG_CLASS[T_INTS] = int[].class;
        TAG_CLASS[T_LONGS] = long[].class;
        TAG_CLASS[T_FLOATS] = float[].class;
        TAG_CLASS[T_DOUBLES] = double[].class;
        TAG_CLASS[T_BOOLEANS] = boolean[].class;
        TAG_CLASS[T_CHARS] = char[].class;
        TAG_CLASS[T_OBJECTS] = Object[].class;
        TAG_CLASS[T_UUID] = UUID.class;
        TAG_CLASS[T_BIG_INTEGER] = BigInteger.class;
        TAG_CLASS[T_BIG_DECIMAL] = BigDecimal.class;
        TAG_CLASS[T_INSTANT] = Instant.class;
        TAG_CLASS[T_DURATION] = Duration.class;
    }

    /** How one class is written: a built-in tag, or a dictionary type. */
    static final class Handler {
        final int tag;
        final UserType user;
        /** {@link #T_ARRAY}: the component's handler. */
        final Handler component;
        /** Instances hold nothing that needs walking (registering) when a value is put. */
        volatile boolean leaf;

        Handler(int tag, UserType user, Handler component, boolean leaf) {
            this.tag = tag;
            this.user = user;
            this.component = component;
            this.leaf = leaf;
        }
    }

    private final MVStore store;
    private final Map<Class<?>, StateCodec<?>> codecs;
    private final ClassLoader loader;
    private final ConcurrentHashMap<Class<?>, Handler> handlers = new ConcurrentHashMap<>();
    /** Types met while writing a page before they were registered; see {@link #T_USER_INLINE}. */
    private final ConcurrentHashMap<Class<?>, UserType> unregistered = new ConcurrentHashMap<>();
    /** Decoding: dictionary id → verified type. */
    private volatile UserType[] byId = new UserType[16];
    /** Decoding of inline types: "name fingerprint" → verified type. */
    private final ConcurrentHashMap<String, UserType> inlineByName = new ConcurrentHashMap<>();
    /** The stored dictionary: id → "name fingerprint", and back. Guarded by this. */
    private final Map<Integer, String> storedById = new HashMap<>();
    private final Map<String, Integer> storedByEntry = new HashMap<>();
    private int nextId;
    private MVMap<byte[], Object> types;

    private StateTypes(MVStore store, Map<Class<?>, StateCodec<?>> codecs) {
        this.store = store;
        this.codecs = Map.copyOf(codecs);
        ClassLoader l = Thread.currentThread().getContextClassLoader();
        this.loader = l != null ? l : StateTypes.class.getClassLoader();
        for (int tag = 0; tag < TAG_CLASS.length; tag++) {
            if (TAG_CLASS[tag] != null) {
                handlers.put(TAG_CLASS[tag], new Handler(tag, null, null, tag != T_OBJECTS));
            }
        }
    }

    /** Opens the serialisation of {@code store} with no codecs; see {@link #open(MVStore, Map)}. */
    public static StateTypes open(MVStore store) {
        return open(store, Map.of());
    }

    /**
     * Opens the serialisation of {@code store}: checks (or, for a new store, writes) the format
     * version and loads the type dictionary. Writes nothing when the store is read-only. Does not
     * commit.
     *
     * @param codecs codecs for classes that are not supported otherwise (one class each, exact class)
     * @throws StateIncompatibleException when the store has another format version
     * @throws IllegalArgumentException   when a codec is registered for a built-in or abstract class
     */
    public static StateTypes open(MVStore store, Map<Class<?>, StateCodec<?>> codecs) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(codecs, "codecs");
        StringBuilder problems = new StringBuilder();
        for (Map.Entry<Class<?>, StateCodec<?>> e : codecs.entrySet()) {
            Class<?> c = e.getKey();
            if (e.getValue() == null) {
                problems.append("\n- the codec for ").append(c.getName()).append(" is null");
            } else if (c.isPrimitive() || c.isArray() || builtInTag(c) >= 0 || Collection.class.isAssignableFrom(c)
                    || Map.class.isAssignableFrom(c)) {
                problems.append("\n- ").append(c.getName()).append(" is built in; a codec cannot replace that");
            } else if (c.isInterface() || Modifier.isAbstract(c.getModifiers())) {
                problems.append("\n- ").append(c.getName()).append(" is abstract; register the codec for the "
                        + "concrete class of the values (a codec applies to exactly one class)");
            }
        }
        if (problems.length() > 0) {
            throw new IllegalArgumentException("Invalid StateCodec registrations:" + problems);
        }
        StateTypes t = new StateTypes(store, codecs);
        t.init();
        return t;
    }

    private static int builtInTag(Class<?> c) {
        for (int tag = 0; tag < TAG_CLASS.length; tag++) {
            if (TAG_CLASS[tag] == c) {
                return tag;
            }
        }
        return -1;
    }

    private void init() {
        boolean readOnly = store.isReadOnly();
        MVMap<byte[], Object> meta = readOnly && !store.hasMap(META_MAP) ? null : openMap(META_MAP);
        Object format;
        try {
            format = meta == null ? null : meta.get(encodeKey(FORMAT_KEY));
        } catch (MVStoreException e) {
            throw StoreErrors.translate(e, META_MAP);
        }
        if (format == null) {
            boolean hasState = (meta != null && !meta.isEmpty()) || store.hasMap(TYPES_MAP);
            if (!hasState) {
                for (String name : store.getMapNames()) {
                    hasState |= name.startsWith(DurableStateBackend.STATE_MAP_PREFIX);
                }
            }
            if (hasState) {
                throw new StateIncompatibleException("The state store " + fileName() + " holds state but no state "
                        + "format version; it was not written by a compatible build, and the checkpoint cannot be "
                        + "read by this build (format version " + FORMAT_VERSION + ").");
            }
            if (meta != null) {
                meta.put(encodeKey(FORMAT_KEY), FORMAT_VERSION);
            }
        } else if (!Integer.valueOf(FORMAT_VERSION).equals(format)) {
            throw new StateIncompatibleException("The state store " + fileName() + " was written with state format "
                    + "version " + format + "; this build reads and writes version " + FORMAT_VERSION
                    + ". The checkpoint cannot be read by this build.");
        }
        types = readOnly && !store.hasMap(TYPES_MAP) ? null : openMap(TYPES_MAP);
        if (types != null) {
            synchronized (this) {
                try {
                    for (Map.Entry<byte[], Object> e : types.entrySet()) {
                        int id = idOf(e.getKey());
                        if (!(e.getValue() instanceof String entry)) {
                            throw new StateCorruptedException("type dictionary entry " + id + " is " + e.getValue());
                        }
                        storedById.put(id, entry);
                        storedByEntry.put(entry, id);
                        nextId = Math.max(nextId, id + 1);
                    }
                } catch (MVStoreException e) {
                    throw StoreErrors.translate(e, TYPES_MAP);
                }
            }
        }
    }

    private String fileName() {
        return store.getFileStore() == null ? "(in memory)" : store.getFileStore().getFileName();
    }

    private static byte[] idKey(int id) {
        return new byte[]{(byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id};
    }

    private static int idOf(byte[] key) {
        if (key.length != 4) {
            throw new StateCorruptedException("type dictionary key of " + key.length + " bytes");
        }
        return ((key[0] & 0xFF) << 24) | ((key[1] & 0xFF) << 16) | ((key[2] & 0xFF) << 8) | (key[3] & 0xFF);
    }

    /** @return the store this serialisation belongs to */
    public MVStore store() {
        return store;
    }

    /**
     * @return a map builder with byte-array keys ({@link StateKeyType}) and values in this
     * serialisation ({@link StateValueType}), both with per-page CRCs
     */
    public MVMap.Builder<byte[], Object> mapBuilder(String mapName) {
        return new MVMap.Builder<byte[], Object>()
                .keyType(new StateKeyType(mapName))
                .valueType(new StateValueType(this, mapName,
                        mapName.startsWith(DurableStateBackend.STATE_MAP_PREFIX)));
    }

    /**
     * @return the map of that name in the store, opened (or created) with {@link #mapBuilder}
     * @throws StateCorruptedException    when its root page is damaged
     * @throws StateIncompatibleException when its root page holds state this build cannot read
     */
    public MVMap<byte[], Object> openMap(String mapName) {
        try {
            return store.openMap(mapName, mapBuilder(mapName));
        } catch (MVStoreException e) {
            throw StoreErrors.translate(e, mapName);
        }
    }

    // ------------------------------------------------------------------ public encode / decode

    /** @return the canonical bytes of a key: equal keys give equal bytes */
    public byte[] encodeKey(Object key) {
        ByteSink out = new ByteSink(32);
        write(key, out, CANONICAL, 0);
        return out.toByteArray();
    }

    /** @return the key that {@link #encodeKey} encoded */
    public Object decodeKey(byte[] bytes) {
        return decodeKey(bytes, 0, bytes.length);
    }

    /** Decodes a key that fills {@code bytes[off, off + len)}. */
    Object decodeKey(byte[] bytes, int off, int len) {
        ByteSource in = new ByteSource(bytes, off, len, "a state key");
        Object k = read(in, 0);
        if (in.remaining() != 0) {
            throw in.malformed(in.remaining() + " bytes left after the key");
        }
        return k;
    }

    /** @return the bytes of a value (in iteration order; not canonical) */
    public byte[] encode(Object value) {
        ByteSink out = new ByteSink(64);
        write(value, out, 0, 0);
        return out.toByteArray();
    }

    /** {@link #encode} through a scratch sink the caller reuses (not thread-safe). */
    byte[] encode(Object value, ByteSink scratch) {
        scratch.reset();
        write(value, scratch, 0, 0);
        return scratch.toByteArray();
    }

    /**
     * @return bytes of {@code value} that are the same in every store and every run: canonical
     * (sets and maps sorted) and with dictionary types by class name and layout fingerprint
     * instead of by their id in this store's dictionary. For fingerprints of output, not for
     * storing.
     */
    public byte[] encodePortable(Object value) {
        ByteSink out = new ByteSink(64);
        write(value, out, CANONICAL | PORTABLE, 0);
        return out.toByteArray();
    }

    /** @return the value that {@link #encode} encoded */
    public Object decode(byte[] bytes) {
        ByteSource in = new ByteSource(bytes, 0, bytes.length, "a state value");
        Object v = read(in, 0);
        if (in.remaining() != 0) {
            throw in.malformed(in.remaining() + " bytes left after the value");
        }
        return v;
    }

    /**
     * Checks that {@code value} can be stored and registers the classes it contains in the
     * dictionary. Call before putting a value into a map that uses {@link StateValueType}.
     *
     * @throws UnsupportedStateTypeException naming the first class that cannot be stored
     */
    public void checkEncodable(Object value) {
        walk(value, 0);
    }

    /** @return a rough estimate of the heap size of {@code value} in bytes, for cache accounting */
    public int estimateMemory(Object value) {
        return memory(value, 0);
    }

    // ------------------------------------------------------------------ handlers and the dictionary

    Handler handler(Class<?> c) {
        Handler h = handlers.get(c);
        return h != null ? h : createHandler(c);
    }

    private synchronized Handler createHandler(Class<?> c) {
        Handler h = handlers.get(c);
        if (h != null) {
            return h;
        }
        StateCodec<?> codec = codecs.get(c);
        if (codec != null) {
            h = userHandler(new UserType.CodecType(c, codec));
        } else if (c.isArray()) {
            Class<?> ct = c.getComponentType();
            try {
                handler(ct);
            } catch (UnsupportedStateTypeException e) {
                throw unsupportedArray(c);
            }
            h = structuralHandler(c);
        } else if ((h = structuralHandler(c)) != null) {
            return h;
        } else if (Enum.class.isAssignableFrom(c)) {
            Class<?> e = c.isEnum() ? c : c.getSuperclass();
            h = e == c ? userHandler(new UserType.EnumType(e)) : handler(e);
        } else if (c.isRecord()) {
            h = userHandler(UserType.RecordType.of(c));
        } else if (c.getPackageName().startsWith("io.streamflow.")) {
            h = userHandler(UserType.ReflectiveType.of(c));
        } else {
            throw unsupported(c, null);
        }
        handlers.put(c, h);
        if (h.user != null && h.user.type == c) {
            // after publishing, so recursive field types see this one (as not leaf) instead of looping
            h.user.computeLeaf(this);
            h.leaf = h.user.leaf;
        }
        return h;
    }

    /**
     * The handler of a collection class, or of an array whose component class is already known;
     * {@code null} for other classes. Needs no dictionary entry and takes no lock, so it may be
     * used while MVStore writes a page. Codecs take precedence (checked by the caller).
     */
    private Handler structuralHandler(Class<?> c) {
        Handler h;
        if (List.class.isAssignableFrom(c)) {
            h = new Handler(T_LIST, null, null, false);
        } else if (SortedMap.class.isAssignableFrom(c)) {
            h = new Handler(T_SORTED_MAP, null, null, false);
        } else if (Map.class.isAssignableFrom(c)) {
            h = new Handler(T_MAP, null, null, false);
        } else if (SortedSet.class.isAssignableFrom(c)) {
            h = new Handler(T_SORTED_SET, null, null, false);
        } else if (Set.class.isAssignableFrom(c)) {
            h = new Handler(T_SET, null, null, false);
        } else if (c.isArray()) {
            Class<?> ct = c.getComponentType();
            Handler ch = handlers.get(ct);
            if (ch == null) {
                return null;
            }
            if ((ch.user == null && (ch.tag >= TAG_CLASS.length || TAG_CLASS[ch.tag] != ct))
                    || (ch.user != null && ch.user.type != ct)) {
                throw unsupportedArray(c);
            }
            h = new Handler(T_ARRAY, null, ch, Modifier.isFinal(ct.getModifiers()) && ch.leaf);
        } else {
            return null;
        }
        Handler prev = handlers.putIfAbsent(c, h);
        return prev != null ? prev : h;
    }

    private static UnsupportedStateTypeException unsupportedArray(Class<?> c) {
        return unsupported(c, "arrays are supported with primitive, Object, and final supported component types "
                + "(String[], a record's array, ...); use Object[] or a List");
    }

    static UnsupportedStateTypeException unsupported(Class<?> c, String why) {
        return new UnsupportedStateTypeException("Cannot store a " + c.getName() + " in durable state: "
                + (why != null ? why : "it is not a record, an enum, a supported JDK type (boxed primitive, String, "
                + "array, List, Map, Set, UUID, BigInteger, BigDecimal, Instant, Duration) or a class with a "
                + "registered StateCodec") + ". Make it a record, or register a StateCodec for " + c.getSimpleName()
                + " with the state backend.");
    }

    /** Registers a described type in the dictionary (or finds its existing id) and wraps it in a handler. */
    private Handler userHandler(UserType t) {
        String entry = t.type.getName() + " " + t.fingerprint;
        Integer id = storedByEntry.get(entry);
        if (id == null) {
            if (types == null || store.isReadOnly()) {
                throw new IllegalStateException("Cannot store a " + t.type.getName() + ": the state store is "
                        + "read-only and has no type id for it yet.");
            }
            id = nextId++;
            types.put(idKey(id), entry);
            storedById.put(id, entry);
            storedByEntry.put(entry, id);
        }
        t.id = id;
        publish(id, t);
        return new Handler(T_USER, t, null, false);
    }

    private synchronized void publish(int id, UserType t) {
        UserType[] a = byId;
        if (id >= a.length) {
            a = Arrays.copyOf(a, Math.max(id + 1, a.length * 2));
        } else {
            a = a.clone();
        }
        a[id] = t;
        byId = a;
    }

    /**
     * Whether a field of {@code declared} type can only hold values of registered leaf classes,
     * so that walking a value may skip it. Only looks up handlers (registers nothing).
     */
    boolean isLeafDeclaredType(Class<?> declared) {
        if (!Modifier.isFinal(declared.getModifiers())) {
            return false;
        }
        Handler h = handlers.get(declared);
        return h != null && h.leaf;
    }

    /** @return the verified type of a dictionary id */
    UserType typeForId(int id, ByteSource in) {
        UserType[] a = byId;
        if (id >= 0 && id < a.length && a[id] != null) {
            return a[id];
        }
        return resolveStored(id, in);
    }

    private synchronized UserType resolveStored(int id, ByteSource in) {
        UserType[] a = byId;
        if (id >= 0 && id < a.length && a[id] != null) {
            return a[id];
        }
        String entry = storedById.get(id);
        if (entry == null && types != null) {
            Object v = types.get(idKey(id));
            if (v instanceof String s) {
                entry = s;
                storedById.put(id, s);
                storedByEntry.put(s, id);
                nextId = Math.max(nextId, id + 1);
            }
        }
        if (entry == null) {
            throw in.malformed("type id " + id + " is not in the type dictionary " + TYPES_MAP
                    + " (the dictionary is incomplete or the state damaged)");
        }
        UserType t = verify(entry, true);
        publish(id, t);
        return t;
    }

    /**
     * Resolves a stored "name fingerprint" to the class of this build and checks the fingerprint.
     * With {@code register}, an unregistered class is registered under the stored entry's id
     * (which exists, so nothing is written).
     */
    private UserType verify(String entry, boolean register) {
        int sp = entry.indexOf(' ');
        if (sp <= 0) {
            throw new StateCorruptedException("malformed type dictionary entry '" + entry + "'");
        }
        String name = entry.substring(0, sp);
        String stored = entry.substring(sp + 1);
        Class<?> c;
        try {
            c = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            try {
                c = Class.forName(name, false, StateTypes.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e2) {
                throw new StateIncompatibleException("The state holds values of class " + name + ", which this build "
                        + "does not have; the checkpoint cannot be read by this build.", e);
            }
        }
        UserType current = describe(c);
        if (current == null) {
            throw new StateIncompatibleException("The state of class " + name + " was written as " + stored
                    + ", but in this build the class is no longer stored that way; the checkpoint cannot be read "
                    + "by this build.");
        }
        if (!current.fingerprint.equals(stored)) {
            throw new StateIncompatibleException("The state of class " + name + " was written with a different "
                    + "layout or format (" + stored + ", this build has " + current.fingerprint + "); the "
                    + "checkpoint cannot be read by this build. Restore it with the build that wrote it, or start "
                    + "from empty state.");
        }
        if (register && current.id < 0) {
            return handler(c).user; // found under the stored id: same name and fingerprint
        }
        return current;
    }

    /** @return the current description of a non-built-in class (registered or not), or {@code null} if it is built in */
    private UserType describe(Class<?> c) {
        Handler h = handlers.get(c);
        if (h != null) {
            return h.user;
        }
        try {
            return describeUnregistered(c);
        } catch (IllegalArgumentException e) {
            throw new StateIncompatibleException("The state holds values of class " + c.getName() + ", which this "
                    + "build cannot store any more (" + e.getMessage() + "); the checkpoint cannot be read by this "
                    + "build.", e);
        }
    }

    /** Describes a class without registering it; {@code null} for built-in and collection classes. */
    private UserType describeUnregistered(Class<?> c) {
        UserType t = unregistered.get(c);
        if (t != null) {
            return t;
        }
        StateCodec<?> codec = codecs.get(c);
        if (codec != null) {
            t = new UserType.CodecType(c, codec);
        } else if (c.isArray() || Collection.class.isAssignableFrom(c) || Map.class.isAssignableFrom(c)
                || builtInTag(c) >= 0) {
            return null;
        } else if (Enum.class.isAssignableFrom(c)) {
            t = c.isEnum() ? new UserType.EnumType(c) : describeUnregistered(c.getSuperclass());
        } else if (c.isRecord()) {
            t = UserType.RecordType.of(c);
        } else if (c.getPackageName().startsWith("io.streamflow.")) {
            t = UserType.ReflectiveType.of(c);
        } else {
            throw unsupported(c, null);
        }
        UserType prev = unregistered.putIfAbsent(c, t);
        return prev != null ? prev : t;
    }

    // ------------------------------------------------------------------ writing

    void write(Object v, ByteSink out, int flags, int depth) {
        if (v == null) {
            out.put(T_NULL);
            return;
        }
        Class<?> c = v.getClass();
        if (c == String.class) {
            out.put(T_STRING);
            out.putString((String) v);
            return;
        }
        if (c == Long.class) {
            out.put(T_LONG);
            out.putZigZagLong((Long) v);
            return;
        }
        if (depth > MAX_DEPTH) {
            throw tooDeep(c);
        }
        Handler h = handlers.get(c);
        if (h == null) {
            if ((flags & NO_REGISTER) != 0) {
                writeUnregistered(c, v, out, flags, depth);
                return;
            }
            h = createHandler(c);
        }
        switch (h.tag) {
            case T_TRUE -> out.put((Boolean) v ? T_TRUE : T_FALSE);
            case T_BYTE -> {
                out.put(T_BYTE);
                out.put((Byte) v);
            }
            case T_SHORT -> {
                out.put(T_SHORT);
                out.putZigZagInt((Short) v);
            }
            case T_INT -> {
                out.put(T_INT);
                out.putZigZagInt((Integer) v);
            }
            case T_FLOAT -> {
                out.put(T_FLOAT);
                out.putIntBE(Float.floatToIntBits((Float) v));
            }
            case T_DOUBLE -> {
                out.put(T_DOUBLE);
                out.putLongBE(Double.doubleToLongBits((Double) v));
            }
            case T_CHAR -> {
                out.put(T_CHAR);
                out.putVarInt((Character) v);
            }
            case T_BYTES -> {
                byte[] a = (byte[]) v;
                out.put(T_BYTES);
                out.putVarInt(a.length);
                out.putBytes(a, 0, a.length);
            }
            case T_SHORTS -> {
                short[] a = (short[]) v;
                out.put(T_SHORTS);
                out.putVarInt(a.length);
                for (short x : a) {
                    out.putZigZagInt(x);
                }
            }
            case T_INTS -> {
                int[] a = (int[]) v;
                out.put(T_INTS);
                out.putVarInt(a.length);
                for (int x : a) {
                    out.putZigZagInt(x);
                }
            }
            case T_LONGS -> {
                long[] a = (long[]) v;
                out.put(T_LONGS);
                out.putVarInt(a.length);
                for (long x : a) {
                    out.putZigZagLong(x);
                }
            }
            case T_FLOATS -> {
                float[] a = (float[]) v;
                out.put(T_FLOATS);
                out.putVarInt(a.length);
                for (float x : a) {
                    out.putIntBE(Float.floatToIntBits(x));
                }
            }
            case T_DOUBLES -> {
                double[] a = (double[]) v;
                out.put(T_DOUBLES);
                out.putVarInt(a.length);
                for (double x : a) {
                    out.putLongBE(Double.doubleToLongBits(x));
                }
            }
            case T_BOOLEANS -> {
                boolean[] a = (boolean[]) v;
                out.put(T_BOOLEANS);
                out.putVarInt(a.length);
                for (boolean x : a) {
                    out.put(x ? 1 : 0);
                }
            }
            case T_CHARS -> {
                char[] a = (char[]) v;
                out.put(T_CHARS);
                out.putVarInt(a.length);
                for (char x : a) {
                    out.putVarInt(x);
                }
            }
            case T_OBJECTS -> {
                Object[] a = (Object[]) v;
                out.put(T_OBJECTS);
                out.putVarInt(a.length);
                for (Object x : a) {
                    write(x, out, flags, depth + 1);
                }
            }
            case T_ARRAY -> {
                Object[] a = (Object[]) v;
                out.put(T_ARRAY);
                Handler ch = h.component;
                if (ch.user != null && (flags & PORTABLE) != 0) {
                    out.put(T_USER_INLINE);
                    out.putString(ch.user.type.getName());
                    out.putString(ch.user.fingerprint);
                } else if (ch.user != null) {
                    out.put(T_USER);
                    out.putVarInt(ch.user.id);
                } else {
                    out.put(ch.tag);
                }
                out.putVarInt(a.length);
                for (Object x : a) {
                    write(x, out, flags, depth + 1);
                }
            }
            case T_LIST -> {
                out.put(T_LIST);
                writeElements((Collection<?>) v, out, flags, depth);
            }
            case T_SET -> {
                out.put(T_SET);
                if ((flags & CANONICAL) != 0) {
                    writeSorted((Collection<?>) v, null, out, flags, depth);
                } else {
                    writeElements((Collection<?>) v, out, flags, depth);
                }
            }
            case T_SORTED_SET -> {
                SortedSet<?> s = (SortedSet<?>) v;
                checkNaturalOrder(s.comparator(), c);
                out.put(T_SORTED_SET);
                writeElements(s, out, flags, depth);
            }
            case T_MAP -> {
                out.put(T_MAP);
                Map<?, ?> m = (Map<?, ?>) v;
                if ((flags & CANONICAL) != 0) {
                    writeSorted(null, m, out, flags, depth);
                } else {
                    writeEntries(m, out, flags, depth);
                }
            }
            case T_SORTED_MAP -> {
                SortedMap<?, ?> m = (SortedMap<?, ?>) v;
                checkNaturalOrder(m.comparator(), c);
                out.put(T_SORTED_MAP);
                writeEntries(m, out, flags, depth);
            }
            case T_UUID -> {
                UUID u = (UUID) v;
                out.put(T_UUID);
                out.putLongBE(u.getMostSignificantBits());
                out.putLongBE(u.getLeastSignificantBits());
            }
            case T_BIG_INTEGER -> {
                byte[] a = ((BigInteger) v).toByteArray();
                out.put(T_BIG_INTEGER);
                out.putVarInt(a.length);
                out.putBytes(a, 0, a.length);
            }
            case T_BIG_DECIMAL -> {
                BigDecimal d = (BigDecimal) v;
                byte[] a = d.unscaledValue().toByteArray();
                out.put(T_BIG_DECIMAL);
                out.putZigZagInt(d.scale());
                out.putVarInt(a.length);
                out.putBytes(a, 0, a.length);
            }
            case T_INSTANT -> {
                Instant i = (Instant) v;
                out.put(T_INSTANT);
                out.putZigZagLong(i.getEpochSecond());
                out.putVarInt(i.getNano());
            }
            case T_DURATION -> {
                Duration d = (Duration) v;
                out.put(T_DURATION);
                out.putZigZagLong(d.getSeconds());
                out.putVarInt(d.getNano());
            }
            case T_USER -> {
                if ((flags & PORTABLE) != 0) {
                    out.put(T_USER_INLINE);
                    out.putString(h.user.type.getName());
                    out.putString(h.user.fingerprint);
                } else {
                    out.put(T_USER);
                    out.putVarInt(h.user.id);
                }
                h.user.write(this, v, out, flags, depth);
            }
            default -> throw new IllegalStateException("no writer for tag " + h.tag);
        }
    }

    /**
     * A class met during a page write before it was registered (a value changed after it was
     * put): dictionary types go inline, with name and fingerprint, since registering them now
     * could miss the commit being written.
     */
    private void writeUnregistered(Class<?> c, Object v, ByteSink out, int flags, int depth) {
        if (!codecs.containsKey(c) && structuralHandler(c) != null) {
            write(v, out, flags, depth);
            return;
        }
        if (c.isArray()) {
            // an array of a class not registered yet: its component type goes inline
            UserType t = describeUnregistered(c.getComponentType());
            if (t == null) {
                throw unsupportedArray(c);
            }
            Object[] a = (Object[]) v;
            out.put(T_ARRAY);
            out.put(T_USER_INLINE);
            out.putString(t.type.getName());
            out.putString(t.fingerprint);
            out.putVarInt(a.length);
            for (Object x : a) {
                write(x, out, flags, depth + 1);
            }
            return;
        }
        UserType t = describeUnregistered(c);
        if (t == null) {
            throw unsupported(c, null);
        }
        out.put(T_USER_INLINE);
        out.putString(t.type.getName());
        out.putString(t.fingerprint);
        t.write(this, v, out, flags, depth);
    }

    private static void checkNaturalOrder(Object comparator, Class<?> c) {
        if (comparator != null) {
            throw new UnsupportedStateTypeException("Cannot store a " + c.getName() + " with a comparator in durable "
                    + "state: the comparator cannot be stored. Use natural ordering, or a List or a LinkedHashMap.");
        }
    }

    private void writeElements(Collection<?> col, ByteSink out, int flags, int depth) {
        int n = col.size();
        out.putVarInt(n);
        int i = 0;
        for (Object e : col) {
            write(e, out, flags, depth + 1);
            i++;
        }
        if (i != n) {
            throw new IllegalStateException("a " + col.getClass().getName() + " changed while it was written");
        }
    }

    private void writeEntries(Map<?, ?> m, ByteSink out, int flags, int depth) {
        int n = m.size();
        out.putVarInt(n);
        int i = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            write(e.getKey(), out, flags, depth + 1);
            write(e.getValue(), out, flags, depth + 1);
            i++;
        }
        if (i != n) {
            throw new IllegalStateException("a " + m.getClass().getName() + " changed while it was written");
        }
    }

    /** Writes a set's elements or a map's entries sorted by their bytes, so equal keys give equal bytes. */
    private void writeSorted(Collection<?> set, Map<?, ?> map, ByteSink out, int flags, int depth) {
        int n = set != null ? set.size() : map.size();
        ByteSink tmp = new ByteSink(n * 16);
        int[] bounds = new int[n + 1];
        int i = 0;
        if (set != null) {
            for (Object e : set) {
                if (i == n) {
                    break;
                }
                bounds[i++] = tmp.size();
                write(e, tmp, flags, depth + 1);
            }
        } else {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (i == n) {
                    break;
                }
                bounds[i++] = tmp.size();
                write(e.getKey(), tmp, flags, depth + 1);
                write(e.getValue(), tmp, flags, depth + 1);
            }
        }
        if (i != n) {
            throw new IllegalStateException("a collection changed while it was written");
        }
        bounds[n] = tmp.size();
        byte[] b = tmp.array();
        Integer[] order = new Integer[n];
        for (int k = 0; k < n; k++) {
            order[k] = k;
        }
        Arrays.sort(order, (x, y) -> Arrays.compareUnsigned(b, bounds[x], bounds[x + 1], b, bounds[y], bounds[y + 1]));
        out.putVarInt(n);
        for (int k : order) {
            out.putBytes(b, bounds[k], bounds[k + 1] - bounds[k]);
        }
    }

    private static UnsupportedStateTypeException tooDeep(Class<?> c) {
        return new UnsupportedStateTypeException("Cannot store a value nested deeper than " + MAX_DEPTH + " levels "
                + "(at a " + c.getName() + "): is the object graph cyclic? Durable state stores trees of values.");
    }

    // ------------------------------------------------------------------ reading

    Object read(ByteSource in, int depth) {
        int tag = in.get();
        if (depth > MAX_DEPTH) {
            throw in.malformed("nested deeper than " + MAX_DEPTH + " levels");
        }
        switch (tag) {
            case T_NULL:
                return null;
            case T_FALSE:
                return Boolean.FALSE;
            case T_TRUE:
                return Boolean.TRUE;
            case T_BYTE:
                return (byte) in.get();
            case T_SHORT:
                return (short) in.getZigZagInt();
            case T_INT:
                return in.getZigZagInt();
            case T_LONG:
                return in.getZigZagLong();
            case T_FLOAT:
                return Float.intBitsToFloat(in.getIntBE());
            case T_DOUBLE:
                return Double.longBitsToDouble(in.getLongBE());
            case T_CHAR:
                return (char) in.getVarInt();
            case T_STRING:
                return in.getString();
            case T_BYTES: {
                byte[] a = new byte[in.getLength(1)];
                in.getBytes(a, 0, a.length);
                return a;
            }
            case T_SHORTS: {
                short[] a = new short[in.getLength(1)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (short) in.getZigZagInt();
                }
                return a;
            }
            case T_INTS: {
                int[] a = new int[in.getLength(1)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = in.getZigZagInt();
                }
                return a;
            }
            case T_LONGS: {
                long[] a = new long[in.getLength(1)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = in.getZigZagLong();
                }
                return a;
            }
            case T_FLOATS: {
                float[] a = new float[in.getLength(4)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = Float.intBitsToFloat(in.getIntBE());
                }
                return a;
            }
            case T_DOUBLES: {
                double[] a = new double[in.getLength(8)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = Double.longBitsToDouble(in.getLongBE());
                }
                return a;
            }
            case T_BOOLEANS: {
                boolean[] a = new boolean[in.getLength(1)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = UserType.readBoolean(in);
                }
                return a;
            }
            case T_CHARS: {
                char[] a = new char[in.getLength(1)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (char) in.getVarInt();
                }
                return a;
            }
            case T_OBJECTS: {
                Object[] a = new Object[in.getLength(1)];
                for (int i = 0; i < a.length; i++) {
                    a[i] = read(in, depth + 1);
                }
                return a;
            }
            case T_ARRAY: {
                int ct = in.get();
                Class<?> component;
                if (ct == T_USER) {
                    component = typeForId(in.getVarInt(), in).type;
                } else if (ct == T_USER_INLINE) {
                    component = inlineType(in).type;
                } else if (ct < TAG_CLASS.length && TAG_CLASS[ct] != null) {
                    component = TAG_CLASS[ct];
                } else {
                    throw in.malformed("array component tag " + ct);
                }
                int n = in.getLength(1);
                Object[] a = (Object[]) Array.newInstance(component, n);
                for (int i = 0; i < n; i++) {
                    Object e = read(in, depth + 1);
                    if (e != null && !component.isInstance(e)) {
                        throw in.malformed("a " + e.getClass().getName() + " in an array of " + component.getName());
                    }
                    a[i] = e;
                }
                return a;
            }
            case T_LIST: {
                int n = in.getLength(1);
                ArrayList<Object> l = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    l.add(read(in, depth + 1));
                }
                return l;
            }
            case T_SET: {
                int n = in.getLength(1);
                LinkedHashSet<Object> s = new LinkedHashSet<>(capacity(n));
                for (int i = 0; i < n; i++) {
                    s.add(read(in, depth + 1));
                }
                return s;
            }
            case T_SORTED_SET: {
                int n = in.getLength(1);
                TreeSet<Object> s = new TreeSet<>();
                for (int i = 0; i < n; i++) {
                    s.add(read(in, depth + 1));
                }
                return s;
            }
            case T_MAP: {
                int n = in.getLength(2);
                LinkedHashMap<Object, Object> m = new LinkedHashMap<>(capacity(n));
                for (int i = 0; i < n; i++) {
                    Object k = read(in, depth + 1);
                    m.put(k, read(in, depth + 1));
                }
                return m;
            }
            case T_SORTED_MAP: {
                int n = in.getLength(2);
                TreeMap<Object, Object> m = new TreeMap<>();
                for (int i = 0; i < n; i++) {
                    Object k = read(in, depth + 1);
                    m.put(k, read(in, depth + 1));
                }
                return m;
            }
            case T_UUID:
                return new UUID(in.getLongBE(), in.getLongBE());
            case T_BIG_INTEGER: {
                byte[] a = new byte[in.getLength(1)];
                in.getBytes(a, 0, a.length);
                if (a.length == 0) {
                    throw in.malformed("empty BigInteger");
                }
                return new BigInteger(a);
            }
            case T_BIG_DECIMAL: {
                int scale = in.getZigZagInt();
                byte[] a = new byte[in.getLength(1)];
                in.getBytes(a, 0, a.length);
                if (a.length == 0) {
                    throw in.malformed("empty BigDecimal");
                }
                return new BigDecimal(new BigInteger(a), scale);
            }
            case T_INSTANT:
                return Instant.ofEpochSecond(in.getZigZagLong(), in.getVarInt());
            case T_DURATION:
                return Duration.ofSeconds(in.getZigZagLong(), in.getVarInt());
            case T_USER:
                return typeForId(in.getVarInt(), in).read(this, in, depth);
            case T_USER_INLINE:
                return inlineType(in).read(this, in, depth);
            default:
                throw in.malformed("unknown type tag " + tag);
        }
    }

    /** Reads the name and fingerprint of a {@link #T_USER_INLINE} type and resolves it. */
    private UserType inlineType(ByteSource in) {
        String name = in.getString();
        String fingerprint = in.getString();
        String entry = name + " " + fingerprint;
        UserType t = inlineByName.get(entry);
        if (t == null) {
            synchronized (this) {
                t = verify(entry, false);
            }
            inlineByName.put(entry, t);
        }
        return t;
    }

    private static int capacity(int n) {
        return (int) Math.min(1 << 30, n / 0.75f + 1);
    }

    // ------------------------------------------------------------------ walking (registration at put time)

    void walk(Object v, int depth) {
        if (v == null) {
            return;
        }
        Class<?> c = v.getClass();
        Handler h = handler(c);
        if (h.leaf) {
            return;
        }
        if (depth > MAX_DEPTH) {
            throw tooDeep(c);
        }
        switch (h.tag) {
            case T_OBJECTS, T_ARRAY -> walkAll(Arrays.asList((Object[]) v), depth, c.getSimpleName());
            case T_LIST, T_SET -> walkAll((Collection<?>) v, depth, c.getSimpleName());
            case T_SORTED_SET -> {
                checkNaturalOrder(((SortedSet<?>) v).comparator(), c);
                walkAll((Collection<?>) v, depth, c.getSimpleName());
            }
            case T_SORTED_MAP, T_MAP -> {
                Map<?, ?> m = (Map<?, ?>) v;
                if (m instanceof SortedMap<?, ?> sm) {
                    checkNaturalOrder(sm.comparator(), c);
                }
                walkAll(m.keySet(), depth, c.getSimpleName() + " key");
                walkAll(m.values(), depth, c.getSimpleName() + " value");
            }
            case T_USER -> h.user.walk(this, v, depth);
            default -> {
            }
        }
    }

    private void walkAll(Collection<?> elements, int depth, String where) {
        Class<?> lastLeaf = null;
        int i = 0;
        try {
            for (Object e : elements) {
                if (e != null) {
                    Class<?> ec = e.getClass();
                    if (ec != lastLeaf) {
                        Handler eh = handler(ec);
                        if (eh.leaf) {
                            lastLeaf = ec;
                        } else {
                            walk(e, depth + 1);
                        }
                    }
                }
                i++;
            }
        } catch (UnsupportedStateTypeException e) {
            throw e.at(where + "[" + i + "]");
        }
    }

    // ------------------------------------------------------------------ memory estimates

    int memory(Object v, int depth) {
        if (v == null) {
            return 0;
        }
        Handler h = handlers.get(v.getClass());
        if (h == null || depth > 6) {
            return 32;
        }
        switch (h.tag) {
            case T_TRUE, T_BYTE, T_SHORT, T_CHAR, T_INT, T_FLOAT:
                return 16;
            case T_LONG, T_DOUBLE:
                return 24;
            case T_STRING:
                return 40 + ((String) v).length();
            case T_BYTES, T_BOOLEANS:
                return 16 + Array.getLength(v);
            case T_SHORTS, T_CHARS:
                return 16 + 2 * Array.getLength(v);
            case T_INTS, T_FLOATS:
                return 16 + 4 * Array.getLength(v);
            case T_LONGS, T_DOUBLES:
                return 16 + 8 * Array.getLength(v);
            case T_OBJECTS, T_ARRAY: {
                Object[] a = (Object[]) v;
                return 16 + 4 * a.length + sampled(Arrays.asList(a), a.length, depth);
            }
            case T_LIST, T_SET, T_SORTED_SET: {
                Collection<?> col = (Collection<?>) v;
                int n = col.size();
                return 48 + (h.tag == T_LIST ? 8 : 40) * n + sampled(col, n, depth);
            }
            case T_MAP, T_SORTED_MAP: {
                Map<?, ?> m = (Map<?, ?>) v;
                int n = m.size();
                return 48 + 40 * n + sampled(m.keySet(), n, depth) + sampled(m.values(), n, depth);
            }
            case T_UUID, T_INSTANT, T_DURATION:
                return 32;
            case T_BIG_INTEGER, T_BIG_DECIMAL:
                return 64;
            case T_USER:
                return h.user.memory(this, v, depth);
            default:
                return 32;
        }
    }

    /** Estimates the elements' size from the first few. */
    private int sampled(Collection<?> elements, int n, int depth) {
        if (n == 0) {
            return 0;
        }
        int k = 0;
        long sum = 0;
        Iterator<?> it = elements.iterator();
        while (k < 8 && it.hasNext()) {
            sum += memory(it.next(), depth + 1);
            k++;
        }
        return k == 0 ? 0 : (int) Math.min(Integer.MAX_VALUE / 2, sum * n / k);
    }
}
