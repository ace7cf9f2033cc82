package io.streamflow.reactive.http.internal.results;

import io.streamflow.reactive.http.ResultLog;
import io.streamflow.reactive.http.internal.results.SseFrames.Frame;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.netty.DisposableServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Exact resume over real HTTP: an appender produces seeded results (later panes, or merging
 * sessions) while clients read the log over SSE, disconnect at random points and come back with
 * their last id. Every client must end with the reference model's view, having seen each id once,
 * in order, with no gap; a client whose id left retention must get a reset and a snapshot and still
 * end with the reference view.
 */
class SseResumeTest {

    private static final int RESULTS = 3000;
    private static final int RETAIN = 1500;
    private static final int CLIENTS = 3;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private DisposableServer server;
    private ExecutorService threads;

    @AfterEach
    void stop() {
        if (threads != null) {
            threads.shutdownNow();
        }
        if (server != null) {
            server.disposeNow();
        }
    }

    /** Everything one client received, connection by connection. */
    record ClientRun(String name, List<List<Frame>> connections) {
    }

    @ParameterizedTest(name = "sessions={0}")
    @ValueSource(booleans = {false, true})
    void shouldGiveEveryResumingClientExactlyTheReferenceView(boolean sessions) throws Exception {
        long seed = Long.getLong("seed", System.nanoTime());
        System.out.println("SseResumeTest sessions=" + sessions + " seed=" + seed + " (replay with -Dseed=" + seed + ")");
        List<WindowResult<String, Long>> inputs = sessions ? ResultInputs.sessions(seed, RESULTS)
                : ResultInputs.windows(seed, RESULTS);
        ReferenceResults reference = new ReferenceResults(sessions);
        inputs.forEach(r -> reference.add(r.key(), r.start(), r.end(), r.value(), r.pane().timing().name(),
                r.pane().index(), r.pane().isFinal()));

        ResultLog.Builder<String, Long> builder = ResultLog.<String, Long>builder("resume").retainCount(RETAIN)
                .clientBuffer(RETAIN).retainAge(Duration.ofHours(1)).heartbeat(Duration.ofMillis(200));
        ResultLog<String, Long> log = (sessions ? builder.sessionWindows() : builder).build();
        server = SseFrames.server()
                .route(r -> r.get("/events", (req, res) -> SseResponder.serve(req, res, log)))
                .bindNow();
        int port = server.port();
        threads = Executors.newFixedThreadPool(CLIENTS + 2);

        long[] finalHead = {-1};
        Future<?> appender = threads.submit(() -> {
            for (int i = 0; i < inputs.size(); i++) {
                log.append(inputs.get(i));
                if (i % 5 == 4) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
                }
            }
            synchronized (finalHead) {
                finalHead[0] = log.lastEventId();
            }
        });
        List<Future<ClientRun>> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            Random rnd = new Random(seed + c + 1);
            String name = "client-" + c;
            clients.add(threads.submit(() -> readWithRandomDisconnects(name, port, rnd, finalHead, null)));
        }
        Future<ClientRun> sleepy = threads.submit(() -> readWithRandomDisconnects("sleepy", port, new Random(seed - 1),
                finalHead, lastId -> await().atMost(Duration.ofSeconds(60))
                        .until(() -> log.lastEventId() > lastId + RETAIN + 50)));

        appender.get(60, TimeUnit.SECONDS);
        assertThat(log.lastEventId()).isEqualTo(reference.events.size());
        List<ClientRun> runs = new ArrayList<>();
        for (Future<ClientRun> f : clients) {
            runs.add(f.get(120, TimeUnit.SECONDS));
        }
        ClientRun sleepyRun = sleepy.get(120, TimeUnit.SECONDS);
        runs.add(sleepyRun);
        for (ClientRun run : runs) {
            verify(run, reference);
        }
        // the sleepy client came back with an id that had left retention: reset and snapshot, cut off
        // after 5 frames; it still had its old id, so it was reset again and got the whole snapshot
        List<Frame> second = sleepyRun.connections().get(1);
        assertThat(second).extracting(Frame::event).containsExactly("reset", "snapshot", "snapshot", "snapshot",
                "snapshot");
        assertThat(second.get(0).data()).contains("is no longer retained");
        List<Frame> third = sleepyRun.connections().get(2);
        assertThat(third.get(0).event()).isEqualTo("reset");
        assertThat(third.get(0).data()).contains("is no longer retained");
        assertThat(third.stream().filter(f -> "snapshot-end".equals(f.event())).findFirst()).isPresent();
        await().atMost(Duration.ofSeconds(10)).until(() -> log.clientCount() == 0);
    }

    /**
     * Reads the log from id 0, connection after connection, each cut after a random number of
     * frames, until it holds the final head. {@code pause}, when given, runs once after the first
     * connection with the last id seen.
     */
    private static ClientRun readWithRandomDisconnects(String name, int port, Random rnd, long[] finalHead,
                                                       java.util.function.LongConsumer pause) {
        List<List<Frame>> connections = new ArrayList<>();
        long[] lastId = {0};
        for (int attempt = 0; attempt < 10_000; attempt++) {
            long target;
            synchronized (finalHead) {
                target = finalHead[0];
            }
            if (target >= 0 && lastId[0] == target) {
                return new ClientRun(name, connections);
            }
            List<Frame> frames = new ArrayList<>();
            // cut after n events with ids (a snapshot counts as one), so that a long snapshot completes;
            // the sleepy client's second connection is cut in the middle of its snapshot on purpose
            int n = 1 + rnd.nextInt(connections.isEmpty() && pause != null ? 50 : 400);
            boolean cutSnapshot = pause != null && connections.size() == 1;
            int[] withId = {0};
            SseFrames.connect(port, "/events", lastId[0])
                    .doOnNext(f -> {
                        frames.add(f);
                        if (f.id() != null) {
                            lastId[0] = f.id();
                            withId[0]++;
                        }
                    })
                    .takeUntil(f -> {
                        if (cutSnapshot ? frames.size() >= 5 : withId[0] >= n) {
                            return true;
                        }
                        synchronized (finalHead) {
                            return finalHead[0] >= 0 && lastId[0] == finalHead[0];
                        }
                    })
                    .timeout(Duration.ofSeconds(30))
                    .blockLast();
            connections.add(frames);
            if (pause != null && connections.size() == 1) {
                pause.accept(lastId[0]);
            }
        }
        throw new AssertionError(name + " did not reach the head in 10,000 connections");
    }

    private static void verify(ClientRun run, ReferenceResults reference) {
        Map<String, Long> view = new HashMap<>();
        long last = 0;
        long resetAt = -1;
        int events = 0;
        for (List<Frame> connection : run.connections()) {
            for (Frame f : connection) {
                if (f.isHeartbeat()) {
                    continue;
                }
                if (f.retry() != null) {
                    assertThat(f.comment()).contains("was cut off");
                    continue;
                }
                JsonNode data = JSON.readTree(f.data());
                switch (f.event()) {
                    case "reset" -> view.clear();
                    case "snapshot" -> {
                        assertThat(f.id()).isNull();
                        ReferenceResults.Ev e = check(data, reference, false, run.name());
                        view.put(ReferenceResults.slot(e.key(), e.start(), e.end()), e.id());
                    }
                    case "snapshot-end" -> {
                        assertThat(f.id()).as(run.name() + ": snapshot-end id after " + last).isGreaterThan(last);
                        assertThat(data.get("head").asLong()).isEqualTo(f.id());
                        last = f.id();
                        resetAt = f.id();
                    }
                    case "result", "retract" -> {
                        assertThat(f.id()).as(run.name() + ": the event after id " + last).isEqualTo(last + 1);
                        last = f.id();
                        events++;
                        ReferenceResults.Ev e = check(data, reference, f.event().equals("retract"), run.name());
                        assertThat(e.id()).isEqualTo(f.id());
                        String slot = ReferenceResults.slot(e.key(), e.start(), e.end());
                        if (e.retract()) {
                            view.remove(slot);
                        } else {
                            view.put(slot, e.id());
                        }
                    }
                    default -> throw new AssertionError("unexpected event " + f);
                }
            }
        }
        System.out.println("  " + run.name() + ": " + run.connections().size() + " connections, " + events
                + " events, last reset at " + resetAt + ", " + view.size() + " live windows");
        assertThat(last).as(run.name() + " reached the head").isEqualTo(reference.events.size());
        assertThat(view).as(run.name() + " view (reset at " + resetAt + ", " + events + " events, "
                + run.connections().size() + " connections)").isEqualTo(reference.view());
    }

    private static ReferenceResults.Ev check(JsonNode data, ReferenceResults reference, boolean retract, String who) {
        ReferenceResults.Ev e = reference.event(data.get("id").asLong());
        assertThat(e.retract()).as(who + ": " + data).isEqualTo(retract);
        assertThat(data.get("key").asString()).isEqualTo(e.key());
        assertThat(data.get("window").get("start").asLong()).isEqualTo(e.start());
        assertThat(data.get("window").get("end").asLong()).isEqualTo(e.end());
        if (retract) {
            assertThat(data.get("retracts").asLong()).isEqualTo(e.retracts());
        } else {
            assertThat(data.get("value").asLong()).as(who + ": " + data).isEqualTo(e.value());
            assertThat(data.get("pane").get("timing").asString()).isEqualTo(e.timing());
            assertThat(data.get("pane").get("index").asLong()).isEqualTo(e.index());
            assertThat(data.get("pane").get("final").asBoolean()).isEqualTo(e.isFinal());
        }
        return e;
    }
}
