package io.streamflow.reactive.http.internal.results;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.streamflow.reactive.http.ResultLog;
import io.streamflow.reactive.http.internal.server.HttpRoute;
import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

import java.util.List;
import java.util.Set;

/**
 * The server routes of a result log at {@code path}: its events ({@code GET path}), the current
 * results of a key ({@code GET path/keys/<key>}) and a key's events ({@code GET
 * path/keys/<key>/events}); keys are percent-encoded in the path. Read-only, so a browser's page
 * and {@code EventSource} may pass the server's token as {@code access_token}.
 */
public final class ResultRoutes {

    private static final String EVENTS_SUFFIX = "/events";

    private ResultRoutes() {
    }

    /**
     * @param path where the log is served: starts with {@code /}, does not end with one
     * @param log  the log
     * @return its routes
     */
    public static List<HttpRoute> of(String path, ResultLog<?, ?> log) {
        String keys = path + "/keys/";
        return List.of(
                new HttpRoute(path, false, Set.of("GET"), HttpRoute.Access.PAGE,
                        (request, response) -> SseResponder.serve(request, response, log)),
                new HttpRoute(keys, true, Set.of("GET"), HttpRoute.Access.PAGE,
                        (request, response) -> key(request, response, log, keys)));
    }

    private static Publisher<Void> key(HttpServerRequest request, HttpServerResponse response, ResultLog<?, ?> log,
                                       String prefix) {
        String rest = new QueryStringDecoder(request.uri()).rawPath().substring(prefix.length());
        boolean watch = rest.endsWith(EVENTS_SUFFIX);
        String encoded = watch ? rest.substring(0, rest.length() - EVENTS_SUFFIX.length()) : rest;
        if (encoded.isEmpty() || encoded.contains("/")) {
            return JsonErrorAnswer.send(response, 404, "expected " + prefix + "<key> or " + prefix + "<key>"
                    + EVENTS_SUFFIX + " with the key percent-encoded as one path segment, was "
                    + new QueryStringDecoder(request.uri()).rawPath());
        }
        String key = QueryStringDecoder.decodeComponent(encoded);
        return watch ? SseResponder.watch(request, response, log, key) : SseResponder.current(request, response, log, key);
    }
}
