package io.streamflow.reactive.internal.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A checkpoint commit lets operators change state again as soon as it has fixed its version: what
 * they change while its pages are written (puts, removes, objects changed in place) belongs to the
 * next checkpoint, never to this one.
 */
class ConcurrentCommitTest {

    record Acc(long count, List<Long> seen) {
    }

    @TempDir
    Path dir;

    @Test
    void changesWhileACommitWritesItsPagesBelongToTheNextCheckpoint() throws Exception {
        SplittableRandom rnd = new SplittableRandom(3);
        Map<Long, Acc> model = new HashMap<>();
        Map<Long, Acc> atFirst;
        Map<Long, Acc> atSecond;
        try (CheckpointStore cs = CheckpointStore.open(dir, Map.of(), 10_000, p -> { })) {
            DurableKeyedState<Long, String, Acc> st = cs.backend().keyedState("op", "acc");
            for (long k = 0; k < 20_000; k++) {
                Acc a = new Acc(1, new ArrayList<>(List.of(k)));
                st.put(0, "ns", k, a);
                model.put(k, copy(a));
            }
            atFirst = new HashMap<>(model);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            boolean[] ran = new boolean[1];
            cs.commit(1, 1, Map.of("src", Map.of(0, 1L)), () -> {
                // another thread changes state after the version is fixed, before any page is written
                Thread t = new Thread(() -> {
                    try {
                        for (int i = 0; i < 30_000; i++) {
                            long k = rnd.nextLong(25_000);
                            switch (rnd.nextInt(3)) {
                                case 0 -> { // changed in place and put again
                                    Acc a = st.get(0, "ns", k);
                                    if (a != null) {
                                        a.seen().add(-k);
                                        Acc b = new Acc(a.count() + 1, a.seen());
                                        st.put(0, "ns", k, b);
                                        model.put(k, copy(b));
                                    }
                                }
                                case 1 -> {
                                    st.remove(0, "ns", k);
                                    model.remove(k);
                                }
                                default -> {
                                    Acc a = new Acc(7, new ArrayList<>(List.of(k, k)));
                                    st.put(0, "ns", k, a);
                                    model.put(k, copy(a));
                                }
                            }
                        }
                    } catch (Throwable e) {
                        failed.set(e);
                    }
                });
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ran[0] = true;
            });
            assertThat(failed.get()).isNull();
            assertThat(ran[0]).isTrue();
            atSecond = new HashMap<>(model);
            // an object changed in place without a put is not checkpointed either
            Acc inPlace = st.get(0, "ns", firstKey(atSecond));
            inPlace.seen().add(424242L);
            cs.commit(2, 2, Map.of("src", Map.of(0, 2L)));
            cs.sync();
        }
        assertThat(restoredAt(2)).isEqualTo(atSecond);
        assertThat(restoredAt(1)).as("checkpoint 1: none of the changes made while it was written")
                .isEqualTo(atFirst);
    }

    private static long firstKey(Map<Long, Acc> m) {
        return m.keySet().stream().min(Long::compare).orElseThrow();
    }

    private static Acc copy(Acc a) {
        return new Acc(a.count(), new ArrayList<>(a.seen()));
    }

    /** The state of checkpoint {@code id}: the store rolled back to its version (for good). */
    private Map<Long, Acc> restoredAt(long id) throws Exception {
        long version = CheckpointStore.list(dir).stream().filter(r -> r.id() == id).findFirst().orElseThrow()
                .version();
        try (CheckpointStore cs = CheckpointStore.open(dir, Map.of(), 10_000, p -> { })) {
            org.h2.mvstore.MVStore s = cs.backend().store();
            if (version != s.getCurrentVersion()) {
                s.rollbackTo(version);
            }
            DurableKeyedState<Long, String, Acc> st = DurableStateBackend.open(s).keyedState("op", "acc");
            Map<Long, Acc> out = new HashMap<>();
            st.forEach(0, "ns", (k, v) -> out.put(k, copy(v)));
            return out;
        }
    }
}
