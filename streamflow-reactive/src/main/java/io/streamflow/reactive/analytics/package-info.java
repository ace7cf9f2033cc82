/**
 * Analytics operators over windowed or keyed streams ({@link io.streamflow.reactive.analytics.Analytics}):
 * top-N rankings per window, trending keys with event-time decay, and per-user session summaries.
 */
package io.streamflow.reactive.analytics;
