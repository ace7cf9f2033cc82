package io.streamflow.reactive.window;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.RestoreHarness;
import io.streamflow.reactive.RestoreHarness.Split;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.Barriers;
import io.streamflow.reactive.internal.CheckpointSignal;
import io.streamflow.reactive.state.StateBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Restoring a window operator from its checkpointed state reproduces the output of an
 * uninterrupted run exactly (see {@link RestoreHarness}): seeded random out-of-order inputs with
 * watermarks and late records, one checkpoint barrier at a random position; the operator is
 * cancelled right after the barrier and a new one continues over the same (durable) state.
 * Replay a case with {@code -Dseed=N} (and {@code -Dwindows=CONFIG}).
 */
class WindowRestoreTest {

    private static final int CASES = RestoreHarness.cases(400);
    private static final String ONLY = System.getProperty("windows");

    /** The window configurations, one per operator path. */
    enum Config {
        /** Tumbling windows, default trigger, no lateness: the sliced path with one slice per window. */
        TUMBLING_SLICED,
        /** Sliding windows, default trigger, no lateness: the sliced path (gcd slices). */
        SLIDING_SLICED,
        /** Tumbling or sliding windows with allowed lateness and a random trigger: one accumulator per window. */
        FIXED_WITH_LATENESS,
        /** Session windows with random lateness and trigger. */
        SESSION,
        /** Count windows. */
        COUNT
    }

    /** The accumulator: a mutable state value, like most user accumulators. */
    static final class SumAcc {
        long count;
        long sum;
    }

    /** The pane value. */
    record Agg(long count, long sum) {
    }

    /** Count and sum; with {@code poison}, values {@code % 23 == 11} throw (before touching the accumulator). */
    static AggregateFunction<Long, SumAcc, Agg> countAndSum(boolean poison) {
        return new AggregateFunction<>() {
            @Override
            public SumAcc createAccumulator() {
                return new SumAcc();
            }

            @Override
            public SumAcc add(SumAcc a, Long v) {
                if (poison && v % 23 == 11) {
                    throw new IllegalArgumentException("poison value " + v);
                }
                a.count++;
                a.sum += v;
                return a;
            }

            @Override
            public SumAcc merge(SumAcc a, SumAcc b) {
                a.count += b.count;
                a.sum += b.sum;
                return a;
            }

            @Override
            public Agg result(SumAcc a) {
                return new Agg(a.count, a.sum);
            }
        };
    }

    /** One generated case. */
    record Case(long seed, String spec, WindowOperator<String, Long> op, boolean poison, int prefetch,
                Split<StreamElement<String, Long>> split) {
    }

    static Case generate(Config config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long scale;
        WindowAssigner assigner;
        long lateness = 0;
        Trigger trigger = Trigger.onWatermark();
        String spec;
        switch (config) {
            case TUMBLING_SLICED -> {
                long size = RestoreHarness.pick(rnd, 1, 5, 10, 50, 100);
                long offset = rnd.nextBoolean() ? 0 : rnd.nextLong(size);
                assigner = Windows.tumbling(Duration.ofMillis(size), Duration.ofMillis(offset));
                scale = size;
                spec = "tumbling size " + size + " offset " + offset;
            }
            case SLIDING_SLICED -> {
                long slide = RestoreHarness.pick(rnd, 1, 2, 5, 10, 25);
                long size = slide * (1 + rnd.nextInt(4)) + (slide > 1 && rnd.nextBoolean() ? rnd.nextLong(1, slide) : 0);
                long offset = rnd.nextBoolean() ? 0 : rnd.nextLong(slide);
                assigner = Windows.sliding(Duration.ofMillis(size), Duration.ofMillis(slide), Duration.ofMillis(offset));
                scale = size;
                spec = "sliding size " + size + " slide " + slide + " offset " + offset;
            }
            case FIXED_WITH_LATENESS -> {
                long slide = RestoreHarness.pick(rnd, 1, 5, 10, 25);
                long size = rnd.nextBoolean() ? slide : slide * (2 + rnd.nextInt(3));
                assigner = size == slide ? Windows.tumbling(Duration.ofMillis(size))
                        : Windows.sliding(Duration.ofMillis(size), Duration.ofMillis(slide));
                lateness = RestoreHarness.pick(rnd, 1, 5, 20, 100);
                trigger = randomTrigger(rnd);
                scale = size;
                spec = (size == slide ? "tumbling size " + size : "sliding size " + size + " slide " + slide)
                        + " lateness " + lateness + " " + trigger;
            }
            case SESSION -> {
                long gap = RestoreHarness.pick(rnd, 1, 5, 10, 50);
                assigner = Windows.session(Duration.ofMillis(gap));
                lateness = rnd.nextBoolean() ? 0 : RestoreHarness.pick(rnd, 1, 10, 50);
                trigger = randomTrigger(rnd);
                scale = gap;
                spec = "session gap " + gap + " lateness " + lateness + " " + trigger;
            }
            default -> {
                long size = 1 + rnd.nextInt(5);
                assigner = Windows.count(size);
                scale = 10;
                spec = "count " + size;
            }
        }
        WindowOperator<String, Long> op = WindowOperator.<String, Long>of(assigner)
                .allowedLateness(Duration.ofMillis(lateness)).trigger(trigger);
        boolean poison = rnd.nextInt(3) == 0;
        int prefetch = (int) RestoreHarness.pick(rnd, 256, 256, 1, 2, 7);
        List<StreamElement<String, Long>> input = RestoreHarness.keyedInput(rnd, scale);
        return new Case(seed, spec + (poison ? ", poison values to the dead-letter output" : "") + ", prefetch "
                + prefetch, op, poison, prefetch, Split.of(input, rnd));
    }

