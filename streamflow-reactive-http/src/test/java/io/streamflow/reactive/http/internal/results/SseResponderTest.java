package io.streamflow.reactive.http.internal.results;

import io.netty.channel.ChannelOption;
import io.streamflow.reactive.http.ResultEvent;
import io.streamflow.reactive.http.ResultLog;
import io.streamflow.reactive.http.internal.results.SseFrames.Frame;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.test.scheduler.VirtualTimeScheduler;
import reactor.util.function.Tuple2;
import reactor.util.function.Tuples;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SseResponderTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private DisposableServer server;
    private final List<Disposable> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(Disposable::dispose);
        if (server != null) {
            server.disposeNow();
        }
    }

    private static WindowResult<String, Long> result(String key, long start, long value, long pane) {
        return new WindowResult<>(key, start, start + 1000, value,
                new PaneInfo(pane == 0 ? PaneInfo.Timing.ON_TIME : PaneInfo.Timing.LATE, pane, false));
    }

    private int serve(ResultLog<String, Long> log, HttpServer base) {
        server = base
                .route(r -> r.get("/events", (req, res) -> SseResponder.serve(req, res, log))
                        .get("/keys/{key}", (req, res) -> SseResponder.current(req, res, log, key(req.param("key"))))
                        .get("/keys/{key}/events", (req, res) -> SseResponder.watch(req, res, log, key(req.param("key")))))
                .bindNow();
        return server.port();
    }

    private static String key(String param) {
        return URLDecoder.decode(param, StandardCharsets.UTF_8);
    }

    /** status, content type and body of a GET */
    private static Tuple2<Integer, String> get(int port, String path, StringBuilder contentType) {
        return SseFrames.client().port(port).get().uri(path)
                .responseSingle((res, body) -> {
                    contentType.append(res.responseHeaders().get("Content-Type"));
                    return body.asString().defaultIfEmpty("").map(b -> Tuples.of(res.status().code(), b));
                })
                .block(WAIT);
    }

    @Test
    void shouldCutOffAClientThatNeverReadsWithRetryWhileTheAppenderAndANormalClientGoOn() throws Exception {
        int total = 5000;
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("slow").clientBuffer(200).retainCount(10_000)
                .heartbeat(Duration.ZERO).build();
        // small socket buffers on both ends, so that a client that does not read backs up quickly
        int port = serve(log, SseFrames.server().childOption(ChannelOption.SO_SNDBUF, 4096));
        List<Frame> normal = Collections.synchronizedList(new ArrayList<>());
        clients.add(SseFrames.connect(port, "/events", 0L).subscribe(normal::add));
        try (Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", port));
            slow.getOutputStream().write(("GET /events?lastEventId=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            slow.getOutputStream().flush();
            await().atMost(WAIT).until(() -> log.clientCount() == 2);

            // the appender never waits for the slow client; it paces itself on the normal client only,
            // which has the same client buffer
            for (int i = 0; i < total; i++) {
                log.append(result("k" + (i % 50), (i / 50) * 1000L, i, 0));
                if (i % 100 == 99) {
                    int upTo = i + 1;
                    await().atMost(WAIT).until(() -> normal.size() >= upTo);
                }
            }
            await().atMost(WAIT).until(() -> normal.size() == total);
            assertThat(normal).extracting(Frame::id).containsExactlyElementsOf(
                    java.util.stream.LongStream.rangeClosed(1, total).boxed().toList());
            assertThat(log.clientCount()).as("the slow client is gone, the normal one reads on").isEqualTo(1);

            // now read what the slow client was sent: events from id 1 without gap, then the cut-off
            slow.setSoTimeout(10_000);
            InputStream in = slow.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            String text = "";
            while (!text.contains("retry: 1000\n\n")) {
                int n = in.read(buf);
                assertThat(n).as("the slow client's stream ended before the retry field: " + text.length() + " chars")
                        .isPositive();
                got.write(buf, 0, n);
                text = got.toString(StandardCharsets.UTF_8);
            }
            assertThat(text).startsWith("HTTP/1.1 200 OK");
            assertThat(text).containsIgnoringCase("content-type: text/event-stream");
            List<Frame> frames = new ArrayList<>();
            for (String line : text.split("\r\n")) {
                // chunked transfer: the frames are the chunks' payload lines
                if (line.contains("\n\n")) {
                    for (String block : line.split("\n\n")) {
                        if (!block.isBlank()) {
                            frames.add(SseFrames.parse(block));
                        }
                    }
                }
            }
            Frame last = frames.get(frames.size() - 1);
            assertThat(last.retry()).isEqualTo(1000);
            assertThat(last.comment()).contains("was cut off: it fell ").contains("at most 200 are allowed");
            List<Long> ids = frames.stream().map(Frame::id).filter(java.util.Objects::nonNull).toList();
            assertThat(ids).isNotEmpty();
            assertThat(ids).containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, ids.size()).boxed().toList());
            assertThat(ids.size()).isLessThan(total);
            assertThat(last.comment()).contains("resume with Last-Event-ID " + ids.size());
            System.out.println("slow client got " + ids.size() + " of " + total + " events before the cut-off: "
                    + last.comment());
        }
    }

    @Test
    void shouldServeSseHeadersFramesSnapshotAndHeartbeats() {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("frames").scheduler(clock)
                .heartbeat(Duration.ofSeconds(15)).build();
        log.append(result("a", 0, 1, 0));
        log.append(result("a", 0, 2, 1));
        int port = serve(log, SseFrames.server());
        List<String> contentType = Collections.synchronizedList(new ArrayList<>());
        List<String> cache = Collections.synchronizedList(new ArrayList<>());
        List<String> chunks = Collections.synchronizedList(new ArrayList<>());
        clients.add(SseFrames.client().port(port).get().uri("/events?snapshot=true")
                .response((res, body) -> {
                    contentType.add(res.responseHeaders().get("Content-Type"));
                    cache.add(res.responseHeaders().get("Cache-Control"));
                    return body.asString(StandardCharsets.UTF_8);
                })
                .subscribe(chunks::add));
        String snapshot = log.current("a").get(0).data();
        String expected = "event: reset\ndata: {\"reason\":\"no last event id, snapshot requested\",\"lastEventId\":null,"
                + "\"head\":3}\n\nevent: snapshot\ndata: " + snapshot + "\n\nid: 3\nevent: snapshot-end\ndata: {\"head\":3}\n\n";
        await().atMost(WAIT).until(() -> String.join("", chunks).equals(expected));
        assertThat(contentType).containsExactly("text/event-stream");
        assertThat(cache).containsExactly("no-cache");
        clock.advanceTimeBy(Duration.ofSeconds(15));
        await().atMost(WAIT).until(() -> String.join("", chunks).equals(expected + ": keep-alive\n\n"));
        log.append(result("b", 0, 1, 0));
        String live = "id: 4\nevent: result\ndata: " + log.current("b").get(0).data() + "\n\n";
        await().atMost(WAIT).until(() -> String.join("", chunks).equals(expected + ": keep-alive\n\n" + live));
    }

    @Test
    void shouldAnswerTheCurrentResultsOfAKeyAsJsonAnd404ForAnUnknownKey() {
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("keys").build();
        log.append(result("user 1", 0, 1, 0));
        log.append(result("user 1", 1000, 5, 0));
        log.append(result("user 1", 0, 2, 1));
        log.append(result("user 2", 0, 9, 0));
        int port = serve(log, SseFrames.server());
        StringBuilder type = new StringBuilder();
        Tuple2<Integer, String> ok = get(port, "/keys/user%201", type);
        assertThat(ok.getT1()).isEqualTo(200);
        assertThat(type.toString()).isEqualTo("application/json");
        assertThat(ok.getT2()).isEqualTo("[" + log.current("user 1").get(0).data() + "," + log.current("user 1").get(1).data() + "]");
        assertThat(ok.getT2()).startsWith("[{\"id\":4,\"key\":\"user 1\",\"window\":{\"start\":0,\"end\":1000},\"value\":2,")
                .contains("{\"id\":2,\"key\":\"user 1\",\"window\":{\"start\":1000,\"end\":2000},\"value\":5,");

        type.setLength(0);
        Tuple2<Integer, String> missing = get(port, "/keys/nobody", type);
        assertThat(missing.getT1()).isEqualTo(404);
        assertThat(type.toString()).isEqualTo("application/json");
        assertThat(missing.getT2()).isEqualTo("{\"status\":404,\"error\":\"Not Found\",\"message\":\"result log 'keys' has "
                + "no current result for key 'nobody': it never had one, or they were retracted or left retention "
                + "(10000 events, PT10M)\"}");

        type.setLength(0);
        Tuple2<Integer, String> bad = get(port, "/events?lastEventId=yesterday", type);
        assertThat(bad.getT1()).isEqualTo(400);
        assertThat(type.toString()).isEqualTo("application/json");
        assertThat(bad.getT2()).isEqualTo("{\"status\":400,\"error\":\"Bad Request\",\"message\":\"Last-Event-ID (header "
                + "or lastEventId parameter) must be the decimal id of an event of result log 'keys', was 'yesterday'\"}");
        type.setLength(0);
        assertThat(get(port, "/events?snapshot=maybe", type).getT1()).isEqualTo(400);
    }

    @Test
    void shouldWatchOneKeyOverSse() {
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("watch").build();
        log.append(result("a", 0, 1, 0));
        log.append(result("b", 0, 1, 0));
        int port = serve(log, SseFrames.server());
        List<Frame> frames = Collections.synchronizedList(new ArrayList<>());
        clients.add(SseFrames.connect(port, "/keys/a/events", null).subscribe(frames::add));
        await().atMost(WAIT).until(() -> frames.size() == 2);
        log.append(result("b", 0, 2, 1));
        log.append(result("a", 0, 2, 1));
        await().atMost(WAIT).until(() -> frames.size() == 4);
        assertThat(frames).extracting(f -> f.event() + (f.id() == null ? "" : "#" + f.id()))
                .containsExactly("snapshot", "snapshot-end#2", "retract#5", "result#6");
        assertThat(frames.get(3).data()).isEqualTo(log.current("a").get(0).data());
        assertThat(ResultEvent.Type.RETRACT.eventName()).isEqualTo(frames.get(2).event());
    }
}
