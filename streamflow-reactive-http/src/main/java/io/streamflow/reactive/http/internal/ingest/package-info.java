/**
 * Implementation of {@link io.streamflow.reactive.http.HttpIngest}: the request handler
 * ({@link io.streamflow.reactive.http.internal.ingest.IngestResponder}), the body reader, the
 * bounded buffer the pipeline reads with demand and the idempotency keys. Not API.
 */
package io.streamflow.reactive.http.internal.ingest;
