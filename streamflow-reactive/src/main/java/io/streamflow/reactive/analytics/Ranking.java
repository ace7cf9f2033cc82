package io.streamflow.reactive.analytics;

import java.util.List;

/**
 * The top entries of one interval of event time {@code [start, end)}, best first.
 *
 * @param start   interval start (inclusive, epoch millis)
 * @param end     interval end (exclusive)
 * @param entries at most N entries, ranks 1, 2, ...
 */
public record Ranking<K, V>(long start, long end, List<Entry<K, V>> entries) {

    public Ranking {
        entries = List.copyOf(entries);
    }

    /** One ranked key: {@code rank} starts at 1. */
    public record Entry<K, V>(int rank, K key, V value) {
    }
}
