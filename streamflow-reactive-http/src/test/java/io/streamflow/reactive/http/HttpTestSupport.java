package io.streamflow.reactive.http;

import io.netty.handler.codec.http.HttpHeaders;
import reactor.netty.http.client.HttpClient;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/** Small blocking HTTP calls for the tests (run on the test thread, never on an event loop). */
final class HttpTestSupport {

    /** One answer. */
    record Answer(int status, HttpHeaders headers, String body) {
    }

    private HttpTestSupport() {
    }

    static Answer get(URI uri, Map<String, String> headers) {
        return send(HttpClient.create(), "GET", uri, headers);
    }

    static Answer send(HttpClient client, String method, URI uri, Map<String, String> headers) {
        return client.headers(h -> headers.forEach(h::set))
                .request(io.netty.handler.codec.http.HttpMethod.valueOf(method))
                .uri(uri)
                .responseSingle((response, body) -> body.asString().defaultIfEmpty("")
                        .map(text -> new Answer(response.status().code(), response.responseHeaders(), text)))
                .block(Duration.ofSeconds(20));
    }
}
