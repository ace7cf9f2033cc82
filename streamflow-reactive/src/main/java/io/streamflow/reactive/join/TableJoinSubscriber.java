package io.streamflow.reactive.join;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import reactor.core.CoreSubscriber;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * Stream-table join. The right input is a changelog: a record upserts its key's row, a record with
 * a {@code null} value deletes it. Each left (stream) record is enriched with the row's value, per
 * {@link TableLookup}:
 * <ul>
 *   <li>{@code AS_OF_EVENT_TIME}: the table keeps the row's versions; a stream record waits (in
 *   state) until the watermark reaches its timestamp and then gets the version valid at its
 *   timestamp. Versions no future record can see are purged as the watermark advances. A stream
 *   record or a change at or behind the watermark goes to the late output.</li>
 *   <li>{@code LATEST}: the table keeps each key's newest change (by timestamp); a stream record
 *   is joined at once with the current value. A change older than the key's newest one (a delete
 *   included: it stays as a tombstone until the watermark passes it) goes to the late output, and
 *   so does a change at or behind the watermark for a key without a live row.</li>
 * </ul>
 * Results carry the stream record's key and timestamp.
 * <p>
 * Checkpoints: rows and waiting records are put after every change, so aligned barriers only
 * write the scalars of {@link TwoInputSubscriber}. On start the waiting timestamps are rebuilt
 * from the namespaces of the waiting state, and the compaction index from the table: a LATEST
 * tombstone is compacted once the watermark passes it, exactly as before; an AS_OF row whose newest
 * version is after the watermark gets one compaction at that version's time (versions behind the
 * watermark were compacted before the checkpoint). Versions in between are then dropped when the
 * watermark passes the newest one instead of one by one; compaction only drops versions no future
 * lookup can see, so no result changes.
 */
final class TableJoinSubscriber<K, V, T, O> extends TwoInputSubscriber<K, V, T, O> {

    private static final String ROWS = "rows";

    private final boolean asOf;
    private final boolean leftOuter;
    private final KeyedState<K, String, Versions<T>> table;
    private final KeyedState<K, Long, Rows<V>> waiting;
    /** Timestamps with waiting stream records. */
    private final TreeSet<Long> waitingTimestamps = new TreeSet<>();
    /** Version timestamp -> rows that got a version then: once the watermark passes it, older versions are obsolete. */
    private final TreeMap<Long, List<Ref<K>>> compactAt = new TreeMap<>();

    record Ref<K>(int shard, K key) {
    }

    TableJoinSubscriber(CoreSubscriber<? super StreamElement<K, O>> actual, OperatorSettings settings,
                        BiFunction<? super V, ? super T, ? extends O> joiner, TableLookup lookup, JoinType type) {
        super(actual, settings, joiner);
        this.asOf = lookup == TableLookup.AS_OF_EVENT_TIME;
        this.leftOuter = type == JoinType.LEFT;
        this.table = backend.keyedState(name, "table");
        this.waiting = backend.keyedState(name, "waiting");
    }

    @Override
    void onLeft(StreamRecord<K, V> r, int shard) {
        if (!asOf) {
            Versions<T> row = table.get(shard, ROWS, r.key());
            checkShard(row, shard, r.key());
            enrich(r.key(), r.value(), row == null ? null : row.latest(), r.timestamp(), shard, r);
            return;
        }
        long t = r.timestamp();
        if (t <= watermark) {
            late(r, true, t, t + 1);
            return;
        }
        Rows<V> rows = waiting.get(shard, t, r.key());
        if (rows == null) {
            rows = new Rows<>();
            waitingTimestamps.add(t);
        }
        rows.add(r.value(), t);
        waiting.put(shard, t, r.key(), rows);
    }

    private void checkShard(Versions<T> row, int shard, K key) {
        if (row == null && sharded && table.existsInOtherShard(shard, ROWS, key)) {
            throw notCoPartitioned(key, shard);
        }
    }

    @Override
    void onRight(StreamRecord<K, T> change, int shard) {
        long ts = change.timestamp();
        K key = change.key();
        Versions<T> row = table.get(shard, ROWS, key);
        boolean late;
        if (asOf) {
            late = ts <= watermark;
        } else {
            // older than the row's newest change (a delete's tombstone included), or behind the
            // watermark for a key with no live row (its tombstone may already be purged)
            boolean live = row != null && row.latest() != null;
            late = row != null && ts < row.latestTimestamp() || !live && ts <= watermark;
        }
        if (late) {
            late(change, false, ts, ts + 1);
            return;
        }
        if (row == null) {
            if (sharded && table.existsInOtherShard(shard, ROWS, key)) {
                throw notCoPartitioned(key, shard);
            }
            row = new Versions<>();
        } else if (!asOf) {
            row = new Versions<>(); // LATEST keeps only the newest change
        }
        row.put(ts, change.value());
        table.put(shard, ROWS, key, row);
        if (asOf || change.value() == null) {
            // old versions (AS_OF) and tombstones (LATEST) go once the watermark passes them
            compactAt.computeIfAbsent(ts, x -> new ArrayList<>(1)).add(new Ref<>(shard, key));
        }
    }

    private void enrich(K key, V value, T tableValue, long ts, int shard, StreamRecord<K, V> trigger) {
        if (tableValue == null && !leftOuter) {
            metrics.unmatched();
            return;
        }
        O out = join(value, tableValue, trigger);
        if (out != null) {
            result(key, out, ts, shard);
        }
    }

    @Override
    Work<StreamElement<K, O>> onWatermark(long previous, long current) {
        while (!waitingTimestamps.isEmpty() && waitingTimestamps.first() <= current) {
            long t = waitingTimestamps.pollFirst();
            for (int shard : waiting.shards()) {
                for (K key : waiting.keys(shard, t)) {
                    Rows<V> rows = waiting.get(shard, t, key);
                    Versions<T> row = table.get(shard, ROWS, key);
                    checkShard(row, shard, key);
                    T tableValue = row == null ? null : row.valueAt(t);
                    for (int i = 0; i < rows.size(); i++) {
                        enrich(key, rows.value(i), tableValue, t, shard, null);
                    }
                }
                waiting.removeNamespace(shard, t);
            }
        }
        while (!compactAt.isEmpty() && compactAt.firstKey() <= current) {
            for (Ref<K> ref : compactAt.pollFirstEntry().getValue()) {
                Versions<T> row = table.get(ref.shard(), ROWS, ref.key());
                if (row == null) {
                    continue;
                }
                row.compact(current);
                if (row.size() == 0) {
                    table.remove(ref.shard(), ROWS, ref.key());
                } else {
                    table.put(ref.shard(), ROWS, ref.key(), row);
                }
            }
        }
        return null;
    }

    @Override
    long stateSize() {
        return table.size() + waiting.size();
    }

    /** Rebuilds the waiting timestamps and the compaction index (see the class comment). */
    @Override
    void restoreState() {
        for (int shard : waiting.shards()) {
            for (Long t : waiting.namespaces(shard)) {
                waitingTimestamps.add(t);
            }
        }
        for (int shard : table.shards()) {
            table.forEach(shard, ROWS, (key, row) -> {
                if (row.size() == 0) {
                    return;
                }
                long newest = row.latestTimestamp();
                if (asOf ? newest > watermark : row.latest() == null) {
                    compactAt.computeIfAbsent(newest, x -> new ArrayList<>(1)).add(new Ref<>(shard, key));
                }
            });
        }
    }

    @Override
    void clear() {
        if (!durable) {
            table.clear();
            waiting.clear();
        }
        waitingTimestamps.clear();
        compactAt.clear();
    }
}
