package io.streamflow.reactive.http.internal.sink;

import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.TimeoutException;
import io.streamflow.reactive.http.HttpSink;
import io.streamflow.reactive.http.HttpSinkException;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Sends one request body with its idempotency key, retrying retryable failures with backoff. All
 * requests of one sink share its connection pool of {@code maxInFlight} connections.
 */
public final class Sender implements AutoCloseable {

    /** Idempotency key header of a request. */
    public static final String KEY_HEADER = "Idempotency-Key";
    /** Bytes of an answer's body kept for messages. */
    static final int EXCERPT_BYTES = 1024;

    private final SinkSettings settings;
    private final SinkMeters meters;
    private final Backoff backoff;
    private final ConnectionProvider pool;
    private final HttpClient client;
    private final HttpMethod method;
    private final String contentType;

    /**
     * @param settings the sink's options
     * @param meters   the sink's meters
     */
    public Sender(SinkSettings settings, SinkMeters meters) {
        this.settings = settings;
        this.meters = meters;
        this.backoff = new Backoff(settings.initialBackoff(), settings.maxBackoff(), settings.jitter());
        this.pool = ConnectionProvider.builder("streamflow-http-sink-" + settings.name())
                .maxConnections(settings.maxInFlight())
                .pendingAcquireMaxCount(-1) // callers bound what waits: at most maxInFlight per use
                .build();
        this.client = HttpClient.create(pool)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        Math.max(1, settings.timeout().toMillis())))
                .responseTimeout(settings.timeout())
                .headers(h -> settings.headers().forEach(h::set));
        this.method = settings.method() == HttpSink.Method.PUT ? HttpMethod.PUT : HttpMethod.POST;
        this.contentType = Bodies.contentType(settings.bodyFormat());
    }

    /**
     * Sends {@code body}, retrying up to {@code maxRetries} times on 5xx, 408 and 429 answers,
     * timeouts and connection errors.
     *
     * @param body     the request body
     * @param key      the request's idempotency key
     * @param results  how many results the body holds, for messages
     * @return completes on a 2xx answer; fails with an {@link HttpSinkException} on an answer that is
     * not retried or after the last retry
     */
    public Mono<Void> send(byte[] body, String key, int results) {
        return attempt(body, key, results, 1);
    }

    private Mono<Void> attempt(byte[] body, String key, int results, int n) {
        return Mono.defer(() -> {
            long t0 = System.nanoTime();
            return exchange(body, key)
                    .onErrorResume(e -> Mono.just(Answer.failed(e)))
                    .flatMap(answer -> {
                        meters.request(answer.outcome(), System.nanoTime() - t0);
                        if (answer.outcome() == Outcome.SUCCESS) {
                            return Mono.<Void>empty();
                        }
                        if (!answer.outcome().retryable() || n > settings.maxRetries()) {
                            return Mono.error(failure(answer, n, results));
                        }
                        Duration retryAfter = Backoff.parseRetryAfter(answer.retryAfter(),
                                settings.scheduler().now(TimeUnit.MILLISECONDS));
                        Duration wait = backoff.delay(n, retryAfter);
                        return Mono.delay(wait, settings.scheduler()).then(attempt(body, key, results, n + 1));
                    });
        });
    }

    private Mono<Answer> exchange(byte[] body, String key) {
        return client.headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, contentType)
                        .set(KEY_HEADER, key)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length))
                .request(method)
                .uri(settings.uri())
                .send((req, out) -> out.sendByteArray(Mono.just(body)))
                .response((res, content) -> content.asByteArray()
                        .reduce(new Excerpt(), Excerpt::add)
                        .map(ex -> new Answer(Outcome.ofStatus(res.status().code()), res.status().code(),
                                res.responseHeaders().get("Retry-After"), ex.text(), null)))
                .single();
    }

    private HttpSinkException failure(Answer a, int attempts, int results) {
        String what = settings.target() + " (" + results + (results == 1 ? " result" : " results") + ")";
        String last = a.describe(settings.timeout());
        String message;
        if (!a.outcome().retryable()) {
            message = what + ": " + last + " after " + attempts + (attempts == 1 ? " attempt" : " attempts")
                    + "; not retried (only 5xx, 408 and 429 answers, timeouts and connection errors are)";
        } else {
            message = what + " failed after " + attempts + " attempts (maxRetries " + settings.maxRetries()
                    + "); the last one: " + last;
        }
        return new HttpSinkException(message, a.status(), a.excerpt(), attempts, a.error());
    }

    /** Closes the sink's connections. */
    @Override
    public void close() {
        pool.dispose();
    }

    /** The end of one attempt. */
    private record Answer(Outcome outcome, int status, String retryAfter, String excerpt, Throwable error) {

        static Answer failed(Throwable e) {
            Outcome o;
            if (e instanceof ReadTimeoutException || e instanceof TimeoutException
                    || e instanceof java.util.concurrent.TimeoutException
                    || e instanceof io.netty.channel.ConnectTimeoutException) {
                o = Outcome.TIMEOUT;
            } else if (e instanceof IOException || e instanceof io.netty.channel.ChannelException) {
                o = Outcome.CONNECTION_ERROR;
            } else {
                o = Outcome.ERROR;
            }
            return new Answer(o, HttpSinkException.NO_ANSWER, null, "", e);
        }

        String describe(Duration timeout) {
            if (error == null) {
                return "answered " + status + " " + HttpResponseStatus.valueOf(status).reasonPhrase()
                        + (excerpt.isEmpty() ? "" : ": " + excerpt);
            }
            return switch (outcome) {
                case TIMEOUT -> "no answer within the timeout of " + timeout.toMillis() + " ms (" + error + ")";
                case CONNECTION_ERROR -> "connection error: " + error;
                default -> "failed: " + error;
            };
        }
    }

    /** The first {@link #EXCERPT_BYTES} bytes of an answer's body; the rest is read and let go. */
    private static final class Excerpt {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Excerpt add(byte[] chunk) {
            int room = EXCERPT_BYTES - bytes.size();
            if (room > 0) {
                bytes.write(chunk, 0, Math.min(room, chunk.length));
            }
            return this;
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
