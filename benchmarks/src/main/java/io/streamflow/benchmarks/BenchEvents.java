package io.streamflow.benchmarks;

import java.util.SplittableRandom;

/**
 * The one deterministic event sequence every system of the harness consumes: columns of key,
 * event timestamp (epoch millis) and value. The same {@link Spec} always gives the same events.
 * <p>
 * Keys are arbitrary 64-bit ids (a bijective mix of an index below {@code keyCount}), so no system
 * can index state by a dense integer key. Event time advances evenly at {@code eventsPerSecond};
 * with {@code disorderMillis > 0} each timestamp is moved back by a uniform random amount in
 * {@code [0, disorderMillis]}, so the input is out of order by at most that much.
 */
public final class BenchEvents {

    /** Event time of the first event (2023-11-14T22:13:20Z). */
    public static final long START = 1_700_000_000_000L;

    /**
     * @param events          number of events
     * @param keyCount        distinct keys
     * @param disorderMillis  maximum out-of-orderness in milliseconds (0: in order)
     * @param eventsPerSecond events per event-time second
     * @param seed            random seed
     */
    public record Spec(int events, int keyCount, long disorderMillis, long eventsPerSecond, long seed) {
        public Spec {
            if (events < 0 || keyCount < 1 || disorderMillis < 0 || eventsPerSecond < 1) {
                throw new IllegalArgumentException("bad spec " + this);
            }
        }

        public static Spec of(int events, int keyCount, long disorderMillis) {
            return new Spec(events, keyCount, disorderMillis, 1_000_000, 42);
        }

        @Override
        public String toString() {
            return events + " events, " + keyCount + " keys, " + (disorderMillis == 0 ? "in order"
                    : disorderMillis + " ms out of order") + ", " + eventsPerSecond + " events/s event time, seed "
                    + seed;
        }
    }

    public final Spec spec;
    public final long[] keys;
    public final long[] timestamps;
    public final long[] values;

    private BenchEvents(Spec spec, long[] keys, long[] timestamps, long[] values) {
        this.spec = spec;
        this.keys = keys;
        this.timestamps = timestamps;
        this.values = values;
    }

    public int size() {
        return keys.length;
    }

    public static BenchEvents generate(Spec spec) {
        int n = spec.events();
        long[] keys = new long[n];
        long[] ts = new long[n];
        long[] values = new long[n];
        SplittableRandom rnd = new SplittableRandom(spec.seed());
        long disorder = spec.disorderMillis();
        for (int i = 0; i < n; i++) {
            keys[i] = keyId(rnd.nextInt(spec.keyCount()));
            long base = START + (long) i * 1000 / spec.eventsPerSecond();
            ts[i] = disorder == 0 ? base : base - rnd.nextLong(disorder + 1);
            values[i] = 1 + rnd.nextInt(1000);
        }
        return new BenchEvents(spec, keys, ts, values);
    }

    /** The id of key number {@code i}: a bijective 64-bit mix, kept non-negative. */
    public static long keyId(int i) {
        return Checksum.mix(i) & Long.MAX_VALUE;
    }
}
