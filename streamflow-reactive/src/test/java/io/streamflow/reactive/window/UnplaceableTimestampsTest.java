package io.streamflow.reactive.window;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.RestoreHarness;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.window.WindowReferenceModel.Expected;
import io.streamflow.reactive.window.WindowReferenceModel.Kind;
import io.streamflow.reactive.window.WindowReferenceModel.Spec;
import io.streamflow.reactive.window.WindowTestKit.In;
import io.streamflow.reactive.window.WindowTestKit.Pane;
import io.streamflow.reactive.window.WindowTestKit.Val;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Timestamps a window operator cannot place: {@code Long.MIN_VALUE} ({@code StreamRecord.NO_TIMESTAMP}),
 * {@code Long.MAX_VALUE} (the end-of-input watermark), and timestamps whose window would start before
 * {@code Long.MIN_VALUE} or end after {@code Long.MAX_VALUE}. Under the dead-letter policy each goes to
 * the dead-letter output with its origin and the reason, is counted, and the operator goes on with
 * correct results; under the fail policy the pipeline fails with the same message. The inputs carry
 * their watermarks (as after a watermark strategy whose guard kept the bad timestamps out of the
 * watermark), so the operator's own checks are what is tested.
 */
class UnplaceableTimestampsTest {

    private static final long MIN = Long.MIN_VALUE;
    private static final long MAX = Long.MAX_VALUE;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** What came out of one run. */
    record Result(List<Pane> panes, List<Integer> lateSeqs, List<DeadLetter<?, ?>> deadLetters, double deadLetterCount) {

        List<Integer> deadSeqs() {
            return deadLetters.stream().map(d -> ((Val) ((StreamRecord<?, ?>) d.input()).value()).seq()).toList();
        }

        /** Every pane as a single result: each window here fires once. */
        List<Pane> results() {
            List<Pane> l = new ArrayList<>();
            for (Pane p : panes) {
                assertThat(p.timing()).as("pane of %s", p).isEqualTo(PaneInfo.Timing.ON_TIME);
                l.add(p.withoutPaneInfo());
            }
            l.sort(WindowTestKit.PANE_ORDER);
            return l;
        }
    }

    private static In in(String key, long ts, long value, int seq) {
        return new In(key, ts, value, seq);
    }

    private static StreamRecord<String, Val> record(In in) {
        return StreamRecord.of(in.key(), new Val(in.value(), in.seq()), in.ts(), Origin.of("src", 0, 100 + in.seq()));
    }

    /**
     * The records in order, each followed by the watermark {@code max ts - B - 1} when it advances; the
     * records in {@code unplaceable} (by seq) do not advance it.
     */
    private static List<StreamElement<String, Val>> withWatermarks(List<In> input, Set<Integer> unplaceable, long bound) {
        List<StreamElement<String, Val>> elements = new ArrayList<>();
        long max = MIN;
        long emitted = MIN;
        for (In in : input) {
            elements.add(record(in));
            if (unplaceable.contains(in.seq())) {
                continue;
            }
            max = Math.max(max, in.ts());
            long w = max - bound - 1;
            if (max > MIN + bound + 1 && w > emitted) {
                emitted = w;
                elements.add(Watermark.of(w));
            }
        }
        elements.add(Watermark.end());
        return elements;
    }

    private static Flux<StreamElement<String, WindowResult<String, Aggregations.CountAndSum>>> pipeline(
            List<StreamElement<String, Val>> elements, WindowOperator<String, Val> op, ErrorPolicy policy,
            SimpleMeterRegistry registry) {
        return Flux.fromIterable(elements).transform(op.settings(OperatorSettings.named("window")
                        .withPipeline("p").withMeterRegistry(registry).withErrorPolicy(policy))
                .aggregate(Aggregations.countAndSum(Val::value)));
    }

