package io.streamflow.reactive.http.internal.ingest;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.LineDecodingException;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.HttpIngest;
import io.streamflow.reactive.http.HttpIngestException;
import io.streamflow.reactive.json.JsonDecoder;
import io.streamflow.reactive.json.JsonDecodingException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The ingest route over real HTTP: what is taken, what is rejected and how, and that the server keeps serving. */
class IngestResponderTest {

    private static final JsonDecoder<Event> CLICKS = JsonDecoder.events().timestampField("ts").keyField("user");
    private static final String NDJSON = "application/x-ndjson";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<StreamElement<Void, Event>> received = new CopyOnWriteArrayList<>();
    private HttpIngest<Event> ingest;
    private IngestTestServer server;
    private Disposable pipeline;

    private void start(HttpIngest.Builder<Event> builder) {
        ingest = builder.meterRegistry(registry).build();
        server = new IngestTestServer(ingest);
        pipeline = ingest.flux().subscribe(received::add);
    }

    @AfterEach
    void stop() {
        if (pipeline != null) {
            pipeline.dispose();
        }
        if (server != null) {
            server.close();
        }
    }

    private static String click(String user, long ts) {
        return "{\"user\":\"" + user + "\",\"ts\":" + ts + "}";
    }

    private double records(String result) {
        return registry.get(IngestEngine.RECORDS_METER).tag("source", "clicks").tag("result", result).counter().count();
    }

    private double requests(int status) {
        var c = registry.find(IngestEngine.REQUESTS_METER).tag("status", Integer.toString(status)).counter();
        return c == null ? 0 : c.count();
    }

