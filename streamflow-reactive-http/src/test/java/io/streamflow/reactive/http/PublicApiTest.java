package io.streamflow.reactive.http;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every public type of {@code io.streamflow.reactive.http} (found in the compiled package, so a new
 * class is covered without being listed) shows no Netty, Reactor Netty, MVStore or internal type in
 * its public constructors, methods and fields.
 */
class PublicApiTest {

    @Test
    void shouldShowNoNettyReactorNettyMvStoreOrInternalTypeInAnyPublicSignatureOfThePackage() throws Exception {
        List<Class<?>> types = publicTypes();
        assertThat(types).extracting(Class::getSimpleName)
                .contains("StreamFlowHttpServer", "HttpSink", "HttpIngest", "HttpIngestException", "HttpSinkException");
        List<String> leaks = new ArrayList<>();
        for (Class<?> type : types) {
            for (Method m : type.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers())) {
                    List<Type> ts = new ArrayList<>(List.of(m.getGenericParameterTypes()));
                    ts.add(m.getGenericReturnType());
                    ts.addAll(List.of(m.getGenericExceptionTypes()));
                    check(type.getName() + "." + m.getName(), ts, leaks);
                }
            }
            for (Constructor<?> c : type.getDeclaredConstructors()) {
                if (Modifier.isPublic(c.getModifiers())) {
                    List<Type> ts = new ArrayList<>(List.of(c.getGenericParameterTypes()));
                    ts.addAll(List.of(c.getGenericExceptionTypes()));
                    check(type.getName() + ".<init>", ts, leaks);
                }
            }
            for (Field f : type.getDeclaredFields()) {
                if (Modifier.isPublic(f.getModifiers())) {
                    check(type.getName() + "." + f.getName(), List.of(f.getGenericType()), leaks);
                }
            }
            if (type.getGenericSuperclass() != null) {
                check(type.getName() + " extends", List.of(type.getGenericSuperclass()), leaks);
            }
            check(type.getName() + " implements", List.of(type.getGenericInterfaces()), leaks);
        }
        assertThat(leaks).isEmpty();
    }

    private static void check(String where, List<Type> types, List<String> leaks) {
        for (Type t : types) {
            String name = t.getTypeName();
            if (name.contains("io.netty.") || name.contains("reactor.netty.") || name.contains("org.h2.")
                    || name.contains(".internal.")) {
                leaks.add(where + ": " + name);
            }
        }
    }

    /** The public classes of this package and their public nested classes, from the compiled classes. */
    private static List<Class<?>> publicTypes() throws URISyntaxException, ClassNotFoundException, java.io.IOException {
        Path dir = Path.of(StreamFlowHttpServer.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("io/streamflow/reactive/http");
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                String simple = f.getFileName().toString().replace(".class", "");
                Class<?> c = Class.forName("io.streamflow.reactive.http." + simple);
                Class<?> outer = c;
                while (outer.getEnclosingClass() != null) {
                    outer = outer.getEnclosingClass();
                }
                if (Modifier.isPublic(c.getModifiers()) && Modifier.isPublic(outer.getModifiers())
                        && !c.isAnonymousClass() && !c.isSynthetic()) {
                    out.add(c);
                }
            }
        }
        return out;
    }
}
