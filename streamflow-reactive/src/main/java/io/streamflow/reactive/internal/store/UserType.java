package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCodec;
import io.streamflow.reactive.state.StateIncompatibleException;
import io.streamflow.reactive.state.UnsupportedStateTypeException;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How {@link StateTypes} writes one class that is not built in: a record (its components), a
 * class of ours (its fields, by reflection), an enum (the constant's name) or a class with a
 * registered {@link StateCodec}. Each has a dictionary id (what values store instead of the class
 * name) and a fingerprint of its layout, stored with the id, so a changed class is detected
 * instead of misread.
 */
abstract class UserType {

    final Class<?> type;
    final String fingerprint;
    /** Dictionary id, set when the type is registered. */
    int id = -1;
    /** Instances hold no references that could lead to other, unregistered classes. */
    boolean leaf;

    UserType(Class<?> type, String fingerprint) {
        this.type = type;
        this.fingerprint = fingerprint;
    }

    abstract void write(StateTypes types, Object value, ByteSink out, int flags, int depth);

    abstract Object read(StateTypes types, ByteSource in, int depth);

    /** Registers the classes reachable from {@code value} (and fails for unsupported ones). */
    abstract void walk(StateTypes types, Object value, int depth);

    /** @return rough heap size of {@code value} in bytes */
    abstract int memory(StateTypes types, Object value, int depth);

    /**
     * Sets {@link #leaf}: whether instances can only refer to registered leaf classes, so that
     * {@link #walk} may skip them (computed after registration; conservative).
     */
    void computeLeaf(StateTypes types) {
        leaf = true;
    }

    static String hash(String descriptor) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(descriptor.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(16);
            for (int i = 0; i < 8; i++) {
                sb.append(Character.forDigit((d[i] >> 4) & 0xF, 16)).append(Character.forDigit(d[i] & 0xF, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    static IllegalArgumentException inaccessible(Class<?> c, RuntimeException e) {
        return new UnsupportedStateTypeException("Cannot store " + c.getName() + " in durable state: its members are "
                + "not accessible (" + e.getMessage() + "). Open its package to io.streamflow.reactive, or register "
                + "a StateCodec for it.", e);
    }

    // ---------------------------------------------------------------- fields

    /** One field or record component: written without a tag when primitive (the layout is fixed by the fingerprint). */
    static final class Slot {
        final Field field;
        final Class<?> declared;
        final char prim;
        /** The declared type cannot hold anything that needs registering. */
        boolean leaf;

        Slot(Field field) {
            this.field = field;
            this.declared = field.getType();
            this.prim = primCode(declared);
        }

        boolean primitive() {
            return prim != 0;
        }
    }

    static char primCode(Class<?> c) {
        if (!c.isPrimitive()) {
            return 0;
        }
        if (c == long.class) {
            return 'J';
        } else if (c == int.class) {
            return 'I';
        } else if (c == double.class) {
            return 'D';
        } else if (c == boolean.class) {
            return 'Z';
        } else if (c == float.class) {
            return 'F';
        } else if (c == short.class) {
            return 'S';
        } else if (c == byte.class) {
            return 'B';
        } else {
            return 'C';
        }
    }

    static void writePrimitive(Slot s, Object o, ByteSink out) throws IllegalAccessException {
        Field f = s.field;
        switch (s.prim) {
            case 'J' -> out.putZigZagLong(f.getLong(o));
            case 'I' -> out.putZigZagInt(f.getInt(o));
            case 'D' -> out.putLongBE(Double.doubleToLongBits(f.getDouble(o)));
            case 'Z' -> out.put(f.getBoolean(o) ? 1 : 0);
            case 'F' -> out.putIntBE(Float.floatToIntBits(f.getFloat(o)));
            case 'S' -> out.putZigZagInt(f.getShort(o));
            case 'B' -> out.put(f.getByte(o));
            default -> out.putVarInt(f.getChar(o));
        }
    }

    static Object readPrimitive(char prim, ByteSource in) {
        return switch (prim) {
            case 'J' -> in.getZigZagLong();
            case 'I' -> in.getZigZagInt();
            case 'D' -> Double.longBitsToDouble(in.getLongBE());
            case 'Z' -> readBoolean(in);
            case 'F' -> Float.intBitsToFloat(in.getIntBE());
            case 'S' -> (short) in.getZigZagInt();
            case 'B' -> (byte) in.get();
            default -> (char) in.getVarInt();
        };
    }

    static boolean readBoolean(ByteSource in) {
        int b = in.get();
        if (b > 1) {
            throw in.malformed("boolean byte " + b);
        }
        return b == 1;
    }

    static void setPrimitive(Slot s, Object o, ByteSource in) throws IllegalAccessException {
        Field f = s.field;
        switch (s.prim) {
            case 'J' -> f.setLong(o, in.getZigZagLong());
            case 'I' -> f.setInt(o, in.getZigZagInt());
            case 'D' -> f.setDouble(o, Double.longBitsToDouble(in.getLongBE()));
            case 'Z' -> f.setBoolean(o, readBoolean(in));
            case 'F' -> f.setFloat(o, Float.intBitsToFloat(in.getIntBE()));
            case 'S' -> f.setShort(o, (short) in.getZigZagInt());
            case 'B' -> f.setByte(o, (byte) in.get());
            default -> f.setChar(o, (char) in.getVarInt());
        }
    }

    static int primSize(char prim) {
        return switch (prim) {
            case 'J', 'D' -> 8;
            case 'I', 'F' -> 4;
            case 'S', 'C' -> 2;
            default -> 1;
        };
    }

    /** Marks slots whose declared type is final, registered and leaf, so walking a value can skip them. */
    static boolean computeSlotLeaves(StateTypes types, Slot[] slots) {
        boolean all = true;
        for (Slot s : slots) {
            s.leaf = s.primitive() || types.isLeafDeclaredType(s.declared);
            all &= s.leaf;
        }
        return all;
    }

    static IllegalArgumentException at(IllegalArgumentException e, Class<?> owner, String field) {
        if (e instanceof UnsupportedStateTypeException u) {
            return u.at(owner.getSimpleName() + "." + field);
        }
        return e;
    }

    // ---------------------------------------------------------------- records

    /** A record: its components in declaration order, rebuilt through the canonical constructor. */
    static final class RecordType extends UserType {

        private final Slot[] slots;
        private final Constructor<?> constructor;

        private RecordType(Class<?> type, String fingerprint, Slot[] slots, Constructor<?> constructor) {
            super(type, fingerprint);
            this.slots = slots;
            this.constructor = constructor;
        }

        static RecordType of(Class<?> c) {
            RecordComponent[] comps = c.getRecordComponents();
            Slot[] slots = new Slot[comps.length];
            Class<?>[] types = new Class<?>[comps.length];
            StringBuilder desc = new StringBuilder("record ").append(c.getName()).append('(');
            try {
                for (int i = 0; i < comps.length; i++) {
                    Field f = c.getDeclaredField(comps[i].getName());
                    f.setAccessible(true);
                    slots[i] = new Slot(f);
                    types[i] = comps[i].getType();
                    desc.append(comps[i].getName()).append(':').append(types[i].getName()).append(';');
                }
                Constructor<?> ctor = c.getDeclaredConstructor(types);
                ctor.setAccessible(true);
                return new RecordType(c, "record:" + hash(desc.append(')').toString()), slots, ctor);
            } catch (NoSuchFieldException | NoSuchMethodException e) {
                throw new UnsupportedStateTypeException("Cannot store record " + c.getName()
                        + " in durable state: " + e, e);
            } catch (RuntimeException e) {
                throw inaccessible(c, e);
            }
        }

        @Override
        void computeLeaf(StateTypes types) {
            leaf = computeSlotLeaves(types, slots);
        }

        @Override
        void write(StateTypes types, Object value, ByteSink out, int flags, int depth) {
            Slot s = null;
            try {
                for (Slot slot : slots) {
                    s = slot;
                    if (slot.primitive()) {
                        writePrimitive(slot, value, out);
                    } else {
                        types.write(slot.field.get(value), out, flags, depth + 1);
                    }
                }
            } catch (IllegalAccessException e) {
                throw inaccessible(type, new IllegalStateException(e));
            } catch (IllegalArgumentException e) {
                throw at(e, type, s == null ? "?" : s.field.getName());
            }
        }

        @Override
        Object read(StateTypes types, ByteSource in, int depth) {
            Object[] args = new Object[slots.length];
            for (int i = 0; i < slots.length; i++) {
                Slot s = slots[i];
                args[i] = s.primitive() ? readPrimitive(s.prim, in) : types.read(in, depth + 1);
            }
            try {
                return constructor.newInstance(args);
            } catch (InvocationTargetException e) {
                throw new StateIncompatibleException("The stored components of record " + type.getName()
                        + " are rejected by its constructor (" + e.getCause() + "); the state was written by a "
                        + "build whose record accepted them, and cannot be read by this build.", e.getCause());
            } catch (IllegalArgumentException e) {
                throw new StateIncompatibleException("The stored components of record " + type.getName()
                        + " do not fit its constructor (" + e.getMessage() + "); the checkpoint cannot be read by "
                        + "this build.", e);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot create record " + type.getName(), e);
            }
        }

        @Override
        void walk(StateTypes types, Object value, int depth) {
            Slot s = null;
            try {
                for (Slot slot : slots) {
                    if (!slot.leaf) {
                        s = slot;
                        types.walk(slot.field.get(value), depth + 1);
                    }
                }
            } catch (IllegalAccessException e) {
                throw inaccessible(type, new IllegalStateException(e));
            } catch (IllegalArgumentException e) {
                throw at(e, type, s == null ? "?" : s.field.getName());
            }
        }

        @Override
        int memory(StateTypes types, Object value, int depth) {
            return slotsMemory(types, slots, value, depth);
        }
    }

    static int slotsMemory(StateTypes types, Slot[] slots, Object value, int depth) {
        int m = 16;
        for (Slot s : slots) {
            if (s.primitive()) {
                m += primSize(s.prim);
            } else {
                m += 4;
                try {
                    m += types.memory(s.field.get(value), depth + 1);
                } catch (IllegalAccessException e) {
                    m += 16;
                }
            }
        }
        return m;
    }

    // ---------------------------------------------------------------- reflective

    /**
     * A class of ours (package {@code io.streamflow.}): all non-static, non-transient fields of
     * the class and its superclasses (superclass first, each class's fields by name), set on an
     * instance made without calling a constructor.
     */
    static final class ReflectiveType extends UserType {

        private final Slot[] slots;
        private final Constructor<?> instantiator;

        private ReflectiveType(Class<?> type, String fingerprint, Slot[] slots, Constructor<?> instantiator) {
            super(type, fingerprint);
            this.slots = slots;
            this.instantiator = instantiator;
        }

        static ReflectiveType of(Class<?> c) {
            if (c.isHidden() || c.isAnonymousClass() || c.isLocalClass() || c.isSynthetic()) {
                throw new UnsupportedStateTypeException("Cannot store " + c.getName() + " in durable state: "
                        + "anonymous, local and lambda classes have no stable name. Use a record or a named static "
                        + "nested class.");
            }
            if (c.isMemberClass() && !Modifier.isStatic(c.getModifiers())) {
                throw new UnsupportedStateTypeException("Cannot store " + c.getName() + " in durable state: "
                        + "it is an inner class and would drag its enclosing instance along. Make it static.");
            }
            if (Modifier.isAbstract(c.getModifiers()) || c.isInterface()) {
                throw new UnsupportedStateTypeException("Cannot store " + c.getName() + " in durable state: "
                        + "it is abstract.");
            }
            List<Class<?>> chain = new ArrayList<>();
            for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
                chain.add(0, k);
            }
            List<Slot> slots = new ArrayList<>();
            StringBuilder desc = new StringBuilder("object ");
            try {
                for (Class<?> k : chain) {
                    desc.append(k.getName()).append('{');
                    List<Field> fields = new ArrayList<>();
                    for (Field f : k.getDeclaredFields()) {
                        int mod = f.getModifiers();
                        if (!Modifier.isStatic(mod) && !Modifier.isTransient(mod)) {
                            fields.add(f);
                        }
                    }
                    fields.sort(Comparator.comparing(Field::getName));
                    for (Field f : fields) {
                        f.setAccessible(true);
                        slots.add(new Slot(f));
                        desc.append(f.getName()).append(':').append(f.getType().getName()).append(';');
                    }
                    desc.append('}');
                }
                Constructor<?> inst = Instantiation.constructorFor(c);
                return new ReflectiveType(c, "object:" + hash(desc.toString()), slots.toArray(new Slot[0]), inst);
            } catch (RuntimeException e) {
                throw inaccessible(c, e);
            }
        }

        @Override
        void computeLeaf(StateTypes types) {
            leaf = computeSlotLeaves(types, slots);
        }

        @Override
        void write(StateTypes types, Object value, ByteSink out, int flags, int depth) {
            Slot s = null;
            try {
                for (Slot slot : slots) {
                    s = slot;
                    if (slot.primitive()) {
                        writePrimitive(slot, value, out);
                    } else {
                        types.write(slot.field.get(value), out, flags, depth + 1);
                    }
                }
            } catch (IllegalAccessException e) {
                throw inaccessible(type, new IllegalStateException(e));
            } catch (IllegalArgumentException e) {
                throw at(e, type, s == null ? "?" : s.field.getName());
            }
        }

        @Override
        Object read(StateTypes types, ByteSource in, int depth) {
            Object o;
            try {
                o = instantiator.newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot instantiate " + type.getName(), e);
            }
            Slot s = null;
            try {
                for (Slot slot : slots) {
                    s = slot;
                    if (slot.primitive()) {
                        setPrimitive(slot, o, in);
                    } else {
                        slot.field.set(o, types.read(in, depth + 1));
                    }
                }
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot set " + type.getName() + "." + s.field.getName(), e);
            } catch (IllegalArgumentException e) {
                throw new StateIncompatibleException("The stored value of " + type.getName() + "." + s.field.getName()
                        + " does not fit the field's type " + s.declared.getName() + " (" + e.getMessage()
                        + "); the checkpoint cannot be read by this build.", e);
            }
            return o;
        }

        @Override
        void walk(StateTypes types, Object value, int depth) {
            Slot s = null;
            try {
                for (Slot slot : slots) {
                    if (!slot.leaf) {
                        s = slot;
                        types.walk(slot.field.get(value), depth + 1);
                    }
                }
            } catch (IllegalAccessException e) {
                throw inaccessible(type, new IllegalStateException(e));
            } catch (IllegalArgumentException e) {
                throw at(e, type, s == null ? "?" : s.field.getName());
            }
        }

        @Override
        int memory(StateTypes types, Object value, int depth) {
            return slotsMemory(types, slots, value, depth);
        }
    }

    /**
     * Makes instances without running the class's constructors, through
     * {@code sun.reflect.ReflectionFactory} (module {@code jdk.unsupported}, looked up reflectively
     * so the build does not depend on it at compile time): the constructor it returns runs only
     * {@code Object()}; the fields are then set from the stored state.
     */
    static final class Instantiation {

        private static final Object FACTORY;
        private static final java.lang.reflect.Method NEW_CONSTRUCTOR;
        private static final Throwable UNAVAILABLE;

        static {
            Object factory = null;
            java.lang.reflect.Method m = null;
            Throwable problem = null;
            try {
                Class<?> rf = Class.forName("sun.reflect.ReflectionFactory");
                factory = rf.getMethod("getReflectionFactory").invoke(null);
                m = rf.getMethod("newConstructorForSerialization", Class.class, Constructor.class);
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                problem = e;
            }
            FACTORY = factory;
            NEW_CONSTRUCTOR = m;
            UNAVAILABLE = problem;
        }

        private Instantiation() {
        }

        static Constructor<?> constructorFor(Class<?> c) {
            if (UNAVAILABLE != null) {
                throw new IllegalStateException("cannot instantiate " + c.getName() + " without a constructor: "
                        + "sun.reflect.ReflectionFactory (module jdk.unsupported) is not available", UNAVAILABLE);
            }
            try {
                Constructor<?> ctor = (Constructor<?>) NEW_CONSTRUCTOR.invoke(FACTORY, c,
                        Object.class.getDeclaredConstructor());
                ctor.setAccessible(true);
                return ctor;
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot instantiate " + c.getName() + " without a constructor", e);
            }
        }
    }

    // ---------------------------------------------------------------- enums

    /** An enum: the constant's name, so reordering constants does not change stored state. */
    static final class EnumType extends UserType {

        private final Map<String, Object> byName = new HashMap<>();

        EnumType(Class<?> enumClass) {
            super(enumClass, "enum");
            for (Object constant : enumClass.getEnumConstants()) {
                byName.put(((Enum<?>) constant).name(), constant);
            }
        }

        @Override
        void write(StateTypes types, Object value, ByteSink out, int flags, int depth) {
            out.putString(((Enum<?>) value).name());
        }

        @Override
        Object read(StateTypes types, ByteSource in, int depth) {
            String name = in.getString();
            Object constant = byName.get(name);
            if (constant == null) {
                throw new StateIncompatibleException("The state holds constant " + name + " of enum " + type.getName()
                        + ", which this build does not have; the checkpoint cannot be read by this build.");
            }
            return constant;
        }

        @Override
        void walk(StateTypes types, Object value, int depth) {
        }

        @Override
        int memory(StateTypes types, Object value, int depth) {
            return 0; // constants are shared
        }
    }

    // ---------------------------------------------------------------- codecs

    /** A class with a registered codec: the codec's bytes, behind a 4-byte length. */
    static final class CodecType extends UserType {

        private final StateCodec<Object> codec;

        @SuppressWarnings("unchecked")
        CodecType(Class<?> c, StateCodec<?> codec) {
            super(c, "codec:" + codec.getClass().getName() + ":v" + codec.version());
            this.codec = (StateCodec<Object>) codec;
        }

        @Override
        void write(StateTypes types, Object value, ByteSink out, int flags, int depth) {
            int lengthAt = out.size();
            out.putIntBE(0);
            try {
                codec.encode(value, out);
            } catch (IOException e) {
                throw new IllegalArgumentException("StateCodec " + codec.getClass().getName() + " failed to encode a "
                        + type.getName() + ": " + e.getMessage(), e);
            }
            int end = out.size();
            out.truncate(lengthAt);
            out.putIntBE(end - lengthAt - 4);
            out.truncate(end);
        }

        @Override
        Object read(StateTypes types, ByteSource in, int depth) {
            int len = in.getIntBE();
            if (len < 0 || len > in.remaining()) {
                throw in.malformed("codec payload of " + len + " bytes, " + in.remaining() + " left");
            }
            int end = in.position() + len;
            int oldLimit = in.narrow(end);
            Object v;
            try {
                v = codec.decode(in);
            } catch (IOException | RuntimeException e) {
                throw new StateIncompatibleException("StateCodec " + codec.getClass().getName() + " could not read a "
                        + type.getName() + " from its " + len + " stored bytes (" + e + "); the codec does not match "
                        + "the one that wrote the state.", e);
            } finally {
                in.widen(oldLimit);
            }
            if (in.position() != end) {
                throw new StateIncompatibleException("StateCodec " + codec.getClass().getName() + " read "
                        + (in.position() - (end - len)) + " of the " + len + " bytes stored for a " + type.getName()
                        + "; its decode must read exactly what its encode wrote.");
            }
            if (v == null) {
                throw new StateIncompatibleException("StateCodec " + codec.getClass().getName() + " decoded null for a "
                        + type.getName() + ".");
            }
            return v;
        }

        @Override
        void walk(StateTypes types, Object value, int depth) {
        }

        @Override
        int memory(StateTypes types, Object value, int depth) {
            return 64;
        }
    }
}
