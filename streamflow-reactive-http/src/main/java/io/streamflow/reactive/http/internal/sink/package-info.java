/**
 * Implementation of {@link io.streamflow.reactive.http.HttpSink}: batching, idempotency keys, the
 * request with its retries, and the meters. Not part of the API.
 */
package io.streamflow.reactive.http.internal.sink;
