package io.streamflow.reactive.analytics;

import java.util.Map;

/**
 * One closed session of a key (for example a user), from {@link Analytics#sessions}.
 *
 * @param start      timestamp of the first event (epoch millis)
 * @param lastEvent  timestamp of the last event
 * @param events     number of events
 * @param pageViews  number of events the page-view predicate accepted
 * @param eventTypes events per event type, in type order
 */
public record SessionSummary(long start, long lastEvent, long events, long pageViews, Map<String, Long> eventTypes) {

    /**
     * Keeps an unmodifiable copy of the event types, sorted by type.
     *
     * @param start      timestamp of the first event (epoch millis)
     * @param lastEvent  timestamp of the last event
     * @param events     number of events
     * @param pageViews  number of events the page-view predicate accepted
     * @param eventTypes events per event type
     * @throws NullPointerException if {@code eventTypes} is {@code null} or holds a {@code null} type
     */
    public SessionSummary {
        eventTypes = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(eventTypes));
    }

    /** @return {@code lastEvent - start} in milliseconds (0 for a single event) */
    public long durationMillis() {
        return lastEvent - start;
    }
}
