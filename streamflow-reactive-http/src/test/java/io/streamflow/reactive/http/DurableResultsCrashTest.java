package io.streamflow.reactive.http;

import io.streamflow.reactive.test.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exact resume across crashes: {@link DurableResultsCrashPipeline} (a checkpointed pipeline into a
 * durable result log, served over SSE) runs in a child JVM that is killed with SIGKILL at random
 * points ({@code -Dresults.crash.kills=N}, default 3) and started again on the same directories and
 * port, then let run to the end of its input. Meanwhile {@value #CLIENTS} clients read the log over
 * HTTP, cut their connection at random points and reconnect with {@code Last-Event-ID}, also while
 * the server is down. At the end, every client must hold exactly the final count of every key and
 * window of the input (computed here, independently of the pipeline), must have seen every id once,
 * in order and without a gap, each window's panes in increasing order (a checkpoint delivered
 * twice would repeat one), and all clients must agree on every event of every id: an event a
 * crash took back and a later run numbered again would show up as two clients disagreeing on an id.
 * Replay a run with {@code -Dseed=}.
 */
class DurableResultsCrashTest {

    private static final int KILLS = Integer.getInteger("results.crash.kills", 3);
    private static final long RECORDS = Long.getLong("results.crash.records", 40_000);
    private static final double RATE = 2_500;
    private static final int CLIENTS = 3;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    /** What one client saw. */
    record ClientRun(String name, int connections, int resets, long events, Map<String, Long> view,
                     Map<Long, String> byId) {
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void clientsReassembleTheExactResultsAcrossCrashesOfTheServer() throws Exception {
        long seed = Long.getLong("seed", System.nanoTime());
        System.out.println("DurableResultsCrashTest seed=" + seed + " kills=" + KILLS + " records=" + RECORDS
                + " (replay with -Dseed=" + seed + ")");
        Random rnd = new Random(seed);
        int port = freePort();
        Path checkpoints = dir.resolve("checkpoints");
        Path results = dir.resolve("results");
        List<String> args = List.of(checkpoints.toString(), results.toString(), Integer.toString(port),
                Long.toString(RECORDS), Long.toString(seed), Double.toString(RATE));

        AtomicLong finalHead = new AtomicLong(-1);
        ExecutorService threads = Executors.newFixedThreadPool(CLIENTS);
        long started = System.nanoTime();
        int kills = 0;
        int runs = 0;
        List<String> killedAt = new ArrayList<>();
        try {
            List<Future<ClientRun>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                Random clientRnd = new Random(seed + 17 * (c + 1));
                String name = "client-" + c;
                clients.add(threads.submit(() -> read(name, port, clientRnd, finalHead)));
            }
            while (kills < KILLS) {
                runs++;
                try (ChildJvm child = ChildJvm.start(DurableResultsCrashPipeline.class, List.of("-Xmx128m", "-XX:+AllowRedefinitionToAddDeleteMethods"),
                        args.toArray(String[]::new))) {
                    String serving = child.awaitLine(l -> l.startsWith("serving "), Duration.ofSeconds(60))
                            .orElseThrow(() -> new AssertionError("the child ended before serving:\n"
                                    + child.output()));
                    long delay = 1_000 + rnd.nextInt(2_500);
                    if (child.killAfter(Duration.ofMillis(delay))) {
                        kills++;
                        killedAt.add(serving.substring("serving ".length()) + "+" + delay + "ms");
                    } else {
                        throw new AssertionError("the child ended by itself:\n" + child.output());
                    }
                }
            }
            long head;
            try (ChildJvm child = ChildJvm.start(DurableResultsCrashPipeline.class, List.of("-Xmx128m", "-XX:+AllowRedefinitionToAddDeleteMethods"),
                    args.toArray(String[]::new))) {
                String done = child.awaitLine(l -> l.startsWith("done "), Duration.ofSeconds(60))
                        .orElseThrow(() -> new AssertionError("the last run ended before its input:\n"
                                + child.output()));
                runs++;
                head = Long.parseLong(done.substring("done ".length()));
                finalHead.set(head);
                List<ClientRun> runsOfClients = new ArrayList<>();
                for (Future<ClientRun> f : clients) {
                    runsOfClients.add(f.get(90, TimeUnit.SECONDS));
                }
                verify(runsOfClients, reference(seed), head);
            }
            System.out.println("DurableResultsCrashTest: " + kills + " kills over " + runs + " runs (killed at "
                    + "restored id + time: " + killedAt + "), " + head + " events, result log file "
                    + java.nio.file.Files.size(results.resolve("results-counts.mv")) / 1024 + " KiB, "
                    + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + " s");
        } finally {
            threads.shutdownNow();
        }
    }

    /** The final count of each key and window of the input, as {@code key|start|end}. */
    private static Map<String, Long> reference(long seed) {
        Map<String, Long> counts = new HashMap<>();
        for (long n = 0; n < RECORDS; n++) {
            long ts = n * DurableResultsCrashPipeline.STEP_MILLIS;
            long start = ts - Math.floorMod(ts, DurableResultsCrashPipeline.WINDOW_MILLIS);
            counts.merge(DurableResultsCrashPipeline.key(seed, n) + "|" + start + "|"
                    + (start + DurableResultsCrashPipeline.WINDOW_MILLIS), 1L, Long::sum);
        }
        return counts;
    }