    private static Trigger randomTrigger(SplittableRandom rnd) {
        Trigger t = Trigger.onWatermark();
        if (rnd.nextInt(3) == 0) {
            t = t.withEarlyFiringsEvery(1 + rnd.nextInt(3));
        }
        if (rnd.nextInt(4) == 0) {
            t = t.withoutLateFirings();
        }
        if (rnd.nextInt(3) == 0) {
            t = t.withClosingPane();
        }
        return rnd.nextInt(3) == 0 ? t.discarding() : t;
    }

    static Function<Flux<StreamElement<String, Long>>, Flux<StreamElement<String, WindowResult<String, Agg>>>>
    operator(Case c, StateBackend backend) {
        OperatorSettings settings = OperatorSettings.named("win").withMeterRegistry(new SimpleMeterRegistry())
                .withPrefetch(c.prefetch()).withStateBackend(backend);
        if (c.poison()) {
            settings = settings.withErrorPolicy(ErrorPolicy.deadLetter());
        }
        return c.op().settings(settings).aggregate(countAndSum(c.poison()));
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void aRestoredWindowOperatorEmitsExactlyWhatAnUninterruptedOneDoes(Config config) {
        if (ONLY != null && !ONLY.equals(config.name())) {
            return;
        }
        long base = RestoreHarness.baseSeed("WindowRestoreTest " + config);
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            Case c = generate(config, seed);
            // a fresh heap backend per run for the uninterrupted run; one durable backend for #1 and #2
            // "timers": the session windows' timer index, written at barriers
            String problem = RestoreHarness.check(c.split(), backend -> operator(c, backend), "timers");
            if (problem != null) {
                fail("restored window operator differs from the uninterrupted one%n  seed: %d (replay: -Dtest="
                        + "WindowRestoreTest -Dwindows=%s -Dseed=%d)%n  %s%n%s", seed, config, seed, c.spec(), problem);
            }
            tallyCase(seen, c.split());
        }
        System.out.println("WindowRestoreTest " + config + ": " + CASES + " cases, " + RestoreHarness.summary(seen));
        if (RestoreHarness.SEED == null && CASES >= 100) {
            assertThat(seen).containsKeys("first cut after a watermark", "records after the last cut",
                    "restored twice", "checkpoint after END");
        }
    }

    /** Counts what a case exercised: where the input was cut, and how often the state was restored. */
    static void tallyCase(Map<String, Integer> seen, Split<? extends StreamElement<?, ?>> split) {
        List<? extends List<? extends StreamElement<?, ?>>> parts = split.parts();
        RestoreHarness.tally(seen, "first cut after a watermark", parts.get(0).stream()
                .anyMatch(e -> e instanceof Watermark<?, ?>));
        RestoreHarness.tally(seen, "records after the last cut", parts.get(parts.size() - 1).stream()
                .anyMatch(e -> e instanceof StreamRecord<?, ?>));
        RestoreHarness.tally(seen, "restored twice", parts.size() > 2);
        RestoreHarness.tally(seen, "checkpoint after END", split.endsWithCheckpointAfterEnd());
    }

    // ------------------------------------------------------------------ the barrier pauses the operator

    @Test
    void aCheckpointBarrierPausesTheOperatorUntilItsCheckpointIsCommitted() {
        CheckpointSignal signal = new CheckpointSignal(3);
        CheckpointBarrier<String, Long> barrier = Barriers.create(3, signal);
        TestPublisher<StreamElement<String, Long>> input = TestPublisher.create();
        List<StreamElement<String, WindowResult<String, Agg>>> delivered = new CopyOnWriteArrayList<>();
        Flux<StreamElement<String, WindowResult<String, Agg>>> windows = input.flux()
                .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofMillis(10)))
                        .settings(OperatorSettings.named("paused").withMeterRegistry(new SimpleMeterRegistry()))
                        .aggregate(countAndSum(false)))
                .doOnNext(delivered::add);
        StepVerifier.create(windows)
                .then(() -> input.next(StreamRecord.of("k", 1L, 2, Origin.NONE), barrier))
                .expectNext(StreamElement.forward(barrier))
                // taken from upstream but not processed: the watermark would fire [0, 10) at once
                .then(() -> input.next(StreamRecord.of("k", 2L, 5, Origin.NONE), Watermark.of(20)))
                .then(() -> assertThat(delivered).as("delivered before the commit").hasSize(1))
                .then(signal::done)
                .assertNext(e -> {
                    WindowResult<String, Agg> w = ((StreamRecord<String, WindowResult<String, Agg>>) e).value();
                    assertThat(w.window()).isEqualTo(new TimeWindow(0, 10));
                    assertThat(w.value()).isEqualTo(new Agg(2, 3));
                })
                .expectNext(Watermark.of(20))
                .then(input::complete)
                .expectNext(Watermark.end())
                .verifyComplete();
    }
}
