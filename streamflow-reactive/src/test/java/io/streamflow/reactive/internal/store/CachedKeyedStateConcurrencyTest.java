package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.window.TimeWindow;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Copy on write of {@link CachedKeyedState} under load: the operator thread keeps changing its
 * value objects in place (and putting, removing, dropping namespaces) while the checkpoint thread
 * flushes the previous snapshot and commits it. Every committed version must hold exactly the
 * state as it was when its snapshot was taken; it is read back from the committed version of the
 * map after each commit, and the last checkpoint once more after the store is closed and reopened.
 * Replay one seed with {@code -Dseed=<n>}.
 */
class CachedKeyedStateConcurrencyTest {

    /** A mutable value, changed in place by the operator; stored by its fields. */
    public static final class Counter {
        public long count;
        public long sum;
        public String tag;
        public long[] recent;

        public Counter() {
        }

        Counter(long count, long sum, String tag, long[] recent) {
            this.count = count;
            this.sum = sum;
            this.tag = tag;
            this.recent = recent;
        }

        Counter copy() {
            return new Counter(count, sum, tag, recent.clone());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Counter c && c.count == count && c.sum == sum && Objects.equals(c.tag, tag)
                    && Arrays.equals(c.recent, recent);
        }

        @Override
        public int hashCode() {
            return Objects.hash(count, sum, tag, Arrays.hashCode(recent));
        }

        @Override
        public String toString() {
            return "Counter[count=" + count + ", sum=" + sum + ", tag=" + tag + ", recent=" + Arrays.toString(recent) + "]";
        }
    }

    /** One entry's coordinates. */
    record Cell(int shard, TimeWindow window, String key) {
    }

    private static final int[] SHARDS = {3, 200};
    private static final int KEYS = 1500;
    private static final TimeWindow[] WINDOWS = new TimeWindow[5];
    private static final int CHECKPOINTS = 24;
    private static final int OPS_PER_CHECKPOINT = 5000;

