package io.streamflow.reactive.internal;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The heap backend's open-addressing map against {@link HashMap}, on seeded random operations:
 * boxed long keys (a fresh box per operation, as records carry them), the switch to object keys
 * and {@code null} values part-way, removals that shift probe chains, and the get-then-put of a
 * value mutated in place.
 */
class KeyMapTest {

    private static final long SEED = Long.getLong("seed", new Random().nextLong());

    @Test
    void matchesHashMapOnRandomOperations() {
        Random rnd = new Random(SEED);
        for (int round = 0; round < 200; round++) {
            KeyMap<Object, Object> map = new KeyMap<>();
            Map<Object, Object> model = new HashMap<>();
            int keySpace = 1 + rnd.nextInt(round % 2 == 0 ? 40 : 3000);
            int ops = 1 + rnd.nextInt(6000);
            int switchAt = rnd.nextInt(4) == 0 ? rnd.nextInt(ops) : -1; // after this op, other keys or null values
            boolean nullValues = rnd.nextBoolean();
            for (int op = 0; op < ops; op++) {
                boolean mixed = switchAt >= 0 && op >= switchAt;
                Object key = randomKey(rnd, keySpace, mixed && !nullValues);
                String ctx = "seed " + SEED + " round " + round + " op " + op + " key " + key;
                int kind = rnd.nextInt(10);
                if (kind < 4) {
                    Object value = mixed && nullValues && rnd.nextInt(4) == 0 ? null : "v" + rnd.nextInt(1000);
                    boolean had = model.containsKey(key);
                    Object expectedOld = model.put(key, value);
                    Object old = map.put(key, value);
                    if (had) {
                        assertThat(old).as(ctx).isEqualTo(expectedOld);
                    } else {
                        assertThat(old).as(ctx).isNull();
                    }
                } else if (kind < 6) {
                    // get, then put of the same (mutated) value with a different but equal key box
                    Object v = map.get(key);
                    assertThat(v).as(ctx).isEqualTo(model.get(key));
                    if (v != null) {
                        Object again = copyOf(key);
                        assertThat(map.put(again, v)).as(ctx).isSameAs(v);
                    }
                } else if (kind < 8) {
                    assertThat(map.remove(key)).as(ctx).isEqualTo(model.remove(key));
                } else {
                    assertThat(map.containsKey(key)).as(ctx).isEqualTo(model.containsKey(key));
                }
                assertThat(map.size()).as(ctx).isEqualTo(model.size());
            }
            Map<Object, Object> seen = new HashMap<>();
            map.forEach((k, v) -> assertThat(seen.put(k, v)).isNull());
            assertThat(seen).as("seed " + SEED + " round " + round).isEqualTo(model);
            assertThat(new TreeMap<>(byString(map.keyList()))).isEqualTo(new TreeMap<>(byString(model.keySet())));
            for (Map.Entry<Object, Object> e : model.entrySet()) {
                assertThat(map.get(copyOf(e.getKey()))).as("seed " + SEED).isEqualTo(e.getValue());
            }
        }
    }

    @Test
    void longKeysAreNotEqualToOtherNumbers() {
        KeyMap<Object, String> map = new KeyMap<>();
        map.put(7L, "long");
        assertThat(map.get(7)).isNull(); // Integer 7 is another key, as in a HashMap
        assertThat(map.get(7L)).isEqualTo("long");
        map.put(7, "int");
        assertThat(map.get(Long.valueOf(7))).isEqualTo("long");
        assertThat(map.get(Integer.valueOf(7))).isEqualTo("int");
        assertThat(map.size()).isEqualTo(2);
        assertThat(map.remove(7L)).isEqualTo("long");
        assertThat(map.get(7)).isEqualTo("int");
    }

