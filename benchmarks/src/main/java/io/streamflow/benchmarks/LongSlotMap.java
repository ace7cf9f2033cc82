package io.streamflow.benchmarks;

import java.util.Arrays;

/**
 * Open-addressing map from a long key to an int slot with two long columns (count, sum): the
 * primitive state of the hand-written loop. Linear probing, power-of-two capacity, no removal
 * (a map is {@linkplain #clear() cleared} as a whole when its window is fired).
 */
final class LongSlotMap {

    private static final long FREE = Long.MIN_VALUE;

    long[] keys;
    long[] counts;
    long[] sums;
    private int mask;
    private int size;

    LongSlotMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        alloc(cap);
    }

    private void alloc(int cap) {
        keys = new long[cap];
        Arrays.fill(keys, FREE);
        counts = new long[cap];
        sums = new long[cap];
        mask = cap - 1;
    }

    int size() {
        return size;
    }

    int capacity() {
        return keys.length;
    }

    /** Adds one event of {@code key} with {@code value}. */
    void add(long key, long value) {
        int i = (int) Checksum.mix(key) & mask;
        long[] ks = keys;
        for (;;) {
            long k = ks[i];
            if (k == key) {
                counts[i]++;
                sums[i] += value;
                return;
            }
            if (k == FREE) {
                ks[i] = key;
                counts[i] = 1;
                sums[i] = value;
                if (++size * 2 > ks.length) {
                    grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /** Adds a partial aggregate (a slice) of {@code key}. */
    void merge(long key, long count, long sum) {
        int i = (int) Checksum.mix(key) & mask;
        for (;;) {
            long k = keys[i];
            if (k == key) {
                counts[i] += count;
                sums[i] += sum;
                return;
            }
            if (k == FREE) {
                keys[i] = key;
                counts[i] = count;
                sums[i] = sum;
                if (++size * 2 > keys.length) {
                    grow();
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    static boolean used(long key) {
        return key != FREE;
    }

    private void grow() {
        long[] ok = keys;
        long[] oc = counts;
        long[] os = sums;
        alloc(ok.length * 2);
        size = 0;
        for (int i = 0; i < ok.length; i++) {
            if (ok[i] != FREE) {
                merge(ok[i], oc[i], os[i]);
            }
        }
    }

    void clear() {
        Arrays.fill(keys, FREE);
        size = 0;
    }
}
