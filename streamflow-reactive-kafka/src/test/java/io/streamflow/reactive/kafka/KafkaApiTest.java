package io.streamflow.reactive.kafka;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka module's public API names no Kafka client type except the user's own
 * {@code Serializer} and {@code Deserializer}, and no implementation type of ours.
 */
class KafkaApiTest {

    private static final Set<String> ALLOWED = Set.of("org.apache.kafka.common.serialization.Serializer",
            "org.apache.kafka.common.serialization.Deserializer");

    @Test
    void publicSignaturesNameOnlyTheUsersSerializersAndDeserializersOfTheKafkaClient() {
        Set<String> problems = new TreeSet<>();
        for (Class<?> c : List.of(KafkaSink.class, KafkaRecord.class, KafkaSource.class, KafkaSender.class,
                SendResult.class, KafkaSendException.class, DeadLetterTopic.class)) {
            for (Method m : c.getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers()) || m.isSynthetic()) {
                    continue;
                }
                List<Type> types = new ArrayList<>(List.of(m.getGenericParameterTypes()));
                types.add(m.getGenericReturnType());
                for (Type t : types) {
                    check(problems, c.getSimpleName() + "." + m.getName(), t);
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    private static void check(Set<String> problems, String where, Type t) {
        if (t instanceof Class<?> c) {
            String n = c.getName();
            if (n.startsWith("org.apache.kafka.") && !ALLOWED.contains(n) || n.contains(".internal.")) {
                problems.add(where + ": " + n);
            }
        } else if (t instanceof ParameterizedType p) {
            check(problems, where, p.getRawType());
            for (Type a : p.getActualTypeArguments()) {
                check(problems, where, a);
            }
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                check(problems, where, b);
            }
            for (Type b : w.getLowerBounds()) {
                check(problems, where, b);
            }
        }
    }
}
