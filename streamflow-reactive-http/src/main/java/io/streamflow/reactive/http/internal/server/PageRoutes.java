package io.streamflow.reactive.http.internal.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The routes of a static page: the files of a class-path directory served under a path. {@code GET}
 * and {@code HEAD} only; the path itself answers the directory's {@code index.html}. A file name
 * is checked before anything is looked up: segments of letters, digits, {@code -}, {@code _} and
 * {@code .}, never {@code .} or {@code ..}, and an extension of {@link #CONTENT_TYPES}; anything
 * else, and a file that does not exist, is a JSON 404. Files are read from the class path on a
 * bounded-elastic thread the first time they are asked for, then kept (only files that exist, so
 * the cache is bounded by the directory).
 */
public final class PageRoutes {

    /** Content type of each extension served; files of other types are not served. */
    public static final Map<String, String> CONTENT_TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("htm", "text/html; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("webp", "image/webp"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"));

    /** The page's own origin only: no inline script, nothing from elsewhere. */
    static final String CSP = "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "frame-ancestors 'none'";

    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");
    private static final String INDEX = "index.html";

    private final String path;
    private final String directory;
    private final ClassLoader loader;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();

    private PageRoutes(String path, String directory, ClassLoader loader) {
        this.path = path;
        this.directory = directory;
        this.loader = loader;
    }

    /**
     * @param path      where to serve: {@code /}, or segments ending with {@code /} ({@code /app/})
     * @param directory the class-path directory, without a leading {@code /}, ending with {@code /}
     * @param loader    the class loader to read it from
     * @return the routes: every path under {@code path} ({@link HttpRoute.Access#STATIC_FILES}) and,
     * unless {@code path} is {@code /}, the path without its last {@code /}, redirected to it
     */
    public static List<HttpRoute> of(String path, String directory, ClassLoader loader) {
        PageRoutes page = new PageRoutes(path, directory, loader);
        List<HttpRoute> routes = new ArrayList<>(2);
        routes.add(new HttpRoute(path, true, java.util.Set.of("GET", "HEAD"), HttpRoute.Access.STATIC_FILES,
                page::serve));
        if (!"/".equals(path)) {
            String bare = path.substring(0, path.length() - 1);
            routes.add(HttpRoute.get(bare, HttpRoute.Access.OPEN, (request, response) -> {
                String query = new QueryStringDecoder(request.uri()).rawQuery();
                return response.status(308)
                        .header(HttpHeaderNames.LOCATION, path + (query.isEmpty() ? "" : "?" + query))
                        .header(HttpHeaderNames.CONTENT_LENGTH, "0")
                        .send();
            }));
        }
        return routes;
    }

    /**
     * @param name a file name relative to the page's directory, as a request asks for it
     * @return why it is not served, or {@code null} when it may be looked up
     */
    static String refusal(String name) {
        if (name.indexOf('\\') >= 0 || name.indexOf('%') >= 0) {
            return "a page's file names hold no '\\' or '%'";
        }
        for (String segment : name.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches()) {
                return "a page's file names are segments of letters, digits, '-', '_' and '.', never '.' or '..'"
                        + " nor empty, was '" + name + "'";
            }
        }
        if (contentType(name) == null) {
            return "files of this type are not served from a page; served types: "
                    + new java.util.TreeSet<>(CONTENT_TYPES.keySet());
        }
        return null;
    }

    /**
     * @param name a file name
     * @return its content type by extension, or {@code null} when such files are not served
     */
    static String contentType(String name) {
        int dot = name.lastIndexOf('.');
        int slash = name.lastIndexOf('/');
        return dot <= slash + 1 ? null : CONTENT_TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private Mono<Void> serve(HttpServerRequest request, HttpServerResponse response) {
        String requestPath = new QueryStringDecoder(request.uri()).path();
        String name = requestPath.substring(path.length());
        if (name.isEmpty() || name.endsWith("/")) {
            name = name + INDEX;
        }
        String refused = refusal(name);
        if (refused != null) {
            return JsonErrors.send(response, 404, "no resource at '" + requestPath + "': " + refused);
        }
        String file = name;
        byte[] cached = files.get(file);
        Mono<Optional<byte[]>> content = cached != null ? Mono.just(Optional.of(cached))
                : Mono.fromCallable(() -> read(file)).subscribeOn(Schedulers.boundedElastic());
        return content.flatMap(bytes -> {
            if (bytes.isEmpty()) {
                return JsonErrors.send(response, 404, "no resource at '" + requestPath + "': the page has no file '"
                        + file + "'");
            }
            byte[] body = bytes.get();
            return response.header(HttpHeaderNames.CONTENT_TYPE, contentType(file))
                    .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
                    .header("Content-Security-Policy", CSP)
                    .header("X-Content-Type-Options", "nosniff")
                    .header(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                    .sendByteArray(Mono.just(body)).then();
        });
    }

    /** Reads a file of the page from the class path (blocking: on a bounded-elastic thread). */
    private Optional<byte[]> read(String name) {
        URL url = loader.getResource(directory + name);
        if (url == null || url.toString().endsWith("/") || isDirectory(url)) {
            return Optional.empty();
        }
        try (InputStream in = url.openStream()) {
            byte[] bytes = in.readAllBytes();
            files.put(name, bytes);
            return Optional.of(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the page file " + url, e);
        }
    }

    private static boolean isDirectory(URL url) {
        if (!"file".equals(url.getProtocol())) {
            return false;
        }
        try {
            return Files.isDirectory(Path.of(url.toURI()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return false;
        }
    }
}
