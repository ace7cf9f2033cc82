/**
 * JSON decoding for StreamFlow pipelines, on Jackson 3: {@link io.streamflow.reactive.json.JsonDecoder}
 * turns JSON text or bytes into {@link io.streamflow.reactive.Event}s (schema-less: key, fields,
 * timestamp) or into your own classes, and, as a stream operator, turns each input it cannot
 * decode into a {@link io.streamflow.reactive.DeadLetter} with the input's coordinates (source,
 * partition, position), the input itself and a {@link io.streamflow.reactive.json.JsonDecodingException}.
 * <p>
 * This is a module of its own ({@code streamflow-reactive-json}) so that the core has no JSON
 * library on its class path: pipelines that never read JSON do not take Jackson and its
 * versions, and the file, Kafka and HTTP sources share this one decoder instead of each bringing
 * its own. The implementation lives in {@code io.streamflow.reactive.json.internal}, which is not
 * API.
 */
package io.streamflow.reactive.json;
