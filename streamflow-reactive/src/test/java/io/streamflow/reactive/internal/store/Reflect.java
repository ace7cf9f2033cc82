package io.streamflow.reactive.internal.store;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/** Builds the package-private state classes of the operators (window, join, analytics) for the tests. */
final class Reflect {

    private Reflect() {
    }

    static Object create(String className, Object... args) {
        try {
            Class<?> c = Class.forName(className);
            for (Constructor<?> ctor : c.getDeclaredConstructors()) {
                if (ctor.getParameterCount() == args.length) {
                    ctor.setAccessible(true);
                    return ctor.newInstance(args);
                }
            }
            throw new IllegalArgumentException("no constructor with " + args.length + " parameters in " + className);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Field field(Class<?> c, String name) throws NoSuchFieldException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                Field f = k.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(name + " in " + c.getName());
    }

    /** Sets a field (of the class or a superclass) and returns the object. */
    static Object set(Object o, String name, Object value) {
        try {
            field(o.getClass(), name).set(o, value);
            return o;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static Object get(Object o, String name) {
        try {
            return field(o.getClass(), name).get(o);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static Object call(Object o, String name, Object... args) {
        try {
            for (Class<?> k = o.getClass(); k != null; k = k.getSuperclass()) {
                for (Method m : k.getDeclaredMethods()) {
                    if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                        m.setAccessible(true);
                        return m.invoke(o, args);
                    }
                }
            }
            throw new IllegalArgumentException("no method " + name + " with " + args.length + " parameters");
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
