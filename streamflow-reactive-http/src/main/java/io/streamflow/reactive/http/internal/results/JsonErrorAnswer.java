package io.streamflow.reactive.http.internal.results;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.json.JsonMapper;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON error answer of the HTTP module:
 * {@code {"status":404,"error":"Not Found","message":"..."}} with {@code Content-Type: application/json}.
 */
public final class JsonErrorAnswer {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private JsonErrorAnswer() {
    }

    /**
     * @param status  the HTTP status code
     * @param message what was wrong and what is allowed
     * @return the JSON body
     */
    public static String body(int status, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status);
        m.put("error", HttpResponseStatus.valueOf(status).reasonPhrase());
        m.put("message", message);
        return JSON.writeValueAsString(m);
    }

    /**
     * Sends the answer.
     *
     * @param response the response, not yet sent
     * @param status   the HTTP status code
     * @param message  what was wrong and what is allowed
     * @return completes when it is sent
     */
    public static Publisher<Void> send(HttpServerResponse response, int status, String message) {
        return response.status(status)
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendString(reactor.core.publisher.Mono.just(body(status, message)));
    }
}