    private static void verify(List<ClientRun> runs, Map<String, Long> reference, long head) {
        assertThat(head).as("events in the log").isGreaterThan(reference.size());
        Map<Long, String> agreed = new TreeMap<>();
        for (ClientRun run : runs) {
            System.out.println("  " + run.name() + ": " + run.connections() + " connections, " + run.events()
                    + " events, " + run.resets() + " resets, " + run.view().size() + " windows");
            assertThat(run.view()).as(run.name() + "'s view").isEqualTo(reference);
            for (Map.Entry<Long, String> e : run.byId().entrySet()) {
                String other = agreed.putIfAbsent(e.getKey(), e.getValue());
                assertThat(other == null ? e.getValue() : other).as("event " + e.getKey() + " as " + run.name()
                        + " and an earlier client saw it").isEqualTo(e.getValue());
            }
        }
        assertThat(runs).allSatisfy(r -> assertThat(r.connections()).isGreaterThan(KILLS));
    }

    /**
     * Reads the log from the start, connection after connection, each cut after a random number of
     * events or ended by a crash of the server, coming back with the last id seen, until it holds
     * the final head. Checks as it goes that ids only grow, one by one, and that a retraction takes
     * back a result the client holds.
     */
    private static ClientRun read(String name, int port, Random rnd, AtomicLong finalHead) {
        Map<String, Long> view = new HashMap<>();
        Map<String, Long> viewIds = new HashMap<>();
        Map<String, Long> panes = new HashMap<>();
        Map<Long, String> byId = new ConcurrentHashMap<>();
        long[] last = {0};
        int[] resets = {0};
        long[] events = {0};
        int connections = 0;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadline) {
            long target = finalHead.get();
            if (target >= 0 && last[0] == target) {
                return new ClientRun(name, connections, resets[0], events[0], view, byId);
            }
            connections++;
            int cutAfter = 1 + rnd.nextInt(1_500);
            int[] seen = {0};
            SseParser parser = new SseParser();
            try {
                HttpClient.newConnection().host("127.0.0.1").port(port)
                        .headers(h -> h.set("Last-Event-ID", Long.toString(last[0])))
                        .get().uri("/results")
                        .responseContent().asString(StandardCharsets.UTF_8)
                        .concatMapIterable(parser::feed)
                        .takeUntil(f -> {
                            apply(name, f, view, viewIds, panes, byId, last, resets, events);
                            if (f.id != null) {
                                seen[0]++;
                            }
                            long t = finalHead.get();
                            return seen[0] >= cutAfter || (t >= 0 && last[0] == t);
                        })
                        .timeout(Duration.ofSeconds(10))
                        .blockLast();
            } catch (RuntimeException e) {
                if (reactor.core.Exceptions.unwrap(e) instanceof AssertionError failed) {
                    throw failed;
                }
                // the server is down (killed, or not yet up again): come back with the last id
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50 + rnd.nextInt(150)));
            }
        }
        throw new AssertionError(name + " did not reach the final head " + finalHead.get() + ", it is at " + last[0]);
    }

    private static void apply(String name, Frame f, Map<String, Long> view, Map<String, Long> viewIds,
                              Map<String, Long> panes, Map<Long, String> byId, long[] last, int[] resets, long[] events) {
        if (f.event == null) {
            return; // heartbeat or comment
        }
        JsonNode data = JSON.readTree(f.data);
        switch (f.event) {
            case "reset" -> {
                view.clear();
                viewIds.clear();
                panes.clear();
                resets[0]++;
            }
            case "snapshot" -> {
                String slot = slot(data);
                view.put(slot, data.get("value").asLong());
                viewIds.put(slot, data.get("id").asLong());
            }
            case "snapshot-end" -> {
                assertThat(f.id).as(name + ": snapshot-end after " + last[0]).isGreaterThanOrEqualTo(last[0]);
                last[0] = f.id;
            }
            case "result", "retract" -> {
                assertThat(f.id).as(name + ": the event after id " + last[0]).isEqualTo(last[0] + 1);
                last[0] = f.id;
                events[0]++;
                byId.put(f.id, f.event + " " + f.data);
                String slot = slot(data);
                if (f.event.equals("retract")) {
                    assertThat(viewIds.get(slot)).as(name + ": " + f.data + " retracts the result it holds")
                            .isEqualTo(data.get("retracts").asLong());
                    view.remove(slot);
                    viewIds.remove(slot);
                } else {
                    assertThat(view).as(name + ": " + f.data + " comes after the retraction of its window's result")
                            .doesNotContainKey(slot);
                    long pane = data.get("pane").get("index").asLong();
                    Long previous = panes.put(slot, pane);
                    assertThat(previous == null ? -1 : previous).as(name + ": the pane before " + f.data
                            + " (a result delivered twice?)").isLessThan(pane);
                    view.put(slot, data.get("value").asLong());
                    viewIds.put(slot, f.id);
                }
            }
            default -> throw new AssertionError(name + ": unexpected event " + f.event + " " + f.data);
        }
    }

    private static String slot(JsonNode data) {
        return data.get("key").asString() + "|" + data.get("window").get("start").asLong() + "|"
                + data.get("window").get("end").asLong();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** One SSE frame: id, event and data lines; comments and heartbeats have no event. */
    record Frame(Long id, String event, String data) {
    }

    /** Splits an SSE body into frames across chunk boundaries. */
    static final class SseParser {
        private final StringBuilder pending = new StringBuilder();

        List<Frame> feed(String chunk) {
            pending.append(chunk);
            List<Frame> out = new ArrayList<>();
            int end;
            while ((end = pending.indexOf("\n\n")) >= 0) {
                String block = pending.substring(0, end);
                pending.delete(0, end + 2);
                Long id = null;
                String event = null;
                String data = null;
                for (String line : block.split("\n")) {
                    if (line.startsWith("id: ")) {
                        id = Long.parseLong(line.substring(4));
                    } else if (line.startsWith("event: ")) {
                        event = line.substring(7);
                    } else if (line.startsWith("data: ")) {
                        data = line.substring(6);
                    }
                }
                out.add(new Frame(id, event, data));
            }
            return out;
        }
    }
}
