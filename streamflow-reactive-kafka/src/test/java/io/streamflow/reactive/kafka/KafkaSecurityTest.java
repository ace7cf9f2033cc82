package io.streamflow.reactive.kafka;

import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerConfig;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import org.apache.kafka.common.errors.AuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Both Kafka sinks and the source on a {@code SASL_PLAINTEXT} listener with the {@code PLAIN}
 * mechanism: with the right credentials the exactly-once sink and the sender deliver and the source
 * reads what they wrote; with wrong ones both sinks fail within seconds with an error that names the
 * failed authentication, instead of retrying until the client's timeouts (a minute or more). The
 * source's failed login is in {@code KafkaSourceTest}.
 */
class KafkaSecurityTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create(KafkaBrokerConfig.defaults()
            .withSaslPlain(Map.of("alice", "alice-secret")));

    /** Far below the client's own limits (max.block.ms 60 s, delivery.timeout.ms 120 s), far above a login. */
    private static final Duration FAST = Duration.ofSeconds(30);

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> read(Map<String, Object> credentials, String topic, int n) {
        Map<String, Object> props = new HashMap<>(credentials);
        props.put("auto.offset.reset", "earliest");
        props.put("isolation.level", "read_committed");
        return KafkaSource.strings(props).assign(topic, 0).flux()
                .filter(e -> e instanceof StreamRecord<?, ?>)
                .map(e -> {
                    StreamRecord<String, String> r = (StreamRecord<String, String>) e;
                    return r.key() + "=" + r.value();
                })
                .take(n).collectList().block(Duration.ofSeconds(60));
    }

    @Test
    void withTheRightCredentialsBothSinksDeliverAndTheSourceReadsWhatTheyWrote(KafkaBroker broker)
            throws IOException {
        broker.createTopic("secure-eo", 1);
        broker.createTopic("secure-al", 1);
        Map<String, Object> alice = broker.clientProperties("alice", "alice-secret");
        try (KafkaSink sink = KafkaSink.exactlyOnce(alice, "secure-pipeline")) {
            assertThat(sink.deliveries().orElseThrow()).isEmpty();
            sink.deliver(new OutboxSink.Delivery(1, Map.of("in", Map.of(0, 2L)), 3, 0, false), List.of(
                    KafkaRecord.of("secure-eo", utf8("a"), utf8("1")), KafkaRecord.of("secure-eo", utf8("b"), utf8("2")),
                    KafkaRecord.of("secure-eo", utf8("c"), utf8("3"))));
        }
        StepVerifier.create(Flux.range(0, 3).map(i -> KafkaRecord.of("secure-al", utf8("k" + i), utf8("v" + i)))
                        .transform(KafkaSender.create(alice).send()))
                .expectNextCount(3).expectComplete().verify(Duration.ofSeconds(60));

        assertThat(read(alice, "secure-eo", 3)).containsExactly("a=1", "b=2", "c=3");
        assertThat(read(alice, "secure-al", 3)).containsExactly("k0=v0", "k1=v1", "k2=v2");
    }

    @Test
    void withWrongCredentialsTheSenderFailsFastNamingTheFailedAuthentication(KafkaBroker broker) {
        broker.createTopic("secure-wrong-al", 1);
        Map<String, Object> wrong = broker.clientProperties("alice", "not-the-secret");
        long t0 = System.nanoTime();
        // even under the dead-letter policy: a refused login is not the records' fault
        StepVerifier.create(Flux.range(0, 3).map(i -> KafkaRecord.of("secure-wrong-al", null, utf8("v" + i)))
                        .transform(KafkaSender.create(wrong).errorPolicy(ErrorPolicy.deadLetter()).send()))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(KafkaSendException.class)
                        .hasMessageContaining("authentication failed").hasMessageContaining("secure-wrong-al")
                        .hasCauseInstanceOf(AuthenticationException.class))
                .verify(FAST);
        System.out.printf("KafkaSecurityTest: the sender failed %d ms after subscribing with wrong credentials%n",
                (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void withWrongCredentialsTheExactlyOnceSinkFailsFastNamingTheFailedAuthentication(KafkaBroker broker) {
        broker.createTopic("secure-wrong-eo", 1);
        Map<String, Object> wrong = broker.clientProperties("alice", "not-the-secret");
        assertTimeoutPreemptively(FAST, () -> {
            long t0 = System.nanoTime();
            try (KafkaSink sink = KafkaSink.exactlyOnce(wrong, "intruder")) {
                assertThatThrownBy(sink::deliveries).isInstanceOf(IOException.class)
                        .hasMessageContaining("credentials were refused")
                        .hasRootCauseInstanceOf(AuthenticationException.class);
                assertThatThrownBy(() -> sink.deliver(new OutboxSink.Delivery(1, Map.of(), 1, 0, false),
                        List.of(KafkaRecord.of("secure-wrong-eo", null, utf8("x")))))
                        .isInstanceOf(IOException.class).hasMessageContaining("credentials were refused");
            }
            System.out.printf("KafkaSecurityTest: the exactly-once sink failed twice within %d ms with wrong "
                    + "credentials%n", (System.nanoTime() - t0) / 1_000_000);
        });
    }
}
