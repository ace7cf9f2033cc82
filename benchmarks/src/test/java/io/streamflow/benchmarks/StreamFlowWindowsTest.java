package io.streamflow.benchmarks;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** StreamFlow, synchronous and across one async boundary, gives the loop's results (the harness's gate, small scale). */
class StreamFlowWindowsTest {

    @ParameterizedTest
    @EnumSource(WindowWorkload.class)
    void streamFlowMatchesTheLoop(WindowWorkload w) {
        long seed = Long.getLong("seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int c = 0; c < 12; c++) {
            BenchEvents.Spec spec = new BenchEvents.Spec(1 + rnd.nextInt(30_000), 1 + rnd.nextInt(2_000),
                    rnd.nextBoolean() ? 0 : rnd.nextInt(200), 1 + rnd.nextInt(200_000), rnd.nextLong());
            BenchEvents ev = BenchEvents.generate(spec);
            Checksum loop = WindowLoop.run(ev, w, spec.disorderMillis());
            assertThat(StreamFlowWindows.run(ev, w, false).checksum()).as("sync, seed %d case %d %s", seed, c, spec)
                    .isEqualTo(loop);
            assertThat(StreamFlowWindows.run(ev, w, true).checksum()).as("async, seed %d case %d %s", seed, c, spec)
                    .isEqualTo(loop);
        }
    }
}
