package io.streamflow.benchmarks;

import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Keyed tumbling count, measured two ways in one JVM on the same pre-built events:
 * StreamFlow (watermark assigner + window operator, synchronous) and a hand-written
 * single-thread loop with primitive state implementing the same event-time semantics
 * (bounded out-of-orderness watermark after each record, lateness 0, late records counted).
 * Both results are reduced to a checksum; a mismatch is reported as wrong, not fast.
 * <p>
 * Arguments: events (default 10,000,000), keys (10,000), out-of-orderness ms (100), rounds (5).
 */
public final class KeyedTumblingThroughput {

    private static final long WINDOW = 1_000;

    private KeyedTumblingThroughput() {
    }

    public static void main(String[] args) {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 10_000_000;
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        long disorder = args.length > 2 ? Long.parseLong(args[2]) : 100;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        long eventsPerMs = 1_000; // 1M events per event-time second

        String[] keyNames = new String[keys];
        for (int i = 0; i < keys; i++) {
            keyNames[i] = "key-" + i;
        }
        int[] keyIdx = new int[events];
        long[] ts = new long[events];
        SplittableRandom rnd = new SplittableRandom(7);
        long start = 1_700_000_000_000L;
        for (int i = 0; i < events; i++) {
            keyIdx[i] = rnd.nextInt(keys);
            ts[i] = start + i / eventsPerMs - (disorder == 0 ? 0 : rnd.nextLong(disorder + 1));
        }
        @SuppressWarnings("unchecked")
        StreamRecord<String, Long>[] records = new StreamRecord[events];
        Origin origin = Origin.of("bench", 0, 0);
        Long one = 1L;
        for (int i = 0; i < events; i++) {
            records[i] = StreamRecord.of(keyNames[keyIdx[i]], one, ts[i], origin);
        }
        System.out.printf("events=%,d keys=%,d disorder=%dms window=%dms java=%s cores=%d%n", events, keys, disorder,
                WINDOW, System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());

        for (int round = 1; round <= rounds; round++) {
            long t0 = System.nanoTime();
            long[] loop = loop(keyIdx, ts, keys, disorder);
            long t1 = System.nanoTime();
            long[] sf = streamflow(records, disorder);
            long t2 = System.nanoTime();
            double loopRate = events / ((t1 - t0) / 1e9);
            double sfRate = events / ((t2 - t1) / 1e9);
            boolean same = loop[0] == sf[0] && loop[1] == sf[1] && loop[2] == sf[2];
            System.out.printf("round %d: loop %,.0f ev/s | streamflow %,.0f ev/s (%.1f%% of loop) | panes=%d counted=%d "
                            + "late=%d checksum %s%n", round, loopRate, sfRate, 100 * sfRate / loopRate, sf[0], sf[1],
                    loop[2], same ? "equal" : "DIFFERENT: loop=" + java.util.Arrays.toString(loop) + " streamflow="
                            + java.util.Arrays.toString(sf));
            if (!same) {
                System.exit(2);
            }
        }
    }

    /** @return {panes, sum of counts, late} plus a hash mixed into [1]'s companion */
    static long[] loop(int[] keyIdx, long[] ts, int keys, long disorder) {
        TreeMap<Long, long[]> windows = new TreeMap<>();
        long maxTs = Long.MIN_VALUE;
        long watermark = Long.MIN_VALUE;
        long panes = 0;
        long counted = 0;
        long late = 0;
        long lastStart = Long.MIN_VALUE;
        long[] last = null;
        for (int i = 0; i < ts.length; i++) {
            long t = ts[i];
            long startW = t - Math.floorMod(t, WINDOW);
            if (startW + WINDOW - 1 <= watermark) {
                late++;
            } else {
                if (startW != lastStart) {
                    last = windows.get(startW);
                    if (last == null) {
                        last = new long[keys];
                        windows.put(startW, last);
                    }
                    lastStart = startW;
                }
                last[keyIdx[i]]++;
            }
            if (t > maxTs) {
                maxTs = t;
                long w = t - disorder - 1;
                if (w > watermark) {
                    watermark = w;
                    while (!windows.isEmpty() && windows.firstKey() + WINDOW - 1 <= watermark) {
                        long[] counts = windows.pollFirstEntry().getValue();
                        for (long c : counts) {
                            if (c != 0) {
                                panes++;
                                counted += c;
                            }
                        }
                        lastStart = Long.MIN_VALUE;
                    }
                }
            }
        }
        for (long[] counts : windows.values()) {
            for (long c : counts) {
                if (c != 0) {
                    panes++;
                    counted += c;
                }
            }
        }
        return new long[] {panes, counted, late};
    }

    static long[] streamflow(StreamRecord<String, Long>[] records, long disorder) {
        long[] acc = new long[3];
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Flux.fromArray(records)
                .transform(WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ofMillis(disorder))
                        .withMetrics("bench", "watermarks", registry).assign())
                .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofMillis(WINDOW)))
                        .settings(OperatorSettings.named("count").withMeterRegistry(registry))
                        .aggregate(Aggregations.count()))
                .doOnNext(e -> count(e, acc))
                .blockLast();
        return acc;
    }

    @SuppressWarnings("unchecked")
    private static void count(StreamElement<String, WindowResult<String, Long>> e, long[] acc) {
        if (e instanceof StreamRecord<?, ?> r) {
            acc[0]++;
            acc[1] += ((StreamRecord<String, WindowResult<String, Long>>) r).value().value();
        } else if (e instanceof io.streamflow.reactive.LateRecord<?, ?>) {
            acc[2]++;
        }
    }

}
