package io.streamflow.reactive.analytics;

import java.util.List;

/**
 * The top entries of one interval of event time {@code [start, end)}, best first.
 *
 * @param start   interval start (inclusive, epoch millis)
 * @param end     interval end (exclusive)
 * @param entries at most N entries, ranks 1, 2, ...
 * @param <K>     key type of the ranked keys
 * @param <V>     type of the ranked values or scores
 */
public record Ranking<K, V>(long start, long end, List<Entry<K, V>> entries) {

    /**
     * Keeps an unmodifiable copy of the entries.
     *
     * @param start   interval start (inclusive, epoch millis)
     * @param end     interval end (exclusive)
     * @param entries the entries, best first
     * @throws NullPointerException if {@code entries} is or holds {@code null}
     */
    public Ranking {
        entries = List.copyOf(entries);
    }

    /**
     * One ranked key: {@code rank} starts at 1.
     *
     * @param rank  the position in the ranking, 1 for the best
     * @param key   the ranked key
     * @param value its value (top-N) or decayed score (trending)
     * @param <K>   key type
     * @param <V>   value type
     */
    public record Entry<K, V>(int rank, K key, V value) {
    }
}
