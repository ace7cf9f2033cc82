package io.streamflow.reactive.http.internal.ingest;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.HttpIngest;
import io.streamflow.reactive.json.JsonDecoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Idempotency-Key: a request accepted once is not taken again, even when its copies race. */
class IngestIdempotencyTest {

    private static final String NDJSON = "application/x-ndjson";

    private final List<StreamElement<Void, Event>> received = new CopyOnWriteArrayList<>();
    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    private HttpIngest<Event> ingest;
    private IngestTestServer server;
    private Disposable pipeline;

    private void start(HttpIngest.Builder<Event> builder, boolean subscribe) {
        ingest = builder.meterRegistry(new SimpleMeterRegistry()).scheduler(clock).build();
        server = new IngestTestServer(ingest);
        if (subscribe) {
            pipeline = ingest.flux().subscribe(received::add);
        }
    }

    @AfterEach
    void stop() {
        if (pipeline != null) {
            pipeline.dispose();
        }
        if (server != null) {
            server.close();
        }
        clock.dispose();
    }

    private static HttpIngest.Builder<Event> builder() {
        return HttpIngest.builder("orders", JsonDecoder.events().timestampField("ts"));
    }

    private static String lines(String tag, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("{\"tag\":\"").append(tag).append("\",\"i\":").append(i).append(",\"ts\":").append(i).append("}\n");
        }
        return sb.toString();
    }

    private List<String> tags() {
        return received.stream().map(e -> ((StreamRecord<Void, Event>) e).value().stringField("tag")).toList();
    }

    @Test
    void shouldAnswerARepeatedRequestWithTheFirstAnswerAndNotTakeItAgain() {
        start(builder(), true);

        var first = server.post(NDJSON, lines("a", 3), Map.of("Idempotency-Key", "k1", "X-Request-Id", "first"));
        var again = server.post(NDJSON, lines("a", 3), Map.of("Idempotency-Key", "k1", "X-Request-Id", "second"));

        assertThat(first.status()).isEqualTo(200);
        assertThat(first.headers().get("Idempotent-Replayed")).isNull();
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.headers().get("Idempotent-Replayed")).isEqualTo("true");
        assertThat(again.body()).as("the first answer, its request id included").isEqualTo(first.body());
        assertThat(again.headers().get("X-Request-Id")).isEqualTo("second");
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() >= 3);
        assertThat(ingest.buffered()).isZero();
        assertThat(tags()).containsExactly("a", "a", "a");

        var other = server.post(NDJSON, lines("b", 1), Map.of("Idempotency-Key", "k1"));
        assertThat(other.status()).as("the same key with another body").isEqualTo(422);
        assertThat(other.json().get("message").asString()).contains("Idempotency-Key 'k1' was used for a request with another body");
        var noKey = server.post(NDJSON, lines("a", 3), Map.of());
        assertThat(noKey.status()).isEqualTo(200);
        assertThat(noKey.headers().get("Idempotent-Replayed")).as("no key: taken again").isNull();
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 6);
    }

    @Test
    void shouldForgetAKeyAfterItsAgeOrWhenNewerKeysPushItOut() {
        start(builder().idempotencyKeys(2, Duration.ofMinutes(1)), true);

        assertThat(server.post(NDJSON, lines("a", 1), Map.of("Idempotency-Key", "a")).status()).isEqualTo(200);
        clock.advanceTimeBy(Duration.ofSeconds(59));
        var replay = server.post(NDJSON, lines("a", 1), Map.of("Idempotency-Key", "a"));
        assertThat(replay.headers().get("Idempotent-Replayed")).isEqualTo("true");
        clock.advanceTimeBy(Duration.ofSeconds(2));
        var expired = server.post(NDJSON, lines("a", 1), Map.of("Idempotency-Key", "a"));
        assertThat(expired.status()).isEqualTo(200);
        assertThat(expired.headers().get("Idempotent-Replayed")).as("older than a minute: forgotten").isNull();

        server.post(NDJSON, lines("b", 1), Map.of("Idempotency-Key", "b"));
        server.post(NDJSON, lines("c", 1), Map.of("Idempotency-Key", "c"));
        var pushedOut = server.post(NDJSON, lines("a", 1), Map.of("Idempotency-Key", "a"));
        assertThat(pushedOut.headers().get("Idempotent-Replayed")).as("two newer keys: forgotten").isNull();
        var kept = server.post(NDJSON, lines("c", 1), Map.of("Idempotency-Key", "c"));
        assertThat(kept.headers().get("Idempotent-Replayed")).isEqualTo("true");

        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 5);
        assertThat(tags()).containsExactly("a", "a", "b", "c", "a");
    }

    @Test
    void shouldNotRememberARequestThatWasNotTaken() {
        start(builder().bufferRecords(3), false);

        assertThat(server.post(NDJSON, lines("a", 2), Map.of("Idempotency-Key", "a")).status()).isEqualTo(200);
        var full = server.post(NDJSON, lines("b", 2), Map.of("Idempotency-Key", "b"));
        assertThat(full.status()).isEqualTo(429);
        pipeline = ingest.flux().subscribe(received::add);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);

        var retried = server.post(NDJSON, lines("b", 2), Map.of("Idempotency-Key", "b"));
        assertThat(retried.status()).isEqualTo(200);
        assertThat(retried.headers().get("Idempotent-Replayed")).isNull();
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 4);
        assertThat(tags()).containsExactly("a", "a", "b", "b");
    }

    @Test
    void shouldMakeASecondRequestWithTheSameKeyWaitWhileTheFirstIsBeingAppended() throws Exception {
        HttpIngest<Event> racing = builder().meterRegistry(new SimpleMeterRegistry()).build();
        @SuppressWarnings("unchecked")
        IngestEngine<Event> engine = (IngestEngine<Event>) IngestAccess.engine(racing);
        byte[] body = lines("x", 2).getBytes(StandardCharsets.UTF_8);
        CountDownLatch firstPaused = new CountDownLatch(1);
        CountDownLatch secondDone = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        // the first request pauses after its key was looked up and before it is appended, until the
        // second request is done or 300 ms have passed
        engine.beforeKeyedAppend = () -> {
            if (first.getAndSet(false)) {
                firstPaused.countDown();
                try {
                    secondDone.await(300, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Callable<Answer> take = () -> {
            BodyReader reader = new BodyReader(BodyReader.Format.LINES, 1000, 100);
            reader.consume(body);
            return engine.take("r", "same-key", reader);
        };
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<Answer> a = threads.submit(take);
            assertThat(firstPaused.await(10, TimeUnit.SECONDS)).isTrue();
            Future<Answer> b = threads.submit(take);
            Answer second = b.get(10, TimeUnit.SECONDS);
            secondDone.countDown();
            Answer firstAnswer = a.get(10, TimeUnit.SECONDS);

            assertThat(firstAnswer.status()).isEqualTo(200);
            assertThat(firstAnswer.headers()).doesNotContainKey("Idempotent-Replayed");
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.headers()).as("the second waited and got the first answer")
                    .containsEntry("Idempotent-Replayed", "true");
            assertThat(racing.buffered()).as("appended once").isEqualTo(2);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void shouldTakeOnlyOneOfConcurrentRequestsWithTheSameKey() {
        start(builder(), true);
        int rounds = 5;
        int copies = 12;
        for (int round = 0; round < rounds; round++) {
            byte[] body = lines("r" + round, 3).getBytes(StandardCharsets.UTF_8);
            String key = "key-" + round;
            var replies = Flux.range(0, copies)
                    .flatMap(i -> server.postAsync(NDJSON, body, Map.of("Idempotency-Key", key)), copies)
                    .collectList()
                    .block(Duration.ofSeconds(30));

            assertThat(replies).hasSize(copies).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
            assertThat(replies.stream().map(IngestTestServer.Reply::body).distinct()).as("one answer for all").hasSize(1);
            assertThat(replies.stream().filter(r -> r.headers().get("Idempotent-Replayed") == null))
                    .as("exactly one request was taken").hasSize(1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() >= rounds * 3);
        assertThat(ingest.buffered()).isZero();
        assertThat(received).as("each round's records once").hasSize(rounds * 3);
        for (int round = 0; round < rounds; round++) {
            String tag = "r" + round;
            assertThat(tags().stream().filter(tag::equals)).hasSize(3);
        }
    }
}
