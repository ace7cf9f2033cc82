package io.streamflow.reactive.http.internal.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;

/**
 * Dispatches every request of the server: connection limit (503), unknown path (404), wrong method
 * (405, with {@code Allow}), missing or wrong credentials (401, with {@code WWW-Authenticate}), then
 * the route's handler. Every error answer has the module's JSON shape; a failing handler gets a 500
 * JSON answer when nothing was sent yet.
 */
public final class Router implements BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> {

    /** Set on requests of {@link HttpRoute.Access#OPEN_WITH_DETAILS_FOR_AUTHENTICATED} routes. */
    public static final String AUTHENTICATED_HEADER = "x-streamflow-authenticated";

    private final List<HttpRoute> routes;
    private final Credentials credentials;
    private final ConnectionLimit limit;

    /**
     * @param routes      the routes; an exact path wins over a prefix, a longer prefix over a shorter
     * @param credentials what protected routes require
     * @param limit       the connection limit
     */
    public Router(List<HttpRoute> routes, Credentials credentials, ConnectionLimit limit) {
        List<HttpRoute> sorted = new ArrayList<>(routes);
        sorted.sort(Comparator.comparing(HttpRoute::prefix).thenComparing(r -> -r.path().length()));
        for (int i = 0; i < sorted.size(); i++) {
            for (int j = i + 1; j < sorted.size(); j++) {
                HttpRoute a = sorted.get(i);
                HttpRoute b = sorted.get(j);
                if (a.prefix() == b.prefix() && a.path().equals(b.path())) {
                    throw new IllegalArgumentException("two routes claim " + (a.prefix() ? "the prefix " : "the path ")
                            + a.path());
                }
            }
        }
        this.routes = List.copyOf(sorted);
        this.credentials = credentials;
        this.limit = limit;
    }

    @Override
    public Publisher<Void> apply(HttpServerRequest request, HttpServerResponse response) {
        AtomicBoolean over = new AtomicBoolean();
        request.withConnection(c -> over.set(limit.overLimit(c.channel())));
        if (over.get()) {
            response.keepAlive(false);
            return JsonErrors.send(response, 503, "the server serves at most " + limit.max()
                    + " connections at a time and that many are open; retry later");
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = uri.path();
        HttpRoute route = null;
        for (HttpRoute r : routes) {
            if (r.matches(path)) {
                route = r;
                break;
            }
        }
        if (route == null) {
            return JsonErrors.send(response, 404, "no resource at '" + path + "'; this server answers "
                    + describePaths());
        }
        String method = request.method().name();
        if (!route.methods().contains(method)) {
            response.header(HttpHeaderNames.ALLOW, String.join(", ", route.methods()));
            return JsonErrors.send(response, 405, "method " + method + " is not allowed on " + path + "; allowed: "
                    + String.join(", ", route.methods()));
        }
        HttpRoute.Access access = route.access();
        if (access == HttpRoute.Access.STATIC_FILES) {
            access = isDocument(path) ? HttpRoute.Access.PAGE : HttpRoute.Access.OPEN;
        }
        if (access != HttpRoute.Access.OPEN) {
            String queryToken = null;
            if (access == HttpRoute.Access.PAGE) {
                List<String> values = uri.parameters().get(Credentials.QUERY_PARAMETER);
                queryToken = values == null || values.isEmpty() ? null : values.get(0);
            }
            boolean ok = credentials.accepts(name -> request.requestHeaders().get(name), queryToken);
            if (access == HttpRoute.Access.OPEN_WITH_DETAILS_FOR_AUTHENTICATED) {
                request.requestHeaders().set(AUTHENTICATED_HEADER, Boolean.toString(ok));
            } else if (!ok) {
                for (String challenge : credentials.challenges()) {
                    response.addHeader(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
                }
                boolean sent = credentials.presented(name -> request.requestHeaders().get(name))
                        || queryToken != null;
                return JsonErrors.send(response, 401, (sent ? "the credentials sent are not valid" : "no credentials")
                        + " for " + path + "; send " + credentials.expected());
            }
        }
        HttpRoute chosen = route;
        return Mono.defer(() -> Mono.from(chosen.handler().handle(request, response)))
                .onErrorResume(e -> response.hasSentHeaders() ? Mono.error(e)
                        : JsonErrors.send(response, 500, "the server failed to answer " + method + " " + path + ": "
                        + e));
    }

    private static boolean isDocument(String path) {
        String p = path.toLowerCase(java.util.Locale.ROOT);
        return p.endsWith("/") || p.endsWith(".html") || p.endsWith(".htm");
    }

    private String describePaths() {
        List<String> paths = new ArrayList<>();
        for (HttpRoute r : routes) {
            paths.add(r.prefix() ? r.path() + "..." : r.path());
        }
        paths.sort(null);
        return String.join(", ", paths);
    }
}
