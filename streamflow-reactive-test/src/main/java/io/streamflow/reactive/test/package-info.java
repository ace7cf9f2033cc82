/**
 * The test kit: {@link io.streamflow.reactive.test.TestEventStream} scripts records, watermarks,
 * idleness and processing-time pauses for {@code StepVerifier}.
 */
package io.streamflow.reactive.test;
