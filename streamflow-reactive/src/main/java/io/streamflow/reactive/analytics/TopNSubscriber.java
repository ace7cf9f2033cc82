package io.streamflow.reactive.analytics;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.window.TimeWindow;
import io.streamflow.reactive.window.WindowResult;
import reactor.core.CoreSubscriber;

import java.util.Comparator;
import java.util.TreeSet;

/**
 * Top-N per window over window results: keeps each key's latest result per window (an early pane
 * is replaced by later ones) and ranks the window when the watermark passes its end. A result for
 * a window already ranked goes to the late output.
 * <p>
 * Checkpoints: results are put as they arrive, so a barrier only writes the watermark; on start
 * the index of open windows is rebuilt from the namespaces of the results.
 */
final class TopNSubscriber<K, V> extends RankingSubscriber<K, WindowResult<K, V>, V> {

    private final KeyedState<K, TimeWindow, V> results;
    private final TreeSet<TimeWindow> live = new TreeSet<>();
    private final RankingBuilder<K, V> builder;

    TopNSubscriber(CoreSubscriber<? super StreamElement<TimeWindow, Ranking<K, V>>> actual, OperatorSettings settings,
                   int n, Comparator<? super V> order, Comparator<? super K> keyOrder) {
        super(actual, settings);
        this.results = backend.keyedState(name, "results");
        this.builder = new RankingBuilder<>(n, order, keyOrder);
    }

    @Override
    void onRecord(StreamRecord<K, WindowResult<K, V>> r) {
        WindowResult<K, V> res = r.value();
        TimeWindow w = res.window();
        if (w.maxTimestamp() <= watermark) {
            late(r, w.start(), w.end());
            return;
        }
        live.add(w);
        results.put(0, w, res.key(), res.value());
    }

    @Override
    void onWatermark(long current) {
        while (!live.isEmpty() && live.first().maxTimestamp() <= current) {
            TimeWindow w = live.pollFirst();
            results.forEach(0, w, builder::offer);
            ranking(builder.build(w.start(), w.end()));
            results.removeNamespace(0, w);
        }
    }

    @Override
    long stateSize() {
        return results.size();
    }

    /** Rebuilds {@link #live}: every window that holds results. */
    @Override
    void restoreState() {
        for (int shard : results.shards()) {
            for (TimeWindow w : results.namespaces(shard)) {
                live.add(w);
            }
        }
    }

    @Override
    void clear() {
        if (!durable) {
            results.clear();
        }
        live.clear();
    }
}
