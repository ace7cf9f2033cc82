package io.streamflow.reactive.analytics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.RestoreHarness;
import io.streamflow.reactive.RestoreHarness.Split;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.Barriers;
import io.streamflow.reactive.internal.CheckpointSignal;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.TimeWindow;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Restoring {@link Analytics#topN} and {@link Analytics#trending} from their checkpointed state
 * reproduces the output of an uninterrupted run exactly (see {@link RestoreHarness}). Replay a case
 * with {@code -Dseed=N}.
 */
class AnalyticsRestoreTest {

    private static final int CASES = RestoreHarness.cases(400);

    // ------------------------------------------------------------------ top-N

    record TopNCase(long seed, String spec, int n, boolean descending, int prefetch,
                    Split<StreamElement<String, WindowResult<String, Long>>> split) {
    }

    /** Window results (a key's later result for a window replaces its earlier one) with watermarks. */
    static TopNCase generateTopN(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long slide = RestoreHarness.pick(rnd, 1, 5, 10, 50);
        long size = rnd.nextInt(3) == 0 ? slide * (2 + rnd.nextInt(3)) : slide;
        int n = (int) RestoreHarness.pick(rnd, 1, 2, 3, 100);
        boolean descending = rnd.nextBoolean();
        int prefetch = (int) RestoreHarness.pick(rnd, 256, 256, 1, 2, 7);
        List<StreamElement<String, WindowResult<String, Long>>> input = new ArrayList<>();
        for (StreamElement<String, Long> e : RestoreHarness.keyedInput(rnd, size)) {
            if (e instanceof StreamRecord<String, Long> r) {
                long start = Math.floorDiv(r.timestamp(), slide) * slide - slide * rnd.nextLong(size / slide);
                long end = start + size;
                PaneInfo pane = new PaneInfo(PaneInfo.Timing.EARLY, 0, false);
                input.add(StreamRecord.of(r.key(), new WindowResult<>(r.key(), start, end, rnd.nextLong(6), pane),
                        end - 1, r.origin()));
            } else {
                input.add(StreamElement.forward(e));
            }
        }
        return new TopNCase(seed, "top " + n + (descending ? " largest" : " smallest") + " of windows size " + size
                + " slide " + slide + ", prefetch " + prefetch, n, descending, prefetch,
                Split.of(input, rnd));
    }

    static Function<Flux<StreamElement<String, WindowResult<String, Long>>>,
            Flux<StreamElement<TimeWindow, Ranking<String, Long>>>> topN(TopNCase c, StateBackend backend) {
        return Analytics.topN(c.n(), c.descending() ? Comparator.<Long>reverseOrder() : Comparator.<Long>naturalOrder(),
                Comparator.<String>naturalOrder(), OperatorSettings.named("topn")
                        .withMeterRegistry(new SimpleMeterRegistry()).withPrefetch(c.prefetch()).withStateBackend(backend));
    }

    @Test
    void aRestoredTopNEmitsExactlyWhatAnUninterruptedOneDoes() {
        runCases("topN", AnalyticsRestoreTest::generateTopN, TopNCase::split, TopNCase::spec,
                (c, b) -> topN(c, b));
    }

    // ------------------------------------------------------------------ trending

    record TrendCase(long seed, String spec, long halfLife, long interval, int n, double floor, int prefetch,
                     Split<StreamElement<String, Long>> split) {
    }

    static TrendCase generateTrending(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long interval = RestoreHarness.pick(rnd, 1, 5, 10, 50);
        long halfLife = RestoreHarness.pick(rnd, 1, 10, 100, 1000);
        int n = (int) RestoreHarness.pick(rnd, 1, 2, 3, 100);
        double floor = RestoreHarness.pick(rnd, 1, 10, 100) / 100.0;
        int prefetch = (int) RestoreHarness.pick(rnd, 256, 256, 1, 2, 7);
        List<StreamElement<String, Long>> input = RestoreHarness.keyedInput(rnd, interval);
        return new TrendCase(seed, "trending interval " + interval + " half-life " + halfLife + " top " + n
                + " floor " + floor + ", prefetch " + prefetch, halfLife, interval, n, floor, prefetch,
                Split.of(input, rnd));
    }

    static Function<Flux<StreamElement<String, Long>>, Flux<StreamElement<TimeWindow, Ranking<String, Double>>>>
    trending(TrendCase c, StateBackend backend) {
        return Analytics.trending(Duration.ofMillis(c.halfLife()), Duration.ofMillis(c.interval()), c.n(), c.floor(),
                (Long v) -> (double) (v % 5), Comparator.<String>naturalOrder(), OperatorSettings.named("trending")
                        .withMeterRegistry(new SimpleMeterRegistry()).withPrefetch(c.prefetch()).withStateBackend(backend));
    }

    @Test
    void aRestoredTrendingOperatorEmitsExactlyWhatAnUninterruptedOneDoes() {
        runCases("trending", AnalyticsRestoreTest::generateTrending, TrendCase::split, TrendCase::spec,
                (c, b) -> trending(c, b));
    }

    // ------------------------------------------------------------------ shared

    private static <C, I, O> void runCases(String what, Function<Long, C> generate, Function<C, Split<I>> split,
                                           Function<C, String> spec,
                                           BiFunction<C, StateBackend, Function<Flux<I>, Flux<O>>> operator) {
        long base = RestoreHarness.baseSeed("AnalyticsRestoreTest " + what);
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            C c = generate.apply(seed);
            String problem = RestoreHarness.check(split.apply(c), backend -> operator.apply(c, backend));
            if (problem != null) {
                fail("restored %s differs from the uninterrupted one%n  seed: %d (replay: -Dtest=AnalyticsRestoreTest "
                        + "-Dseed=%d)%n  %s%n%s", what, seed, seed, spec.apply(c), problem);
            }
            List<? extends List<I>> parts = split.apply(c).parts();
            RestoreHarness.tally(seen, "watermarks after the last cut", parts.get(parts.size() - 1).stream()
                    .anyMatch(e -> e instanceof Watermark<?, ?>));
            RestoreHarness.tally(seen, "restored twice", parts.size() > 2);
        }
        System.out.println("AnalyticsRestoreTest " + what + ": " + CASES + " cases, " + RestoreHarness.summary(seen));
    }

    @Test
    void aCheckpointBarrierPausesTheOperatorUntilItsCheckpointIsCommitted() {
        CheckpointSignal signal = new CheckpointSignal(5);
        CheckpointBarrier<String, Long> barrier = Barriers.create(5, signal);
        TestPublisher<StreamElement<String, Long>> input = TestPublisher.create();
        List<Object> delivered = new CopyOnWriteArrayList<>();
        Flux<StreamElement<TimeWindow, Ranking<String, Double>>> trends = input.flux()
                .transform(Analytics.<String, Long>trending(Duration.ofMillis(100), Duration.ofMillis(10), 3, 0.01,
                        v -> 1.0, Comparator.naturalOrder(), OperatorSettings.named("paused-trending")
                                .withMeterRegistry(new SimpleMeterRegistry())))
                .doOnNext(delivered::add);
        StepVerifier.create(trends)
                .then(() -> input.next(StreamRecord.of("k", 1L, 3), barrier))
                .expectNext(StreamElement.forward(barrier))
                // the watermark would emit the ranking of [0, 10) at once
                .then(() -> input.next(StreamRecord.of("j", 1L, 4), Watermark.of(9)))
                .then(() -> assertThat(delivered).as("delivered before the commit").hasSize(1))
                .then(signal::done)
                .assertNext(e -> {
                    Ranking<String, Double> ranking = ((StreamRecord<TimeWindow, Ranking<String, Double>>) e).value();
                    assertThat(ranking.entries()).extracting(Ranking.Entry::key).containsExactly("j", "k");
                })
                .expectNext(Watermark.of(9))
                .then(input::complete)
                .verifyComplete();
    }
}
