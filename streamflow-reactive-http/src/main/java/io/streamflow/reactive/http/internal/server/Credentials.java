package io.streamflow.reactive.http.internal.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The credentials a server accepts: a bearer token, an API key in a header, both (either one
 * suffices) or none (everything open). Secrets are compared as SHA-256 digests with
 * {@link MessageDigest#isEqual}, so the time taken depends neither on where a guess differs nor on
 * its length.
 */
public final class Credentials {

    /** Query parameter that may carry the token or key of a {@link HttpRoute.Access#PAGE} route. */
    public static final String QUERY_PARAMETER = "access_token";

    private static final String REALM = "streamflow";

    private final byte[] bearerDigest;
    private final String apiKeyHeader;
    private final byte[] apiKeyDigest;

    /**
     * @param bearerToken  the bearer token, or {@code null} for none
     * @param apiKeyHeader the API key's header, or {@code null} for none
     * @param apiKey       the API key, or {@code null} for none
     */
    public Credentials(String bearerToken, String apiKeyHeader, String apiKey) {
        if ((apiKeyHeader == null) != (apiKey == null)) {
            throw new IllegalArgumentException("an API key needs both its header and its value");
        }
        this.bearerDigest = bearerToken == null ? null : digest(bearerToken);
        this.apiKeyHeader = apiKeyHeader;
        this.apiKeyDigest = apiKey == null ? null : digest(apiKey);
    }

    /** @return whether any credentials are required */
    public boolean required() {
        return bearerDigest != null || apiKeyDigest != null;
    }

    /**
     * @param headers    a request's header values by name
     * @param queryToken the {@link #QUERY_PARAMETER} of the request when its route accepts it, else {@code null}
     * @return whether the request carries valid credentials (always {@code true} when none are required)
     */
    public boolean accepts(Function<String, String> headers, String queryToken) {
        if (!required()) {
            return true;
        }
        boolean ok = false;
        if (bearerDigest != null) {
            String authorization = headers.apply("Authorization");
            if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                ok |= matches(bearerDigest, authorization.substring(7).trim());
            }
            ok |= queryToken != null && matches(bearerDigest, queryToken);
        }
        if (apiKeyDigest != null) {
            String key = headers.apply(apiKeyHeader);
            ok |= key != null && matches(apiKeyDigest, key);
            ok |= queryToken != null && matches(apiKeyDigest, queryToken);
        }
        return ok;
    }

    /**
     * @param headers a request's header values by name
     * @return whether the request sent credentials of an accepted kind (valid or not)
     */
    public boolean presented(Function<String, String> headers) {
        return (bearerDigest != null && headers.apply("Authorization") != null)
                || (apiKeyDigest != null && headers.apply(apiKeyHeader) != null);
    }

    /** @return the {@code WWW-Authenticate} challenges of a 401 answer, one per accepted scheme */
    public List<String> challenges() {
        List<String> out = new ArrayList<>(2);
        if (bearerDigest != null) {
            out.add("Bearer realm=\"" + REALM + "\"");
        }
        if (apiKeyDigest != null) {
            out.add("ApiKey realm=\"" + REALM + "\", header=\"" + apiKeyHeader + "\"");
        }
        return out;
    }

    /** @return what a caller must send, for the message of a 401 answer */
    public String expected() {
        List<String> ways = new ArrayList<>(2);
        if (bearerDigest != null) {
            ways.add("an 'Authorization: Bearer <token>' header");
        }
        if (apiKeyDigest != null) {
            ways.add("the API key in the '" + apiKeyHeader + "' header");
        }
        return String.join(" or ", ways);
    }

    /**
     * Compares a presented secret with the expected one in constant time.
     *
     * @param expectedDigest SHA-256 of the expected secret
     * @param presented      what the caller sent
     * @return whether they are equal
     */
    static boolean matches(byte[] expectedDigest, String presented) {
        return MessageDigest.isEqual(expectedDigest, digest(presented));
    }

    static byte[] digest(String secret) {
        Objects.requireNonNull(secret, "secret");
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256, which every Java platform must have", e);
        }
    }
}