    /** A good request is still taken: the server serves on after whatever came before. */
    private void assertStillServing() {
        int before = received.size();
        var reply = server.post(NDJSON, click("still", 1) + "\n", Map.of());
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == before + 1);
    }

    @Test
    void shouldTakeJsonLinesWithEventTimeAndNumberedOriginsAndEchoTheRequestId() {
        start(HttpIngest.builder("clicks", CLICKS));

        var reply = server.post(NDJSON, click("ann", 1000) + "\r\n\n" + click("bob", 2000) + "\n  \n"
                + click("cid", 1500), Map.of("X-Request-Id", "req-1"));

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.headers().get("Content-Type")).isEqualTo("application/json");
        assertThat(reply.headers().get("X-Request-Id")).isEqualTo("req-1");
        assertThat(reply.body()).isEqualTo("{\"requestId\":\"req-1\",\"accepted\":3,\"rejected\":0,\"errors\":[]}");
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
        assertThat(received).allSatisfy(e -> assertThat(e).isInstanceOf(StreamRecord.class));
        List<StreamRecord<Void, Event>> records = received.stream().map(e -> (StreamRecord<Void, Event>) e).toList();
        assertThat(records).extracting(r -> r.value().key()).containsExactly("ann", "bob", "cid");
        assertThat(records).extracting(StreamRecord::timestamp).containsExactly(1000L, 2000L, 1500L);
        assertThat(records).extracting(StreamRecord::origin)
                .containsExactly(Origin.of("clicks", 0, 0), Origin.of("clicks", 0, 1), Origin.of("clicks", 0, 2));
        assertThat(records).extracting(StreamRecord::key).containsOnlyNulls();

        var generated = server.post("application/jsonl; charset=UTF-8", click("dan", 3), Map.of());
        assertThat(generated.status()).isEqualTo(200);
        String id = generated.headers().get("X-Request-Id");
        assertThat(id).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(generated.json().get("requestId").asString()).isEqualTo(id);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 4);
        assertThat(((StreamRecord<Void, Event>) received.get(3)).origin()).isEqualTo(Origin.of("clicks", 0, 3));
    }

    @Test
    void shouldTakeAJsonArrayOfRecordsOrOneJsonObject() {
        start(HttpIngest.builder("clicks", CLICKS));

        var array = server.post("application/json", "[" + click("ann", 10) + ",\n " + click("bob", 20) + "]", Map.of());
        var single = server.post("application/json; charset=utf-8", click("cid", 30), Map.of());

        assertThat(array.status()).isEqualTo(200);
        assertThat(array.json().get("accepted").asInt()).isEqualTo(2);
        assertThat(single.status()).isEqualTo(200);
        assertThat(single.json().get("accepted").asInt()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
        assertThat(received).extracting(e -> ((StreamRecord<Void, Event>) e).value().key()).containsExactly("ann", "bob", "cid");
        assertThat(received).extracting(e -> ((StreamRecord<Void, Event>) e).timestamp()).containsExactly(10L, 20L, 30L);
    }

    @Test
    void shouldRejectAMalformedLineAsADeadLetterWithRequestIdAndLineAndTakeTheOthers() {
        start(HttpIngest.builder("clicks", CLICKS));

        var reply = server.post(NDJSON, click("ann", 1) + "\n" + "{\"user\":\"bob\",\"ts\":" + "\n\n"
                + "{\"user\":\"cid\"}\n" + click("dan", 4), Map.of("X-Request-Id", "r-42"));

        assertThat(reply.status()).isEqualTo(200);
        JsonNode json = reply.json();
        assertThat(json.get("accepted").asInt()).isEqualTo(2);
        assertThat(json.get("rejected").asInt()).isEqualTo(2);
        assertThat(json.get("errors")).hasSize(2);
        assertThat(json.get("errors").get(0).get("line").asInt()).isEqualTo(2);
        assertThat(json.get("errors").get(1).get("line").asInt()).as("empty lines count").isEqualTo(4);
        assertThat(json.get("errors").get(1).get("error").asString()).contains("field 'ts' is missing");

        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 4);
        assertThat(received.get(0)).isInstanceOf(StreamRecord.class);
        assertThat(received.get(3)).isInstanceOf(StreamRecord.class);
        DeadLetter<Void, Event> dead = (DeadLetter<Void, Event>) received.get(1);
        assertThat(dead.origin()).isEqualTo(Origin.of("clicks", 0, 1));
        assertThat(dead.operator()).isEqualTo(HttpIngest.OPERATOR);
        assertThat(dead.input()).isEqualTo("{\"user\":\"bob\",\"ts\":");
        assertThat(dead.error()).isInstanceOf(HttpIngestException.class)
                .hasMessageStartingWith("request r-42 line 2: ")
                .hasCauseInstanceOf(JsonDecodingException.class);
        HttpIngestException error = (HttpIngestException) dead.error();
        assertThat(error.requestId()).isEqualTo("r-42");
        assertThat(error.line()).isEqualTo(2);
        DeadLetter<Void, Event> noTime = (DeadLetter<Void, Event>) received.get(2);
        assertThat(((HttpIngestException) noTime.error()).line()).isEqualTo(4);
        assertThat(noTime.origin()).isEqualTo(Origin.of("clicks", 0, 2));

        assertThat(records("accepted")).isEqualTo(2);
        assertThat(records("rejected")).isEqualTo(2);
        assertStillServing();
    }

    @Test
    void shouldRejectALineThatIsNotUtf8AndReportItsLineAndByte() {
        start(HttpIngest.builder("clicks", CLICKS));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes((click("ann", 1) + "\n").getBytes(StandardCharsets.UTF_8));
        byte[] bad = "{\"user\":\"b\u00e9\",\"ts\":2}".getBytes(StandardCharsets.UTF_8);
        bad[11] = 0x28; // the é's second byte broken: C3 28 is not UTF-8
        body.writeBytes(bad);
        body.writeBytes(("\n" + click("cid", 3) + "\n").getBytes(StandardCharsets.UTF_8));

        var reply = server.post(NDJSON, body.toByteArray(), Map.of("X-Request-Id", "utf"));

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("accepted").asInt()).isEqualTo(2);
        assertThat(reply.json().get("errors").get(0).get("line").asInt()).isEqualTo(2);
        assertThat(reply.json().get("errors").get(0).get("error").asString()).contains("not valid UTF-8")
                .contains("byte 0xC3 at byte 10 of the line");
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
        DeadLetter<Void, Event> dead = (DeadLetter<Void, Event>) received.get(1);
        assertThat(dead.input()).isEqualTo(bad);
        assertThat(dead.error()).hasMessageStartingWith("request utf line 2: ")
                .hasCauseInstanceOf(LineDecodingException.class);
        LineDecodingException cause = (LineDecodingException) dead.error().getCause();
        assertThat(cause.reason()).isEqualTo(LineDecodingException.Reason.MALFORMED_UTF8);
        assertThat(cause.lineOffset()).isEqualTo(click("ann", 1).length() + 1);
        assertThat(records("rejected")).isEqualTo(1);
        assertStillServing();
    }

    @Test
    void shouldRejectALineLongerThanTheRecordLimitWithoutTheOthers() {
        start(HttpIngest.builder("clicks", CLICKS).maxRecordBytes(64));
        String longLine = "{\"user\":\"" + "x".repeat(100) + "\",\"ts\":2}";
        String exactly64 = "{\"user\":\"" + "y".repeat(64 - 18) + "\",\"ts\":3}";
        assertThat(exactly64).hasSize(64);

        var reply = server.post(NDJSON, click("ann", 1) + "\n" + longLine + "\r\n" + exactly64 + "\r\n", Map.of());
        var oneOver = server.post(NDJSON, "{\"user\":\"" + "z".repeat(47) + "\",\"ts\":3}", Map.of());
        assertThat(oneOver.status()).as("65 bytes: over the limit").isEqualTo(400);
        assertThat(oneOver.json().get("errors").get(0).get("error").asString()).contains("line is 65 bytes");

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("accepted").asInt()).as("a line of exactly the limit is taken").isEqualTo(2);
        assertThat(reply.json().get("errors").get(0).get("line").asInt()).isEqualTo(2);
        assertThat(reply.json().get("errors").get(0).get("error").asString())
                .contains("line is " + longLine.length() + " bytes, longer than the limit of 64 bytes");
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
        DeadLetter<Void, Event> dead = (DeadLetter<Void, Event>) received.get(1);
        assertThat(dead.input()).as("a long line is not kept").isNull();
        assertThat(((LineDecodingException) dead.error().getCause()).reason()).isEqualTo(LineDecodingException.Reason.TOO_LONG);
        assertThat(((StreamRecord<Void, Event>) received.get(2)).value().key()).isEqualTo("y".repeat(46));
    }

    @Test
    void shouldAnswer415ToAnotherContentTypeOrCharsetAndTakeNothing() {
        start(HttpIngest.builder("clicks", CLICKS));

        for (String type : new String[]{"text/plain", "application/x-ndjson; charset=ISO-8859-1", "application/xml"}) {
            var reply = server.post(type, click("ann", 1), Map.of());
            assertThat(reply.status()).as(type).isEqualTo(415);
            assertThat(reply.headers().get("Content-Type")).isEqualTo("application/json");
            assertThat(reply.json().get("status").asInt()).isEqualTo(415);
            assertThat(reply.json().get("error").asString()).isEqualTo("Unsupported Media Type");
            assertThat(reply.json().get("message").asString()).contains("application/x-ndjson").contains("application/json");
        }
        var missing = server.post(null, click("ann", 1), Map.of());
        assertThat(missing.status()).isEqualTo(415);
        assertThat(missing.json().get("message").asString()).startsWith("Content-Type is missing");

        assertThat(received).isEmpty();
        assertThat(requests(415)).isEqualTo(4);
        assertStillServing();
    }

    @Test
    void shouldAnswer413ByContentLengthWithoutReadingTheBody() throws Exception {
        start(HttpIngest.builder("clicks", CLICKS).maxRequestBytes(1000));

        // the head announces 5000 bytes and none is sent: the answer cannot have waited for the body
        String answer = server.raw("POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                + "Content-Length: 5000\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 413 ");
        assertThat(answer).contains("content-type: application/json");
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        JsonNode json = IngestEngine.JSON.readTree(body);
        assertThat(json.get("status").asInt()).isEqualTo(413);
        assertThat(json.get("error").asString()).isEqualTo("Payload Too Large");
        assertThat(json.get("message").asString()).startsWith("Content-Length is 5000, more than the 1000 bytes");
        assertThat(received).isEmpty();
        assertStillServing();

        // the same from a client on a connection it used before
        var reply = server.post(NDJSON, (click("bob", 2) + "\n").repeat(100), Map.of());
        assertThat(reply.status()).isEqualTo(413);
        assertThat(reply.json().get("message").asString()).startsWith("Content-Length is 2200, more than");
        assertThat(requests(413)).isEqualTo(2);
        assertStillServing();
    }

    @Test
    void shouldAnswer413AsSoonAsAChunkedBodyPassesTheLimit() throws Exception {
        start(HttpIngest.builder("clicks", CLICKS).maxRequestBytes(1000));
        String line = click("ann", 1) + "\n";
        byte[] chunk = ("12C\r\n" + line.repeat(300 / line.length()) + "x".repeat(300 - line.repeat(300 / line.length()).length())
                + "\r\n").getBytes(StandardCharsets.US_ASCII);

        // four chunks of 300 bytes pass 1000; the body never ends (no last chunk): the answer comes anyway
        String answer = server.raw("POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n", chunk, chunk, chunk, chunk);

        assertThat(answer).startsWith("HTTP/1.1 413 ");
        String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
        JsonNode json = IngestEngine.JSON.readTree(body);
        assertThat(json.get("status").asInt()).isEqualTo(413);
        assertThat(json.get("message").asString()).startsWith("the body passed 1000 bytes")
                .contains("nothing of it was taken");
        assertThat(received).as("nothing of the request is taken").isEmpty();
        assertThat(records("accepted")).isZero();
        assertStillServing();

        // the same from a client, on a connection it used before, a few times over
        for (int i = 0; i < 5; i++) {
            var reply = server.post(NDJSON, line.repeat(100), Map.of("Transfer-Encoding", "chunked"));
            assertThat(reply.status()).isEqualTo(413);
            assertThat(reply.json().get("message").asString()).startsWith("the body passed 1000 bytes");
            assertStillServing();
        }
        var small = server.post(NDJSON, line.repeat(20), Map.of("Transfer-Encoding", "chunked"));
        assertThat(small.status()).as("a chunked body within the limit is taken").isEqualTo(200);
        assertThat(small.json().get("accepted").asInt()).isEqualTo(20);
    }

    @Test
    void shouldTakeNothingOfABodyCutShortByTheClient() throws Exception {
        start(HttpIngest.builder("clicks", CLICKS));
        String lines = (click("ann", 1) + "\n").repeat(3);

        // announces more than it sends, then closes: three complete lines arrived, the request did not
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write(("POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    + "application/x-ndjson\r\nContent-Length: " + (lines.length() + 100) + "\r\n\r\n" + lines)
                    .getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
        }
        for (int i = 0; i < 2; i++) { // ... and the request after it is served
            assertStillServing();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 2);
        assertThat(received).extracting(e -> ((StreamRecord<Void, Event>) e).value().key()).containsOnly("still");
        assertThat(records("accepted")).isEqualTo(2);
    }

    @Test
    void shouldAnswer400ToAnEmptyBodyOrOneWithoutRecordsOrNotJsonAtAll() {
        start(HttpIngest.builder("clicks", CLICKS));

        var empty = server.post(NDJSON, "", Map.of());
        var blank = server.post(NDJSON, "\n \r\n\n", Map.of());
        var emptyArray = server.post("application/json", "[ ]", Map.of());
        var notJson = server.post("application/json", "<html>hello</html>", Map.of());
        var html = server.post(NDJSON, "<html>\n<body>hello</body>\n</html>\n", Map.of("X-Request-Id", "html"));

        for (var reply : List.of(empty, blank, emptyArray, notJson, html)) {
            assertThat(reply.status()).as(reply.body()).isEqualTo(400);
            assertThat(reply.headers().get("Content-Type")).isEqualTo("application/json");
            assertThat(reply.json().get("error").asString()).isEqualTo("Bad Request");
        }
        assertThat(empty.json().get("message").asString()).startsWith("the body holds no records (0 bytes)");
        assertThat(blank.json().get("message").asString()).contains("only empty lines");
        assertThat(emptyArray.json().get("message").asString()).contains("an empty array");
        assertThat(notJson.json().get("message").asString()).startsWith("the body is not JSON (expected a JSON array");
        JsonNode json = html.json();
        assertThat(json.get("message").asString()).startsWith("none of the 3 records of request html could be taken");
        assertThat(json.get("rejected").asInt()).isEqualTo(3);
        assertThat(json.get("errors")).extracting(e -> e.get("line").asInt()).containsExactly(1, 2, 3);
        assertThat(received).as("nothing of a request without a good record is taken").isEmpty();
        assertThat(records("rejected")).isEqualTo(3);
        assertStillServing();
    }

    @Test
    void shouldListAtMostTenErrors() {
        start(HttpIngest.builder("clicks", CLICKS));
        String body = (click("ok", 1) + "\n") + "nope\n".repeat(25);

        var reply = server.post(NDJSON, body, Map.of());

        assertThat(reply.status()).isEqualTo(200);
        assertThat(reply.json().get("rejected").asInt()).isEqualTo(25);
        assertThat(reply.json().get("errors")).hasSize(10);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 26);
        assertThat(received.stream().filter(e -> e instanceof DeadLetter)).hasSize(25);
    }

    @Test
    void shouldCountRecordsAndRequestsAndBufferedElements() {
        pipeline = null;
        ingest = HttpIngest.builder("clicks", CLICKS).meterRegistry(registry).build();
        server = new IngestTestServer(ingest);

        server.post(NDJSON, click("a", 1) + "\n" + click("b", 2) + "\nbad\n", Map.of());
        server.post("text/csv", "a,b", Map.of());

        assertThat(records("accepted")).isEqualTo(2);
        assertThat(records("rejected")).isEqualTo(1);
        assertThat(requests(200)).isEqualTo(1);
        assertThat(requests(415)).isEqualTo(1);
        assertThat(registry.get(IngestEngine.BUFFERED_METER).tag("source", "clicks").gauge().value())
                .as("no pipeline yet: all three elements wait").isEqualTo(3);
        pipeline = ingest.flux().subscribe(received::add);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
        assertThat(registry.get(IngestEngine.BUFFERED_METER).tag("source", "clicks").gauge().value()).isZero();
    }

    @Test
    void shouldAnswer503AndCompleteTheStreamAfterClose() {
        start(HttpIngest.builder("clicks", CLICKS));
        server.post(NDJSON, click("a", 1), Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);

        ingest.close();

        var reply = server.post(NDJSON, click("b", 2), Map.of());
        assertThat(reply.status()).isEqualTo(503);
        assertThat(reply.json().get("message").asString()).contains("is closed");
        await().atMost(Duration.ofSeconds(10)).until(pipeline::isDisposed);
        assertThat(received).hasSize(1);
    }

    @Test
    void shouldAnswer405ToAnotherMethod() {
        start(HttpIngest.builder("clicks", CLICKS));
        var reply = server.client.get().uri("/ingest")
                .responseSingle((res, body) -> body.asString().map(s -> new IngestTestServer.Reply(res.status().code(),
                        res.responseHeaders(), s))).block(Duration.ofSeconds(10));
        assertThat(reply.status()).isEqualTo(405);
        assertThat(reply.headers().get("Allow")).isEqualTo("POST");
        assertStillServing();
    }
}
