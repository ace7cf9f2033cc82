package io.streamflow.benchmarks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The latency run's bookkeeping, and short sanity runs (no speed is asserted beyond a generous bound). */
class LatencyRunTest {

    @Test
    void releasingEventIsTheFirstWhoseWatermarkReachesTheTime() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int c = 0; c < 50; c++) {
            long bound = rnd.nextInt(60);
            BenchEvents ev = BenchEvents.generate(new BenchEvents.Spec(1 + rnd.nextInt(3_000), 10, bound,
                    1 + rnd.nextInt(50_000), rnd.nextLong()));
            LatencyRun.WatermarkSchedule schedule = LatencyRun.WatermarkSchedule.of(ev.timestamps, bound);
            long first = ev.timestamps[0] - bound - 200;
            long last = ev.timestamps[ev.size() - 1] + 50;
            for (int q = 0; q < 200; q++) {
                long time = first + rnd.nextLong(last - first);
                assertThat(schedule.firstEventReaching(time)).as("case %d time %d", c, time)
                        .isEqualTo(bruteForce(ev.timestamps, bound, time));
            }
        }
    }

    /** The first event after which max timestamp - bound - 1 >= time, or -1. */
    private static int bruteForce(long[] ts, long bound, long time) {
        long max = Long.MIN_VALUE;
        for (int i = 0; i < ts.length; i++) {
            max = Math.max(max, ts[i]);
            if (max - bound - 1 >= time) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void intendedSendTimesFollowTheRate() {
        assertThat(LatencyRun.intendedNanos(0, 200_000)).isZero();
        assertThat(LatencyRun.intendedNanos(1, 200_000)).isEqualTo(5_000);
        assertThat(LatencyRun.intendedNanos(200_000, 200_000)).isEqualTo(1_000_000_000L);
        assertThat(LatencyRun.intendedNanos(Integer.MAX_VALUE, 1)).isEqualTo(Integer.MAX_VALUE * 1_000_000_000L);
    }

    @ParameterizedTest
    @CsvSource({
            "TUMBLING, 100, 20, false",
            "TUMBLING, 100, 20, true",
            "SLIDING, 100, 20, false",
            "SESSION, 10000, 20, true"})
    void shortRunGivesASaneHistogram(WindowWorkload w, int keys, long disorder, boolean async) {
        LatencyRun.Result r = LatencyRun.run(w, keys, disorder, 100_000, Duration.ofMillis(1_500), async);
        System.out.println(r);

        assertThat(r.events()).isEqualTo(150_000);
        // every result is recorded or accounted for; without a warm-up none is skipped as such
        assertThat(r.count()).isPositive().isEqualTo(r.histogram().getTotalCount());
        assertThat(r.warmupResults()).isZero();
        assertThat(r.flushedResults()).isPositive();
        assertThat(r.count() + r.flushedResults()).isEqualTo(expectedResults(w, keys, disorder));
        assertThat(r.p50Micros()).isLessThanOrEqualTo(r.p99Micros());
        assertThat(r.p99Micros()).isLessThanOrEqualTo(r.p999Micros());
        assertThat(r.p999Micros()).isLessThanOrEqualTo(r.maxMicros());
        assertThat(r.p50Micros()).as("median emit delay, µs").isLessThan(1_000_000);
        assertThat(r.maxSendLagMicros()).isNotNegative();
    }

    @Test
    void warmupResultsAreNotRecorded() {
        LatencyRun.Result r = LatencyRun.run(WindowWorkload.SLIDING, 100, 0, 50_000, Duration.ofMillis(1_000),
                Duration.ofMillis(500), false);

        assertThat(r.events()).isEqualTo(75_000);
        assertThat(r.warmupResults()).isPositive();
        assertThat(r.count()).isPositive();
        assertThat(r.count() + r.warmupResults() + r.flushedResults())
                .isEqualTo(expectedResults(WindowWorkload.SLIDING, 100, 0, 75_000, 50_000));
    }

    private static long expectedResults(WindowWorkload w, int keys, long disorder) {
        return expectedResults(w, keys, disorder, 150_000, 100_000);
    }

    /** The number of results of the same events, from the hand-written loop. */
    private static long expectedResults(WindowWorkload w, int keys, long disorder, int events, long rate) {
        BenchEvents ev = BenchEvents.generate(new BenchEvents.Spec(events, keys, disorder, rate, LatencyRun.SEED));
        return WindowLoop.run(ev, w, disorder).results();
    }
}
