package io.streamflow.reactive.http.internal.results;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.streamflow.reactive.http.ResultEvent;
import io.streamflow.reactive.http.ResultLog;
import io.streamflow.reactive.http.SlowClientException;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

import java.util.List;
import java.util.concurrent.Executor;

/**
 * Serves a {@link ResultLog} over server-sent events on Reactor Netty, and the queries of its
 * live view. The routes are mounted by the server; these handlers take the log (and the decoded
 * key) from it.
 * <ul>
 * <li>{@link #serve}: the log's events with resume. The client's last id is the
 * {@code Last-Event-ID} header (what an {@code EventSource} sends on reconnect) or the
 * {@code lastEventId} query parameter; {@code snapshot=true} asks a client without id for a
 * snapshot first. Frames {@code id: N\nevent: TYPE\ndata: JSON\n\n}, heartbeats
 * {@code : keep-alive}; a client cut off for being slow gets a comment saying why and
 * {@code retry: 1000}, and the response completes, so the client reconnects with its last id.</li>
 * <li>{@link #watch}: the same for one key (its snapshot, then its live events).</li>
 * <li>{@link #current}: the key's current results as a JSON array; 404 for a key without any.</li>
 * </ul>
 * A malformed id or snapshot parameter gets a 400 JSON error answer.
 */
public final class SseResponder {

    /** The reconnection delay sent to a client that was cut off, in milliseconds. */
    public static final int RETRY_MILLIS = 1000;

    /** Events handed to the connection's event loop ahead of its writes. */
    static final int FRAMES_IN_FLIGHT = 32;

    private SseResponder() {
    }

    /**
     * Serves the events of {@code log}.
     *
     * @param request  the request
     * @param response the response
     * @param log      the log
     * @return completes when the response is done
     */
    public static Publisher<Void> serve(HttpServerRequest request, HttpServerResponse response, ResultLog<?, ?> log) {
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String idText = request.requestHeaders().get("Last-Event-ID");
        if (idText == null || idText.isBlank()) {
            idText = first(query, "lastEventId");
        }
        Long lastEventId = null;
        if (idText != null && !idText.isBlank()) {
            try {
                lastEventId = Long.parseLong(idText.trim());
            } catch (NumberFormatException e) {
                return JsonErrorAnswer.send(response, 400, "Last-Event-ID (header or lastEventId parameter) must be "
                        + "the decimal id of an event of result log '" + log.name() + "', was '" + idText + "'");
            }
        }
        String snapshotText = first(query, "snapshot");
        boolean snapshot;
        if (snapshotText == null || snapshotText.equals("false") || snapshotText.equals("0")) {
            snapshot = false;
        } else if (snapshotText.isEmpty() || snapshotText.equals("true") || snapshotText.equals("1")) {
            snapshot = true;
        } else {
            return JsonErrorAnswer.send(response, 400, "the snapshot parameter must be true, false, 1 or 0, was '"
                    + snapshotText + "'");
        }
        return send(response, log.events(lastEventId, snapshot));
    }

    /**
     * Serves the events of one key of {@code log}: its snapshot, then its live events.
     *
     * @param request  the request
     * @param response the response
     * @param log      the log
     * @param key      the key, decoded from the path
     * @return completes when the response is done
     */
    public static Publisher<Void> watch(HttpServerRequest request, HttpServerResponse response, ResultLog<?, ?> log,
                                        String key) {
        return send(response, log.watch(key));
    }

    /**
     * Answers the current results of one key as a JSON array of result objects (the {@code data} of
     * their {@code result} events, with their ids), or 404 when the key has none.
     *
     * @param request  the request
     * @param response the response
     * @param log      the log
     * @param key      the key, decoded from the path
     * @return completes when the response is sent
     */
    public static Publisher<Void> current(HttpServerRequest request, HttpServerResponse response, ResultLog<?, ?> log,
                                          String key) {
        List<ResultEvent> current = log.current(key);
        if (current.isEmpty()) {
            return JsonErrorAnswer.send(response, 404, "result log '" + log.name() + "' has no current result for key '"
                    + key + "': it never had one, or they were retracted or left retention (" + log.retention() + ")");
        }
        StringBuilder sb = new StringBuilder("[");
        for (ResultEvent e : current) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append(e.data());
        }
        return response.header(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .sendString(Mono.just(sb.append(']').toString()));
    }

    private static Publisher<Void> send(HttpServerResponse response, Flux<ResultEvent> events) {
        // frames become buffers on the connection's event loop (Netty's allocator is meant to be used
        // there); publishOn holds at most FRAMES_IN_FLIGHT events, the log holds the rest for the client
        Executor[] loop = new Executor[1];
        response.withConnection(c -> loop[0] = c.channel().eventLoop());
        Flux<ResultEvent> onLoop = loop[0] == null ? events
                : events.publishOn(Schedulers.fromExecutor(loop[0]), FRAMES_IN_FLIGHT);
        Flux<String> frames = onLoop.map(ResultEvent::toSseFrame)
                .onErrorResume(SlowClientException.class, e -> Flux.just(": " + e.getMessage().replace('\n', ' ')
                        + "\nretry: " + RETRY_MILLIS + "\n\n"));
        return response.sse()
                .header(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
                .sendString(frames);
    }

    private static String first(QueryStringDecoder query, String name) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
