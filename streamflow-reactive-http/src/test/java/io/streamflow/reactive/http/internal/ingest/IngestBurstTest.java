package io.streamflow.reactive.http.internal.ingest;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.HttpIngest;
import io.streamflow.reactive.json.JsonDecoder;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A burst of ten times the buffer against a slow pipeline. */
class IngestBurstTest {

    private static final int BUFFER = 100;
    private static final int REQUESTS = 40;
    private static final int PER_REQUEST = 25; // 1000 records in all: ten buffers
    private static final int CLIENTS = 8;

    @Test
    void shouldHoldAtMostTheBufferAnswer429WithRetryAfterAndDeliverEveryAcceptedRecordOnce() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        HttpIngest<Event> ingest = HttpIngest.builder("burst", JsonDecoder.events().timestampField("ts"))
                .bufferRecords(BUFFER)
                .retryAfter(Duration.ofSeconds(1))
                .meterRegistry(registry)
                .build();
        IngestEngine<?> engine = IngestAccess.engine(ingest);
        ConcurrentLinkedQueue<Long> ids = new ConcurrentLinkedQueue<>();
        // the slow pipeline: one record at a time, 2 ms each (about 2 s for the burst)
        Disposable pipeline = ingest.flux()
                .concatMap(e -> Mono.delay(Duration.ofMillis(2)).thenReturn(e), 1)
                .subscribe(e -> ids.add(((Number) ((StreamRecord<Void, Event>) e).value().field("id")).longValue()));
        AtomicInteger tooMany = new AtomicInteger();
        AtomicInteger badRetryAfter = new AtomicInteger();
        try (IngestTestServer server = new IngestTestServer(ingest)) {
            List<Integer> statuses = Flux.range(0, REQUESTS)
                    .flatMap(r -> send(server, r, tooMany, badRetryAfter), CLIENTS)
                    .collectList()
                    .block(Duration.ofSeconds(120));

            assertThat(statuses).hasSize(REQUESTS).containsOnly(200);
            await().atMost(Duration.ofSeconds(60)).until(() -> ids.size() >= REQUESTS * PER_REQUEST);
            assertThat(ids).as("every accepted record exactly once").hasSize(REQUESTS * PER_REQUEST)
                    .containsExactlyInAnyOrderElementsOf(LongStream.range(0, REQUESTS * PER_REQUEST).boxed().toList());
            assertThat(tooMany.get()).as("a burst of ten buffers meets full buffers").isPositive();
            assertThat(badRetryAfter.get()).as("every 429 has Retry-After: 1").isZero();
            assertThat(engine.peakBuffered()).as("records held at most").isLessThanOrEqualTo(BUFFER).isPositive();
            assertThat(registry.get(IngestEngine.REQUESTS_METER).tag("status", "429").counter().count())
                    .isEqualTo(tooMany.get());
            assertThat(registry.get(IngestEngine.RECORDS_METER).tag("result", "accepted").counter().count())
                    .isEqualTo(REQUESTS * PER_REQUEST);
            System.out.printf("burst: %d records in %d requests, buffer %d, peak held %d, 429 answers %d%n",
                    REQUESTS * PER_REQUEST, REQUESTS, BUFFER, engine.peakBuffered(), tooMany.get());
        } finally {
            pipeline.dispose();
        }
    }

    /** One client request, sent again after Retry-After for as long as it gets 429 (at most 60 times). */
    private static Mono<Integer> send(IngestTestServer server, int request, AtomicInteger tooMany,
                                      AtomicInteger badRetryAfter) {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < PER_REQUEST; i++) {
            long id = (long) request * PER_REQUEST + i;
            body.append("{\"id\":").append(id).append(",\"ts\":").append(id).append("}\n");
        }
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        return Mono.defer(() -> server.postAsync("application/x-ndjson", bytes, Map.of()))
                .flatMap(reply -> {
                    if (reply.status() != 429) {
                        return Mono.just(reply.status());
                    }
                    tooMany.incrementAndGet();
                    String retryAfter = reply.headers().get("Retry-After");
                    if (!"1".equals(retryAfter) || !reply.json().get("message").asString().contains("nothing of it was taken")) {
                        badRetryAfter.incrementAndGet();
                    }
                    long seconds = retryAfter == null ? 1 : Long.parseLong(retryAfter);
                    return Mono.delay(Duration.ofSeconds(seconds)).then(Mono.error(new TooManyRequests()));
                })
                .retryWhen(reactor.util.retry.Retry.max(60).filter(TooManyRequests.class::isInstance));
    }

    private static final class TooManyRequests extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TooManyRequests() {
            super("429", null, false, false);
        }
    }
}
