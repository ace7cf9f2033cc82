package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.window.TimeWindow;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same seeded random operations against the heap backend, the durable backend, the
 * checkpointed pipeline's cached backend (also with every clean entry evicted) and a plain
 * {@code java.util} model; the durable backends are also committed, closed and reopened along the
 * way. Replay one seed with {@code -Dseed=<n>}.
 */
class KeyedStateContractTest {

    record Key(int a, String b) {
    }

    record Val(long n, String s, List<Long> xs) {
    }

    private static final int OPS = 2500;
    private static final int[] SHARDS = {0, 1, 2, 255, 256, 70_000, Integer.MAX_VALUE};

    @TempDir
    Path dir;
    private Subject subject;

    /** A backend under test that can be restarted (durable: commit, close, reopen). */
    private interface Subject {
        KeyedState<Object, Object, Object> state();

        KeyedState<Object, Object, Object> otherOperator();

        void commit();

        void restart();

        void close();
    }

    private static final class Heap implements Subject {
        private final StateBackend backend = StateBackend.heap();

        @Override
        public KeyedState<Object, Object, Object> state() {
            return backend.keyedState("op", "s");
        }

        @Override
        public KeyedState<Object, Object, Object> otherOperator() {
            return backend.keyedState("other", "s");
        }

        @Override
        public void commit() {
        }

        @Override
        public void restart() {
        }

        @Override
        public void close() {
        }
    }

    private static final class Durable implements Subject {
        private final Path file;
        private MVStore store;
        private DurableStateBackend backend;

        Durable(Path file) {
            this.file = file;
            open();
        }

        private void open() {
            store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
            backend = DurableStateBackend.open(store);
        }

        @Override
        public KeyedState<Object, Object, Object> state() {
            return backend.keyedState("op", "s");
        }

        @Override
        public KeyedState<Object, Object, Object> otherOperator() {
            return backend.keyedState("other", "s");
        }

        @Override
        public void commit() {
            store.commit();
        }

        @Override
        public void restart() {
            store.commit();
            store.close();
            open();
        }

        @Override
        public void close() {
            if (!store.isClosed()) {
                store.close();
            }
        }
    }

    /**
     * The checkpointed pipeline's backend: a heap working set written back at each commit; with
     * {@code evictAll} every clean entry is evicted as soon as it could be, so lookups, iteration and
     * removal go through the store.
     */
    private static final class Cached implements Subject {
        private final Path file;
        private final boolean evictAll;
        private MVStore store;
        private CachingStateBackend backend;

        Cached(Path file, boolean evictAll) {
            this.file = file;
            this.evictAll = evictAll;
            open();
        }

        private void open() {
            store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
            backend = new CachingStateBackend(DurableStateBackend.open(store),
                    evictAll ? new CacheBudget(1, 0) : new CacheBudget(0));
        }

        @Override
        public KeyedState<Object, Object, Object> state() {
            return backend.keyedState("op", "s");
        }

        @Override
        public KeyedState<Object, Object, Object> otherOperator() {
            return backend.keyedState("other", "s");
        }

        @Override
        public void commit() {
            backend.flush(backend.snapshot());
            store.commit();
        }

        @Override
        public void restart() {
            commit();
            store.close();
            open();
        }

        @Override
        public void close() {
            if (!store.isClosed()) {
                store.close();
            }
        }
    }

    static Stream<Arguments> cases() {
        List<Long> seeds = new ArrayList<>();
        Long fixed = Long.getLong("seed");
        if (fixed != null) {
            seeds.add(fixed);
        } else {
            long base = System.nanoTime();
            for (int i = 0; i < 8; i++) {
                seeds.add(base + i * 7919L);
            }
        }
        List<Arguments> out = new ArrayList<>();
        for (long seed : seeds) {
            out.add(Arguments.of("heap", seed));
            out.add(Arguments.of("durable", seed));
            out.add(Arguments.of("cached", seed));
            out.add(Arguments.of("cached-evicting", seed));
        }
        return out.stream();
    }

    @AfterEach
    void closeSubject() {
        if (subject != null) {
            subject.close();
        }
    }

    private static Object randomKey(Random rnd) {
        return switch (rnd.nextInt(3)) {
            case 0 -> (long) rnd.nextInt(12) - 3;
            case 1 -> "k" + rnd.nextInt(8);
            default -> new Key(rnd.nextInt(3), rnd.nextBoolean() ? "x" : "y");
        };
    }

    private static Object randomNamespace(Random rnd) {
        return switch (rnd.nextInt(3)) {
            case 0 -> {
                long start = rnd.nextInt(4) * 10L;
                yield new TimeWindow(start, start + 10);
            }
            case 1 -> (long) rnd.nextInt(3);
            default -> "ns" + rnd.nextInt(3);
        };
    }

    private static Object randomValue(Random rnd) {
        return switch (rnd.nextInt(3)) {
            case 0 -> rnd.nextLong();
            case 1 -> "v" + rnd.nextInt(1000);
            default -> new Val(rnd.nextInt(), "s" + rnd.nextInt(10), List.of((long) rnd.nextInt(5), 1L));
        };
    }

