/**
 * Implementation of the Kafka sources and sinks: not API, may change in any release.
 */
package io.streamflow.reactive.kafka.internal;
