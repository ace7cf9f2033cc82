package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCorruptedException;

import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Flips one bit of a committed state file inside the keys or values of its data pages, reopens
 * it and reads everything: each read either returns exactly what was written or fails with a
 * corruption exception; a damaged page is never read as other data (a wrong value, a missing or
 * an unknown key). Replay one run with {@code -Dseed=<n>}.
 */
class StateCorruptionTest {

    record Val(long n, String payload, List<Long> xs) {
    }

    private static final int ENTRIES = 1500;
    private static final String MAP = "state/op/s";

    @TempDir
    Path dir;

    private static String key(int i) {
        return String.format("key-%05d", i);
    }

    private static Object value(int i) {
        return i % 2 == 0 ? String.format("value-%05d-abcdefghijklmnop", i)
                : new Val(i, String.format("payload-%05d", i), List.of((long) i, 7L));
    }

    private static List<Integer> occurrences(byte[] file, String marker) {
        byte[] m = marker.getBytes(StandardCharsets.US_ASCII);
        List<Integer> out = new ArrayList<>();
        outer:
        for (int i = 0; i + m.length <= file.length; i++) {
            for (int j = 0; j < m.length; j++) {
                if (file[i + j] != m[j]) {
                    continue outer;
                }
            }
            out.add(i);
        }
        return out;
    }

    /** What reading a damaged copy gave. */
    private record Outcome(boolean detected, List<String> wrong, List<String> detections) {
    }

    private Outcome readAll(Path file) {
        List<String> wrong = new ArrayList<>();
        List<String> detections = new ArrayList<>();
        MVStore store;
        try {
            store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
        } catch (MVStoreException e) {
            detections.add("open: " + e);
            return new Outcome(true, wrong, detections);
        }
        try {
            DurableKeyedState<String, String, Object> st;
            try {
                st = DurableStateBackend.open(store).keyedState("op", "s");
            } catch (StateCorruptedException | MVStoreException e) {
                detections.add("open state: " + e);
                return new Outcome(true, wrong, detections);
            }
            for (int i = 0; i < ENTRIES; i++) {
                try {
                    Object v = st.get(i % 3, "ns", key(i));
                    if (!value(i).equals(v)) {
                        wrong.add(key(i) + " read as " + v);
                    }
                } catch (StateCorruptedException | MVStoreException e) {
                    detections.add(e.toString());
                }
            }
            for (int shard = 0; shard < 3; shard++) {
                try {
                    st.forEach(shard, "ns", (k, v) -> {
                        int i = k.startsWith("key-") ? Integer.parseInt(k.substring(4)) : -1;
                        if (i < 0 || i >= ENTRIES || !value(i).equals(v)) {
                            wrong.add("forEach gave " + k + " = " + v);
                        }
                    });
                } catch (StateCorruptedException | MVStoreException | NumberFormatException e) {
                    if (e instanceof NumberFormatException) {
                        wrong.add("forEach gave an unknown key: " + e.getMessage());
                    } else {
                        detections.add(e.toString());
                    }
                }
            }
        } finally {
            store.closeImmediately();
        }
        return new Outcome(!detections.isEmpty(), wrong, detections);
    }

    @Test
    void flippedBitsInKeysAndValuesAreDetectedAndNeverReadAsOtherData() throws IOException {
        long seed = Long.getLong("seed", System.nanoTime());
        Random rnd = new Random(seed);
        Path pristine = dir.resolve("pristine.mv");
        try (MVStore store = new MVStore.Builder().fileName(pristine.toString()).autoCommitDisabled().open()) {
            DurableKeyedState<String, String, Object> st = DurableStateBackend.open(store).keyedState("op", "s");
            for (int i = 0; i < ENTRIES; i++) {
                st.put(i % 3, "ns", key(i), value(i));
            }
            store.commit();
        }
        assertThat(readAll(pristine).wrong()).isEmpty();
        assertThat(readAll(pristine).detected()).isFalse();

        byte[] bytes = Files.readAllBytes(pristine);
        List<Integer> keys = occurrences(bytes, "key-");
        List<Integer> values = occurrences(bytes, "value-");
        values.addAll(occurrences(bytes, "payload-"));
        // every entry's key and value is in a data page (internal pages repeat some keys)
        assertThat(keys.size()).isGreaterThanOrEqualTo(ENTRIES);
        assertThat(values).hasSize(ENTRIES);

        Path damaged = dir.resolve("damaged.mv");
        int trials = 160;
        int detectedOutsideText = 0;
        for (int t = 0; t < trials; t++) {
            boolean inKeys = t % 2 == 0;
            List<Integer> where = inKeys ? keys : values;
            int at = where.get(rnd.nextInt(where.size()));
            // 3 of 4 trials hit the text itself; the others also hit the tags and lengths around it
            boolean inText = t % 4 != 3;
            int pos = inText ? at + rnd.nextInt(9) : at - 6 + rnd.nextInt(12);
            int bit = rnd.nextInt(8);
            byte[] copy = bytes.clone();
            copy[pos] ^= (byte) (1 << bit);
            Files.write(damaged, copy);
            Outcome o = readAll(damaged);
            String trial = "seed " + seed + ", trial " + t + ": bit " + bit + " of byte " + pos + " in the "
                    + (inKeys ? "keys" : "values");
            assertThat(o.wrong()).as(trial + " must never read other data").isEmpty();
            if (inText) {
                assertThat(o.detected()).as(trial + " must be detected").isTrue();
                assertThat(o.detections()).as(trial)
                        .anySatisfy(d -> assertThat(d).contains("StateCorruptedException").contains(MAP));
            } else if (o.detected()) {
                detectedOutsideText++;
            }
        }
        if (detectedOutsideText == 0) {
            fail("no flip next to the keys and values was detected (seed " + seed + ")");
        }
    }
}
