package io.streamflow.reactive.http.internal.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The module's error answers: {@code {"status":413,"error":"Payload Too Large","message":"..."}}
 * with {@code Content-Type: application/json}.
 */
public final class JsonErrors {

    /** The JSON mapper of the server's answers. */
    public static final JsonMapper JSON = JsonMapper.builder().build();

    /** Content type of every JSON answer. */
    public static final String APPLICATION_JSON = "application/json";

    private JsonErrors() {
    }

    /**
     * @param status  the HTTP status code
     * @param message what was wrong and what is allowed
     * @return the error body for {@code status}
     */
    public static byte[] body(int status, String message) {
        ObjectNode node = JSON.createObjectNode();
        node.put("status", status);
        node.put("error", HttpResponseStatus.valueOf(status).reasonPhrase());
        node.put("message", message);
        return JSON.writeValueAsBytes(node);
    }

    /**
     * Sends an error answer.
     *
     * @param response the response, not yet sent
     * @param status   the HTTP status code
     * @param message  what was wrong and what is allowed
     * @return completes when it is sent
     */
    public static Mono<Void> send(HttpServerResponse response, int status, String message) {
        byte[] body = body(status, message);
        return response.status(status)
                .header(HttpHeaderNames.CONTENT_TYPE, APPLICATION_JSON)
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
                .sendByteArray(Mono.just(body)).then();
    }
}
