package io.streamflow.reactive.http.internal.ingest;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.streamflow.reactive.http.HttpIngest;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Answers a {@code POST} of records to an {@link HttpIngest}: checks the method, content type and
 * {@code Content-Length} before reading anything, reads the body counting its bytes (answering
 * {@code 413} as soon as it passes the limit), then decodes and takes the request whole or not at
 * all on {@code Schedulers.parallel()} (CPU work, never on the event loop), and answers in JSON.
 * Mount it on a route of a Reactor Netty server:
 * {@code routes.post("/ingest/clicks", (req, res) -> IngestResponder.serve(req, res, clicks))}.
 */
public final class IngestResponder {

    private static final Logger LOG = Loggers.getLogger(IngestResponder.class);

    /** Request header: the request's id, echoed in the answer. */
    public static final String REQUEST_ID = "X-Request-Id";
    /** Request header: the idempotency key. */
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    /** Response header of an answer given again for a known idempotency key. */
    public static final String REPLAYED = "Idempotent-Replayed";

    private static final int MAX_ID_LENGTH = 128;
    /** Bytes of a refused body read and dropped after its answer, before the connection is closed. */
    static final long MAX_DISCARD = 1024 * 1024;

    private IngestResponder() {
    }

    /**
     * Serves one request.
     *
     * @param request  the request
     * @param response its response
     * @param ingest   the source the records go to
     * @return completes when the answer was sent
     */
    public static Publisher<Void> serve(HttpServerRequest request, HttpServerResponse response, HttpIngest<?> ingest) {
        return serve(request, response, IngestAccess.engine(ingest));
    }

