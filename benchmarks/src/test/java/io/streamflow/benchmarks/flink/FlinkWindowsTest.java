package io.streamflow.benchmarks.flink;

import io.streamflow.benchmarks.BenchEvents;
import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.WindowLoop;
import io.streamflow.benchmarks.WindowWorkload;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flink, at parallelism 1 and 2, on in-order and out-of-order input, gives the loop's results
 * (the harness's gate, small scale). Random specs from a seed printed in every assertion; replay
 * with {@code -Dseed=<seed>}.
 */
class FlinkWindowsTest {

    @ParameterizedTest
    @EnumSource(WindowWorkload.class)
    void flinkMatchesTheLoop(WindowWorkload w) {
        long seed = Long.getLong("seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        int c = 0;
        for (int parallelism = 1; parallelism <= 2; parallelism++) {
            for (boolean inOrder : new boolean[] {true, false}) {
                // 10 to 100 events per key and event-time second: a key's events are ~10-100 ms
                // apart, so sessions (gap 20 ms) both merge and break up, and some events land
                // exactly at the end of their key's session, where the watermark's timing matters
                int keys = 1 + rnd.nextInt(300);
                BenchEvents.Spec spec = new BenchEvents.Spec(1_000 + rnd.nextInt(4_000), keys,
                        inOrder ? 0 : 1 + rnd.nextInt(200), (long) keys * (10 + rnd.nextInt(91)), rnd.nextLong());
                BenchEvents ev = BenchEvents.generate(spec);
                Checksum loop = WindowLoop.run(ev, w, spec.disorderMillis());
                assertThat(FlinkWindows.run(ev, w, parallelism).checksum())
                        .as("parallelism %d, seed %d case %d %s", parallelism, seed, c, spec)
                        .isEqualTo(loop);
                c++;
            }
        }
    }
}
