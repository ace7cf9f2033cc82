package io.streamflow.reactive.http.internal.ingest;

import io.netty.handler.codec.http.HttpHeaders;
import io.streamflow.reactive.http.HttpIngest;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** A bare Reactor Netty server on 127.0.0.1, port 0, with the ingest route at {@code /ingest}; and a client. */
final class IngestTestServer implements AutoCloseable {

    /** One answer: status, headers, body (parsed as JSON when it is). */
    record Reply(int status, HttpHeaders headers, String body) {
        JsonNode json() {
            return IngestEngine.JSON.readTree(body);
        }
    }

    final DisposableServer server;
    final ConnectionProvider pool;
    final HttpClient client;

    IngestTestServer(HttpIngest<?> ingest) {
        server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .route(routes -> routes.route(req -> req.uri().startsWith("/ingest"),
                        (req, res) -> IngestResponder.serve(req, res, ingest)))
                .bindNow(Duration.ofSeconds(10));
        pool = ConnectionProvider.builder("ingest-test").maxConnections(32).build();
        client = HttpClient.create(pool).host("127.0.0.1").port(server.port());
    }

    int port() {
        return server.port();
    }

    Reply post(String contentType, String body, Map<String, String> headers) {
        return post(contentType, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    Reply post(String contentType, byte[] body, Map<String, String> headers) {
        return postAsync(contentType, body, headers).block(Duration.ofSeconds(30));
    }

    Mono<Reply> postAsync(String contentType, byte[] body, Map<String, String> headers) {
        return client.headers(h -> {
                    if (contentType != null) {
                        h.set("Content-Type", contentType);
                    }
                    if (!headers.containsKey("Transfer-Encoding")) {
                        h.set("Content-Length", body.length); // else Reactor Netty sends it chunked
                    }
                    headers.forEach(h::set);
                })
                .post()
                .uri("/ingest")
                .send(ByteBufFlux.fromInbound(Mono.just(body)))
                .responseSingle((res, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                        .map(s -> new Reply(res.status().code(), res.responseHeaders(), s)));
    }

    /**
     * Writes {@code head} and then {@code body} on a new connection (stopping quietly if the server
     * closes it meanwhile) and reads what comes back until the server closes or nothing comes for 10 s.
     */
    String raw(String head, byte[]... body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            try {
                for (byte[] part : body) {
                    out.write(part);
                    out.flush();
                }
            } catch (IOException closedByServer) {
                // the server answered and closed before the body ended: read the answer
            }
            return readAnswer(socket.getInputStream());
        }
    }

    /** Reads one response: the head, then Content-Length bytes of body. */
    static String readAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int contentLength = -1;
        int headEnd = -1;
        byte[] buf = new byte[4096];
        try {
            while (true) {
                if (headEnd < 0) {
                    String s = got.toString(StandardCharsets.ISO_8859_1);
                    headEnd = s.indexOf("\r\n\r\n");
                    if (headEnd >= 0) {
                        for (String line : s.substring(0, headEnd).split("\r\n")) {
                            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                                contentLength = Integer.parseInt(line.substring(15).trim());
                            }
                        }
                    }
                }
                if (headEnd >= 0 && contentLength >= 0 && got.size() >= headEnd + 4 + contentLength) {
                    break;
                }
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            // return what came
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        pool.disposeLater().block(Duration.ofSeconds(10));
        server.disposeNow(Duration.ofSeconds(10));
    }
}
