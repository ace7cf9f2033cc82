package io.streamflow.reactive.analytics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/** Keeps the best {@code n} of the entries offered, by {@code order} (best first), ties by key order. */
final class RankingBuilder<K, V> {

    private final int n;
    private final Comparator<Candidate<K, V>> best;
    private final PriorityQueue<Candidate<K, V>> worstFirst;

    record Candidate<K, V>(K key, V value) {
    }

    RankingBuilder(int n, Comparator<? super V> order, Comparator<? super K> keyOrder) {
        this.n = n;
        Comparator<Candidate<K, V>> byValue = (a, b) -> order.compare(a.value(), b.value());
        this.best = byValue.thenComparing((a, b) -> keyOrder.compare(a.key(), b.key()));
        this.worstFirst = new PriorityQueue<>(Math.min(n, 1024) + 1, best.reversed());
    }

    void offer(K key, V value) {
        Candidate<K, V> c = new Candidate<>(key, value);
        if (worstFirst.size() < n) {
            worstFirst.add(c);
        } else if (best.compare(c, worstFirst.peek()) < 0) {
            worstFirst.poll();
            worstFirst.add(c);
        }
    }

    Ranking<K, V> build(long start, long end) {
        List<Candidate<K, V>> sorted = new ArrayList<>(worstFirst);
        sorted.sort(best);
        List<Ranking.Entry<K, V>> entries = new ArrayList<>(sorted.size());
        for (int i = 0; i < sorted.size(); i++) {
            entries.add(new Ranking.Entry<>(i + 1, sorted.get(i).key(), sorted.get(i).value()));
        }
        worstFirst.clear();
        return new Ranking<>(start, end, entries);
    }
}