    static Mono<Void> serve(HttpServerRequest request, HttpServerResponse response, IngestEngine<?> engine) {
        String requestId = requestId(request.requestHeaders().get(REQUEST_ID));
        String declared = request.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
            if (length < 0) {
                return send(response, engine, requestId, engine.error(400, "Content-Length '" + declared
                        + "' is not a byte count"), true);
            }
            if (length > engine.maxRequestBytes()) {
                return send(response, engine, requestId, tooLarge(engine, "Content-Length is " + length), true);
            }
        }
        if (!HttpMethod.POST.equals(request.method())) {
            return answerEarly(request, response, engine, requestId, engine.error(405, request.method()
                    + " is not served here; POST records to the source '" + engine.name() + "'")
                    .withHeader("Allow", "POST"));
        }
        if (engine.isClosed()) {
            return answerEarly(request, response, engine, requestId, engine.closedAnswer());
        }
        String contentType = request.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE);
        BodyReader.Format format = format(contentType);
        String charset = charset(contentType);
        if (format == null || (charset != null && !charset.equals("utf-8"))) {
            return answerEarly(request, response, engine, requestId, engine.error(415, "Content-Type "
                    + (contentType == null ? "is missing" : "'" + contentType + "' is not taken")
                    + "; send application/x-ndjson or application/jsonl (one JSON record per line) or "
                    + "application/json (a JSON array of records, or one record), in UTF-8"));
        }
        String key = request.requestHeaders().get(IDEMPOTENCY_KEY);
        if (key != null && (key.isEmpty() || key.length() > 255)) {
            return answerEarly(request, response, engine, requestId, engine.error(400, "Idempotency-Key must be "
                    + "1 to 255 characters, was " + key.length()));
        }
        String waitFor = new QueryStringDecoder(request.uri()).parameters().getOrDefault("wait", List.of()).stream()
                .findFirst().orElse(null);
        if (waitFor != null && !waitFor.equals("durable")) {
            return answerEarly(request, response, engine, requestId, engine.error(400, "wait=" + waitFor
                    + " is not known; wait=durable answers once a checkpoint holding the records is durable"));
        }
        boolean waitDurable = waitFor != null;
        BodyReader body = new BodyReader(format, engine.maxRequestBytes(), engine.maxRecordBytes());
        // the 413 of a body that passes the limit goes out at once; the rest of the body is read and
        // dropped meanwhile (see Discard), so the connection can carry the next request
        Sinks.One<Sending> early = Sinks.one();
        Discard discard = new Discard();
        Mono<Sending> taken = request.receive()
                .doOnNext(buf -> {
                    if (discard.active()) {
                        discard.drop(buf.readableBytes());
                    } else if (!body.consume(buf)) {
                        discard.start();
                        // no Connection: close here: closing with the client's bytes unread could reset the
                        // connection and lose the answer; the connection closes if the rest is too long
                        early.tryEmitValue(new Sending(tooLarge(engine, "the body passed " + engine.maxRequestBytes()
                                + " bytes"), false));
                    }
                })
                .then(Mono.defer(() -> {
                    if (discard.active()) {
                        return Mono.<Sending>empty();
                    }
                    early.tryEmitEmpty();
                    DurableWaits.Wait wait = waitDurable ? new DurableWaits.Wait() : null;
                    return Mono.fromCallable(() -> engine.take(requestId, key, body, wait))
                            .subscribeOn(Schedulers.parallel())
                            .flatMap(answer -> wait == null || answer.status() != 200
                                    || answer.headers().containsKey(REPLAYED) ? Mono.just(answer)
                                    : engine.whenDurable(answer, wait))
                            .map(answer -> new Sending(answer, false));
                }))
                .onErrorResume(BodyTooLarge.class, e -> {
                    response.withConnection(Connection::dispose); // dropped enough: close
                    return Mono.empty();
                })
                .doOnError(AbortedException.class, e -> LOG.debug("HTTP ingest '{}': the client of request {} "
                        + "closed the connection before its body ended; nothing of it was taken", engine.name(),
                        requestId))
                .onErrorResume(e -> !response.hasSentHeaders() && !(e instanceof AbortedException), e -> {
                    LOG.error("HTTP ingest '{}' failed on request {}", engine.name(), requestId, e);
                    return Mono.just(new Sending(engine.error(500, "the request " + requestId
                            + " failed in the server: " + e), true));
                });
        return Flux.merge(early.asMono(), taken)
                .concatMap(s -> send(response, engine, requestId, s.answer, s.close))
                .then();
    }

    /**
     * What is left of a body after its 413 was sent: read and dropped, so that the client, still
     * sending, gets the answer instead of a connection reset and the connection can be used again;
     * but at most {@link #MAX_DISCARD} bytes, after which the connection is closed.
     */
    private static final class Discard {
        private long dropped = -1;

        boolean active() {
            return dropped >= 0;
        }

        void start() {
            dropped = 0;
        }

        void drop(long bytes) {
            dropped += bytes;
            if (dropped > MAX_DISCARD) {
                throw new BodyTooLarge();
            }
        }
    }

    private record Sending(Answer answer, boolean close) {
    }

    /**
     * Answers a request that is refused before its body is read: the body is read and dropped first
     * (up to {@link #MAX_DISCARD} bytes, keeping nothing) so the connection can carry the next request;
     * a longer body is not read further and the connection is closed after the answer.
     * The caller already answered a {@code Content-Length} over the limit.
     */
    private static Mono<Void> answerEarly(HttpServerRequest request, HttpServerResponse response,
                                          IngestEngine<?> engine, String requestId, Answer answer) {
        Discard discard = new Discard();
        discard.start();
        return request.receive()
                .doOnNext(buf -> discard.drop(buf.readableBytes()))
                .then(Mono.just(Boolean.FALSE))
                .onErrorResume(BodyTooLarge.class, e -> Mono.just(Boolean.TRUE))
                .flatMap(close -> send(response, engine, requestId, answer, close));
    }

    private static Answer tooLarge(IngestEngine<?> engine, String what) {
        return engine.error(413, what + ", more than the " + engine.maxRequestBytes() + " bytes a request to '"
                + engine.name() + "' may have (maxRequestBytes); nothing of it was taken: split it into smaller "
                + "requests");
    }

    private static Mono<Void> send(HttpServerResponse response, IngestEngine<?> engine, String requestId,
                                   Answer answer, boolean close) {
        engine.answered(answer.status());
        response.status(HttpResponseStatus.valueOf(answer.status()))
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .header(REQUEST_ID, requestId);
        for (Map.Entry<String, String> h : answer.headers().entrySet()) {
            response.header(h.getKey(), h.getValue());
        }
        if (close || answer.close()) {
            // the body was not read to its end: the connection cannot carry another request
            response.keepAlive(false);
        }
        return response.sendByteArray(Mono.just(answer.body())).then();
    }

    /** The media type's format, or {@code null} when it is not one of ours. */
    static BodyReader.Format format(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semi = contentType.indexOf(';');
        String type = (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
        return switch (type) {
            case "application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines" ->
                    BodyReader.Format.LINES;
            case "application/json" -> BodyReader.Format.JSON;
            default -> null;
        };
    }

    /** The {@code charset} parameter, lower case, or {@code null}. */
    static String charset(String contentType) {
        if (contentType == null) {
            return null;
        }
        for (String part : contentType.split(";")) {
            String p = part.trim();
            if (p.regionMatches(true, 0, "charset=", 0, 8)) {
                return p.substring(8).replace("\"", "").trim().toLowerCase(Locale.ROOT);
            }
        }
        return null;
    }

    /** The client's {@code X-Request-Id} when it is 1 to 128 visible ASCII characters, else a new one. */
    static String requestId(String given) {
        if (given != null && !given.isEmpty() && given.length() <= MAX_ID_LENGTH) {
            boolean ok = true;
            for (int i = 0; i < given.length() && ok; i++) {
                char c = given.charAt(i);
                ok = c > 0x20 && c < 0x7F;
            }
            if (ok) {
                return given;
            }
        }
        // a version-4 UUID from ThreadLocalRandom: SecureRandom may read /dev/urandom, blocking the event loop
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lsb = (r.nextLong() & ~(0xC000L << 48)) | (0x8000L << 48);
        return new UUID(msb, lsb).toString();
    }

    /** The body passed the request limit. */
    private static final class BodyTooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BodyTooLarge() {
            super("request body too large", null, false, false);
        }
    }
}
