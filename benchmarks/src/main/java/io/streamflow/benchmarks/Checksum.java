package io.streamflow.benchmarks;

/**
 * An order-independent digest of a result set: the number of results and the sum of a 64-bit mix
 * of each result's fields. Two systems agree when both figures are equal; the harness reports a
 * system whose checksum differs from the loop's as wrong, not fast.
 * <p>
 * Not thread-safe: a system with parallel sinks keeps one per thread and {@linkplain #combine
 * combines} them.
 */
public final class Checksum {

    private long results;
    private long hash;

    /** Adds one window result: key, window bounds {@code [start, end)}, count and sum. */
    public void add(long key, long start, long end, long count, long sum) {
        long h = mix(key);
        h = mix(h ^ start);
        h = mix(h ^ end);
        h = mix(h ^ count);
        h = mix(h ^ sum);
        hash += h;
        results++;
    }

    /** Adds one result made of arbitrary long fields (Nexmark rows). */
    public void addRow(long... fields) {
        long h = 0x9E3779B97F4A7C15L;
        for (long f : fields) {
            h = mix(h ^ f);
        }
        hash += h;
        results++;
    }

    public void combine(Checksum other) {
        results += other.results;
        hash += other.hash;
    }

    public long results() {
        return results;
    }

    public long hash() {
        return hash;
    }

    public static Checksum of(long results, long hash) {
        Checksum c = new Checksum();
        c.results = results;
        c.hash = hash;
        return c;
    }

    /** SplitMix64 finaliser: a bijective mix of 64 bits. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Checksum c && c.results == results && c.hash == hash;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hash * 31 + results);
    }

    @Override
    public String toString() {
        return results + " results / " + Long.toHexString(hash);
    }
}