    private static Result run(List<StreamElement<String, Val>> elements, WindowOperator<String, Val> op) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<StreamElement<String, WindowResult<String, Aggregations.CountAndSum>>> out =
                pipeline(elements, op, ErrorPolicy.deadLetter(), registry).collectList().block(TIMEOUT);
        List<Pane> panes = new ArrayList<>();
        List<Integer> late = new ArrayList<>();
        List<DeadLetter<?, ?>> dead = new ArrayList<>();
        for (StreamElement<String, WindowResult<String, Aggregations.CountAndSum>> e : out) {
            if (e instanceof StreamRecord<String, WindowResult<String, Aggregations.CountAndSum>> r) {
                WindowResult<String, Aggregations.CountAndSum> w = r.value();
                assertThat(r.timestamp()).as("result timestamp of %s", r).isEqualTo(w.end() - 1);
                panes.add(new Pane(w.key(), w.start(), w.end(), w.value().count(), w.value().sum(),
                        w.pane().timing(), w.pane().index(), w.pane().isFinal()));
            } else if (e instanceof LateRecord<?, ?> l) {
                late.add(((Val) l.record().value()).seq());
            } else if (e instanceof DeadLetter<?, ?> d) {
                dead.add(d);
            }
        }
        Counter c = registry.find("streamflow.records.dead.letter").tag("operator", "window").tag("pipeline", "p")
                .counter();
        panes.sort(WindowTestKit.PANE_ORDER);
        return new Result(panes, late, dead, c == null ? 0 : c.count());
    }

    /** Under the fail policy the pipeline fails with the message of the first dead letter of the same input. */
    private static void failsLikeItsFirstDeadLetter(List<StreamElement<String, Val>> elements,
                                                    WindowOperator<String, Val> op, Result deadLettered) {
        String message = deadLettered.deadLetters().get(0).error().getMessage();
        StepVerifier.create(pipeline(elements, op, ErrorPolicy.fail(), new SimpleMeterRegistry()))
                .thenConsumeWhile(e -> !(e instanceof DeadLetter))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage(message))
                .verify(TIMEOUT);
    }

    /** A window's result without its pane info (which the random comparison with the model checks). */
    private static Pane pane(String key, long start, long end, long count, long sum) {
        return new Pane(key, start, end, count, sum, null, -1, false);
    }

    /** Every dead letter carries its record, the record's origin, the operator and a reason. */
    private static void assertDeadLetters(Result r, List<Integer> seqs, List<String> reasons) {
        assertThat(r.deadSeqs()).isEqualTo(seqs);
        assertThat(r.deadLetterCount()).isEqualTo(seqs.size());
        for (int i = 0; i < seqs.size(); i++) {
            DeadLetter<?, ?> d = r.deadLetters().get(i);
            StreamRecord<?, ?> rec = (StreamRecord<?, ?>) d.input();
            assertThat(d.origin()).isEqualTo(Origin.of("src", 0, 100 + seqs.get(i)));
            assertThat(d.operator()).isEqualTo("window");
            assertThat(d.error()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("timestamp " + rec.timestamp() + " of " + rec
                            + " cannot be used in operator 'window': ")
                    .hasMessageContaining(reasons.get(i));
        }
    }

    private static final String NO_TIMESTAMP = "Long.MIN_VALUE is StreamRecord.NO_TIMESTAMP";
    private static final String END = "Long.MAX_VALUE is the end-of-input watermark";
    private static final String NO_FIT = "would not fit in the range of a long";

    // ------------------------------------------------------------------ tumbling

    /** Tumbling 10 ms: the first window that starts at or after Long.MIN_VALUE starts at MIN + 8 (MIN ≡ 2 mod 10). */
    private static final long TUMBLING_FIRST = -9_223_372_036_854_775_800L;
    /** The last window that ends by Long.MAX_VALUE (…807) is [ …790, …800). */
    private static final long TUMBLING_LAST = 9_223_372_036_854_775_799L;

    private static List<In> extremesOfTenMsWindows() {
        return List.of(
                in("b", TUMBLING_FIRST, 3, 0), // first: a later watermark would make it late
                in("b", MIN, 100, 1),
                in("b", TUMBLING_FIRST - 1, 100, 2),
                in("a", 1_000, 1, 3),
                in("a", MAX, 100, 4),
                in("a", 1_005, 2, 5),
                in("a", 1_012, 4, 6),
                in("c", TUMBLING_LAST + 1, 100, 7),
                in("c", MAX - 1, 100, 8),
                in("c", TUMBLING_LAST, 5, 9));
    }

    @Test
    void tumblingWindowsDeadLetterTimestampsWhoseWindowWouldNotFitAndFireTheOthersCorrectly() {
        for (long lateness : new long[] {0, 5}) { // 0: sliced windows; 5: a state per window
            List<In> input = extremesOfTenMsWindows();
            List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(1, 2, 4, 7, 8), 0);
            WindowOperator<String, Val> op = WindowTestKit.operator(Windows.tumbling(Duration.ofMillis(10)),
                    lateness, null);

            Result r = run(elements, op);

            assertThat(r.results()).as("lateness %d", lateness).containsExactlyElementsOf(results(
                    pane("a", 1_000, 1_010, 2, 3), pane("a", 1_010, 1_020, 1, 4),
                    pane("b", TUMBLING_FIRST, TUMBLING_FIRST + 10, 1, 3),
                    pane("c", TUMBLING_LAST - 9, MAX - 7, 1, 5)));
            assertThat(r.lateSeqs()).isEmpty();
            assertDeadLetters(r, List.of(1, 2, 4, 7, 8), List.of(NO_TIMESTAMP, NO_FIT, END, NO_FIT, NO_FIT));
            assertThat(r.deadLetters().get(1).error()).hasMessageEndingWith(
                    "TumblingWindows{size=10ms} places timestamps in [" + TUMBLING_FIRST + ", " + TUMBLING_LAST + "]");
            failsLikeItsFirstDeadLetter(elements, op, r);
        }
    }

    @Test
    void aTumblingOffsetDoesNotOverflowNearLongMinValue() {
        // size 10, offset 5: windows start at ≡ 5 (mod 10); the first at or after MIN is MIN + 3
        long first = MIN + 3;
        List<In> input = List.of(in("a", first - 1, 100, 0), in("a", first, 1, 1), in("a", first + 9, 2, 2),
                in("a", first + 10, 4, 3));
        List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(0), 0);
        for (long lateness : new long[] {0, 5}) {
            WindowOperator<String, Val> op = WindowTestKit.operator(
                    Windows.tumbling(Duration.ofMillis(10), Duration.ofMillis(5)), lateness, null);

            Result r = run(elements, op);

            assertThat(r.results()).as("lateness %d", lateness).containsExactlyElementsOf(results(
                    pane("a", first, first + 10, 2, 3), pane("a", first + 10, first + 20, 1, 4)));
            assertDeadLetters(r, List.of(0), List.of(NO_FIT));
        }
    }

    // ------------------------------------------------------------------ sliding

    @Test
    void slidingWindowsDeadLetterARecordUnlessEveryOneOfItsWindowsFits() {
        // size 10, slide 5: starts ≡ 0 (mod 5); the first at or after MIN is MIN + 3, so a record needs
        // t >= MIN + 8 (else it is also in the window starting at MIN - 2); the last window that ends by
        // MAX starts at …795, so a record needs t <= …799 (else it is also in the window starting at …800)
        long first = MIN + 8;
        long last = MAX - 8;
        List<In> input = List.of(
                in("b", first, 2, 0),
                in("a", first - 1, 100, 1),
                in("a", MIN + 1, 100, 2),
                in("a", 1_000, 1, 3),
                in("a", MAX, 100, 4),
                in("a", 1_007, 3, 5),
                in("c", last + 1, 100, 6),
                in("c", last, 4, 7));
        List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(1, 2, 4, 6), 0);
        for (long lateness : new long[] {0, 5}) {
            WindowOperator<String, Val> op = WindowTestKit.operator(
                    Windows.sliding(Duration.ofMillis(10), Duration.ofMillis(5)), lateness, null);

            Result r = run(elements, op);

            assertThat(r.results()).as("lateness %d", lateness).containsExactlyElementsOf(results(
                    pane("a", 995, 1_005, 1, 1), pane("a", 1_000, 1_010, 2, 4), pane("a", 1_005, 1_015, 1, 3),
                    pane("b", MIN + 3, MIN + 13, 1, 2), pane("b", MIN + 8, MIN + 18, 1, 2),
                    pane("c", MAX - 17, MAX - 7, 1, 4), pane("c", MAX - 12, MAX - 2, 1, 4)));
            assertThat(r.lateSeqs()).isEmpty();
            assertDeadLetters(r, List.of(1, 2, 4, 6), List.of(NO_FIT, NO_FIT, END, NO_FIT));
            assertThat(r.deadLetters().get(0).error()).hasMessageContaining("its windows would not fit");
            failsLikeItsFirstDeadLetter(elements, op, r);
        }
    }

    // ------------------------------------------------------------------ session

    @Test
    void aSessionWindowDeadLettersARecordWhoseSessionWouldEndAfterLongMaxValue() {
        List<In> input = List.of(
                in("b", MIN + 1, 3, 0),
                in("b", MIN, 100, 1),
                in("a", 1_000, 1, 2),
                in("a", MAX, 100, 3),
                in("a", 1_008, 2, 4),
                in("c", MAX - 9, 100, 5),
                in("a", 1_030, 4, 6),
                in("c", MAX - 10, 5, 7));
        List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(1, 3, 5), 0);
        for (long lateness : new long[] {0, 5}) {
            WindowOperator<String, Val> op = WindowTestKit.operator(Windows.session(Duration.ofMillis(10)),
                    lateness, null);

            Result r = run(elements, op);

            assertThat(r.results()).as("lateness %d", lateness).containsExactlyElementsOf(results(
                    pane("a", 1_000, 1_018, 2, 3), pane("a", 1_030, 1_040, 1, 4),
                    pane("b", MIN + 1, MIN + 11, 1, 3), pane("c", MAX - 10, MAX, 1, 5)));
            assertThat(r.lateSeqs()).isEmpty();
            assertDeadLetters(r, List.of(1, 3, 5), List.of(NO_TIMESTAMP, END, NO_FIT));
            assertThat(r.deadLetters().get(2).error()).hasMessageEndingWith(
                    "SessionWindows{gap=10ms} places timestamps in [" + (MIN + 1) + ", " + (MAX - 10) + "]");
            failsLikeItsFirstDeadLetter(elements, op, r);
        }
    }

    // ------------------------------------------------------------------ calendar, count, global

    @Test
    void calendarDaysDeadLetterTheDaysThatDoNotFitInEpochMilliseconds() {
        // Long.MIN_VALUE ms is -292275055-05-16T16:47:04.192Z: that day starts before it, the next one fits;
        // Long.MAX_VALUE ms is +292278994-08-17T07:12:55.807Z: that day ends after it
        long firstDay = LocalDate.of(-292_275_055, 5, 17).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        long lastDay = LocalDate.of(292_278_994, 8, 17).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        long day = Duration.ofDays(1).toMillis();
        long jan1 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
        List<In> input = List.of(
                in("b", firstDay, 2, 0),
                in("b", firstDay - 1, 100, 1),
                in("d", MIN, 100, 2),
                in("a", jan1 + 5, 1, 3),
                in("a", MAX, 100, 4),
                in("a", jan1 + day - 1, 3, 5),
                in("c", lastDay, 100, 6),
                in("c", lastDay - 1, 4, 7));
        List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(1, 2, 4, 6), 0);
        for (long lateness : new long[] {0, 5}) {
            WindowOperator<String, Val> op = WindowTestKit.operator(Windows.calendarDays(ZoneOffset.UTC), lateness,
                    null);

            Result r = run(elements, op);

            assertThat(r.results()).as("lateness %d", lateness).containsExactlyElementsOf(results(
                    pane("a", jan1, jan1 + day, 2, 4), pane("b", firstDay, firstDay + day, 1, 2),
                    pane("c", lastDay - day, lastDay, 1, 4)));
            assertThat(r.lateSeqs()).isEmpty();
            assertDeadLetters(r, List.of(1, 2, 4, 6), List.of(NO_FIT, NO_TIMESTAMP, END, NO_FIT));
            failsLikeItsFirstDeadLetter(elements, op, r);
        }
    }

    @Test
    void countWindowsDeadLetterOnlyTimestampsThatAreNotEventTimes() {
        List<In> input = List.of(
                in("a", 10, 1, 0),
                in("a", MAX, 100, 1),
                in("a", MAX - 1, 2, 2),
                in("b", MIN, 100, 3),
                in("b", MIN + 1, 3, 4),
                in("b", 20, 4, 5),
                in("a", 30, 5, 6));
        List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(1, 3), 0);
        WindowOperator<String, Val> op = WindowOperator.of(Windows.count(2));

        Result r = run(elements, op);

        assertThat(r.results()).containsExactlyElementsOf(results(
                pane("a", 10, MAX, 2, 3), pane("b", MIN + 1, 21, 2, 7), pane("a", 30, 31, 1, 5)));
        assertDeadLetters(r, List.of(1, 3), List.of(END, NO_TIMESTAMP));
        failsLikeItsFirstDeadLetter(elements, op, r);
    }

    @Test
    void theGlobalWindowHoldsEveryEventTimeButNotTheTwoEnds() {
        List<In> input = List.of(in("a", MIN + 1, 1, 0), in("a", MAX, 100, 1), in("a", MAX - 1, 2, 2),
                in("a", MIN, 100, 3));
        List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(1, 3), 0);
        WindowOperator<String, Val> op = WindowOperator.of(Windows.global());

        Result r = run(elements, op);

        assertThat(r.results()).containsExactly(pane("a", MIN, MAX, 2, 3));
        assertDeadLetters(r, List.of(1, 3), List.of(END, NO_TIMESTAMP));
        failsLikeItsFirstDeadLetter(elements, op, r);
    }

    // ------------------------------------------------------------------ far jumps of the watermark

    @Test
    void aWatermarkThatJumpsCenturiesAheadFiresOnlyTheWindowsThatHoldRecords() {
        long year2900 = Instant.parse("2900-01-01T00:00:00Z").toEpochMilli();
        long now = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
        List<In> input = List.of(in("a", now, 1, 0), in("a", now + 1, 2, 1), in("a", year2900, 4, 2));
        List<StreamElement<String, Val>> elements = withWatermarks(input, Set.of(), 0);
        long minute = 60_000;
        long hour = 3_600_000;
        Result tumbling = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run(elements,
                WindowOperator.of(Windows.tumbling(Duration.ofMinutes(1)))));
        assertThat(tumbling.results()).containsExactlyElementsOf(results(pane("a", now, now + minute, 2, 3),
                pane("a", year2900, year2900 + minute, 1, 4)));
        Result sliding = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run(elements,
                WindowOperator.of(Windows.sliding(Duration.ofHours(1), Duration.ofMinutes(30)))));
        assertThat(sliding.results()).containsExactlyElementsOf(results(
                pane("a", now - hour / 2, now + hour / 2, 2, 3), pane("a", now, now + hour, 2, 3),
                pane("a", year2900 - hour / 2, year2900 + hour / 2, 1, 4), pane("a", year2900, year2900 + hour, 1, 4)));
    }

    // ------------------------------------------------------------------ random inputs against the model

    @Test
    void randomInputsWithUnplaceableTimestampsAgreeWithTheReferenceModelOnTheirPlaceableRecords() {
        long base = RestoreHarness.baseSeed("UnplaceableTimestampsTest");
        int cases = RestoreHarness.cases(300);
        for (int c = 0; c < cases; c++) {
            long seed = base + c;
            SplittableRandom rnd = new SplittableRandom(seed);
            Kind kind = Kind.values()[rnd.nextInt(3)];
            long size = 5 + rnd.nextInt(30);
            long slide = kind == Kind.SLIDING ? 1 + rnd.nextInt((int) size) : size;
            long offset = kind == Kind.SESSION ? 0 : rnd.nextInt((int) slide);
            long bound = rnd.nextInt(20);
            long lateness = rnd.nextBoolean() ? 0 : rnd.nextInt(30);
            Spec spec = new Spec(kind, size, slide, offset, size, bound, lateness, 0, true, false, true);
            WindowAssigner assigner = spec.assigner();
            long first = assigner.firstPlaceable();
            long last = assigner.lastPlaceable();
            List<Long> extremes = new ArrayList<>();
            for (long t : new long[] {MIN, MAX, MIN + 1, MAX - 1, first - 1, last + 1,
                    first - 1 - rnd.nextInt((int) Math.min(1_000, first - MIN)),
                    last + 1 + rnd.nextInt((int) Math.min(1_000, MAX - last))}) {
                if (t < first || t > last) {
                    extremes.add(t);
                }
            }

            List<In> all = new ArrayList<>();
            List<In> placeable = new ArrayList<>();
            Set<Integer> unplaceable = new LinkedHashSet<>();
            int n = 20 + rnd.nextInt(80);
            for (int seq = 0; seq < n; seq++) {
                In in;
                if (rnd.nextInt(8) == 0) {
                    in = in("k" + rnd.nextInt(3), extremes.get(rnd.nextInt(extremes.size())), 1_000, seq);
                    unplaceable.add(seq);
                } else {
                    in = in("k" + rnd.nextInt(3), 1_000 + seq * 3L - rnd.nextInt(40), 1 + rnd.nextInt(9), seq);
                    placeable.add(in);
                }
                all.add(in);
            }
            Expected expected = WindowReferenceModel.expected(spec, placeable);
            WindowOperator<String, Val> op = WindowTestKit.operator(assigner, lateness, spec.trigger());

            Result r = run(withWatermarks(all, unplaceable, bound), op);

            List<Pane> expectedPanes = new ArrayList<>(expected.panes());
            expectedPanes.sort(WindowTestKit.PANE_ORDER);
            assertThat(r.panes()).as("seed %d, %s", seed, spec).containsExactlyElementsOf(expectedPanes);
            assertThat(r.lateSeqs()).as("seed %d, %s", seed, spec)
                    .containsExactlyInAnyOrderElementsOf(expected.lateSeqs());
            assertThat(r.deadSeqs()).as("seed %d, %s", seed, spec).isEqualTo(List.copyOf(unplaceable));
            assertThat(r.deadLetterCount()).as("seed %d", seed).isEqualTo(unplaceable.size());
        }
    }

    private static List<Pane> results(Pane... panes) {
        List<Pane> l = new ArrayList<>(List.of(panes));
        l.sort(WindowTestKit.PANE_ORDER);
        return l;
    }
}
