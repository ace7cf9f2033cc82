package io.streamflow.reactive.analytics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.TimeWindow;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Behaviour of {@link Analytics} beyond the reference model: bounded state, deterministic tie-breaking,
 * the half-life arithmetic on hand-computed examples, the error policy, configuration errors and
 * backpressure.
 */
class AnalyticsBehaviourTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Comparator<String> NATURAL = Comparator.naturalOrder();
    private static final Comparator<Long> LARGEST_FIRST = Comparator.reverseOrder();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private OperatorSettings settings(String name) {
        return OperatorSettings.named(name).withPipeline("p").withMeterRegistry(registry);
    }

    private double counter(String meter, String operator) {
        return registry.get(meter).tag("operator", operator).tag("pipeline", "p").counter().count();
    }

    private static StreamRecord<String, WindowResult<String, Long>> result(String key, long start, long end, long value) {
        return StreamRecord.of(key, new WindowResult<>(key, start, end, value,
                new PaneInfo(PaneInfo.Timing.ON_TIME, 0, true)), end - 1);
    }

    /** The record a ranking operator named {@code operator} emits for {@code [start, end)}. */
    @SafeVarargs
    private static <V> StreamRecord<TimeWindow, Ranking<String, V>> ranking(String operator, long start, long end,
                                                                           Ranking.Entry<String, V>... entries) {
        return StreamRecord.of(new TimeWindow(start, end), new Ranking<>(start, end, List.of(entries)), end - 1,
                Origin.of(operator, 0, -1L));
    }

    private static <V> Ranking.Entry<String, V> entry(int rank, String key, V value) {
        return new Ranking.Entry<>(rank, key, value);
    }

    private static <V> Function<Flux<StreamElement<String, V>>, Flux<StreamElement<TimeWindow, Ranking<String, Double>>>>
    trending(long halfLifeMs, long intervalMs, int n, double floor, ToDoubleFunction<? super V> weight,
             OperatorSettings settings) {
        return Analytics.trending(Duration.ofMillis(halfLifeMs), Duration.ofMillis(intervalMs), n, floor, weight,
                NATURAL, settings);
    }

    @SuppressWarnings("unchecked")
    private static Ranking<String, Double> rankingOf(StreamElement<?, ?> e) {
        assertThat(e).isInstanceOf(StreamRecord.class);
        Object v = ((StreamRecord<?, ?>) e).value();
        assertThat(v).isInstanceOf(Ranking.class);
        return (Ranking<String, Double>) v;
    }

    private static List<String> keys(Ranking<String, ?> r) {
        return r.entries().stream().map(Ranking.Entry::key).toList();
    }

    // ================================================================== bounded state

    @Test
    void topNKeepsOnlyTheLatestResultPerKeyOfOpenWindowsAndNoStateOnceEveryWindowIsRanked() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> state = backend.keyedState("topn", "results");
        TestPublisher<StreamElement<String, WindowResult<String, Long>>> source = TestPublisher.create();

        StepVerifier.create(source.flux().transform(Analytics.<String, Long>topN(2, LARGEST_FIRST, NATURAL,
                        settings("topn").withStateBackend(backend))))
                .then(() -> source.next(result("a", 0, 10, 3), result("b", 0, 10, 5), result("c", 0, 10, 1),
                        result("a", 10, 20, 1), result("a", 0, 10, 6))) // a's later pane replaces its first
                .then(() -> assertThat(state.size()).as("one entry per key and open window").isEqualTo(4))
                .then(() -> source.next(Watermark.of(8)))
                .expectNext(Watermark.of(8))
                .then(() -> source.next(Watermark.of(9)))
                .expectNext(ranking("topn", 0, 10, entry(1, "a", 6L), entry(2, "b", 5L)))
                .expectNext(Watermark.of(9))
                .then(() -> assertThat(state.size()).as("the ranked window's state is gone").isEqualTo(1))
                .then(() -> source.next(Watermark.of(19)))
                .expectNext(ranking("topn", 10, 20, entry(1, "a", 1L)), Watermark.of(19))
                .then(() -> assertThat(state.size()).as("every window ranked").isZero())
                .then(() -> assertThat(registry.get("streamflow.state.entries").tag("operator", "topn").gauge().value())
                        .isZero())
                .then(source::complete)
                .verifyComplete();
    }

    @Test
    void topNStateStaysBoundedByTheOpenWindowsOverALongStream() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> state = backend.keyedState("topn", "results");
        int windows = 300;
        int keys = 40;
        List<StreamElement<String, WindowResult<String, Long>>> input = new ArrayList<>();
        for (int w = 0; w < windows; w++) {
            for (int k = 0; k < keys; k++) {
                // results of the next window too, so two windows are open at a time
                input.add(result("k" + k, 10L * (w + 1), 10L * (w + 2), k));
                input.add(result("k" + k, 10L * w, 10L * (w + 1), (k * 7L + w) % keys));
            }
            input.add(Watermark.of(10L * w + 9));
        }
        AtomicLong maxState = new AtomicLong();
        AtomicLong stateAfterLast = new AtomicLong(-1);
        List<StreamElement<TimeWindow, Ranking<String, Long>>> out = Flux.fromIterable(input)
                .transform(Analytics.<String, Long>topN(3, LARGEST_FIRST, NATURAL, settings("topn").withStateBackend(backend)))
                .doOnNext(e -> {
                    if (e instanceof Watermark<?, ?> w) {
                        maxState.accumulateAndGet(state.size(), Math::max);
                        if (w.timestamp() == 10L * (windows - 1) + 9) {
                            stateAfterLast.set(state.size());
                        }
                    }
                })
                .collectList().block(TIMEOUT);

        assertThat(out).filteredOn(e -> e instanceof StreamRecord).hasSize(windows + 1);
        assertThat(maxState.get()).as("at most the next window's results are kept after a watermark")
                .isEqualTo(keys);
        assertThat(stateAfterLast.get()).isEqualTo(keys);
    }

    @Test
    void trendingLiveScoresPlateauWhileTheNumberOfDistinctKeysGrowsFarBeyondIt() {
        // one new key per millisecond, each with one event of weight 1: a key's score is 2^(-age / 100 ms),
        // which falls below the floor 0.01 after 100 * log2(100) = 664.4 ms, so about 665 keys are live
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> scores = backend.keyedState("trending", "scores");
        KeyedState<Object, Object, Object> partials = backend.keyedState("trending", "partials");
        int distinctKeys = 20_000;
        AtomicLong maxScores = new AtomicLong();
        AtomicLong maxPartials = new AtomicLong();
        AtomicLong scoresAtTheEnd = new AtomicLong();
        AtomicInteger rankings = new AtomicInteger();
        List<Ranking<String, Double>> last = new ArrayList<>();

        Flux.range(0, distinctKeys)
                .concatMap(i -> Flux.<StreamElement<String, Integer>>just(StreamRecord.of("user-" + i, 1, i),
                        Watermark.of(i - 1)))
                .transform(trending(100, 10, 3, 0.01, (Integer v) -> v, settings("trending").withStateBackend(backend)))
                .doOnNext(e -> {
                    if (e instanceof Watermark<?, ?> w) {
                        maxScores.accumulateAndGet(scores.size(), Math::max);
                        maxPartials.accumulateAndGet(partials.size(), Math::max);
                        if (w.timestamp() == distinctKeys - 2) {
                            scoresAtTheEnd.set(scores.size());
                        }
                    } else {
                        rankings.incrementAndGet();
                        last.clear();
                        last.add(rankingOf(e));
                    }
                })
                .then().block(TIMEOUT);

        assertThat(rankings.get()).isEqualTo(distinctKeys / 10);
        assertThat(maxScores.get()).as("live scores (distinct keys: %d)", distinctKeys).isBetween(650L, 700L);
        assertThat(scoresAtTheEnd.get()).isBetween(650L, 700L);
        assertThat(maxPartials.get()).as("partial sums of the one open interval").isLessThanOrEqualTo(10);
        Ranking<String, Double> lastRanking = last.get(0);
        assertThat(keys(lastRanking)).containsExactly("user-19999", "user-19998", "user-19997");
        assertThat(lastRanking.entries().get(1).value()).isCloseTo(Math.pow(2, -1 / 100.0), within(1e-12));
    }

    @Test
    void trendingForgetsAKeyBelowTheFloorAndAReturningKeyStartsAfresh() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> scores = backend.keyedState("trending", "scores");
        TestPublisher<StreamElement<String, Double>> source = TestPublisher.create();
        // interval 1 ms, half-life 10 ms, floor 0.5
        StepVerifier.create(source.flux().transform(trending(10, 1, 5, 0.5, (Double v) -> v,
                        settings("trending").withStateBackend(backend))))
                .then(() -> source.next(StreamRecord.of("a", 1.0, 0), Watermark.of(0)))
                .assertNext(e -> assertThat(rankingOf(e).entries()).containsExactly(entry(1, "a", 1.0)))
                .expectNext(Watermark.of(0))
                .then(() -> source.next(StreamRecord.of("b", 1.0, 10), Watermark.of(10)))
                .assertNext(e -> {
                    // a = 2^-1 = 0.5: not below the floor, kept
                    assertThat(rankingOf(e).entries()).containsExactly(entry(1, "b", 1.0), entry(2, "a", 0.5));
                })
                .expectNext(Watermark.of(10))
                .then(() -> source.next(StreamRecord.of("c", 1.0, 11), Watermark.of(11)))
                .assertNext(e -> {
                    // a = 0.5 * 2^-0.1 = 0.4665 < 0.5: forgotten
                    Ranking<String, Double> r = rankingOf(e);
                    assertThat(keys(r)).containsExactly("c", "b");
                    assertThat(r.entries().get(1).value()).isCloseTo(0.9330329915368074, within(1e-12));
                })
                .expectNext(Watermark.of(11))
                .then(() -> assertThat(scores.size()).as("a's score is gone").isEqualTo(2))
                .then(() -> source.next(StreamRecord.of("a", 1.0, 12), Watermark.of(12)))
                .assertNext(e -> {
                    Ranking<String, Double> r = rankingOf(e);
                    assertThat(keys(r)).containsExactly("a", "c", "b");
                    assertThat(r.entries().get(0).value()).as("a starts again from its new event only").isEqualTo(1.0);
                })
                .expectNext(Watermark.of(12))
                .then(source::complete)
                .verifyComplete();
    }

    // ================================================================== tie-breaking

    @Test
    void topNBreaksTiesByKeyOrderWhateverTheArrivalOrder() {
        List<StreamRecord<String, WindowResult<String, Long>>> results = List.of(result("c", 0, 10, 5),
                result("a", 0, 10, 5), result("e", 0, 10, 7), result("d", 0, 10, 5), result("b", 0, 10, 5));
        List<List<StreamRecord<String, WindowResult<String, Long>>>> orders = new ArrayList<>();
        permutations(results, new ArrayList<>(), orders);
        assertThat(orders).hasSize(120);
        for (List<StreamRecord<String, WindowResult<String, Long>>> order : orders) {
            for (boolean reversed : new boolean[] {false, true}) {
                List<StreamElement<String, WindowResult<String, Long>>> input = new ArrayList<>(order);
                input.add(Watermark.of(9));
                List<StreamElement<TimeWindow, Ranking<String, Long>>> out = Flux.fromIterable(input)
                        .transform(Analytics.<String, Long>topN(3, LARGEST_FIRST,
                                reversed ? Comparator.<String>reverseOrder() : NATURAL, settings("topn")))
                        .collectList().block(TIMEOUT);
                assertThat(out).as("arrival order %s", order.stream().map(StreamRecord::key).toList())
                        .containsExactly(reversed
                                ? ranking("topn", 0, 10, entry(1, "e", 7L), entry(2, "d", 5L), entry(3, "c", 5L))
                                : ranking("topn", 0, 10, entry(1, "e", 7L), entry(2, "a", 5L), entry(3, "b", 5L)),
                                Watermark.of(9));
            }
        }
    }

    private static <T> void permutations(List<T> rest, List<T> prefix, List<List<T>> out) {
        if (rest.isEmpty()) {
            out.add(List.copyOf(prefix));
            return;
        }
        for (int i = 0; i < rest.size(); i++) {
            List<T> r = new ArrayList<>(rest);
            prefix.add(r.remove(i));
            permutations(r, prefix, out);
            prefix.remove(prefix.size() - 1);
        }
    }

    @Test
    void trendingBreaksExactTiesByKeyOrder() {
        List<StreamElement<String, Integer>> input = List.of(StreamRecord.of("y", 1, 3), StreamRecord.of("z", 1, 3),
                StreamRecord.of("x", 1, 3), StreamRecord.of("w", 1, 1), Watermark.of(9));
        for (boolean reversed : new boolean[] {false, true}) {
            List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.fromIterable(input)
                    .transform(Analytics.<String, Integer>trending(Duration.ofMillis(100), Duration.ofMillis(10), 2,
                            0.01, v -> v, reversed ? Comparator.<String>reverseOrder() : NATURAL, settings("trending")))
                    .collectList().block(TIMEOUT);
            assertThat(out).hasSize(2);
            assertThat(keys(rankingOf(out.get(0)))).as(reversed ? "reversed key order" : "natural key order")
                    .containsExactly(reversed ? new String[] {"z", "y"} : new String[] {"x", "y"});
        }
    }

    /**
     * Two keys with the same events (weight 1 at 0, 1 and 2 ms) score the same, so key order ranks
     * them, and the README promises that out-of-order input gives the same rankings. The operator sums
     * a key's partial score in arrival order, so when one key's events arrive in reverse order (within
     * the bound, none late) its floating-point score differs in the last bit and decides the ranking.
     */
    @Test
    void trendingRanksKeysWithTheSameEventsTheSameWayWhateverTheirArrivalOrder() {
        Function<List<Long>, List<StreamElement<TimeWindow, Ranking<String, Double>>>> run = bOrder -> {
            List<StreamElement<String, Integer>> input = new ArrayList<>();
            for (long t : List.of(2L, 1L, 0L)) {
                input.add(StreamRecord.of("a", 1, t));
            }
            for (long t : bOrder) {
                input.add(StreamRecord.of("b", 1, t));
            }
            input.add(Watermark.of(999));
            return Flux.fromIterable(input)
                    .transform(trending(1000, 1000, 2, 0.01, (Integer v) -> v, settings("trending")))
                    .collectList().block(TIMEOUT);
        };
        Ranking<String, Double> bInReverse = rankingOf(run.apply(List.of(2L, 1L, 0L)).get(0));
        Ranking<String, Double> bInOrder = rankingOf(run.apply(List.of(0L, 1L, 2L)).get(0));

        double expected = Math.pow(2, -0.999) + Math.pow(2, -0.998) + Math.pow(2, -0.997);
        assertThat(bInReverse.entries().get(0).value()).isCloseTo(expected, within(1e-12));
        assertThat(bInReverse.entries().get(1).value()).isCloseTo(expected, within(1e-12));
        assertThat(keys(bInReverse)).as("same events, same score: key order decides").containsExactly("a", "b");
        assertThat(keys(bInOrder)).as("b's events arrived in another order (1 ms out of order)")
                .containsExactly("a", "b");
    }

    // ================================================================== half-life

    @Test
    void trendingScoreHalvesAfterOneHalfLifeOfEventTime() {
        // interval 1 ms: the ranking of [1000, 1001) is the state 1000 ms after a's only event
        List<StreamElement<String, Integer>> input = List.of(StreamRecord.of("a", 1, 0), Watermark.of(0),
                StreamRecord.of("b", 1, 1000), Watermark.of(1000), StreamRecord.of("c", 1, 3000), Watermark.of(3000));
        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.fromIterable(input)
                .transform(trending(1000, 1, 5, 0.01, (Integer v) -> v, settings("trending")))
                .collectList().block(TIMEOUT);

        assertThat(out).hasSize(6);
        assertThat(rankingOf(out.get(0))).isEqualTo(new Ranking<>(0, 1, List.of(entry(1, "a", 1.0))));
        assertThat(out.get(1)).isEqualTo(Watermark.of(0));
        assertThat(((StreamRecord<?, ?>) out.get(2)).key()).isEqualTo(new TimeWindow(1000, 1001));
        assertThat(((StreamRecord<?, ?>) out.get(2)).timestamp()).isEqualTo(1000);
        Ranking<String, Double> after1000 = rankingOf(out.get(2));
        assertThat(keys(after1000)).containsExactly("b", "a");
        assertThat(after1000.entries().get(0).value()).isCloseTo(1.0, within(1e-12));
        assertThat(after1000.entries().get(1).value()).as("one half-life later").isCloseTo(0.5, within(1e-12));
        // no ranking for the 1999 intervals without records in between; decay goes on across them
        assertThat(out.get(3)).isEqualTo(Watermark.of(1000));
        Ranking<String, Double> after3000 = rankingOf(out.get(4));
        assertThat(after3000.start()).isEqualTo(3000);
        assertThat(after3000.entries()).extracting(Ranking.Entry::key).containsExactly("c", "b", "a");
        assertThat(after3000.entries().get(1).value()).as("b: two half-lives").isCloseTo(0.25, within(1e-12));
        assertThat(after3000.entries().get(2).value()).as("a: three half-lives").isCloseTo(0.125, within(1e-12));
    }

    @Test
    void trendingDecaysARecordToTheLastMillisecondOfItsInterval() {
        // interval [0, 1000) ends at 999: an event at 0 counts 2^(-999/1000) = 0.5 * 2^0.001 = 0.500346693...
        List<StreamElement<String, Integer>> input = List.of(StreamRecord.of("a", 1, 0), StreamRecord.of("b", 1, 999),
                Watermark.of(999), StreamRecord.of("b", 1, 1999), Watermark.of(1999));
        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.fromIterable(input)
                .transform(trending(1000, 1000, 5, 0.01, (Integer v) -> v, settings("trending")))
                .collectList().block(TIMEOUT);

        Ranking<String, Double> first = rankingOf(out.get(0));
        assertThat(first.start()).isZero();
        assertThat(first.end()).isEqualTo(1000);
        assertThat(keys(first)).containsExactly("b", "a");
        assertThat(first.entries().get(0).value()).isCloseTo(1.0, within(1e-12));
        assertThat(first.entries().get(1).value()).isCloseTo(0.5003466937, within(1e-9));
        Ranking<String, Double> second = rankingOf(out.get(2));
        assertThat(second.entries().get(0).value()).as("b: 1 + 1 * 2^-1").isCloseTo(1.5, within(1e-12));
        assertThat(second.entries().get(1).value()).as("a: 0.500346693 / 2").isCloseTo(0.2501733469, within(1e-9));
    }

    // ================================================================== lateness, end of input

    @Test
    void topNSendsAResultForAWindowAlreadyRankedToTheLateOutput() {
        StreamRecord<String, WindowResult<String, Long>> latePane = StreamRecord.of("b", new WindowResult<>("b", 0, 10,
                9L, new PaneInfo(PaneInfo.Timing.LATE, 1, false)), 9);
        List<StreamElement<TimeWindow, Ranking<String, Long>>> out = Flux.<StreamElement<String, WindowResult<String, Long>>>just(
                        result("a", 0, 10, 2), result("b", 0, 10, 1), Watermark.of(9), latePane, result("a", 10, 20, 4))
                .transform(Analytics.<String, Long>topN(5, LARGEST_FIRST, NATURAL, settings("topn")))
                .collectList().block(TIMEOUT);

        assertThat(out).hasSize(4);
        assertThat(out.get(0)).isEqualTo(ranking("topn", 0, 10, entry(1, "a", 2L), entry(2, "b", 1L)));
        assertThat(out.get(1)).isEqualTo(Watermark.of(9));
        assertThat(out.get(2)).isInstanceOfSatisfying(LateRecord.class, l -> {
            assertThat(l.record()).isSameAs(latePane);
            assertThat(l.operator()).isEqualTo("topn");
            assertThat(l.windowStart()).isZero();
            assertThat(l.windowEnd()).isEqualTo(10);
            assertThat(l.watermark()).isEqualTo(9);
        });
        assertThat(out.get(3)).as("end of input ranks the open window").isEqualTo(
                ranking("topn", 10, 20, entry(1, "a", 4L)));
        assertThat(counter("streamflow.records.late", "topn")).isEqualTo(1.0);
    }

    @Test
    void trendingSendsARecordForAnIntervalAlreadyEmittedToTheLateOutput() {
        StreamRecord<String, Integer> late = StreamRecord.of("a", 1, 7);
        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.<StreamElement<String, Integer>>just(
                        StreamRecord.of("a", 1, 5), Watermark.of(9), late, StreamRecord.of("a", 1, 10))
                .transform(trending(1000, 10, 5, 0.01, (Integer v) -> v, settings("trending")))
                .collectList().block(TIMEOUT);

        assertThat(out).hasSize(4);
        assertThat(out.get(2)).isInstanceOfSatisfying(LateRecord.class, l -> {
            assertThat(l.record()).isSameAs(late);
            assertThat(l.operator()).isEqualTo("trending");
            assertThat(l.windowStart()).isZero();
            assertThat(l.windowEnd()).isEqualTo(10);
            assertThat(l.watermark()).isEqualTo(9);
        });
        Ranking<String, Double> flushed = rankingOf(out.get(3));
        assertThat(flushed.start()).isEqualTo(10);
        assertThat(flushed.entries().get(0).value()).as("the late record did not count")
                .isCloseTo(Math.pow(2, -14 / 1000.0) + Math.pow(2, -9 / 1000.0), within(1e-12));
        assertThat(counter("streamflow.records.late", "trending")).isEqualTo(1.0);
    }

    @Test
    void topNOfClicksPerPageEndToEndWithTheWindowOperator() {
        List<StreamElement<String, String>> clicks = new ArrayList<>();
        String[] pages = {"home", "cart", "home", "search", "cart", "home", "faq", "search", "cart"};
        for (int i = 0; i < pages.length; i++) {
            clicks.add(StreamRecord.of(pages[i], "click", 1_000L * i));
        }
        clicks.add(StreamRecord.of("faq", "click", 61_000));
        List<StreamElement<TimeWindow, Ranking<String, Long>>> out = Flux.fromIterable(clicks)
                .transform(WindowOperator.<String, String>of(Windows.tumbling(Duration.ofMinutes(1)))
                        .settings(settings("clicks-per-minute")).aggregate(Aggregations.<String>count()))
                .transform(Analytics.<String, Long>topN(2, LARGEST_FIRST, NATURAL, settings("top-pages")))
                .collectList().block(TIMEOUT);

        assertThat(out).containsExactly(
                ranking("top-pages", 0, 60_000, entry(1, "cart", 3L), entry(2, "home", 3L)),
                ranking("top-pages", 60_000, 120_000, entry(1, "faq", 1L)),
                Watermark.end());
    }

    @Test
    void trendingFlushesEveryIntervalAtTheEndOfInput() {
        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.<StreamElement<String, Integer>>just(
                        StreamRecord.of("a", 1, 25), StreamRecord.of("b", 1, 3), StreamRecord.of("a", 1, 9))
                .transform(trending(1000, 10, 5, 0.01, (Integer v) -> v, settings("trending")))
                .collectList().block(TIMEOUT);

        List<Ranking<String, Double>> rankings = out.stream().filter(e -> e instanceof StreamRecord)
                .map(AnalyticsBehaviourTest::rankingOf).toList();
        assertThat(rankings).extracting(Ranking::start).containsExactly(0L, 20L);
        assertThat(keys(rankings.get(0))).containsExactly("a", "b");
        assertThat(keys(rankings.get(1))).containsExactly("a", "b");
    }

    // ================================================================== sessions

    @Test
    void sessionSummaryCountsEventsPageViewsAndTypesAndIsEmittedWhenTheWatermarkPassesLastPlusGapMinusOne() {
        TestPublisher<StreamElement<String, String>> source = TestPublisher.create();
        StepVerifier.create(source.flux().transform(Analytics.<String, String>sessions(Duration.ofMillis(10),
                        v -> v, "view"::equals, settings("sessions"))))
                .then(() -> source.next(StreamRecord.of("u1", "view", 0), StreamRecord.of("u1", "view", 12),
                        StreamRecord.of("u1", "click", 5), StreamRecord.of("u2", "buy", 3), Watermark.of(20)))
                .assertNext(e -> {
                    StreamRecord<?, ?> r = (StreamRecord<?, ?>) e;
                    assertThat(r.key()).isEqualTo("u2");
                    assertThat(r.timestamp()).isEqualTo(12);
                    assertThat(r.value()).isEqualTo(new SessionSummary(3, 3, 1, 0, Map.of("buy", 1L)));
                })
                .expectNext(Watermark.of(20))
                .then(() -> source.next(Watermark.of(21)))
                .assertNext(e -> {
                    StreamRecord<?, ?> r = (StreamRecord<?, ?>) e;
                    assertThat(r.key()).isEqualTo("u1");
                    assertThat(r.timestamp()).as("last event + gap - 1").isEqualTo(21);
                    SessionSummary s = (SessionSummary) r.value();
                    assertThat(s).isEqualTo(new SessionSummary(0, 12, 3, 2, Map.of("view", 2L, "click", 1L)));
                    assertThat(s.durationMillis()).isEqualTo(12);
                    assertThat(s.eventTypes().keySet()).containsExactly("click", "view");
                    assertThatThrownBy(() -> s.eventTypes().put("x", 1L)).isInstanceOf(UnsupportedOperationException.class);
                })
                .expectNext(Watermark.of(21))
                .then(() -> source.next(StreamRecord.of("u1", "view", 8)))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(LateRecord.class, l -> {
                    assertThat(l.operator()).isEqualTo("sessions");
                    assertThat(l.windowStart()).isEqualTo(8);
                    assertThat(l.windowEnd()).isEqualTo(18);
                    assertThat(l.watermark()).isEqualTo(21);
                }))
                .then(() -> assertThat(counter("streamflow.records.late", "sessions")).isEqualTo(1.0))
                .then(source::complete)
                .expectNext(Watermark.end())
                .verifyComplete();
    }

    /**
     * The boundary of the session rule: u1's events at 0 and 10 are exactly gap (10 ms) apart. They
     * form one session when u1's second event arrives before watermark 9; when another user's event
     * at 10 brings watermark 9 first, the session [0, 10) has closed and u1's event starts a new one.
     */
    @Test
    void anEventExactlyGapAfterASessionJoinsItOnlyBeforeTheWatermarkClosesIt() {
        Function<Boolean, List<Object>> u1Sessions = otherUserFirst -> {
            List<StreamElement<String, String>> input = new ArrayList<>();
            input.add(StreamRecord.of("u1", "view", 0));
            input.add(Watermark.of(-1));
            if (otherUserFirst) {
                input.add(StreamRecord.of("u2", "view", 10));
                input.add(Watermark.of(9));
                input.add(StreamRecord.of("u1", "click", 10));
            } else {
                input.add(StreamRecord.of("u1", "click", 10));
                input.add(Watermark.of(9));
                input.add(StreamRecord.of("u2", "view", 10));
            }
            return Flux.fromIterable(input)
                    .transform(Analytics.<String, String>sessions(Duration.ofMillis(10), v -> v, "view"::equals,
                            settings("sessions")))
                    .filter(e -> e instanceof StreamRecord<?, ?> r && r.key().equals("u1"))
                    .map(e -> (Object) ((StreamRecord<?, ?>) e).value())
                    .collectList().block(TIMEOUT);
        };
        SessionSummary oneSession = new SessionSummary(0, 10, 2, 1, Map.of("view", 1L, "click", 1L));
        assertThat(u1Sessions.apply(false)).containsExactly(oneSession);
        // as documented: watermark 9 closed [0, 10) first; a closed session is not reopened, so the
        // touching event starts a new one (it is not late: 10 > 9)
        assertThat(u1Sessions.apply(true)).as("u2's event at 10 arrived before u1's").containsExactly(
                new SessionSummary(0, 0, 1, 1, Map.of("view", 1L)),
                new SessionSummary(10, 10, 1, 0, Map.of("click", 1L)));
    }

    // ================================================================== error policy

    @Test
    void trendingSendsARecordWhoseWeightThrowsToTheDeadLetterOutputAndGoesOn() {
        IllegalStateException boom = new IllegalStateException("no weight for 'bad'");
        StreamRecord<String, String> bad = StreamRecord.of("b", "bad", 6);
        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.<StreamElement<String, String>>just(
                        StreamRecord.of("a", "ok", 9), bad, StreamRecord.of("c", "ok", 9), Watermark.of(9))
                .transform(trending(1000, 10, 5, 0.01, (String v) -> {
                    if (v.equals("bad")) {
                        throw boom;
                    }
                    return 1.0;
                }, settings("trending").withErrorPolicy(ErrorPolicy.deadLetter())))
                .collectList().block(TIMEOUT);

        assertThat(out).hasSize(3);
        assertThat(out.get(0)).isInstanceOfSatisfying(DeadLetter.class, d -> {
            assertThat(d.input()).isSameAs(bad);
            assertThat(d.operator()).isEqualTo("trending");
            assertThat(d.error()).isSameAs(boom);
        });
        assertThat(rankingOf(out.get(1)).entries()).containsExactly(entry(1, "a", 1.0), entry(2, "c", 1.0));
        assertThat(out.get(2)).isEqualTo(Watermark.of(9));
        assertThat(counter("streamflow.records.dead.letter", "trending")).isEqualTo(1.0);
        assertThat(counter("streamflow.records.in", "trending")).isEqualTo(3.0);
    }

    @Test
    void trendingSendsNegativeNaNAndInfiniteWeightsToTheDeadLetterOutput() {
        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.<StreamElement<String, Double>>just(
                        StreamRecord.of("a", -1.0, 1), StreamRecord.of("b", Double.NaN, 2),
                        StreamRecord.of("c", Double.POSITIVE_INFINITY, 3), StreamRecord.of("d", 0.5, 4), Watermark.of(9))
                .transform(trending(1000, 10, 5, 0.01, (Double v) -> v,
                        settings("trending").withErrorPolicy(ErrorPolicy.deadLetter())))
                .collectList().block(TIMEOUT);

        assertThat(out).hasSize(5);
        assertThat(out.subList(0, 3)).allSatisfy(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d ->
                assertThat(d.error()).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("weight must be finite and >= 0")));
        assertThat(out.subList(0, 3)).extracting(e -> (Object) ((StreamRecord<?, ?>) ((DeadLetter<?, ?>) e).input()).key())
                .containsExactly("a", "b", "c");
        assertThat(keys(rankingOf(out.get(3)))).containsExactly("d");
        assertThat(counter("streamflow.records.dead.letter", "trending")).isEqualTo(3.0);
    }

    @Test
    void trendingFailsOnAThrowingWeightUnderTheDefaultFailPolicy() {
        AtomicInteger cancelled = new AtomicInteger();
        StepVerifier.create(Flux.<StreamElement<String, String>>just(StreamRecord.of("a", "ok", 1),
                                StreamRecord.of("b", "bad", 2), Watermark.of(9))
                        .doOnCancel(cancelled::incrementAndGet)
                        .transform(trending(1000, 10, 5, 0.01, (String v) -> {
                            if (v.equals("bad")) {
                                throw new IllegalStateException("no weight for 'bad'");
                            }
                            return 1.0;
                        }, settings("trending"))))
                .expectErrorSatisfies(t -> assertThat(t).isInstanceOf(IllegalStateException.class)
                        .hasMessage("no weight for 'bad'"))
                .verify(TIMEOUT);
        assertThat(cancelled.get()).isEqualTo(1);
    }

    @Test
    void trendingRetriesAFlakyWeightBeforeDeadLettering() {
        AtomicInteger calls = new AtomicInteger();
        List<StreamElement<TimeWindow, Ranking<String, Double>>> out = Flux.<StreamElement<String, Integer>>just(
                        StreamRecord.of("a", 1, 9), Watermark.of(9))
                .transform(trending(1000, 10, 5, 0.01, (Integer v) -> {
                    if (calls.incrementAndGet() < 3) {
                        throw new IllegalStateException("flaky");
                    }
                    return 2.0;
                }, settings("trending").withErrorPolicy(ErrorPolicy.retryThenDeadLetter(2))))
                .collectList().block(TIMEOUT);

        assertThat(calls.get()).isEqualTo(3);
        assertThat(rankingOf(out.get(0)).entries()).containsExactly(entry(1, "a", 2.0));
        assertThat(counter("streamflow.records.dead.letter", "trending")).isZero();
    }

    // ================================================================== configuration errors

    @Test
    void configurationErrorsAreReportedWhenTheOperatorIsBuilt() {
        OperatorSettings s = settings("x");
        ToDoubleFunction<Object> one = v -> 1.0;
        Duration second = Duration.ofSeconds(1);
        assertThatThrownBy(() -> Analytics.<String, Long>topN(0, LARGEST_FIRST, NATURAL, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("n must be at least 1, was 0");
        assertThatThrownBy(() -> Analytics.<String, Long>topN(-3, LARGEST_FIRST, NATURAL, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was -3");
        assertThatThrownBy(() -> Analytics.trending(second, second, 0, 0.1, one, NATURAL, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("n must be at least 1, was 0");
        for (double floor : new double[] {0.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> Analytics.trending(second, second, 3, floor, one, NATURAL, s))
                    .as("floor %s", floor)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("floor must be a positive number")
                    .hasMessageContaining("was " + floor);
        }
        for (Duration halfLife : new Duration[] {Duration.ZERO, Duration.ofNanos(999_999), Duration.ofMillis(-5)}) {
            assertThatThrownBy(() -> Analytics.trending(halfLife, second, 3, 0.1, one, NATURAL, s))
                    .as("half-life %s", halfLife)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("halfLife and interval of at least 1 ms")
                    .hasMessageContaining("halfLife=" + halfLife);
        }
        assertThatThrownBy(() -> Analytics.trending(second, Duration.ZERO, 3, 0.1, one, NATURAL, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interval=PT0S");
        assertThatThrownBy(() -> Analytics.<String, String>sessions(Duration.ZERO, v -> v, v -> true, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gap");
        assertThatThrownBy(() -> Analytics.<String, Long>topN(1, null, NATURAL, s))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("order");
        assertThatThrownBy(() -> Analytics.<String, Object>trending(second, second, 3, 0.1, null, NATURAL, s))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("weight");
    }

    // ================================================================== backpressure

    @Test
    void topNRespectsDownstreamDemandAndClearsItsStateOnCancel() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> state = backend.keyedState("topn", "results");
        List<StreamElement<String, WindowResult<String, Long>>> input = new ArrayList<>();
        for (int w = 0; w < 500; w++) {
            input.add(result("k" + (w % 3), 10L * w, 10L * w + 10, w));
            input.add(result("open", 100_000, 100_010, 1)); // a window that is never ranked before cancel
            input.add(Watermark.of(10L * w + 9));
        }
        backpressure(input, Analytics.<String, Long>topN(2, LARGEST_FIRST, NATURAL,
                settings("topn").withStateBackend(backend).withPrefetch(8)), () -> state.size());
    }

    @Test
    void trendingRespectsDownstreamDemandAndClearsItsStateOnCancel() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> scores = backend.keyedState("trending", "scores");
        List<StreamElement<String, Integer>> input = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            input.add(StreamRecord.of("k" + i, 1, 10L * i));
            input.add(StreamRecord.of("k" + i, 1, 10L * i));
            input.add(Watermark.of(10L * i + 9));
        }
        backpressure(input, trending(100_000, 10, 3, 1e-9, (Integer v) -> v,
                settings("trending").withStateBackend(backend).withPrefetch(8)), () -> scores.size());
    }

    @Test
    void sessionsRespectDownstreamDemand() {
        StateBackend backend = StateBackend.heap();
        KeyedState<Object, Object, Object> sessions = backend.keyedState("sessions", "sessions");
        List<StreamElement<String, String>> input = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            input.add(StreamRecord.of("u" + i, "view", 100L * i));
            input.add(StreamRecord.of("open", "view", 1_000_000));
            input.add(Watermark.of(100L * i + 50));
        }
        backpressure(input, Analytics.<String, String>sessions(Duration.ofMillis(10), v -> v, "view"::equals,
                settings("sessions").withStateBackend(backend).withPrefetch(8)), () -> sessions.size());
    }

    /**
     * With no demand the operator asks upstream for its prefetch (8) and delivers nothing; each output
     * is delivered only when requested and upstream is asked for more only as inputs are consumed; on
     * cancel the state is released.
     */
    private <I, O> void backpressure(List<I> input, Function<Flux<I>, Flux<O>> operator,
                                     java.util.function.LongSupplier stateSize) {
        AtomicLong requested = new AtomicLong();
        AtomicLong sent = new AtomicLong();
        AtomicLong delivered = new AtomicLong();
        Flux<O> flux = Flux.fromIterable(input)
                .hide() // pushed through the prefetch queue: a fused source is pulled and never asked
                .doOnRequest(n -> requested.addAndGet(n))
                .doOnNext(x -> sent.incrementAndGet())
                .transform(operator)
                .doOnNext(x -> delivered.incrementAndGet());

        StepVerifier.create(flux, 0)
                .expectSubscription()
                .then(() -> {
                    assertThat(requested.get()).as("upstream demand with no downstream demand").isEqualTo(8);
                    assertThat(delivered.get()).isZero();
                })
                .thenRequest(3)
                .expectNextCount(3)
                .then(() -> {
                    assertThat(delivered.get()).isEqualTo(3);
                    assertThat(sent.get()).as("inputs buffered or consumed").isLessThanOrEqualTo(requested.get());
                    assertThat(requested.get()).as("upstream demand after 3 outputs").isLessThanOrEqualTo(8 + 6);
                    assertThat(stateSize.getAsLong()).isPositive();
                })
                .thenRequest(100)
                .expectNextCount(100)
                .then(() -> {
                    assertThat(delivered.get()).isEqualTo(103);
                    assertThat(sent.get()).as("not the whole input (%d elements)", input.size())
                            .isLessThan(input.size() / 2);
                })
                .thenCancel()
                .verify(TIMEOUT);
        assertThat(stateSize.getAsLong()).as("state after cancel").isZero();
    }
}