    @ParameterizedTest(name = "{0} seed={1}")
    @MethodSource("cases")
    void shouldBehaveLikeTheModel(String backend, long seed) {
        subject = switch (backend) {
            case "heap" -> new Heap();
            case "durable" -> new Durable(dir.resolve("contract.mv"));
            case "cached" -> new Cached(dir.resolve("contract.mv"), false);
            default -> new Cached(dir.resolve("contract.mv"), true);
        };
        String replay = backend + ", replay with -Dseed=" + seed;
        Random rnd = new Random(seed);
        // shard -> namespace -> key -> value
        TreeMap<Integer, Map<Object, Map<Object, Object>>> model = new TreeMap<>();
        long size = 0;
        subject.otherOperator().put(0, "ns0", "k0", "other-operator");
        for (int op = 0; op < OPS; op++) {
            String at = replay + " (operation " + op + ")";
            KeyedState<Object, Object, Object> st = subject.state();
            int shard = SHARDS[rnd.nextInt(rnd.nextInt(10) == 0 ? SHARDS.length : 4)];
            Object ns = randomNamespace(rnd);
            Object key = randomKey(rnd);
            Map<Object, Map<Object, Object>> byNs = model.get(shard);
            Map<Object, Object> entries = byNs == null ? null : byNs.get(ns);
            int dice = rnd.nextInt(1000);
            if (dice < 350) {
                Object v = randomValue(rnd);
                st.put(shard, ns, key, v);
                if (model.computeIfAbsent(shard, s -> new HashMap<>()).computeIfAbsent(ns, n -> new HashMap<>())
                        .put(key, v) == null) {
                    size++;
                }
            } else if (dice < 500) {
                assertThat(st.get(shard, ns, key)).as(at).isEqualTo(entries == null ? null : entries.get(key));
            } else if (dice < 620) {
                Object expected = entries == null ? null : entries.remove(key);
                assertThat(st.remove(shard, ns, key)).as(at).isEqualTo(expected);
                if (expected != null) {
                    size--;
                    if (entries.isEmpty()) {
                        byNs.remove(ns);
                        if (byNs.isEmpty()) {
                            model.remove(shard);
                        }
                    }
                }
            } else if (dice < 670) {
                Map<Object, Object> seen = new HashMap<>();
                st.forEach(shard, ns, (k, v) -> assertThat(seen.put(k, v)).as(at + " duplicate key").isNull());
                assertThat(seen).as(at).isEqualTo(entries == null ? Map.of() : entries);
            } else if (dice < 720) {
                List<Object> keys = new ArrayList<>();
                st.keys(shard, ns).forEach(keys::add);
                assertThat(keys).as(at).doesNotHaveDuplicates()
                        .containsExactlyInAnyOrderElementsOf(entries == null ? Set.of() : entries.keySet());
            } else if (dice < 770) {
                List<Object> namespaces = new ArrayList<>();
                st.namespaces(shard).forEach(namespaces::add);
                assertThat(namespaces).as(at).doesNotHaveDuplicates()
                        .containsExactlyInAnyOrderElementsOf(byNs == null ? Set.of() : byNs.keySet());
                // a snapshot: removing while iterating is allowed
                for (Object n : namespaces) {
                    if (rnd.nextInt(20) == 0) {
                        st.removeNamespace(shard, n);
                        size -= byNs.remove(n).size();
                        if (byNs.isEmpty()) {
                            model.remove(shard);
                        }
                    }
                }
            } else if (dice < 810) {
                st.removeNamespace(shard, ns);
                if (entries != null) {
                    size -= entries.size();
                    byNs.remove(ns);
                    if (byNs.isEmpty()) {
                        model.remove(shard);
                    }
                }
            } else if (dice < 850) {
                assertThat(st.shards()).as(at).containsExactly(model.keySet().stream().mapToInt(i -> i).toArray());
            } else if (dice < 930) {
                boolean expected = false;
                for (Map.Entry<Integer, Map<Object, Map<Object, Object>>> e : model.entrySet()) {
                    Map<Object, Object> m = e.getValue().get(ns);
                    expected |= e.getKey() != shard && m != null && m.containsKey(key);
                }
                assertThat(st.existsInOtherShard(shard, ns, key)).as(at).isEqualTo(expected);
            } else if (dice < 975) {
                assertThat(st.size()).as(at).isEqualTo(size);
            } else if (dice < 977) {
                st.clear();
                model.clear();
                size = 0;
                assertThat(st.shards()).as(at).isEmpty();
            } else if (dice < 990) {
                subject.commit();
            } else {
                subject.restart();
            }
        }
        subject.restart();
        KeyedState<Object, Object, Object> st = subject.state();
        assertThat(st.size()).as(replay).isEqualTo(size);
        for (Map.Entry<Integer, Map<Object, Map<Object, Object>>> s : model.entrySet()) {
            Set<Object> namespaces = new HashSet<>();
            st.namespaces(s.getKey()).forEach(namespaces::add);
            assertThat(namespaces).as(replay).isEqualTo(s.getValue().keySet());
            for (Map.Entry<Object, Map<Object, Object>> n : s.getValue().entrySet()) {
                Map<Object, Object> seen = new HashMap<>();
                st.forEach(s.getKey(), n.getKey(), seen::put);
                assertThat(seen).as(replay).isEqualTo(n.getValue());
            }
        }
        assertThat(subject.otherOperator().get(0, "ns0", "k0")).as(replay).isEqualTo("other-operator");
        assertThat(subject.otherOperator().size()).as(replay).isEqualTo(1);
    }
}
