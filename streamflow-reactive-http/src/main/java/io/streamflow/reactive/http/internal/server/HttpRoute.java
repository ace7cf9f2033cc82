package io.streamflow.reactive.http.internal.server;

import java.util.Collections;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * One route of the server: a path (exact, or every path under a prefix), the methods it answers
 * and who may call it. Routes of the other parts of the module (SSE results, ingest) are added
 * through the server builder's package-private {@code route(HttpRoute)} and dispatched by the
 * same {@link Router}, so they get the same 404 / 405 / 401 answers, limits and authentication.
 *
 * @param path    the exact path ({@code /metrics}), or with {@code prefix} the start of every path
 *                the route owns (ending in {@code /}, e.g. {@code /results/})
 * @param prefix  whether {@code path} is a prefix
 * @param methods the methods answered ({@code GET}, {@code POST}, ...), kept sorted; others get 405
 * @param access  who may call it
 * @param handler what answers
 */
public record HttpRoute(String path, boolean prefix, Set<String> methods, Access access, RouteHandler handler) {

    /** Who may call a route. */
    public enum Access {
        /** Anyone (no state shown, no data accepted: static assets). */
        OPEN,
        /** Only with the configured credentials (every route that shows state or accepts data). */
        PROTECTED,
        /**
         * As {@link #PROTECTED}, and the bearer token or API key may also come as an
         * {@code access_token} query parameter: a browser's page and its {@code EventSource}
         * cannot send headers. Only for read-only pages.
         */
        PAGE,
        /**
         * The files of a static page: its HTML documents (a path ending in {@code /}, {@code .html}
         * or {@code .htm}) as {@link #PAGE}, its other files (scripts, styles, images) as
         * {@link #OPEN}, since a browser asks for those without the page's query parameters.
         */
        STATIC_FILES,
        /**
         * Open to everyone; the handler learns whether the caller authenticated (health: the
         * status is open, its details are not).
         */
        OPEN_WITH_DETAILS_FOR_AUTHENTICATED
    }

    /**
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if the path does not start with {@code /}, a prefix does
     *                                  not end with {@code /}, or no method is given
     */
    public HttpRoute {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(handler, "handler");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("a route path must start with '/', was '" + path + "'");
        }
        if (prefix && !path.endsWith("/")) {
            throw new IllegalArgumentException("a route prefix must end with '/', was '" + path + "'");
        }
        if (methods.isEmpty()) {
            throw new IllegalArgumentException("route " + path + " answers no method: give at least one");
        }
        TreeSet<String> upper = new TreeSet<>();
        methods.forEach(m -> upper.add(m.toUpperCase(Locale.ROOT)));
        methods = Collections.unmodifiableSortedSet(upper);
    }

    /**
     * @param path    the exact path
     * @param access  who may call it
     * @param handler what answers
     * @return a route answering {@code GET} (and {@code HEAD}) on {@code path}
     */
    public static HttpRoute get(String path, Access access, RouteHandler handler) {
        return new HttpRoute(path, false, Set.of("GET", "HEAD"), access, handler);
    }

    /**
     * @param requestPath the path of a request (no query)
     * @return whether this route owns it
     */
    public boolean matches(String requestPath) {
        return prefix ? requestPath.startsWith(path) : requestPath.equals(path);
    }
}
