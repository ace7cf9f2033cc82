package io.streamflow.benchmarks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The naive Reactor pipeline, grouped in two levels and with the textbook single {@code groupBy}, gives
 * the loop's results on in-order input (the harness's gate, small scale) and rejects input that may
 * be out of order. Random cases; replay one with {@code -Dseed=}.
 */
class NaiveReactorWindowsTest {

    private static final int CASES = 12;

    @ParameterizedTest
    @EnumSource(WindowWorkload.class)
    void naiveReactorMatchesTheLoopOnInOrderInput(WindowWorkload w) {
        long seed = Long.getLong("seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int c = 0; c < CASES; c++) {
            // few events per event-time millisecond in some cases (gaps, sparse panes), many in others
            // (equal timestamps across keys, a session touched exactly at its end by another key)
            BenchEvents.Spec spec = new BenchEvents.Spec(1 + rnd.nextInt(30_000), 1 + rnd.nextInt(2_000), 0,
                    1 + rnd.nextInt(rnd.nextBoolean() ? 2_000 : 200_000), rnd.nextLong());
            BenchEvents ev = BenchEvents.generate(spec);
            Checksum loop = WindowLoop.run(ev, w, 0);
            assertThat(NaiveReactorWindows.run(ev, w).checksum())
                    .as("%s two-level, seed %d (replay with -Dseed=%d) case %d: %s", w, seed, seed, c, spec)
                    .isEqualTo(loop);
            assertThat(NaiveReactorWindows.run(ev, w, 1).checksum())
                    .as("%s single groupBy, seed %d (replay with -Dseed=%d) case %d: %s", w, seed, seed, c, spec)
                    .isEqualTo(loop);
        }
    }

    /** Sessions where the close rule across keys matters: a key's next record exactly at its session end. */
    @Test
    void sessionTouchedAtItsEndFollowsTheWatermarkRule() {
        long seed = Long.getLong("seed", System.nanoTime());
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int c = 0; c < CASES; c++) {
            // 20 ms gap; a few events per millisecond over all keys but only about one per gap and key:
            // records of other keys often share the millisecond a key's session ends in
            int keys = 2 + rnd.nextInt(200);
            BenchEvents.Spec spec = new BenchEvents.Spec(1 + rnd.nextInt(5_000), keys, 0,
                    keys * (20 + rnd.nextInt(80)), rnd.nextLong());
            BenchEvents ev = BenchEvents.generate(spec);
            Checksum loop = WindowLoop.run(ev, WindowWorkload.SESSION, 0);
            assertThat(NaiveReactorWindows.run(ev, WindowWorkload.SESSION).checksum())
                    .as("two-level, seed %d (replay with -Dseed=%d) case %d: %s", seed, seed, c, spec)
                    .isEqualTo(loop);
            assertThat(NaiveReactorWindows.run(ev, WindowWorkload.SESSION, 1).checksum())
                    .as("single groupBy, seed %d (replay with -Dseed=%d) case %d: %s", seed, seed, c, spec)
                    .isEqualTo(loop);
        }
    }

    @Test
    void emptyInputGivesNoResults() {
        BenchEvents ev = BenchEvents.generate(BenchEvents.Spec.of(0, 10, 0));
        for (WindowWorkload w : WindowWorkload.values()) {
            assertThat(NaiveReactorWindows.run(ev, w).checksum()).as("%s", w).isEqualTo(new Checksum());
            assertThat(NaiveReactorWindows.run(ev, w, 1).checksum()).as("%s", w).isEqualTo(new Checksum());
        }
    }

    @ParameterizedTest
    @EnumSource(WindowWorkload.class)
    void outOfOrderInputIsRejected(WindowWorkload w) {
        BenchEvents ev = BenchEvents.generate(BenchEvents.Spec.of(1_000, 10, 100));
        assertThatThrownBy(() -> NaiveReactorWindows.run(ev, w))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("out-of-order input");
        assertThatThrownBy(() -> NaiveReactorWindows.run(ev, w, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("out-of-order input");
    }

    @Test
    void aShardCountBelowOneIsRejected() {
        BenchEvents ev = BenchEvents.generate(BenchEvents.Spec.of(10, 2, 0));
        assertThatThrownBy(() -> NaiveReactorWindows.run(ev, WindowWorkload.TUMBLING, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
