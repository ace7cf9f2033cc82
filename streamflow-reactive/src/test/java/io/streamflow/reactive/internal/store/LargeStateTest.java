package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.window.TimeWindow;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** State far larger than the MVStore page cache is written over several commits and read back. */
class LargeStateTest {

    record Total(long count, long sum, String tag) {
    }

    private static final int ENTRIES = 300_000;
    private static final int PER_COMMIT = 50_000;
    private static final long WINDOW = 1_000;

    @TempDir
    Path dir;

    private static int shard(int i) {
        return i % 4;
    }

    private static TimeWindow window(int i) {
        long start = (i / 2_000) * WINDOW;
        return new TimeWindow(start, start + WINDOW);
    }

    private static Total value(int i) {
        return new Total(i, 3L * i, "tag-" + (i % 97));
    }

    private static MVStore open(Path file) {
        return new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().cacheSize(1).open();
    }

    private static void verifyAll(DurableKeyedState<Long, TimeWindow, Total> st) {
        for (int i = 0; i < ENTRIES; i++) {
            Total v = st.get(shard(i), window(i), (long) i);
            if (!value(i).equals(v)) {
                assertThat(v).as("entry %d", i).isEqualTo(value(i));
            }
        }
        assertThat(st.size()).isEqualTo(ENTRIES);
        assertThat(st.shards()).containsExactly(0, 1, 2, 3);
        List<TimeWindow> windows = new ArrayList<>();
        st.namespaces(1).forEach(windows::add);
        assertThat(windows).hasSize(ENTRIES / 2_000).contains(window(1), window(ENTRIES - 1));
        long[] visited = new long[1];
        st.forEach(2, window(2), (k, v) -> {
            assertThat(v).isEqualTo(value(k.intValue()));
            visited[0]++;
        });
        assertThat(visited[0]).isEqualTo(500);
    }

    @Test
    void stateLargerThanTheCacheShouldBeWrittenAndReadBack() throws Exception {
        Path file = dir.resolve("large.mv");
        try (MVStore store = open(file)) {
            DurableKeyedState<Long, TimeWindow, Total> st = DurableStateBackend.open(store).keyedState("op", "big");
            for (int i = 0; i < ENTRIES; i++) {
                st.put(shard(i), window(i), (long) i, value(i));
                if ((i + 1) % PER_COMMIT == 0) {
                    store.commit();
                }
            }
            verifyAll(st);
        }
        assertThat(Files.size(file)).as("file size").isGreaterThan(4L << 20);
        try (MVStore store = open(file)) {
            DurableKeyedState<Long, TimeWindow, Total> st = DurableStateBackend.open(store).keyedState("op", "big");
            verifyAll(st);
        }
    }
}
