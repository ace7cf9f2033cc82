package io.streamflow.reactive.http;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The ingest's public API shows no Netty, Reactor Netty, MVStore or internal type. */
class HttpIngestPublicApiTest {

    @Test
    void shouldShowNoNettyReactorNettyMvStoreOrInternalTypeInThePublicSignaturesOfTheIngest() {
        List<String> leaks = new ArrayList<>();
        for (Class<?> type : List.of(HttpIngest.class, HttpIngest.Builder.class, HttpIngestException.class)) {
            List<Executable> members = new ArrayList<>(List.of(type.getDeclaredMethods()));
            members.addAll(List.<Constructor<?>>of(type.getDeclaredConstructors()));
            for (Executable m : members) {
                if (!Modifier.isPublic(m.getModifiers())) {
                    continue;
                }
                List<Type> types = new ArrayList<>(List.of(m.getGenericParameterTypes()));
                if (m instanceof Method method) {
                    types.add(method.getGenericReturnType());
                }
                types.addAll(List.of(m.getGenericExceptionTypes()));
                types.forEach(t -> check(type.getSimpleName() + "." + m.getName(), t, leaks));
            }
            for (Field f : type.getDeclaredFields()) {
                if (Modifier.isPublic(f.getModifiers())) {
                    check(type.getSimpleName() + "." + f.getName(), f.getGenericType(), leaks);
                }
            }
        }
        assertThat(leaks).isEmpty();
    }

    private static void check(String where, Type t, List<String> leaks) {
        String name = t.getTypeName();
        if (name.contains("io.netty.") || name.contains("reactor.netty.") || name.contains("org.h2.")
                || name.contains(".internal.")) {
            leaks.add(where + ": " + name);
        }
    }
}
