package io.streamflow.reactive.http;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PublicApiTest {

    @Test
    void shouldShowNoNettyReactorNettyMvStoreOrInternalTypeInThePublicSignaturesOfTheServer() {
        List<String> leaks = new ArrayList<>();
        for (Class<?> type : List.of(StreamFlowHttpServer.class, StreamFlowHttpServer.Builder.class)) {
            for (Method m : type.getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers())) {
                    continue;
                }
                List<Type> types = new ArrayList<>(List.of(m.getGenericParameterTypes()));
                types.add(m.getGenericReturnType());
                types.addAll(List.of(m.getGenericExceptionTypes()));
                for (Type t : types) {
                    String name = t.getTypeName();
                    if (name.contains("io.netty.") || name.contains("reactor.netty.") || name.contains("org.h2.")
                            || name.contains(".internal.")) {
                        leaks.add(type.getSimpleName() + "." + m.getName() + ": " + name);
                    }
                }
            }
        }
        assertThat(leaks).isEmpty();
    }
}
