package io.streamflow.reactive.http.internal.ingest;

import io.streamflow.reactive.http.HttpIngest;

import java.util.Objects;
import java.util.function.Function;

/**
 * Hands the engine of an {@link HttpIngest} to the request handler without a public accessor on
 * the API type: {@link HttpIngest} installs the accessor when its class is initialised, which has
 * happened before any instance exists.
 */
public final class IngestAccess {

    private static volatile Function<HttpIngest<?>, IngestEngine<?>> accessor;

    private IngestAccess() {
    }

    /**
     * Called once by {@link HttpIngest}'s static initialiser.
     *
     * @param engineOf the engine of an ingest
     */
    public static void install(Function<HttpIngest<?>, IngestEngine<?>> engineOf) {
        accessor = Objects.requireNonNull(engineOf, "engineOf");
    }

    /**
     * @param ingest a source
     * @return its engine
     */
    public static IngestEngine<?> engine(HttpIngest<?> ingest) {
        Objects.requireNonNull(ingest, "ingest");
        return accessor.apply(ingest);
    }
}
