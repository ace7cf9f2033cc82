package io.streamflow.reactive.http.internal.server;

import org.reactivestreams.Publisher;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Answers one request of a route, after the router has checked the path, the method and the
 * credentials. Runs on a Netty event loop: it must not block.
 */
@FunctionalInterface
public interface RouteHandler {

    /**
     * @param request  the request
     * @param response its response
     * @return completes when the answer is sent
     */
    Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response);
}
