package io.streamflow.reactive.join;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.internal.EventTime;
import io.streamflow.reactive.internal.Work;
import io.streamflow.reactive.state.KeyedState;
import reactor.core.CoreSubscriber;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * Interval join: a left record at {@code t} joins every right record with the same key and a
 * timestamp in {@code [t + lower, t + upper]}. A pair is emitted as soon as its second record
 * arrives, with the later of the two timestamps.
 * <p>
 * State per input is {@code (shard, time bucket, key) -> rows}, buckets {@code upper - lower + 1}
 * ms wide so a lookup reads at most two. A right row at {@code s} is kept while the watermark is
 * below {@code s - lower}, a left row at {@code t} while it is below {@code t + upper}; after that
 * no match is possible, and a bucket is removed when all its rows are. A record at or behind the
 * watermark could have lost matches that were already purged, so it goes to the late output.
 * <p>
 * Left outer join: a left row that found no match by the time the watermark reaches
 * {@code t + upper} is emitted with {@code null} for the right value and the timestamp
 * {@code t + max(upper, 0)}, the latest time a match could have had.
 * <p>
 * Checkpoints: rows are put after every change. On start the bucket indexes are rebuilt from the
 * namespaces of both inputs' state. The left outer join's due index cannot be derived from the
 * rows: the order of its entries decides the order of the unmatched results of one watermark. So
 * when a checkpoint's barriers are aligned, the due lists that got entries since the previous
 * checkpoint are written to the keyed state {@code "due"} ({@code (shard, due time, position in
 * the time's list) -> key}) and the lists that fired are removed from it; on start the index is
 * rebuilt from it in the same order.
 * <p>
 * Every range, bucket and due time is a {@code long}: a left record whose range
 * {@code [t + lower, t + upper]} (a right record whose range {@code [s - upper, s - lower]}) would
 * not fit between {@code Long.MIN_VALUE} and {@code Long.MAX_VALUE} exclusive goes to the dead-letter
 * output or fails the pipeline, as the error policy says; bucket bounds saturate.
 */
final class IntervalJoinSubscriber<K, L, R, O> extends TwoInputSubscriber<K, L, R, O> {

    private final long lower;
    private final long upper;
    private final long width;
    /** Left (right) timestamps whose join range fits in a {@code long}. */
    private final long leftFirst;
    private final long leftLast;
    private final long rightFirst;
    private final long rightLast;
    private final boolean leftOuter;
    private final KeyedState<K, Long, Rows<L>> left;
    private final KeyedState<K, Long, Rows<R>> right;
    private final TreeSet<Long> leftBuckets = new TreeSet<>();
    private final TreeSet<Long> rightBuckets = new TreeSet<>();
    /** Left outer join: {@code t + upper -> left rows due then}, checked for a match when the watermark gets there. */
    private final TreeMap<Long, List<Due<K>>> unmatchedDue = new TreeMap<>();
    /** {@link #unmatchedDue} as of the last checkpoint: {@code (shard, due time, position in its list) -> key}. */
    private final KeyedState<Long, Long, K> dueState;
    /** Due times whose list got entries since the last checkpoint; a subset of the keys of {@link #unmatchedDue}. */
    private final Set<Long> changedDue = new HashSet<>();
    /** Due times that have entries in {@link #dueState}. */
    private final TreeSet<Long> persistedDue = new TreeSet<>();

    record Due<K>(int shard, long bucket, K key, long timestamp) {
    }

    IntervalJoinSubscriber(CoreSubscriber<? super StreamElement<K, O>> actual, OperatorSettings settings,
                           BiFunction<? super L, ? super R, ? extends O> joiner, long lower, long upper,
                           JoinType type) {
        super(actual, settings, joiner);
        this.lower = lower;
        this.upper = upper;
        this.width = Math.max(1, EventTime.add(EventTime.subtract(upper, lower), 1));
        this.leftFirst = Math.max(EventTime.MIN_VALID, EventTime.subtract(EventTime.MIN_VALID, lower));
        this.leftLast = Math.min(EventTime.MAX_VALID, EventTime.subtract(EventTime.MAX_VALID, upper));
        this.rightFirst = Math.max(EventTime.MIN_VALID, EventTime.add(EventTime.MIN_VALID, upper));
        this.rightLast = Math.min(EventTime.MAX_VALID, EventTime.add(EventTime.MAX_VALID, lower));
        this.leftOuter = type == JoinType.LEFT;
        this.left = backend.keyedState(name, "left");
        this.right = backend.keyedState(name, "right");
        this.dueState = backend.keyedState(name, "due");
    }

    private long bucket(long ts) {
        return Math.floorDiv(ts, width);
    }

    /** The last timestamp of bucket {@code b}, saturated: no row of the last bucket is later anyway. */
    private long bucketLast(long b) {
        return EventTime.multiply(b + 1, width) - 1;
    }

    private String rangeProblem(long first, long last, boolean isLeft) {
        return (isLeft ? "the range of right timestamps it joins, [t" + plus(lower) + ", t" + plus(upper) + "],"
                : "the range of left timestamps it joins, [s" + minus(upper) + ", s" + minus(lower) + "],")
                + " would not fit in the range of a long; this join takes " + (isLeft ? "left" : "right")
                + " timestamps in [" + first + ", " + last + "]";
    }

    private static String plus(long d) {
        return d < 0 ? " - " + Long.toString(d).substring(1) : " + " + d;
    }

    private static String minus(long d) {
        return d < 0 ? " + " + Long.toString(d).substring(1) : " - " + d;
    }

    @Override
    void onLeft(StreamRecord<K, L> r, int shard) {
        long t = r.timestamp();
        if (t < leftFirst || t > leftLast) {
            unusableTimestamp(r, rangeProblem(leftFirst, leftLast, true));
            return;
        }
        if (t <= watermark) {
            late(r, true, t + lower, t + upper + 1);
            return;
        }
        K key = r.key();
        boolean matched = false;
        long from = t + lower;
        long to = t + upper;
        for (long b = bucket(from); b <= bucket(to); b++) {
            Rows<R> rs = right.get(shard, b, key);
            if (rs == null) {
                continue;
            }
            boolean changed = false;
            for (int j = 0; j < rs.size(); j++) {
                long s = rs.timestamp(j);
                if (s >= from && s <= to) {
                    matched = true;
                    if (!rs.matched(j)) {
                        rs.markMatched(j);
                        changed = true;
                    }
                    emitJoined(key, r.value(), rs.value(j), Math.max(t, s), shard, r);
                }
            }
            if (changed) {
                right.put(shard, b, key, rs);
            }
        }
        long due = t + upper;
        if (leftOuter && !matched && due <= watermark) {
            // every right record that could match is already here: unmatched for good
            emitJoined(key, r.value(), null, t + Math.max(upper, 0), shard, r);
            return;
        }
        long b = bucket(t);
        Rows<L> rows = left.get(shard, b, key);
        if (rows == null) {
            if (sharded && (left.existsInOtherShard(shard, b, key) || rightElsewhere(shard, key, t))) {
                throw notCoPartitioned(key, shard);
            }
            rows = new Rows<>();
            leftBuckets.add(b);
        }
        rows.add(r.value(), t);
        if (matched) {
            rows.markMatched(rows.size() - 1);
        }
        left.put(shard, b, key, rows);
        if (leftOuter && !matched) {
            unmatchedDue.computeIfAbsent(due, x -> new ArrayList<>(1)).add(new Due<>(shard, b, key, t));
            changedDue.add(due);
        }
    }

    private boolean rightElsewhere(int shard, K key, long t) {
        for (long b = bucket(t + lower); b <= bucket(t + upper); b++) {
            if (right.existsInOtherShard(shard, b, key)) {
                return true;
            }
        }
        return false;
    }

    @Override
    void onRight(StreamRecord<K, R> r, int shard) {
        long s = r.timestamp();
        if (s < rightFirst || s > rightLast) {
            unusableTimestamp(r, rangeProblem(rightFirst, rightLast, false));
            return;
        }
        if (s <= watermark) {
            late(r, false, s - upper, s - lower + 1);
            return;
        }
        K key = r.key();
        long from = s - upper;
        long to = s - lower;
        boolean matched = false;
        for (long b = bucket(from); b <= bucket(to); b++) {
            Rows<L> ls = left.get(shard, b, key);
            if (ls == null) {
                continue;
            }
            boolean changed = false;
            for (int i = 0; i < ls.size(); i++) {
                long t = ls.timestamp(i);
                if (t >= from && t <= to) {
                    matched = true;
                    if (!ls.matched(i)) {
                        ls.markMatched(i);
                        changed = true;
                    }
                    emitJoined(key, ls.value(i), r.value(), Math.max(t, s), shard, r);
                }
            }
            if (changed) {
                left.put(shard, b, key, ls);
            }
        }
        long b = bucket(s);
        Rows<R> rows = right.get(shard, b, key);
        if (rows == null) {
            if (sharded && right.existsInOtherShard(shard, b, key)) {
                throw notCoPartitioned(key, shard);
            }
            rows = new Rows<>();
            rightBuckets.add(b);
        }
        rows.add(r.value(), s);
        if (matched) {
            rows.markMatched(rows.size() - 1);
        }
        right.put(shard, b, key, rows);
    }

    private void emitJoined(K key, L l, R r, long ts, int shard, StreamRecord<?, ?> trigger) {
        O out = join(l, r, trigger);
        if (out != null) {
            result(key, out, ts, shard);
        }
    }

    @Override
    Work<StreamElement<K, O>> onWatermark(long previous, long current) {
        if (leftOuter) {
            while (!unmatchedDue.isEmpty() && unmatchedDue.firstKey() <= current) {
                Map.Entry<Long, List<Due<K>>> dueNow = unmatchedDue.pollFirstEntry();
                changedDue.remove(dueNow.getKey());
                for (Due<K> d : dueNow.getValue()) {
                    Rows<L> rows = left.get(d.shard(), d.bucket(), d.key());
                    if (rows == null) {
                        continue;
                    }
                    for (int i = 0; i < rows.size(); i++) {
                        if (rows.timestamp(i) == d.timestamp() && !rows.matched(i)) {
                            rows.markMatched(i); // emitted once, even when several rows share the timestamp
                            emitJoined(d.key(), rows.value(i), null, d.timestamp() + Math.max(upper, 0), d.shard(),
                                    null);
                            break;
                        }
                    }
                    left.put(d.shard(), d.bucket(), d.key(), rows);
                }
            }
        }
        // a left bucket is done when its last possible row (t = end - 1) satisfies t + upper <= W
        while (!leftBuckets.isEmpty() && EventTime.add(bucketLast(leftBuckets.first()), upper) <= current) {
            removeBucket(left, leftBuckets.pollFirst(), !leftOuter);
        }
        // a right bucket is done when s - lower <= W for its last possible row
        while (!rightBuckets.isEmpty() && EventTime.subtract(bucketLast(rightBuckets.first()), lower) <= current) {
            removeBucket(right, rightBuckets.pollFirst(), true);
        }
        return null;
    }

    /** Removes a bucket whose rows can match nothing any more, counting those that never matched. */
    private <V> void removeBucket(KeyedState<K, Long, Rows<V>> state, long bucket, boolean countUnmatched) {
        for (int shard : state.shards()) {
            if (countUnmatched) {
                state.forEach(shard, bucket, (k, rows) -> {
                    for (int i = 0; i < rows.size(); i++) {
                        if (!rows.matched(i)) {
                            metrics.unmatched();
                        }
                    }
                });
            }
            state.removeNamespace(shard, bucket);
        }
    }

    @Override
    long stateSize() {
        return left.size() + right.size();
    }

    /**
     * Writes the due index to {@link #dueState}: removes the lists that fired since the last
     * checkpoint (they are at or behind the watermark, every remaining one is after it) and writes
     * the lists that got entries.
     */
    @Override
    void snapshotState() {
        for (Iterator<Long> it = persistedDue.iterator(); it.hasNext(); ) {
            long due = it.next();
            if (due > watermark) {
                break;
            }
            if (!unmatchedDue.containsKey(due)) {
                for (int shard : dueState.shards()) {
                    dueState.removeNamespace(shard, due);
                }
                it.remove();
            }
        }
        for (long due : changedDue) {
            List<Due<K>> list = unmatchedDue.get(due);
            for (int i = 0; i < list.size(); i++) {
                Due<K> d = list.get(i);
                dueState.put(d.shard(), due, (long) i, d.key());
            }
            persistedDue.add(due);
        }
        changedDue.clear();
    }

    /** Rebuilds the bucket indexes from the namespaces of the rows, and the due index from {@link #dueState}. */
    @Override
    void restoreState() {
        for (int shard : left.shards()) {
            for (Long b : left.namespaces(shard)) {
                leftBuckets.add(b);
            }
        }
        for (int shard : right.shards()) {
            for (Long b : right.namespaces(shard)) {
                rightBuckets.add(b);
            }
        }
        TreeMap<Long, TreeMap<Long, Due<K>>> byDue = new TreeMap<>();
        for (int shard : dueState.shards()) {
            for (Long due : dueState.namespaces(shard)) {
                long t = due - upper;
                TreeMap<Long, Due<K>> list = byDue.computeIfAbsent(due, x -> new TreeMap<>());
                dueState.forEach(shard, due, (position, key) -> list.put(position, new Due<>(shard, bucket(t), key, t)));
            }
        }
        for (Map.Entry<Long, TreeMap<Long, Due<K>>> e : byDue.entrySet()) {
            unmatchedDue.put(e.getKey(), new ArrayList<>(e.getValue().values()));
            persistedDue.add(e.getKey());
        }
    }

    @Override
    void clear() {
        if (!durable) {
            left.clear();
            right.clear();
            dueState.clear();
        }
        leftBuckets.clear();
        rightBuckets.clear();
        unmatchedDue.clear();
        changedDue.clear();
        persistedDue.clear();
    }
}
