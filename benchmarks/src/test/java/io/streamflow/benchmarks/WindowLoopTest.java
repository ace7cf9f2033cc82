package io.streamflow.benchmarks;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class WindowLoopTest {

    @ParameterizedTest
    @EnumSource(WindowWorkload.class)
    void loopMatchesTheBatchReferenceOnSeededInputs(WindowWorkload w) {
        long seed = Long.getLong("seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int c = 0; c < 40; c++) {
            BenchEvents.Spec spec = new BenchEvents.Spec(1 + rnd.nextInt(20_000), 1 + rnd.nextInt(300),
                    rnd.nextBoolean() ? 0 : rnd.nextInt(400), 1 + rnd.nextInt(100_000), rnd.nextLong());
            BenchEvents ev = BenchEvents.generate(spec);
            assertThat(WindowLoop.run(ev, w, spec.disorderMillis()))
                    .as("seed %d case %d %s", seed, c, spec)
                    .isEqualTo(BatchReference.run(ev, w));
        }
    }

    @ParameterizedTest
    @EnumSource(WindowWorkload.class)
    void sameSpecGivesTheSameEvents(WindowWorkload w) {
        BenchEvents.Spec spec = BenchEvents.Spec.of(50_000, 1000, 100);
        assertThat(WindowLoop.run(BenchEvents.generate(spec), w, 100))
                .isEqualTo(WindowLoop.run(BenchEvents.generate(spec), w, 100));
    }
}
