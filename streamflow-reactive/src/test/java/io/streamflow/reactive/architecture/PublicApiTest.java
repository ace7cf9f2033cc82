package io.streamflow.reactive.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The public API exposes no implementation types: no type of an {@code internal} package and no
 * MVStore, Netty or Kafka client type appears in a public or protected signature of a public
 * class of a public package (supertypes, fields, constructors, methods with their type arguments,
 * bounds and exceptions, record components). Every public package has a {@code package-info}.
 */
class PublicApiTest {

    static final String ROOT = "io.streamflow.reactive";
    private static final List<String> FORBIDDEN = List.of("org.h2.", "io.netty.", "org.apache.kafka.clients.");

    /** Public classes of public packages of this module's main classes. */
    static List<Class<?>> publicClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(io.streamflow.reactive.EventStream.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI());
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                String name = classes.relativize(f).toString().replace('/', '.').replace(java.io.File.separatorChar, '.');
                name = name.substring(0, name.length() - ".class".length());
                if (name.endsWith("package-info") || isInternal(name)) {
                    continue;
                }
                Class<?> c = Class.forName(name, false, PublicApiTest.class.getClassLoader());
                if (isExported(c)) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    static boolean isInternal(String name) {
        return name.contains(".internal.") || name.endsWith(".internal");
    }

    private static boolean isExported(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getEnclosingClass()) {
            if (!Modifier.isPublic(k.getModifiers())) {
                return false;
            }
        }
        return !c.isAnonymousClass() && !c.isSynthetic();
    }

    @Test
    void publicSignaturesNameNoInternalMvStoreNettyOrKafkaClientType() throws Exception {
        List<Class<?>> api = publicClasses();
        assertThat(api).hasSizeGreaterThan(40);
        Set<String> problems = new TreeSet<>();
        for (Class<?> c : api) {
            check(problems, c.getName() + " extends", c.getGenericSuperclass());
            for (Type t : c.getGenericInterfaces()) {
                check(problems, c.getName() + " implements", t);
            }
            for (TypeVariable<?> v : c.getTypeParameters()) {
                check(problems, c.getName() + "<" + v.getName() + ">", v);
            }
            for (Field f : c.getDeclaredFields()) {
                if (visible(f.getModifiers()) && !f.isSynthetic()) {
                    check(problems, c.getName() + "." + f.getName(), f.getGenericType());
                }
            }
            List<Executable> members = new ArrayList<>();
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                members.add(k);
            }
            for (Method m : c.getDeclaredMethods()) {
                members.add(m);
            }
            for (Executable e : members) {
                if (!visible(e.getModifiers()) || e.isSynthetic() || (e instanceof Method m && m.isBridge())) {
                    continue;
                }
                String where = c.getName() + "." + e.getName();
                if (e instanceof Method m) {
                    check(problems, where + " returns", m.getGenericReturnType());
                }
                for (Type t : e.getGenericParameterTypes()) {
                    check(problems, where + " parameter", t);
                }
                for (Type t : e.getGenericExceptionTypes()) {
                    check(problems, where + " throws", t);
                }
                for (TypeVariable<?> v : e.getTypeParameters()) {
                    check(problems, where + "<" + v.getName() + ">", v);
                }
            }
            if (c.isRecord()) {
                for (RecordComponent rc : c.getRecordComponents()) {
                    check(problems, c.getName() + "." + rc.getName(), rc.getGenericType());
                }
            }
        }
        assertThat(problems).as("implementation types in the public API").isEmpty();
    }

    @Test
    void theCheckFindsInternalAndStoreTypesAtAnyDepth() throws Exception {
        Set<String> problems = new TreeSet<>();
        check(problems, "a", io.streamflow.reactive.internal.Work.class);
        check(problems, "b", PublicApiTest.class.getDeclaredMethod("nested").getGenericReturnType());
        check(problems, "c", String.class);
        assertThat(problems).containsExactly("a: io.streamflow.reactive.internal.Work",
                "b: org.h2.mvstore.MVMap");
    }

    @SuppressWarnings("unused")
    private static java.util.Map<String, List<? extends org.h2.mvstore.MVMap<String, String>[]>> nested() {
        return null;
    }

    @Test
    void everyPublicPackageHasAPackageInfo() throws Exception {
        Set<String> packages = new TreeSet<>();
        for (Class<?> c : publicClasses()) {
            packages.add(c.getPackageName());
        }
        assertThat(packages).contains(ROOT, ROOT + ".window", ROOT + ".state");
        List<String> missing = new ArrayList<>();
        for (String p : packages) {
            try {
                Class.forName(p + ".package-info", false, PublicApiTest.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                missing.add(p);
            }
        }
        assertThat(missing).as("public packages without package-info.java").isEmpty();
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static void check(Set<String> problems, String where, Type t) {
        check(problems, where, t, new HashSet<>());
    }

    private static void check(Set<String> problems, String where, Type t, Set<Type> seen) {
        if (t == null || !seen.add(t)) {
            return;
        }
        if (t instanceof Class<?> c) {
            while (c.isArray()) {
                c = c.getComponentType();
            }
            String n = c.getName();
            if (n.startsWith(ROOT) && isInternal(n)) {
                problems.add(where + ": " + n);
            }
            for (String f : FORBIDDEN) {
                if (n.startsWith(f)) {
                    problems.add(where + ": " + n);
                }
            }
        } else if (t instanceof ParameterizedType p) {
            check(problems, where, p.getRawType(), seen);
            check(problems, where, p.getOwnerType(), seen);
            for (Type a : p.getActualTypeArguments()) {
                check(problems, where, a, seen);
            }
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                check(problems, where, b, seen);
            }
            for (Type b : w.getLowerBounds()) {
                check(problems, where, b, seen);
            }
        } else if (t instanceof GenericArrayType g) {
            check(problems, where, g.getGenericComponentType(), seen);
        } else if (t instanceof TypeVariable<?> v) {
            for (Type b : v.getBounds()) {
                check(problems, where, b, seen);
            }
        }
    }
}
