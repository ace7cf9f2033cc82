package io.streamflow.reactive.window;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ColumnTable} against a {@code HashMap<Long, long[]>} model, on seeded random operations:
 * find, fill the free row's columns, insert (or leave the row free), update in place, iterate.
 * <p>
 * The base seed is printed; replay with {@code -Dseed=N} (case {@code i} uses {@code N + i}).
 */
class ColumnTableTest {

    private static final Long SEED = Long.getLong("seed");
    private static final int CASES = Integer.getInteger("cases", SEED != null ? 1 : 60);

    /** Keys every table is likely to see: zero (its own row), the extremes, and keys whose hash is 0 like key 0's. */
    private static final long[] SPECIAL = {0, -1, 1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE + 1,
            Long.MAX_VALUE - 1, 0xFFFF_FFFFL, 0xFFFF_FFFF_0000_0000L, (5L << 32) | 5, (7L << 32) | 7};

    @Test
    void shouldAgreeWithAHashMapOnRandomOperations() {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        System.out.println("ColumnTableTest: base seed " + base + ", " + CASES
                + " cases (replay one case with -Dseed=<seed>)");
        long t0 = System.nanoTime();
        long ops = 0;
        int maxGrows = 0;
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            try {
                int[] stats = runCase(seed);
                ops += stats[0];
                maxGrows = Math.max(maxGrows, stats[1]);
            } catch (AssertionError e) {
                throw new AssertionError("ColumnTable disagrees with the model; seed " + seed
                        + " (replay: -Dtest=ColumnTableTest -Dseed=" + seed + "): " + e.getMessage(), e);
            }
        }
        System.out.println("ColumnTableTest: " + CASES + " cases, " + ops + " operations, up to " + maxGrows
                + " grows in one table, in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        if (SEED == null) {
            assertThat(maxGrows).as("some table grew several times").isGreaterThanOrEqualTo(4);
        }
    }

    /** @return {operations, grows} */
    private static int[] runCase(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int width = 1 + rnd.nextInt(3);
        int stride = width + 1;
        int expected = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(4) == 0 ? rnd.nextInt(3000) : rnd.nextInt(100);
        int distinct = switch (rnd.nextInt(4)) {
            case 0 -> 1 + rnd.nextInt(20);
            case 1 -> 1 + rnd.nextInt(300);
            case 2 -> 500 + rnd.nextInt(2000);
            default -> 3000 + rnd.nextInt(4000);
        };
        long[] pool = keyPool(rnd, distinct);
        int n = distinct * (1 + rnd.nextInt(3)) + rnd.nextInt(50);
        ColumnTable t = new ColumnTable(width, expected);
        Map<Long, long[]> model = new HashMap<>();
        long[] rows = t.rows();
        int cap = capacity(rows, stride);
        assertThat(cap).as("capacity is a power of two").isEqualTo(Integer.highestOneBit(cap));
        assertThat(cap - cap / 4).as("presized for " + expected + " keys").isGreaterThanOrEqualTo(expected);
        assertAllZero(rows, "a new table");
        int grows = 0;
        for (int i = 0; i < n; i++) {
            long key = pool[rnd.nextInt(pool.length)];
            int o = t.find(key);
            long[] cols = model.get(key);
            if (cols != null) {
                check(o >= 0 && t.keyAt(o) == key, () -> "find(" + key + ") of a present key = " + o);
                check(Arrays.equals(columns(t.rows(), o, width), cols), () -> "columns of " + key + ": "
                        + Arrays.toString(columns(t.rows(), o, width)) + ", model " + Arrays.toString(cols));
                // update in place, as a record does
                for (int c = 0; c < width; c++) {
                    long d = rnd.nextLong();
                    t.rows()[o + 1 + c] += d;
                    cols[c] += d;
                }
                check(t.find(key) == o, () -> "find(" + key + ") moved");
                continue;
            }
            check(o < 0, () -> "find(" + key + ") of an absent key = " + o);
            int free = ~o;
            check(free % stride == 0, () -> "free row offset " + free + " not a multiple of " + stride);
            check(isZero(t.rows(), free, stride), () -> "free row for " + key + " not zero: "
                    + Arrays.toString(Arrays.copyOfRange(t.rows(), free, free + stride)));
            int sizeBefore = t.size();
            if (rnd.nextInt(4) == 0) {
                // the caller's filling failed: the row is left free and untouched
                check(t.find(key) == o, () -> "find(" + key + ") again after leaving the row free");
                check(t.size() == sizeBefore, () -> "size changed by find");
                continue;
            }
            long[] fill = new long[width];
            for (int c = 0; c < width; c++) {
                fill[c] = rnd.nextInt(5) == 0 ? 0 : rnd.nextLong();
                t.rows()[free + 1 + c] = fill[c];
            }
            long[] before = t.rows();
            int capBefore = capacity(before, stride);
            t.insert(free, key);
            model.put(key, fill);
            check(t.size() == model.size(), () -> "size " + t.size() + ", model " + model.size());
            boolean mustGrow = model.size() > capBefore - capBefore / 4;
            if (mustGrow) {
                grows++;
                check(t.rows() != before && capacity(t.rows(), stride) == 2 * capBefore,
                        () -> "not grown to twice " + capBefore + " at " + model.size() + " keys");
            } else {
                check(t.rows() == before, () -> "grown at " + model.size() + " keys, capacity " + capBefore);
            }
            if (model.size() <= expected) {
                check(t.rows() == rows, () -> "presized for " + expected + " keys, grown at " + model.size());
            }
            int o2 = t.find(key);
            check(o2 >= 0 && Arrays.equals(columns(t.rows(), o2, width), fill),
                    () -> "find(" + key + ") after insert = " + o2);
            if (mustGrow || rnd.nextInt(2000) == 0) {
                checkAll(t, model, width);
            }
        }
        checkAll(t, model, width);
        // every absent key of the pool is still absent, its free row zero
        for (long key : pool) {
            if (!model.containsKey(key)) {
                int o = t.find(key);
                check(o < 0 && isZero(t.rows(), ~o, stride), () -> "absent key " + key + ": find = " + o);
            }
        }
        return new int[] {n, grows};
    }

    @Test
    void aPresizedTableDoesNotGrowBeforeItsExpectedKeys() {
        SplittableRandom rnd = new SplittableRandom(SEED != null ? SEED : 42);
        for (int expected : new int[] {0, 1, 11, 12, 13, 16, 24, 25, 100, 767, 768, 769, 5000}) {
            ColumnTable t = new ColumnTable(2, expected);
            long[] rows = t.rows();
            Map<Long, long[]> model = new HashMap<>();
            // key 0 counts as a key too
            if (expected > 0) {
                int o = t.find(0);
                assertThat(o).isNegative();
                t.rows()[~o + 1] = 3;
                t.insert(~o, 0);
                model.put(0L, new long[] {3, 0});
            }
            while (model.size() < expected) {
                long k = rnd.nextLong();
                int o = t.find(k);
                if (o >= 0) {
                    continue;
                }
                t.rows()[~o + 1] = k;
                t.rows()[~o + 2] = -k;
                t.insert(~o, k);
                model.put(k, new long[] {k, -k});
                assertThat(t.rows()).as("expected %d, at %d keys", expected, model.size()).isSameAs(rows);
            }
            checkAll(t, model, 2);
        }
    }

    @Test
    void theSpecialKeysGetTheirOwnRowsAndSurviveGrowing() {
        ColumnTable t = new ColumnTable(1, 0);
        Map<Long, long[]> model = new HashMap<>();
        for (long k : SPECIAL) {
            int o = t.find(k);
            assertThat(o).isNegative();
            t.rows()[~o + 1] = k == 0 ? 42 : k ^ 1;
            t.insert(~o, k);
            model.put(k, new long[] {k == 0 ? 42 : k ^ 1});
        }
        checkAll(t, model, 1);
        for (long k = 2; k < 2000; k++) { // several grows
            int o = t.find(k * 7919);
            t.rows()[~o + 1] = k;
            t.insert(~o, k * 7919);
            model.put(k * 7919, new long[] {k});
        }
        checkAll(t, model, 1);
        for (long k : SPECIAL) {
            int o = t.find(k);
            assertThat(o).as("find(%d)", k).isGreaterThanOrEqualTo(0);
            assertThat(t.keyAt(o)).isEqualTo(k);
            assertThat(t.rows()[o + 1]).isEqualTo(model.get(k)[0]);
        }
    }

    @Test
    void aFreeRowLeftAfterFindStaysFreeAndZero() {
        ColumnTable t = new ColumnTable(2, 0);
        // key 0 found, not inserted: its row stays free and is not iterated
        int z = t.find(0);
        assertThat(z).isNegative();
        assertThat(t.nextRow(0)).isEqualTo(-1);
        int a = t.find(17);
        t.rows()[~a + 1] = 1;
        t.rows()[~a + 2] = 2;
        t.insert(~a, 17);
        assertThat(t.find(0)).isEqualTo(z);
        assertThat(t.rows()[~z]).isZero();
        assertThat(t.rows()[~z + 1]).isZero();
        assertThat(t.rows()[~z + 2]).isZero();
        int b = t.find(-5);
        assertThat(b).isNegative();
        for (long k = 100; k < 200; k++) { // grows, moving rows
            int o = t.find(k);
            t.rows()[~o + 1] = k;
            t.insert(~o, k);
        }
        assertThat(t.size()).isEqualTo(101);
        List<Long> keys = new ArrayList<>();
        for (int o = t.nextRow(0); o >= 0; o = t.nextRow(t.after(o))) {
            keys.add(t.keyAt(o));
        }
        assertThat(keys).hasSize(101).doesNotContain(0L, -5L).contains(17L);
        assertThat(t.find(0)).isNegative();
        assertThat(t.find(-5)).isNegative();
        int zf = ~t.find(0);
        assertThat(Arrays.copyOfRange(t.rows(), zf, zf + 3)).containsOnly(0L);
        int mf = ~t.find(-5);
        assertThat(Arrays.copyOfRange(t.rows(), mf, mf + 3)).containsOnly(0L);
    }

    // ------------------------------------------------------------------ helpers

    private static long[] keyPool(SplittableRandom rnd, int distinct) {
        Set<Long> keys = new HashSet<>();
        List<Long> pool = new ArrayList<>();
        for (long k : SPECIAL) {
            if (rnd.nextInt(3) != 0 && keys.add(k)) {
                pool.add(k);
            }
        }
        long clusterBase = rnd.nextLong();
        while (pool.size() < distinct) {
            long k = switch (rnd.nextInt(5)) {
                case 0 -> rnd.nextLong();
                case 1 -> rnd.nextLong(-1000, 1000);
                case 2 -> clusterBase + rnd.nextInt(5000); // consecutive keys: neighbouring hashes
                case 3 -> { // Long.hashCode 0, like key 0: one long probe chain
                    long h = rnd.nextLong(1, 1L << 20);
                    yield (h << 32) | h;
                }
                default -> rnd.nextLong(1L << 40) << 16; // low bits zero
            };
            if (keys.add(k)) {
                pool.add(k);
            }
        }
        return pool.stream().mapToLong(Long::longValue).toArray();
    }

    /** Rows (without key 0's) the array holds. */
    private static int capacity(long[] rows, int stride) {
        return rows.length / stride - 1;
    }

    private static long[] columns(long[] rows, int offset, int width) {
        return Arrays.copyOfRange(rows, offset + 1, offset + 1 + width);
    }

    private static boolean isZero(long[] rows, int from, int n) {
        for (int i = from; i < from + n; i++) {
            if (rows[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static void assertAllZero(long[] rows, String what) {
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] != 0) {
                throw new AssertionError(what + ": rows[" + i + "] = " + rows[i]);
            }
        }
    }

    /** Iteration visits every key exactly once with its columns, and find agrees. */
    private static void checkAll(ColumnTable t, Map<Long, long[]> model, int width) {
        check(t.size() == model.size(), () -> "size " + t.size() + ", model " + model.size());
        Map<Long, long[]> seen = new HashMap<>();
        int last = -1;
        for (int o = t.nextRow(0); o >= 0; o = t.nextRow(t.after(o))) {
            int at = o;
            int before = last;
            check(o > last, () -> "rows not in increasing order: " + at + " after " + before);
            last = o;
            long k = t.keyAt(o);
            check(seen.put(k, columns(t.rows(), o, width)) == null, () -> "key " + k + " visited twice");
            check(seen.size() <= model.size(), () -> "more visits than keys (" + model.size() + ")");
        }
        assertThat(seen.keySet()).as("keys visited").isEqualTo(model.keySet());
        for (Map.Entry<Long, long[]> e : model.entrySet()) {
            long k = e.getKey();
            check(Arrays.equals(seen.get(k), e.getValue()), () -> "columns of " + k + " visited: "
                    + Arrays.toString(seen.get(k)) + ", model " + Arrays.toString(e.getValue()));
            int o = t.find(k);
            check(o >= 0 && t.keyAt(o) == k && Arrays.equals(columns(t.rows(), o, width), e.getValue()),
                    () -> "find(" + k + ") = " + o);
        }
    }

    private static void check(boolean ok, java.util.function.Supplier<String> what) {
        if (!ok) {
            throw new AssertionError(what.get());
        }
    }
}
