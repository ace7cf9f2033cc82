package io.streamflow.reactive.http.internal.results;

import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.OutboxSink.Delivery;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.ResultEvent;
import io.streamflow.reactive.http.ResultLog;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Trigger;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A durable result log: what it restores when built again on its directory, how it skips a
 * checkpoint it already holds, and that a checkpoint's events and its delivery record are committed
 * together before any client can see them.
 */
class DurableResultLogTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private ResultLog<String, Long> open() {
        return open(5);
    }

    private ResultLog<String, Long> open(int retain) {
        return ResultLog.<String, Long>builder("counts").retainCount(retain).clientBuffer(Math.min(retain, 5_000))
                .retainAge(Duration.ofHours(1)).durable(dir).build();
    }

    private static String rec(ResultLog<String, Long> log, String key, long start, long value, long pane) {
        WindowResult<String, Long> r = new WindowResult<>(key, start, start + 10, value,
                new PaneInfo(pane == 0 ? PaneInfo.Timing.EARLY : PaneInfo.Timing.ON_TIME, pane, pane > 0));
        return log.outboxFormat().apply(StreamRecord.of(key, r, start));
    }

    private static Delivery delivery(long id, long position, int records) {
        return new Delivery(id, Map.of("input", Map.of(0, position)), records, 31 * id, false);
    }

    /** Delivers on a thread that may block, as the checkpointed sink does. */
    private static void deliver(ResultLog<String, Long> log, Delivery d, List<String> records) {
        Mono.fromCallable(() -> {
            log.outboxSink().deliver(d, records);
            return d;
        }).subscribeOn(Schedulers.boundedElastic()).block(WAIT);
    }

    private static List<ResultEvent> replay(ResultLog<String, Long> log, long after) {
        long n = log.lastEventId() - after;
        return n == 0 ? List.of() : log.events(after, false).take(n).collectList().block(WAIT);
    }

    @Test
    void shouldRestoreRetainedEventsLiveViewIdsAndDeliveriesWhenBuiltAgain() throws IOException {
        List<ResultEvent> before;
        List<ResultEvent> currentA;
        List<ResultEvent> currentC;
        List<ResultEvent> snapshot;
        long head;
        long oldest;
        try (ResultLog<String, Long> log = open()) {
            deliver(log, delivery(1, 10, 3), List.of(rec(log, "a", 0, 1, 0), rec(log, "b", 0, 4, 0),
                    rec(log, "c", 10, 2, 0)));
            // a later pane of a's window: retraction 4, result 5; then b's window again: 6, 7
            deliver(log, delivery(2, 20, 2), List.of(rec(log, "a", 0, 3, 1), rec(log, "b", 0, 5, 1)));
            head = log.lastEventId();
            oldest = log.oldestEventId();
            assertThat(head).isEqualTo(7);
            assertThat(oldest).as("retainCount 5 trimmed the oldest events").isEqualTo(3);
            before = replay(log, oldest - 1);
            currentA = log.current("a");
            currentC = log.current("c");
            snapshot = log.events(null, true).take(5).collectList().block(WAIT);
        }
        try (ResultLog<String, Long> log = open()) {
            assertThat(log.lastEventId()).isEqualTo(head);
            assertThat(log.oldestEventId()).isEqualTo(oldest);
            assertThat(replay(log, oldest - 1)).isEqualTo(before);
            assertThat(log.current("a")).isEqualTo(currentA).extracting(ResultEvent::id).containsExactly(5L);
            // c's result event (id 3) is still retained; the live view outlives events that left the log
            assertThat(log.current("c")).isEqualTo(currentC).extracting(ResultEvent::id).containsExactly(3L);
            assertThat(log.events(null, true).take(5).collectList().block(WAIT)).isEqualTo(snapshot);
            assertThat(log.outboxSink().deliveries()).hasValueSatisfying(d -> assertThat(d)
                    .containsExactlyInAnyOrder(delivery(1, 10, 3), delivery(2, 20, 2)));
            // a client that saw id 6 before the restart resumes with exactly event 7
            assertThat(replay(log, 6)).extracting(ResultEvent::id).containsExactly(7L);
            // ids go on where they were
            deliver(log, delivery(3, 30, 1), List.of(rec(log, "d", 20, 9, 0)));
            assertThat(log.lastEventId()).isEqualTo(8);
            assertThat(log.current("d")).extracting(ResultEvent::id).containsExactly(8L);
        }
        try (ResultLog<String, Long> log = open()) {
            assertThat(log.lastEventId()).isEqualTo(8);
            assertThat(log.oldestEventId()).isEqualTo(4);
            assertThat(log.current("a")).extracting(ResultEvent::id).containsExactly(5L);
            // the live view outlives trimmed events: b's result 7 is live, its earlier events are gone
            assertThat(log.current("b")).extracting(ResultEvent::id).containsExactly(7L);
            assertThat(log.current("c")).extracting(ResultEvent::id).containsExactly(3L);
        }
    }

    @Test
    void shouldSkipACheckpointItAlreadyHoldsAlsoAfterARestart() {
        List<String> first;
        try (ResultLog<String, Long> log = open()) {
            first = List.of(rec(log, "a", 0, 1, 0), rec(log, "b", 0, 1, 0));
            deliver(log, delivery(1, 5, 2), first);
            deliver(log, delivery(1, 5, 2), first);
            assertThat(log.lastEventId()).as("the same checkpoint delivered twice").isEqualTo(2);
        }
        try (ResultLog<String, Long> log = open()) {
            // after a crash the pipeline delivers its last committed checkpoint again
            deliver(log, delivery(1, 5, 2), first);
            assertThat(log.lastEventId()).isEqualTo(2);
            deliver(log, delivery(2, 9, 1), List.of(rec(log, "a", 0, 2, 1)));
            assertThat(log.lastEventId()).isEqualTo(4);
            assertThat(replay(log, 0)).extracting(e -> e.type() + "#" + e.id())
                    .containsExactly("RESULT#1", "RESULT#2", "RETRACT#3", "RESULT#4");
            // ids that went back, or a held id with other records: another pipeline feeds the log
            assertThatThrownBy(() -> log.outboxSink().deliver(delivery(2, 9, 2), first))
                    .isInstanceOf(IOException.class).hasMessageContaining("already holds checkpoint 2 as 1 results");
            assertThatThrownBy(() -> log.outboxSink().deliver(delivery(0, 3, 1), List.of(first.get(0))))
                    .isInstanceOf(IOException.class).hasMessageContaining("checkpoint ids went back");
            assertThat(log.lastEventId()).isEqualTo(4);
        }
    }

    @Test
    void shouldKeepNeitherEventsNorDeliveryRecordWhenTheCommitFailsAndPublishNothingBeforeTheCommit()
            throws IOException {
        List<String> batch;
        try (ResultLog<String, Long> log = open()) {
            deliver(log, delivery(1, 5, 1), List.of(rec(log, "a", 0, 1, 0)));
            batch = List.of(rec(log, "a", 0, 2, 1), rec(log, "b", 0, 7, 0));
            DurableResults store = (DurableResults) log.outboxSink();
            // what a client could see while the batch is written: nothing of it
            AtomicReference<String> seen = new AtomicReference<>();
            store.beforeCommit = () -> {
                seen.set(log.lastEventId() + " " + log.current("a").get(0).id() + " " + log.current("b").size());
                throw new IllegalStateException("disk full");
            };
            assertThatThrownBy(() -> log.outboxSink().deliver(delivery(2, 9, 2), batch))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot write checkpoint 2")
                    .hasMessageContaining("nothing of it was published")
                    .hasRootCauseMessage("disk full");
            assertThat(seen.get()).as("head, a's live result, b's results during the write").isEqualTo("1 1 0");
            assertThat(log.lastEventId()).isEqualTo(1);
            assertThat(log.current("a")).extracting(ResultEvent::id).containsExactly(1L);
            assertThat(log.current("b")).isEmpty();
            assertThat(replay(log, 0)).extracting(ResultEvent::id).containsExactly(1L);
            assertThat(log.outboxSink().deliveries()).hasValueSatisfying(d -> assertThat(d)
                    .extracting(Delivery::checkpointId).containsExactly(1L));
            // the write did not reach the commit: the same log takes the checkpoint again
            store.beforeCommit = () -> { };
            deliver(log, delivery(2, 9, 2), batch);
            assertThat(log.lastEventId()).isEqualTo(4);
        }
        try (ResultLog<String, Long> log = open()) {
            assertThat(log.lastEventId()).isEqualTo(4);
            assertThat(replay(log, 0)).extracting(e -> e.type() + "#" + e.id())
                    .containsExactly("RESULT#1", "RETRACT#2", "RESULT#3", "RESULT#4");
            assertThat(log.outboxSink().deliveries()).hasValueSatisfying(d -> assertThat(d)
                    .extracting(Delivery::checkpointId).containsExactlyInAnyOrder(1L, 2L));
        }
    }

    @Test
    void shouldLeaveTheFileWithoutTheCheckpointWhenTheProcessDiesBeforeTheCommit() throws IOException {
        ResultLog<String, Long> log = open();
        deliver(log, delivery(1, 5, 1), List.of(rec(log, "a", 0, 1, 0)));
        DurableResults store = (DurableResults) log.outboxSink();
        store.beforeCommit = () -> {
            throw new IllegalStateException("crash");
        };
        List<String> batch = List.of(rec(log, "b", 0, 7, 0));
        assertThatThrownBy(() -> log.outboxSink().deliver(delivery(2, 9, 1), batch)).isInstanceOf(IOException.class);
        log.close();
        try (ResultLog<String, Long> again = open()) {
            assertThat(again.lastEventId()).isEqualTo(1);
            assertThat(again.current("b")).isEmpty();
            assertThat(again.outboxSink().deliveries()).hasValueSatisfying(d -> assertThat(d)
                    .extracting(Delivery::checkpointId).containsExactly(1L));
        }
    }

    /**
     * Counts per key in 100 ms windows with an early pane every 3 records, into the log, through a
     * checkpoint directory, with a checkpoint every {@code checkpointEvery} records.
     */
    private static void runPipeline(Path checkpoints, ResultLog<String, Long> log, int records, int checkpointEvery) {
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).open()) {
            EventStream.of(cp.source("input", Checkpointing.resumeGenerator(records,
                                    n -> StreamRecord.of("k" + n % 3, "k" + n % 3, n * 10, Origin.of("input", 0, n))),
                            WatermarkStrategy.<String, String>forMonotonousTimestamps()))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .elements()
                    .doOnNext(e -> {
                        if (e instanceof StreamRecord<?, ?> r && r.origin().position() % checkpointEvery == checkpointEvery - 1) {
                            cp.checkpointNow().subscribe();
                        }
                    })
                    .as(EventStream::of)
                    .keyBy(v -> v)
                    .window(Windows.tumbling(Duration.ofMillis(100)))
                    .trigger(Trigger.onWatermark().withEarlyFiringsEvery(3))
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(log.outboxSink(), log.outboxFormat()))
                    .block(WAIT);
        }
    }

    @Test
    void shouldGoOnExactlyOnceWhenThePipelineLostItsCheckpointsAndReplaysFromTheStart() throws IOException {
        Path checkpoints = dir.resolve("checkpoints");
        long head;
        List<ResultEvent> events;
        long deliveries;
        try (ResultLog<String, Long> log = open(10_000)) {
            runPipeline(checkpoints, log, 1_000, 250);
            head = log.lastEventId();
            events = replay(log, log.oldestEventId() - 1);
            deliveries = log.outboxSink().deliveries().map(List::size).orElse(0);
            // 100 windows of 3 keys, each with early panes every 3 records and an on-time pane
            assertThat(log.current("k0")).hasSize(100);
        }
        // the checkpoint directory is lost: the pipeline starts from nothing, replays its whole input, and
        // the log's delivery records make it check the replay against them instead of delivering it again
        try (Stream<Path> files = Files.walk(checkpoints)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        try (ResultLog<String, Long> log = open(10_000)) {
            runPipeline(checkpoints, log, 1_000, 300);
            assertThat(log.lastEventId()).as("events after the replay").isEqualTo(head);
            assertThat(replay(log, log.oldestEventId() - 1)).isEqualTo(events);
            assertThat(deliveries).as("checkpoints delivered by the first run").isGreaterThanOrEqualTo(2);
            // then it goes on with the input beyond what the log holds, under new checkpoint ids
            runPipeline(checkpoints, log, 1_200, 300);
            assertThat(log.lastEventId()).isGreaterThan(head);
            assertThat(log.current("k0")).hasSize(120);
            // every record of k0 (n % 3 == 0, n < 1,200) counted exactly once over its windows
            assertThat(log.current("k0").stream().mapToLong(e -> Long.parseLong(e.data()
                    .replaceAll(".*\"value\":(\\d+),.*", "$1"))).sum()).isEqualTo(400);
        }
    }

    @Test
    void shouldKeepTheRunningValuesOfAPipelineAcrossARestart() {
        Path checkpoints = dir.resolve("checkpoints");
        try (ResultLog<String, Long> log = open(100);
             Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).open()) {
            EventStream.of(cp.source("input", Checkpointing.resumeGenerator(30,
                                    n -> StreamRecord.of("k" + n % 3, "k" + n % 3, n, Origin.of("input", 0, n))),
                            WatermarkStrategy.<String, String>forMonotonousTimestamps()))
                    .settings(OperatorSettings.named("totals").withStateBackend(cp.stateBackend()))
                    .keyBy(v -> v)
                    .runningAggregate(Aggregations.<String>count(), Duration.ofHours(1))
                    .elements()
                    .as(cp.sink(log.outboxSink(), log.outboxValueFormat()))
                    .block(WAIT);
            // 30 values, each after the first of its key superseding the previous one: 30 + 27 events
            assertThat(log.lastEventId()).isEqualTo(57);
        }
        try (ResultLog<String, Long> log = open(100)) {
            assertThat(log.lastEventId()).isEqualTo(57);
            assertThat(log.current("k1")).singleElement().extracting(ResultEvent::data)
                    .isEqualTo("{\"id\":55,\"key\":\"k1\",\"value\":10}");
            assertThat(replay(log, 56)).extracting(ResultEvent::data).containsExactly(
                    "{\"id\":57,\"key\":\"k2\",\"value\":10}");
            assertThat(replay(log, 53)).extracting(ResultEvent::data).startsWith(
                    "{\"id\":54,\"retracts\":49,\"key\":\"k1\",\"reason\":\"superseded\"}");
        }
    }

    @Test
    void shouldRefuseDirectAppendsOnADurableLogAndTheOutboxOnALogInMemory() {
        try (ResultLog<String, Long> log = open()) {
            assertThat(log.isDurable()).isTrue();
            WindowResult<String, Long> r = new WindowResult<>("a", 0, 10, 1L,
                    new PaneInfo(PaneInfo.Timing.ON_TIME, 0, true));
            assertThatThrownBy(() -> log.append(r)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is durable").hasMessageContaining("outboxSink()");
            assertThatThrownBy(() -> log.outboxSink().deliver(1, new ArrayList<>()))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
        ResultLog<String, Long> memory = ResultLog.<String, Long>builder("memory").build();
        assertThat(memory.isDurable()).isFalse();
        assertThatThrownBy(memory::outboxSink).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("durable(directory)");
    }
}
