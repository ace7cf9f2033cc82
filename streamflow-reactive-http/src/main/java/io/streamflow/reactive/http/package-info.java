/**
 * HTTP and server-sent events on Reactor Netty: a pipeline's results served to clients over SSE
 * from a retained, numbered log with exact resume, JSON ingest into a pipeline, an HTTP sink, and
 * the operational face of a pipeline (Prometheus metrics, health, a live status page).
 * Packages named {@code internal} are implementation, not API.
 */
package io.streamflow.reactive.http;