    static {
        for (int i = 0; i < WINDOWS.length; i++) {
            WINDOWS[i] = new TimeWindow(i * 60_000L, (i + 1) * 60_000L);
        }
    }

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        List<Long> seeds = new ArrayList<>();
        Long fixed = Long.getLong("seed");
        if (fixed != null) {
            seeds.add(fixed);
        } else {
            long base = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                seeds.add(base + i * 7919L);
            }
        }
        List<Arguments> out = new ArrayList<>();
        for (long seed : seeds) {
            out.add(Arguments.of("cached", seed));
            out.add(Arguments.of("evicting", seed));
        }
        return out.stream();
    }

    private static int shardOf(int n) {
        return SHARDS[n % SHARDS.length];
    }

    private static Counter newCounter(Random rnd) {
        long[] recent = new long[4 + rnd.nextInt(5)];
        for (int i = 0; i < recent.length; i++) {
            recent[i] = rnd.nextInt(1000);
        }
        return new Counter(1, rnd.nextInt(1000), "t" + rnd.nextInt(50), recent);
    }

    private static void mutateInPlace(Counter c, Random rnd) {
        long x = rnd.nextInt(1000);
        c.count++;
        c.sum += x;
        c.recent[(int) (c.count % c.recent.length)] = x;
        if (rnd.nextInt(8) == 0) {
            c.tag = "t" + rnd.nextInt(50);
        }
    }

    /**
     * @param mode {@code cached}: no eviction; {@code evicting}: every clean entry is evicted as soon
     *             as it could be, so that the operator also reads the map while the flush writes it
     */
    @ParameterizedTest(name = "{0} seed={1}")
    @MethodSource("cases")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void everyCommittedCheckpointHoldsTheStateOfItsSnapshot(String mode, long seed) throws Exception {
        String replay = mode + ", replay with -Dseed=" + seed;
        Path file = dir.resolve("state.mv");
        Random rnd = new Random(seed);
        // the state as the operator sees it; its values are copies, replaced (never changed) on every change
        Map<Cell, Counter> model = new HashMap<>();
        Map<Cell, Counter> lastCommitted = null;
        long overlapped = 0;
        MVStore store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
        ExecutorService checkpointer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "checkpoint");
            t.setDaemon(true);
            return t;
        });
        try {
            DurableStateBackend durable = DurableStateBackend.open(store);
            CachingStateBackend backend = new CachingStateBackend(durable,
                    mode.equals("evicting") ? new CacheBudget(1, 0) : new CacheBudget(0));
            CachedKeyedState<String, TimeWindow, Counter> st = backend.keyedState("op", "counters");
            MVMap<byte[], Object> map = durable.openMap(st.mapName());

            // the entries of the snapshot being flushed: the operator hammers these
            List<Cell> inSnapshot = new ArrayList<>();
            List<Cell> touched = new ArrayList<>();
            Future<?> inFlight = null;
            for (int checkpoint = 1; checkpoint <= CHECKPOINTS; checkpoint++) {
                String at = replay + " (interval " + checkpoint + ")";
                int ops = checkpoint == 1 ? KEYS * SHARDS.length * 2 : OPS_PER_CHECKPOINT;
                for (int op = 0; op < ops; op++) {
                    if (inFlight != null && !inFlight.isDone()) {
                        overlapped++;
                    }
                    Cell cell;
                    if (!inSnapshot.isEmpty() && rnd.nextInt(10) < 7) {
                        cell = inSnapshot.get(rnd.nextInt(inSnapshot.size()));
                    } else {
                        int n = rnd.nextInt(KEYS);
                        cell = new Cell(shardOf(n), WINDOWS[rnd.nextInt(WINDOWS.length)], "user-" + n);
                    }
                    int dice = checkpoint == 1 ? 700 : rnd.nextInt(1000); // the first interval fills the state
                    if (dice < 550) {
                        // get and change in place, no put: the state holds the operator's object
                        Counter live = st.get(cell.shard(), cell.window(), cell.key());
                        assertThat(live).as(at + " get " + cell).isEqualTo(model.get(cell));
                        if (live != null) {
                            mutateInPlace(live, rnd);
                            model.put(cell, live.copy());
                            touched.add(cell);
                        }
                    } else if (dice < 800) {
                        Counter fresh = newCounter(rnd);
                        st.put(cell.shard(), cell.window(), cell.key(), fresh);
                        model.put(cell, fresh.copy());
                        touched.add(cell);
                        if (rnd.nextBoolean()) {
                            // changed again after the put, through the same reference
                            mutateInPlace(fresh, rnd);
                            model.put(cell, fresh.copy());
                        }
                    } else if (dice < 999) {
                        Counter removed = st.remove(cell.shard(), cell.window(), cell.key());
                        assertThat(removed).as(at + " remove " + cell).isEqualTo(model.remove(cell));
                    } else {
                        st.removeNamespace(cell.shard(), cell.window());
                        model.keySet().removeIf(c -> c.shard() == cell.shard() && c.window().equals(cell.window()));
                    }
                }
                assertThat(st.size()).as(at + " size").isEqualTo(model.size());

                // one checkpoint in flight: the next snapshot waits for the previous commit
                if (inFlight != null) {
                    await(inFlight);
                }
                // the operator is paused here: snapshot, and the expected state of this checkpoint
                List<CachedKeyedState.Snapshot> snapshots = backend.snapshot();
                Map<Cell, Counter> expected = new HashMap<>(model);
                int number = checkpoint;
                inFlight = checkpointer.submit(() -> {
                    backend.flush(snapshots);
                    long version = store.commit();
                    String where = replay + " (checkpoint " + number + ", version " + version + ")";
                    compare(where, expected, committed(map.openVersion(version), durable.types()));
                });
                lastCommitted = expected;
                inSnapshot = touched;
                touched = new ArrayList<>();
            }
            await(inFlight);
            assertThat(overlapped).as(replay + ": operations while a flush ran").isPositive();
        } finally {
            checkpointer.shutdownNow();
            assertThat(checkpointer.awaitTermination(10, TimeUnit.SECONDS)).as("checkpoint thread ended").isTrue();
            if (!store.isClosed()) {
                store.close();
            }
        }

        // what a restart reads: the last committed checkpoint, through a fresh backend
        MVStore reopened = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
        try {
            CachingStateBackend backend = new CachingStateBackend(DurableStateBackend.open(reopened), new CacheBudget(0));
            CachedKeyedState<String, TimeWindow, Counter> st = backend.keyedState("op", "counters");
            Map<Cell, Counter> read = new HashMap<>();
            for (int shard : st.shards()) {
                for (TimeWindow w : st.namespaces(shard)) {
                    st.forEach(shard, w, (k, v) -> read.put(new Cell(shard, w, k), v));
                }
            }
            compare(replay + " (after reopening)", lastCommitted, read);
            assertThat(st.size()).as(replay + " size after reopening").isEqualTo(lastCommitted.size());
        } finally {
            reopened.close();
        }
    }

    /** Waits for a checkpoint, rethrowing its failure (a comparison's assertion error included). */
    private static void await(Future<?> checkpoint) throws Exception {
        try {
            checkpoint.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** @return every entry of a (committed, read-only) version of the state's map, decoded */
    private static Map<Cell, Counter> committed(MVMap<byte[], Object> version, StateTypes types) {
        DurableKeyedState<String, TimeWindow, Counter> view = new DurableKeyedState<>(version, types);
        Map<Cell, Counter> out = new HashMap<>();
        for (int shard : view.shards()) {
            for (TimeWindow w : view.namespaces(shard)) {
                view.forEachCopy(shard, w, (k, v) -> {
                    if (out.put(new Cell(shard, w, k), v) != null) {
                        fail("duplicate entry " + new Cell(shard, w, k));
                    }
                });
            }
        }
        return out;
    }

    /** Fails with the first differences (the maps are too large to print whole). */
    private static void compare(String where, Map<Cell, Counter> expected, Map<Cell, Counter> actual) {
        List<String> diffs = new ArrayList<>();
        int count = 0;
        for (Map.Entry<Cell, Counter> e : expected.entrySet()) {
            Counter a = actual.get(e.getKey());
            if (!e.getValue().equals(a)) {
                count++;
                if (diffs.size() < 10) {
                    diffs.add(e.getKey() + ": expected " + e.getValue() + " but was " + a);
                }
            }
        }
        for (Map.Entry<Cell, Counter> e : actual.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                count++;
                if (diffs.size() < 10) {
                    diffs.add(e.getKey() + ": expected absent but was " + e.getValue());
                }
            }
        }
        if (count > 0) {
            fail(where + ": " + count + " of " + expected.size() + " entries differ, e.g.\n  " + String.join("\n  ", diffs));
        }
    }
}
