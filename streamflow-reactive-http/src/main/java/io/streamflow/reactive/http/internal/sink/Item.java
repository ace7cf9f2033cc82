package io.streamflow.reactive.http.internal.sink;

import tools.jackson.databind.JsonNode;

/**
 * One result of a request: its idempotency key and its JSON.
 *
 * @param key    the result's idempotency key
 * @param result the result
 */
public record Item(String key, JsonNode result) {
}