    @Test
    void nullValuesAndTheSmallestLongKeyAreKept() {
        KeyMap<Object, String> map = new KeyMap<>();
        for (long k = 0; k < 100; k++) {
            map.put(k, k % 3 == 0 ? null : "v" + k);
        }
        assertThat(map.containsKey(0L)).isTrue();
        assertThat(map.get(0L)).isNull();
        assertThat(map.get(Long.MIN_VALUE)).isNull();
        assertThat(map.containsKey(Long.MIN_VALUE)).isFalse();
        map.put(Long.MIN_VALUE, "min");
        assertThat(map.get(Long.MIN_VALUE)).isEqualTo("min");
        assertThat(map.size()).isEqualTo(101);
        for (long k = 0; k < 100; k++) {
            assertThat(map.containsKey(k)).as("key %s", k).isTrue();
            assertThat(map.get(k)).isEqualTo(k % 3 == 0 ? null : "v" + k);
        }
        assertThat(map.remove(Long.MIN_VALUE)).isEqualTo("min");
        assertThat(map.containsKey(Long.MIN_VALUE)).isFalse();
        assertThat(map.size()).isEqualTo(100);
    }

    @Test
    void putAfterGetOfAnotherKeyIsNotTakenForTheSameSlot() {
        KeyMap<Long, StringBuilder> map = new KeyMap<>();
        StringBuilder a = new StringBuilder("a");
        map.put(1L, a);
        assertThat(map.get(1L)).isSameAs(a);
        map.put(2L, a); // same value object, another key: a new entry
        assertThat(map.size()).isEqualTo(2);
        assertThat(map.get(2L)).isSameAs(a);
    }

    private static Map<String, Object> byString(Iterable<?> keys) {
        Map<String, Object> m = new HashMap<>();
        for (Object k : keys) {
            m.put(k.getClass().getSimpleName() + ":" + k, k);
        }
        return m;
    }

    private static Object randomKey(Random rnd, int keySpace, boolean mixed) {
        long k = rnd.nextInt(keySpace) * 0x9E3779B97F4A7C15L; // arbitrary 64-bit ids, colliding low bits too
        if (mixed && rnd.nextInt(50) == 0) {
            k = Long.MIN_VALUE; // an extreme id
        } else if (rnd.nextInt(8) == 0) {
            k = rnd.nextInt(keySpace) << 20; // equal low bits: long probe chains
        }
        if (mixed && rnd.nextInt(3) == 0) {
            return "s" + k;
        }
        return Long.valueOf(k);
    }

    /** An equal key in a fresh box, as each record carries its own. */
    @SuppressWarnings({"removal", "deprecation"})
    private static Object copyOf(Object key) {
        if (key instanceof Long l) {
            return new Long(l.longValue());
        }
        if (key instanceof String s) {
            return new String(s);
        }
        return key;
    }

    @Test
    void theEntryWalkYieldsEveryEntryInBothLayoutsAndFailsWhenAKeyIsAddedMeanwhile() {
        for (boolean generic : new boolean[] {false, true}) {
            KeyMap<Object, String> map = new KeyMap<>();
            Map<Object, String> expected = new HashMap<>();
            Random rnd = new Random(SEED);
            for (int i = 0; i < 500; i++) {
                long k = rnd.nextInt(300);
                map.put(k, "v" + i);
                expected.put(k, "v" + i);
                if (rnd.nextInt(5) == 0) {
                    map.remove(k);
                    expected.remove(k);
                }
            }
            if (generic) {
                map.put("text", "s");
                expected.put("text", "s");
            }
            Map<Object, String> walked = new HashMap<>();
            for (java.util.Iterator<Map.Entry<Object, String>> it = map.entryWalk(); it.hasNext(); ) {
                Map.Entry<Object, String> e = it.next();
                assertThat(walked.put(e.getKey(), e.getValue())).as("each key once").isNull();
            }
            assertThat(walked).isEqualTo(expected);

            java.util.Iterator<Map.Entry<Object, String>> it = map.entryWalk();
            it.next();
            map.put(expected.keySet().iterator().next(), "replaced"); // a value replaced: still fine
            it.next();
            map.put(1_000_000L, "new key");
            org.assertj.core.api.Assertions.assertThatThrownBy(it::next)
                    .isInstanceOf(java.util.ConcurrentModificationException.class);
        }
    }
}
