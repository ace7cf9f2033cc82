package io.streamflow.reactive.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The HTTP sink as an operator of a plain pipeline, against a real local receiver. */
class HttpSinkTest {

    private static final Duration BLOCK = Duration.ofSeconds(30);

    private MiniKv kv;
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void startReceiver() {
        kv = MiniKv.start();
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        kv.close();
    }

    private HttpSink.Builder fast() {
        return HttpSink.to(kv.uri()).name("test").meterRegistry(registry)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(5));
    }

    private HttpSink open(HttpSink.Builder b) {
        HttpSink sink = b.build();
        toClose.add(sink);
        return sink;
    }

    private static StreamRecord<String, Integer> rec(int i) {
        return StreamRecord.of("k" + i, i, 1_000L + i, Origin.of("numbers", 0, i));
    }

    private static Flux<StreamRecord<String, Integer>> records(int n) {
        return Flux.range(0, n).map(HttpSinkTest::rec);
    }

    private static Map<String, Object> body(StreamRecord<String, Integer> r) {
        return Map.of("key", r.key(), "n", r.value());
    }

    private double requests(String result) {
        return registry.get("streamflow.http.sink.requests").tag("sink", "test").tag("result", result).counter().count();
    }

    private double recordsMeter(String result) {
        return registry.get("streamflow.http.sink.records").tag("sink", "test").tag("result", result).counter().count();
    }

    private List<StreamElement<String, Integer>> run(HttpSink sink, Flux<? extends StreamElement<String, Integer>> in) {
        return in.transform(sink.<String, Integer>send(HttpSinkTest::body)).collectList().block(BLOCK);
    }

    @Test
    void shouldDeliverEveryRecordOnceInBatchesOfAtMostBatchSizeAndEmitEachInOrder() {
        HttpSink sink = open(fast().batchSize(64).maxInFlight(4));

        List<StreamElement<String, Integer>> out = run(sink, records(1_000));

        assertThat(out).containsExactlyElementsOf(records(1_000).collectList().block());
        assertThat(kv.store).hasSize(1_000);
        assertThat(kv.itemsReceived).hasValue(1_000);
        assertThat(kv.log).allSatisfy(r -> {
            assertThat(r.keys()).hasSizeBetween(1, 64);
            assertThat(r.contentType()).isEqualTo("application/json");
            assertThat(r.method()).isEqualTo("POST");
            assertThat(r.batchKey()).startsWith("test:batch:");
        });
        assertThat(kv.log.stream().mapToInt(r -> r.keys().size()).sum()).isEqualTo(1_000);
        assertThat(kv.store.get(kv.store.keySet().stream().filter(k -> k.startsWith("test:numbers:0:7:")).findFirst()
                .orElseThrow()).get("n").asInt()).isEqualTo(7);
        assertThat(registry.find("streamflow.http.sink.requests").counters().stream()
                .filter(c -> c.count() > 0).map(c -> c.getId().getTag("result") + "=" + c.count()).toList())
                .containsExactly("success=" + (double) kv.requests.get());
        assertThat(recordsMeter("sent")).isEqualTo(1_000);
        assertThat(registry.get("streamflow.http.sink.request.duration").tag("result", "success").timer().count())
                .isEqualTo(kv.requests.get());
    }

    @Test
    void shouldGiveEachOfSeveralResultsOfOneInputItsOwnKey() {
        HttpSink sink = open(fast());
        StreamRecord<String, Integer> a = rec(1);
        // the same origin (one input fanned out), twice the same result and once another one
        Flux<StreamRecord<String, Integer>> in = Flux.just(a, a, a.withValue(2));

        run(sink, in);

        assertThat(kv.store).hasSize(3);
        assertThat(kv.store.keySet()).anyMatch(k -> k.endsWith(":1")).allMatch(k -> k.startsWith("test:numbers:0:1:"));
    }

    @Test
    void shouldSendAPartialBatchAfterMaxBatchDelayOnTheScheduler() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        HttpSink sink = open(fast().batchSize(100).maxBatchDelay(Duration.ofSeconds(5)).scheduler(time));
        Sinks.Many<StreamRecord<String, Integer>> input = Sinks.many().unicast().onBackpressureBuffer();
        List<StreamElement<String, Integer>> out = new CopyOnWriteArrayList<>();
        Disposable run = input.asFlux().transform(sink.<String, Integer>send(HttpSinkTest::body)).subscribe(out::add);
        try {
            for (int i = 0; i < 3; i++) {
                input.tryEmitNext(rec(i)).orThrow();
            }
            time.advanceTimeBy(Duration.ofMillis(4_999));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> kv.requests.get() == 0);

            time.advanceTimeBy(Duration.ofMillis(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> out.size() == 3);
            assertThat(kv.log).singleElement().satisfies(r -> assertThat(r.keys()).hasSize(3));

            for (int i = 3; i < 103; i++) {
                input.tryEmitNext(rec(i)).orThrow(); // a full batch goes at once, without the delay
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> out.size() == 103);
            assertThat(kv.log).hasSize(2).last().satisfies(r -> assertThat(r.keys()).hasSize(100));
        } finally {
            run.dispose();
            time.dispose();
        }
    }

    @Test
    void shouldNeverHaveMoreThanMaxInFlightRequestsOpenUnderAFasterProducer() {
        kv.delay = Duration.ofMillis(30);
        HttpSink sink = open(fast().batchSize(5).maxInFlight(3));
        AtomicLong produced = new AtomicLong();
        AtomicLong consumed = new AtomicLong();
        AtomicLong maxAhead = new AtomicLong();

        List<StreamElement<String, Integer>> out = records(300).doOnNext(r -> {
                    long ahead = produced.incrementAndGet() - consumed.get();
                    maxAhead.accumulateAndGet(ahead, Math::max);
                })
                .transform(sink.<String, Integer>send(HttpSinkTest::body))
                .doOnNext(r -> consumed.incrementAndGet())
                .collectList().block(BLOCK);

        assertThat(out).hasSize(300);
        assertThat(kv.store).hasSize(300);
        assertThat(kv.maxConcurrent.get()).as("most requests the receiver had open at once").isEqualTo(3);
        // requests in flight, the batch being filled and the outcomes waiting downstream: bounded by
        // (maxInFlight + 3) * batchSize whatever the input's length (30 here with 300 or 1,500 records)
        assertThat(maxAhead.get()).as("records taken from upstream but not yet answered")
                .isLessThanOrEqualTo((3 + 3) * 5);
    }

    @ParameterizedTest(name = "{0} is retried")
    @CsvSource({"500,server_error", "503,server_error", "408,request_timeout", "429,too_many_requests"})
    void shouldRetryARetryableStatusWithTheSameKeysUntilItSucceeds(int status, String result) {
        kv.then(status, null, "busy").then(status, null, "busy");
        HttpSink sink = open(fast().maxRetries(3));

        List<StreamElement<String, Integer>> out = run(sink, records(3));

        assertThat(out).containsExactlyElementsOf(records(3).collectList().block());
        assertThat(kv.requests).hasValue(3);
        assertThat(kv.log.stream().map(MiniKv.Request::batchKey).distinct()).hasSize(1);
        assertThat(kv.log.stream().map(MiniKv.Request::keys).distinct()).hasSize(1);
        assertThat(kv.store).hasSize(3);
        assertThat(requests(result)).isEqualTo(2);
        assertThat(requests("success")).isEqualTo(1);
    }

    @Test
    void shouldNotRetryA400AndEmitDeadLettersWithOriginStatusBodyAndAttempts() {
        kv.then(400, null, "{\"error\":\"n must be even\"}");
        HttpSink sink = open(fast().maxRetries(5));

        List<StreamElement<String, Integer>> out = run(sink, records(2));

        assertThat(kv.requests).hasValue(1);
        assertThat(out).hasSize(2).allSatisfy(e -> assertThat(e).isInstanceOf(DeadLetter.class));
        DeadLetter<?, ?> d = (DeadLetter<?, ?>) out.get(1);
        assertThat(d.input()).isEqualTo(rec(1));
        assertThat(d.origin()).isEqualTo(Origin.of("numbers", 0, 1));
        assertThat(d.operator()).isEqualTo("test");
        assertThat(d.error()).isInstanceOfSatisfying(HttpSinkException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.attempts()).isEqualTo(1);
            assertThat(e.bodyExcerpt()).contains("n must be even");
            assertThat(e.getMessage()).contains("POST " + kv.uri(), "answered 400 Bad Request", "not retried");
        });
        assertThat(requests("refused")).isEqualTo(1);
        assertThat(recordsMeter("dead_letter")).isEqualTo(2);
        assertThat(registry.get("streamflow.records.dead.letter").tag("pipeline", "default").tag("operator", "test")
                .counter().count()).isEqualTo(2);
        assertThat(recordsMeter("sent")).isZero();
    }

    @Test
    void shouldKeepOnlyTheStartOfALongAnswerInTheError() {
        kv.then(422, null, "x".repeat(5_000) + "the end");
        HttpSink sink = open(fast());

        List<StreamElement<String, Integer>> out = run(sink, records(1));

        assertThat(out).singleElement().isInstanceOfSatisfying(DeadLetter.class, d ->
                assertThat(d.error()).isInstanceOfSatisfying(HttpSinkException.class, e -> {
                    assertThat(e.bodyExcerpt()).hasSize(1_024).doesNotContain("the end");
                    assertThat(e.status()).isEqualTo(422);
                }));
    }

    @Test
    void shouldEmitDeadLettersAfterTheLastRetry() {
        kv.always = new MiniKv.Scripted(503, null, "down for maintenance", Duration.ZERO);
        HttpSink sink = open(fast().maxRetries(2));

        List<StreamElement<String, Integer>> out = run(sink, records(4));

        assertThat(kv.requests).hasValue(3);
        assertThat(out).hasSize(4).allSatisfy(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
            assertThat(d.origin().source()).isEqualTo("numbers");
            assertThat(d.error()).isInstanceOfSatisfying(HttpSinkException.class, ex -> {
                assertThat(ex.status()).isEqualTo(503);
                assertThat(ex.attempts()).isEqualTo(3);
                assertThat(ex.getMessage()).contains("failed after 3 attempts (maxRetries 2)", "503 Service Unavailable",
                        "down for maintenance");
            });
        }));
        assertThat(out.stream().map(e -> ((DeadLetter<?, ?>) e).origin().position()).toList())
                .containsExactly(0L, 1L, 2L, 3L);
        assertThat(requests("server_error")).isEqualTo(3);
        assertThat(recordsMeter("dead_letter")).isEqualTo(4);
    }

    @Test
    void shouldRetryATimeoutAndLetTheReceiverDropWhatItAlreadyTook() {
        kv.thenLate(Duration.ofSeconds(3)); // stores, then answers after the sink gave up waiting
        HttpSink sink = open(fast().timeout(Duration.ofMillis(300)).maxRetries(2));

        List<StreamElement<String, Integer>> out = run(sink, records(5));

        assertThat(out).allSatisfy(e -> assertThat(e).isInstanceOf(StreamRecord.class)).hasSize(5);
        assertThat(kv.requests).hasValue(2);
        assertThat(requests("timeout")).isEqualTo(1);
        assertThat(requests("success")).isEqualTo(1);
        assertThat(kv.itemsReceived).hasValue(10);
        assertThat(kv.duplicatesDropped).hasValue(5);
        assertThat(kv.store).hasSize(5);
    }

    @Test
    void shouldRetryWhenConnectionsAreRefusedAndThenGiveDeadLetters() {
        HttpSink sink = open(HttpSink.to(MiniKv.downUri()).name("test").meterRegistry(registry)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(5)).maxRetries(2));

        List<StreamElement<String, Integer>> out = run(sink, records(2));

        assertThat(out).hasSize(2).allSatisfy(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d ->
                assertThat(d.error()).isInstanceOfSatisfying(HttpSinkException.class, ex -> {
                    assertThat(ex.status()).isEqualTo(HttpSinkException.NO_ANSWER);
                    assertThat(ex.attempts()).isEqualTo(3);
                    assertThat(ex.getMessage()).contains("connection error");
                })));
        assertThat(requests("connection_error")).isEqualTo(3);
    }

    @Test
    void shouldWaitWhatRetryAfterAsksForOnTheScheduler() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        RecordingScheduler scheduler = new RecordingScheduler(time);
        kv.then(429, "7", "slow down");
        HttpSink sink = open(fast().batchSize(1).backoff(Duration.ofMillis(10), Duration.ofSeconds(30))
                .scheduler(scheduler));
        List<StreamElement<String, Integer>> out = new CopyOnWriteArrayList<>();
        Disposable run = records(1).transform(sink.<String, Integer>send(HttpSinkTest::body)).subscribe(out::add);
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> scheduler.delays.contains(Duration.ofSeconds(7)));
            time.advanceTimeBy(Duration.ofMillis(6_999));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> kv.requests.get() == 1);

            time.advanceTimeBy(Duration.ofMillis(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> out.size() == 1);
            assertThat(kv.requests).hasValue(2);
            assertThat(out.get(0)).isEqualTo(rec(0));
        } finally {
            run.dispose();
            time.dispose();
        }
    }

    @Test
    void shouldGrowTheBackoffBoundExponentiallyUpToMaxBackoff() {
        kv.always = new MiniKv.Scripted(503, null, "", Duration.ZERO);
        RecordingScheduler scheduler = new RecordingScheduler(Schedulers.parallel());
        List<Long> bounds = new CopyOnWriteArrayList<>();
        HttpSink sink = open(fast().maxRetries(5).backoff(Duration.ofMillis(2), Duration.ofMillis(12))
                .scheduler(scheduler)
                .jitter(bound -> {
                    bounds.add(bound);
                    return bound / 2;
                }));

        List<StreamElement<String, Integer>> out = run(sink, records(1));

        assertThat(out).singleElement().isInstanceOf(DeadLetter.class);
        assertThat(bounds).containsExactly(2_000_000L, 4_000_000L, 8_000_000L, 12_000_000L, 12_000_000L);
        assertThat(scheduler.delays).containsExactly(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(4),
                Duration.ofMillis(6), Duration.ofMillis(6));
    }

    @Test
    void shouldDrawRandomBackoffDelaysWithinTheBound() {
        kv.always = new MiniKv.Scripted(503, null, "", Duration.ZERO);
        RecordingScheduler scheduler = new RecordingScheduler(Schedulers.parallel());
        HttpSink sink = open(fast().maxRetries(4).batchSize(1).maxInFlight(4)
                .backoff(Duration.ofMillis(4), Duration.ofMillis(4)).scheduler(scheduler));

        run(sink, records(8));

        assertThat(scheduler.delays).hasSize(32)
                .allSatisfy(d -> assertThat(d).isBetween(Duration.ZERO, Duration.ofMillis(4)));
        assertThat(scheduler.delays.stream().distinct().count()).as("full jitter: delays differ").isGreaterThan(16);
    }

    @Test
    void shouldCloseTheConnectionsOfRequestsInFlightOnCancel() {
        kv.delay = Duration.ofSeconds(30);
        HttpSink sink = open(fast().batchSize(1).maxInFlight(3).timeout(Duration.ofSeconds(60)));
        Disposable run = records(10).transform(sink.<String, Integer>send(HttpSinkTest::body)).subscribe();

        await().atMost(Duration.ofSeconds(10)).until(() -> kv.concurrent.get() == 3 && kv.openConnections.get() == 3);
        run.dispose();

        await().atMost(Duration.ofSeconds(10)).until(() -> kv.openConnections.get() == 0);
        kv.delay = Duration.ZERO;
        assertThat(run(sink, records(1))).as("the sink works on after a cancel").hasSize(1);
    }

    @Test
    void shouldSendPutWithExtraHeadersAsJsonLines() {
        HttpSink sink = open(fast().method(HttpSink.Method.PUT).bodyFormat(HttpSink.BodyFormat.JSON_LINES)
                .header("Authorization", "Bearer s3cret"));

        run(sink, records(3));

        assertThat(kv.log).singleElement().satisfies(r -> {
            assertThat(r.method()).isEqualTo("PUT");
            assertThat(r.contentType()).isEqualTo("application/x-ndjson");
            assertThat(r.authorization()).isEqualTo("Bearer s3cret");
            assertThat(r.keys()).hasSize(3);
        });
    }

    @Test
    void shouldTurnARecordTheFormatCannotWriteIntoADeadLetterAndSendTheOthers() {
        HttpSink sink = open(fast());

        List<StreamElement<String, Integer>> out = records(3).transform(sink.<String, Integer>send(r -> {
            if (r.value() == 1) {
                throw new IllegalStateException("no format for 1");
            }
            return body(r);
        })).collectList().block(BLOCK);

        assertThat(out.get(0)).isEqualTo(rec(0));
        assertThat(out.get(1)).isInstanceOfSatisfying(DeadLetter.class, d -> {
            assertThat(d.origin()).isEqualTo(Origin.of("numbers", 0, 1));
            assertThat(d.error()).hasMessageContaining("format of HTTP sink 'test' failed").hasRootCauseMessage(
                    "no format for 1");
        });
        assertThat(out.get(2)).isEqualTo(rec(2));
        assertThat(kv.store).hasSize(2);
        assertThat(recordsMeter("dead_letter")).isEqualTo(1);
    }

    @Test
    void shouldEndWatermarksAndPassDeadLettersThroughInOrder() {
        HttpSink sink = open(fast());
        DeadLetter<String, Integer> earlier = new DeadLetter<>("x", Origin.of("numbers", 0, 9), "decode",
                new IllegalArgumentException("bad"));
        Flux<StreamElement<String, Integer>> in = Flux.just(rec(0), Watermark.<String, Integer>of(5L), earlier, rec(1));

        List<StreamElement<String, Integer>> out = run(sink, in);

        assertThat(out).containsExactly(rec(0), earlier, rec(1));
    }

    @Test
    void shouldReportEveryInvalidOptionAtOnce() {
        assertThatThrownBy(() -> HttpSink.to(java.net.URI.create("ftp://x/y")).batchSize(0).maxInFlight(0)
                .maxRetries(-1).timeout(Duration.ZERO).backoff(Duration.ofSeconds(2), Duration.ofSeconds(1))
                .header("Idempotency-Key", "mine").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("http:// or https://", "batchSize must be >= 1, was 0",
                        "maxInFlight must be >= 1, was 0", "maxRetries must be >= 0, was -1",
                        "timeout must be positive", "max backoff must be >= initial backoff",
                        "header 'Idempotency-Key' is set by the sink");
    }

    static String keysOf(MiniKv kv) {
        return kv.log.stream().flatMap(r -> r.keys().stream()).collect(Collectors.joining(","));
    }
}
