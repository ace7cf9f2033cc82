package io.streamflow.reactive.http;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamFlowMeters;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultLogTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();

    static WindowResult<String, Long> result(String key, long start, long end, long value, long pane) {
        return new WindowResult<>(key, start, end, value,
                new PaneInfo(pane == 0 ? PaneInfo.Timing.EARLY : PaneInfo.Timing.LATE, pane, false));
    }

    private ResultLog.Builder<String, Long> builder() {
        return ResultLog.<String, Long>builder("test").scheduler(clock);
    }

    private static String type(ResultEvent e) {
        return e.type().eventName() + (e.id() == null ? "" : "#" + e.id());
    }

    @Test
    void shouldWriteResultJsonWithIdKeyWindowValueAndPane() {
        ResultLog<String, Long> log = builder().valueWriter(v -> java.util.Map.of("count", v)).build();
        long id = log.append(new WindowResult<>("a\"b", 0, 60_000, 7L, new PaneInfo(PaneInfo.Timing.ON_TIME, 2, true)));
        assertThat(id).isEqualTo(1);
        ResultEvent e = log.current("a\"b").get(0);
        assertThat(e).isEqualTo(new ResultEvent(1L, ResultEvent.Type.RESULT,
                "{\"id\":1,\"key\":\"a\\\"b\",\"window\":{\"start\":0,\"end\":60000},\"value\":{\"count\":7},"
                        + "\"pane\":{\"timing\":\"ON_TIME\",\"index\":2,\"final\":true}}"));
        assertThat(e.toSseFrame()).isEqualTo("id: 1\nevent: result\ndata: " + e.data() + "\n\n");
        assertThat(ResultEvent.HEARTBEAT.toSseFrame()).isEqualTo(": keep-alive\n\n");
        assertThat(ResultEvent.HEARTBEAT.comment()).isEqualTo("keep-alive");
        assertThat(ResultEvent.HEARTBEAT.eventName()).isNull();
        assertThat(ResultEvent.HEARTBEAT.idText()).isNull();
    }

    @Test
    void shouldRetractEarlierPaneOfSameWindowBeforeTheLaterPane() {
        ResultLog<String, Long> log = builder().build();
        log.append(result("k", 0, 10, 1, 0));
        log.append(result("k", 10, 20, 5, 0));
        long id = log.append(result("k", 0, 10, 2, 1));
        assertThat(id).isEqualTo(4);
        StepVerifier.create(log.events(0L, false).take(4))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#1"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#2"))
                .assertNext(e -> assertThat(e).isEqualTo(new ResultEvent(3L, ResultEvent.Type.RETRACT,
                        "{\"id\":3,\"retracts\":1,\"key\":\"k\",\"window\":{\"start\":0,\"end\":10},\"reason\":\"superseded\"}")))
                .assertNext(e -> assertThat(e.data()).startsWith("{\"id\":4,\"key\":\"k\",\"window\":{\"start\":0,\"end\":10},\"value\":2"))
                .expectComplete()
                .verify(WAIT);
        assertThat(log.current("k")).extracting(ResultEvent::id).containsExactly(4L, 2L);
    }

    @Test
    void shouldSupersedeTheWindowlessValueOfAKeyWithoutTouchingItsWindows() {
        for (boolean sessions : new boolean[]{false, true}) {
            ResultLog.Builder<String, Long> b = builder();
            ResultLog<String, Long> log = (sessions ? b.sessionWindows() : b).build();
            log.append(result("k", 0, 10, 1, 0));                  // 1
            assertThat(log.appendValue("k", 5L)).isEqualTo(2);
            assertThat(log.appendValue("other", 1L)).isEqualTo(3);
            assertThat(log.appendValue("k", 6L)).as("retraction 4 of value 2, then 5").isEqualTo(5);
            StepVerifier.create(log.events(1L, false).take(4))
                    .assertNext(e -> assertThat(e.data()).isEqualTo("{\"id\":2,\"key\":\"k\",\"value\":5}"))
                    .assertNext(e -> assertThat(type(e)).isEqualTo("result#3"))
                    .assertNext(e -> assertThat(e).isEqualTo(new ResultEvent(4L, ResultEvent.Type.RETRACT,
                            "{\"id\":4,\"retracts\":2,\"key\":\"k\",\"reason\":\"superseded\"}")))
                    .assertNext(e -> assertThat(e.data()).isEqualTo("{\"id\":5,\"key\":\"k\",\"value\":6}"))
                    .expectComplete()
                    .verify(WAIT);
            assertThat(log.current("k")).as("sessions=" + sessions).extracting(ResultEvent::id)
                    .containsExactly(5L, 1L);
            StepVerifier.create(log.events(null, true).take(5))
                    .assertNext(e -> assertThat(type(e)).isEqualTo("reset"))
                    .assertNext(e -> assertThat(e.data()).contains("\"id\":1,"))
                    .assertNext(e -> assertThat(e.data()).contains("\"id\":3,"))
                    .assertNext(e -> assertThat(e.data()).isEqualTo("{\"id\":5,\"key\":\"k\",\"value\":6}"))
                    .assertNext(e -> assertThat(type(e)).isEqualTo("snapshot-end#5"))
                    .expectComplete()
                    .verify(WAIT);
        }
    }

    @Test
    void shouldNotRetractOverlappingSlidingWindowsOfSameKeyByDefault() {
        ResultLog<String, Long> log = builder().build();
        log.append(result("k", 0, 20, 1, 0));
        log.append(result("k", 10, 30, 1, 0));
        log.append(result("k", 20, 40, 1, 0));
        assertThat(log.lastEventId()).isEqualTo(3);
        assertThat(log.current("k")).extracting(ResultEvent::type).containsOnly(ResultEvent.Type.RESULT).hasSize(3);
    }

    @Test
    void shouldRetractEveryOverlappingSessionOfTheKeyWhenSessionsMerge() {
        ResultLog<String, Long> log = builder().sessionWindows().build();
        log.append(result("k", 0, 10, 1, 0));
        log.append(result("k", 20, 30, 1, 0));
        log.append(result("other", 0, 100, 1, 0));
        log.append(result("k", 50, 60, 1, 0));
        // a record at 8 with gap 15 merged [0,10) and [20,30) into [0,30)
        long id = log.append(result("k", 0, 30, 2, 0));
        assertThat(id).isEqualTo(7);
        StepVerifier.create(log.events(4L, false).take(3))
                .assertNext(e -> assertThat(e.data()).isEqualTo("{\"id\":5,\"retracts\":1,\"key\":\"k\",\"window\":{\"start\":0,\"end\":10},\"reason\":\"superseded\"}"))
                .assertNext(e -> assertThat(e.data()).isEqualTo("{\"id\":6,\"retracts\":2,\"key\":\"k\",\"window\":{\"start\":20,\"end\":30},\"reason\":\"superseded\"}"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#7"))
                .expectComplete()
                .verify(WAIT);
        assertThat(log.current("k")).extracting(ResultEvent::id).containsExactly(7L, 4L);
        assertThat(log.current("other")).extracting(ResultEvent::id).containsExactly(3L);
    }

    @Test
    void shouldResumeExactlyAfterTheGivenIdThenGoLive() {
        ResultLog<String, Long> log = builder().build();
        for (int i = 0; i < 5; i++) {
            log.append(result("k" + i, 0, 10, i, 0));
        }
        StepVerifier.create(log.events(3L, false))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#4"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#5"))
                .then(() -> log.append(result("k9", 0, 10, 9, 0)))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#6"))
                .thenCancel()
                .verify(WAIT);
        StepVerifier.create(log.events(6L, false))
                .then(() -> log.append(result("k9", 0, 10, 10, 1)))
                .assertNext(e -> assertThat(type(e)).isEqualTo("retract#7"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#8"))
                .thenCancel()
                .verify(WAIT);
        assertThat(log.clientCount()).isZero();
    }

    @Test
    void shouldGiveOnlyLiveEventsToAClientWithoutIdAndSnapshotWhenAsked() {
        ResultLog<String, Long> log = builder().build();
        log.append(result("a", 0, 10, 1, 0));
        log.append(result("a", 0, 10, 2, 1));
        StepVerifier.create(log.events(null, false))
                .then(() -> log.append(result("b", 0, 10, 1, 0)))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#4"))
                .thenCancel()
                .verify(WAIT);
        StepVerifier.create(log.events(null, true).take(5))
                .assertNext(e -> {
                    assertThat(type(e)).isEqualTo("reset");
                    assertThat(e.data()).isEqualTo("{\"reason\":\"no last event id, snapshot requested\",\"lastEventId\":null,\"head\":4}");
                })
                .assertNext(e -> assertThat(e).isEqualTo(new ResultEvent(null, ResultEvent.Type.SNAPSHOT,
                        log.current("a").get(0).data())))
                .assertNext(e -> assertThat(e).isEqualTo(new ResultEvent(null, ResultEvent.Type.SNAPSHOT,
                        log.current("b").get(0).data())))
                .assertNext(e -> assertThat(e).isEqualTo(new ResultEvent(4L, ResultEvent.Type.SNAPSHOT_END, "{\"head\":4}")))
                .then(() -> log.append(result("c", 0, 10, 1, 0)))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#5"))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void shouldResetAndSnapshotAClientWhoseIdLeftRetentionByCount() {
        ResultLog<String, Long> log = builder().retainCount(5).clientBuffer(5).build();
        for (int i = 0; i < 4; i++) {
            log.append(result("k" + (i % 2), 0, 10, i, i / 2)); // ids 1, 2, 3(retract 1), 4, 5(retract 2), 6
        }
        assertThat(log.lastEventId()).isEqualTo(6);
        assertThat(log.oldestEventId()).isEqualTo(2);
        List<ResultEvent> got = log.events(0L, false).take(4).collectList().block(WAIT);
        assertThat(got).extracting(ResultLogTest::type)
                .containsExactly("reset", "snapshot", "snapshot", "snapshot-end#6");
        assertThat(got.get(0).data()).contains("\"lastEventId\":0").contains("no longer retained").contains("oldest retained event is 2");
        assertThat(got.get(1).data()).startsWith("{\"id\":4,\"key\":\"k0\"");
        assertThat(got.get(2).data()).startsWith("{\"id\":6,\"key\":\"k1\"");
        // id 1 is the one before the oldest retained: exactly resumable
        assertThat(log.events(1L, false).take(1).blockFirst(WAIT)).extracting(ResultLogTest::type).isEqualTo("result#2");
    }

    @Test
    void shouldRetractLiveResultsOlderThanTheRetentionAgeExplicitly() {
        ResultLog<String, Long> log = builder().retainAge(Duration.ofMinutes(1)).build();
        log.append(result("k", 0, 10, 1, 0));
        clock.advanceTimeBy(Duration.ofSeconds(40));
        log.append(result("k", 10, 20, 1, 0));
        clock.advanceTimeBy(Duration.ofSeconds(30));
        assertThat(log.current("k")).extracting(ResultEvent::id).containsExactly(2L);
        List<ResultEvent> got = log.events(1L, false).take(2).collectList().block(WAIT);
        assertThat(got).extracting(ResultLogTest::type).containsExactly("result#2", "retract#3");
        assertThat(got.get(1).data()).isEqualTo("{\"id\":3,\"retracts\":1,\"key\":\"k\",\"window\":{\"start\":0,"
                + "\"end\":10},\"reason\":\"expired\"}");
        // event 1 is older than a minute: no longer retained
        assertThat(log.oldestEventId()).isEqualTo(2);
        got = log.events(0L, false).take(3).collectList().block(WAIT);
        assertThat(got).extracting(ResultLogTest::type).containsExactly("reset", "snapshot", "snapshot-end#3");
        clock.advanceTimeBy(Duration.ofSeconds(31));
        assertThat(log.current("k")).isEmpty();
    }

    @Test
    void shouldRetractTheOldestLiveWindowWhenTheLiveViewExceedsTheRetainCount() {
        ResultLog<String, Long> log = builder().retainCount(3).clientBuffer(3).build();
        for (int i = 0; i < 3; i++) {
            log.append(result("k", i * 10, i * 10 + 10, i, 0));
        }
        log.append(result("k", 30, 40, 3, 0)); // retract#4 of result 1, then result#5
        assertThat(log.current("k")).extracting(ResultEvent::id).containsExactly(2L, 3L, 5L);
        StepVerifier.create(log.events(3L, false).take(2))
                .assertNext(e -> assertThat(e.data()).isEqualTo("{\"id\":4,\"retracts\":1,\"key\":\"k\",\"window\":"
                        + "{\"start\":0,\"end\":10},\"reason\":\"expired\"}"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#5"))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void shouldResetAClientWithAnIdUnknownToThisLog() {
        ResultLog<String, Long> log = builder().build();
        log.append(result("k", 0, 10, 1, 0));
        StepVerifier.create(log.events(99L, false).take(3))
                .assertNext(e -> assertThat(e.data()).contains("last event id 99 is unknown").contains("\"head\":1"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("snapshot"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("snapshot-end#1"))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void shouldCutOffASubscriberThatFallsMoreThanTheClientBufferBehindWithoutHoldingUpTheAppenderOrOthers() {
        ResultLog<String, Long> log = builder().clientBuffer(10).retainCount(100).build();
        List<ResultEvent> fast = new ArrayList<>();
        reactor.core.Disposable other = log.events(null, false).subscribe(fast::add);
        StepVerifier.create(log.events(null, false), 0)
                .then(() -> {
                    for (int i = 0; i < 11; i++) {
                        log.append(result("k" + i, 0, 10, i, 0));
                    }
                })
                .expectErrorSatisfies(t -> {
                    assertThat(t).isInstanceOf(SlowClientException.class)
                            .hasMessage("client of result log 'test' was cut off: it fell 11 events behind, at most 10 "
                                    + "are allowed (clientBuffer); resume with Last-Event-ID 0");
                    assertThat(((SlowClientException) t).behind()).isEqualTo(11);
                    assertThat(((SlowClientException) t).lastEventId()).isZero();
                })
                .verify(WAIT);
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> fast.size() == 11);
        assertThat(log.clientCount()).isEqualTo(1);
        other.dispose();
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> log.clientCount() == 0);
    }

    @Test
    void shouldNotCutOffASubscriberExactlyAtTheClientBuffer() {
        ResultLog<String, Long> log = builder().clientBuffer(10).retainCount(100).build();
        StepVerifier.create(log.events(null, false), 0)
                .then(() -> {
                    for (int i = 0; i < 10; i++) {
                        log.append(result("k" + i, 0, 10, i, 0));
                    }
                })
                .expectNoEvent(Duration.ofMillis(100))
                .thenRequest(10)
                .expectNextCount(10)
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void shouldSendHeartbeatsOnTheSchedulersClockOnlyWhenTheSubscriberHasDemand() {
        ResultLog<String, Long> log = builder().heartbeat(Duration.ofSeconds(15)).build();
        StepVerifier.create(log.events(null, false), 1)
                .then(() -> clock.advanceTimeBy(Duration.ofSeconds(14)))
                .expectNoEvent(Duration.ofMillis(50))
                .then(() -> clock.advanceTimeBy(Duration.ofSeconds(1)))
                .expectNext(ResultEvent.HEARTBEAT)
                .then(() -> clock.advanceTimeBy(Duration.ofSeconds(30)))
                .expectNoEvent(Duration.ofMillis(50)) // no demand: heartbeats are not kept
                .thenRequest(1)
                .then(() -> clock.advanceTimeBy(Duration.ofSeconds(15)))
                .expectNext(ResultEvent.HEARTBEAT)
                .thenCancel()
                .verify(WAIT);
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> log.clientCount() == 0);
    }

    @Test
    void shouldWatchOneKeySnapshotThenItsLiveEventsOnly() {
        ResultLog<String, Long> log = builder().build();
        log.append(result("a", 0, 10, 1, 0));
        log.append(result("b", 0, 10, 1, 0));
        StepVerifier.create(log.watch("a"))
                .assertNext(e -> assertThat(e).isEqualTo(new ResultEvent(null, ResultEvent.Type.SNAPSHOT, log.current("a").get(0).data())))
                .assertNext(e -> assertThat(type(e)).isEqualTo("snapshot-end#2"))
                .then(() -> {
                    log.append(result("b", 0, 10, 2, 1));
                    log.append(result("a", 0, 10, 2, 1));
                })
                .assertNext(e -> assertThat(type(e)).isEqualTo("retract#5"))
                .assertNext(e -> assertThat(type(e)).isEqualTo("result#6"))
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void shouldAppendRecordsOfAStreamIgnoringOtherElementsAndDeadLetterWhatCannotBeWritten() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<DeadLetter<String, WindowResult<String, Long>>> dead = new ArrayList<>();
        ResultLog<String, Long> log = builder().meterRegistry(registry).deadLetters(dead::add)
                .valueWriter(v -> {
                    if (v < 0) {
                        throw new IllegalStateException("negative counts are not written");
                    }
                    return v;
                }).build();
        Origin origin = Origin.of("src", 1, 42);
        StreamRecord<String, WindowResult<String, Long>> bad = StreamRecord.of("k", result("k", 0, 10, -1, 0), 9, origin);
        Flux<StreamElement<String, WindowResult<String, Long>>> in = Flux.just(
                StreamRecord.of("k", result("k", 0, 10, 1, 0), 9), Watermark.of(9), bad,
                StreamRecord.of("k", result("k", 10, 20, 1, 0), 19));
        StepVerifier.create(log.append(in)).expectComplete().verify(WAIT);
        assertThat(log.lastEventId()).isEqualTo(2);
        assertThat(dead).hasSize(1);
        assertThat(dead.get(0).input()).isSameAs(bad);
        assertThat(dead.get(0).origin()).isEqualTo(origin);
        assertThat(dead.get(0).operator()).isEqualTo("result-log test");
        assertThat(dead.get(0).error()).hasMessageContaining("negative counts are not written");
        assertThat(registry.get("streamflow.records.dead.letter").tag("operator", "test").tag("pipeline", "default")
                .counter().count()).isEqualTo(1);
        assertThatThrownBy(() -> log.append(result("k", 0, 10, -1, 0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("result log 'test' cannot write");
    }

    @Test
    void shouldCountDeadLettersUnderTheSameTagsAsThePipelinesOtherDeadLettersInOnePrometheusRegistry() {
        // Prometheus refuses a meter name registered again with other tag keys: the pipeline's
        // operators count their dead letters by pipeline and operator, so must the log
        io.micrometer.prometheusmetrics.PrometheusMeterRegistry registry =
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        io.micrometer.core.instrument.Counter.builder(StreamFlowMeters.RECORDS_DEAD_LETTER.meterName())
                .baseUnit(StreamFlowMeters.RECORDS_DEAD_LETTER.baseUnit())
                .tag("pipeline", "views").tag("operator", "counts").register(registry).increment();
        ResultLog<String, Long> log = builder().pipeline("views").meterRegistry(registry).build();
        assertThat(log.append(result("k", 0, 10, 1, 0))).isEqualTo(1);
        assertThat(registry.scrape()).contains("operator=\"test\",pipeline=\"views\"} 0.0")
                .contains("operator=\"counts\",pipeline=\"views\"} 1.0");
    }

    @Test
    void shouldHonourDemandWhenAppendingAStream() {
        ResultLog<String, Long> log = builder().build();
        TestPublisher<StreamElement<String, WindowResult<String, Long>>> in = TestPublisher.create();
        StepVerifier.create(log.append(in))
                .then(() -> {
                    in.assertMinRequested(1).assertMaxRequested(256);
                    in.next(StreamRecord.of("k", result("k", 0, 10, 1, 0), 9));
                    in.complete();
                })
                .expectComplete()
                .verify(WAIT);
        assertThat(log.lastEventId()).isEqualTo(1);
    }

    @Test
    void shouldReportBadConfigurationClearly() {
        assertThatThrownBy(() -> ResultLog.builder(" ")).hasMessageContaining("needs a name");
        assertThatThrownBy(() -> builder().retainCount(0)).hasMessage("retainCount must be >= 1 event, was 0");
        assertThatThrownBy(() -> builder().heartbeat(Duration.ofSeconds(-1))).hasMessageContaining("heartbeat must be zero");
        assertThatThrownBy(() -> builder().retainCount(10).clientBuffer(11).build())
                .hasMessage("result log 'test': clientBuffer (11) must not exceed retainCount (10): a client can only "
                        + "fall behind by events the log still holds");
    }
}
