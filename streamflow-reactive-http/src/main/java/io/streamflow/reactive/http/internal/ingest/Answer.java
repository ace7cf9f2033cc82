package io.streamflow.reactive.http.internal.ingest;

import java.util.Map;

/**
 * An HTTP answer to send: status, extra headers and a JSON body.
 *
 * @param status  the HTTP status
 * @param headers extra response headers (besides {@code Content-Type} and {@code X-Request-Id})
 * @param body    the JSON body, UTF-8
 * @param close   whether to close the connection after it (the request body was not read to its end)
 */
record Answer(int status, Map<String, String> headers, byte[] body, boolean close) {

    Answer withHeader(String name, String value) {
        java.util.LinkedHashMap<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.put(name, value);
        return new Answer(status, Map.copyOf(h), body, close);
    }
}
