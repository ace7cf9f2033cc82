package io.streamflow.reactive;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Timestamps that are not event times, at the watermark strategy: {@code Long.MAX_VALUE} (the end-of-input watermark), {@code Long.MIN_VALUE}
 * ({@link StreamRecord#NO_TIMESTAMP}), timestamps near them, and absurd future timestamps caught by
 * {@link WatermarkStrategy#withMaxTimestampAhead}. A bad timestamp goes to the dead-letter output
 * (or fails the pipeline with the same message) and never moves the watermark; a source without
 * event time and no timestamp assigner is a configuration error.
 */
class InvalidTimestampsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final long MIN = Long.MIN_VALUE;
    private static final long MAX = Long.MAX_VALUE;
    private static final long NOW = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    private static final long YEAR_2900 = Instant.parse("2900-01-01T00:00:00Z").toEpochMilli();

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private double deadLetters(String operator) {
        Counter c = registry.find("streamflow.records.dead.letter").tag("operator", operator).tag("pipeline", "p")
                .counter();
        return c == null ? 0 : c.count();
    }

    private static StreamRecord<String, Long> rec(long ts, long position) {
        return StreamRecord.of("k", position, ts, Origin.of("src", 0, position));
    }

    private static StreamRecord<String, Long> rec(int partition, long ts, long position) {
        return StreamRecord.of("k" + partition, position, ts, Origin.of("src", partition, position));
    }

    private static Watermark<String, Long> wm(long ts) {
        return Watermark.of(ts);
    }

    private WatermarkStrategy<String, Long> bounded(long millis, ErrorPolicy policy) {
        return WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ofMillis(millis))
                .withErrorPolicy(policy)
                .withMetrics("p", "assign", registry);
    }

    /** Checks a dead letter of the assigner and returns its message. */
    private static String deadLetterOf(Object e, StreamRecord<?, ?> record, long ts, String reason) {
        assertThat(e).isInstanceOf(DeadLetter.class);
        DeadLetter<?, ?> d = (DeadLetter<?, ?>) e;
        assertThat(d.input()).isEqualTo(record);
        assertThat(d.origin()).isEqualTo(record.origin());
        assertThat(d.operator()).isEqualTo("assign");
        assertThat(d.error()).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("timestamp " + ts + " of " + record + " cannot be used in operator 'assign': " + reason);
        return d.error().getMessage();
    }

    // ------------------------------------------------------------------ not event times

    @Test
    void aRecordAtLongMaxValueGoesToTheDeadLetterOutputAndDoesNotAdvanceTheWatermark() {
        StreamRecord<String, Long> bad = rec(MAX, 2);

        StepVerifier.create(Flux.just(rec(1_000, 1), bad, rec(1_050, 3))
                        .transform(bounded(100, ErrorPolicy.deadLetter()).assign()))
                .expectNext(rec(1_000, 1), wm(899))
                .assertNext(e -> deadLetterOf(e, bad, MAX,
                        "Long.MAX_VALUE is the end-of-input watermark (Watermark.END), not an event time"))
                .expectNext(rec(1_050, 3), wm(949), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(deadLetters("assign")).isEqualTo(1.0);
    }

    @Test
    void longMinValueFromATimestampAssignerIsBadDataThatGoesToTheDeadLetterOutput() {
        WatermarkStrategy<String, Long> strategy = bounded(0, ErrorPolicy.retryThenDeadLetter(3))
                .withTimestampAssigner(r -> r.value() < 0 ? MIN : r.value());
        StreamRecord<String, Long> bad = StreamRecord.of("k", -1L, 5L, Origin.of("src", 0, 7));

        StepVerifier.create(Flux.just(StreamRecord.of("k", 10L, 0L), bad, StreamRecord.of("k", 20L, 0L))
                        .transform(strategy.assign()))
                .expectNext(StreamRecord.of("k", 10L, 10L), wm(9))
                .assertNext(e -> deadLetterOf(e, bad, MIN, "Long.MIN_VALUE is StreamRecord.NO_TIMESTAMP: no event "
                        + "time was assigned to the record (assign one with WatermarkStrategy.withTimestampAssigner(...))"))
                .expectNext(StreamRecord.of("k", 20L, 20L), wm(19), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(deadLetters("assign")).isEqualTo(1.0);
    }

    @Test
    void underTheFailPolicyABadTimestampFailsThePipelineWithTheMessageOfItsDeadLetter() {
        StreamRecord<String, Long> bad = rec(MAX, 2);
        List<StreamElement<String, Long>> dead = Flux.just(rec(1_000, 1), bad)
                .transform(bounded(100, ErrorPolicy.deadLetter()).assign())
                .filter(e -> e instanceof DeadLetter).collectList().block(TIMEOUT);
        String message = ((DeadLetter<?, ?>) dead.get(0)).error().getMessage();

        StepVerifier.create(Flux.just(rec(1_000, 1), bad, rec(1_050, 3)).transform(bounded(100, ErrorPolicy.fail())
                        .assign()))
                .expectNext(rec(1_000, 1), wm(899))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalArgumentException.class).hasMessage(message))
                .verify(TIMEOUT);
    }

    @Test
    void aTimestampNearLongMinValueDoesNotWrapTheWatermarkAroundToTheEnd() {
        StepVerifier.create(Flux.just(rec(MIN + 1, 1), rec(MIN + 50, 2), rec(MIN + 102, 3), rec(1_000, 4))
                        .transform(bounded(100, ErrorPolicy.fail()).assign()))
                .expectNext(rec(MIN + 1, 1))        // MIN + 1 - 100 - 1 is below Long.MIN_VALUE: no watermark yet
                .expectNext(rec(MIN + 50, 2))
                .expectNext(rec(MIN + 102, 3), wm(MIN + 1))
                .expectNext(rec(1_000, 4), wm(899))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void aLongMaxValueRecordDoesNotPushASessionWindowsWatermarkToTheEndSoLaterRecordsAreNotLate() {
        List<StreamElement<String, WindowResult<String, Long>>> out = Flux.just(
                        rec(1_000, 1), rec(MAX, 2), rec(1_005, 3), rec(1_100, 4), rec(1_120, 5))
                .transform(bounded(10, ErrorPolicy.deadLetter()).assign())
                .transform(WindowOperator.<String, Long>of(Windows.session(Duration.ofMillis(50)))
                        .settings(OperatorSettings.named("sessions").withPipeline("p").withMeterRegistry(registry)
                                .withErrorPolicy(ErrorPolicy.deadLetter()))
                        .aggregate(Aggregations.count()))
                .collectList().block(TIMEOUT);

        List<String> results = new ArrayList<>();
        for (StreamElement<String, WindowResult<String, Long>> e : out) {
            if (e instanceof StreamRecord<String, WindowResult<String, Long>> r) {
                results.add(r.value().start() + ".." + r.value().end() + "=" + r.value().value());
            }
        }
        assertThat(results).containsExactly("1000..1055=2", "1100..1170=2");
        assertThat(out).noneMatch(e -> e instanceof LateRecord);
        assertThat(out).filteredOn(e -> e instanceof DeadLetter).hasSize(1);
        assertThat(deadLetters("assign")).isEqualTo(1.0);
    }

    @Test
    void aLongMaxValueRecordGoesToTheDeadLetterOutputOfATumblingWindowPipelineInsteadOfCrashingIt() {
        List<StreamElement<String, WindowResult<String, Long>>> out = Flux.just(rec(1_000, 1), rec(MAX, 2),
                        rec(1_005, 3), rec(1_015, 4))
                .transform(bounded(0, ErrorPolicy.deadLetter()).assign())
                .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofMillis(10)))
                        .aggregate(Aggregations.count()))
                .collectList().block(TIMEOUT);

        assertThat(out).filteredOn(e -> e instanceof StreamRecord)
                .map(e -> (WindowResult<?, ?>) ((StreamRecord<?, ?>) e).value())
                .extracting(r -> r.key() + "@" + r.start() + ".." + r.end() + "=" + r.value())
                .containsExactly("k@1000..1010=2", "k@1010..1020=1");
        assertThat(out).filteredOn(e -> e instanceof DeadLetter).singleElement()
                .satisfies(e -> assertThat(((DeadLetter<?, ?>) e).origin()).isEqualTo(Origin.of("src", 0, 2)));
    }

    // ------------------------------------------------------------------ a source without event time

    @Test
    void windowingFileLinesWithoutATimestampAssignerIsAConfigurationErrorThatNamesWithTimestampAssigner()
            throws Exception {
        Path file = dir.resolve("lines.txt");
        Files.write(file, List.of("1000,a", "1005,b"), StandardCharsets.UTF_8);
        // even under the dead-letter policy: every record would fail the same way
        WatermarkStrategy<Void, String> noAssigner = WatermarkStrategy.<Void, String>forMonotonousTimestamps()
                .withErrorPolicy(ErrorPolicy.deadLetter());

        Flux<WindowResult<String, Long>> counts = EventStream.from(StreamSources.fileLines(file), noAssigner)
                .errorPolicy(ErrorPolicy.deadLetter())
                .keyBy(line -> line.substring(line.indexOf(',') + 1))
                .window(Windows.tumbling(Duration.ofSeconds(1)))
                .aggregate(Aggregations.<String>count())
                .values();

        assertThatThrownBy(() -> counts.blockLast(TIMEOUT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has no event timestamp in operator 'watermarks'")
                .hasMessageContaining("source 'file:lines.txt' does not carry event time")
                .hasMessageContaining("StreamRecord.NO_TIMESTAMP")
                .hasMessageEndingWith("assign one with WatermarkStrategy.withTimestampAssigner(...)");

        // with an assigner the same pipeline works
        WatermarkStrategy<Void, String> withAssigner = noAssigner
                .withTimestampAssigner(r -> Long.parseLong(r.value().substring(0, r.value().indexOf(','))));
        List<WindowResult<String, Long>> results = EventStream.from(StreamSources.fileLines(file), withAssigner)
                .keyBy(line -> line.substring(line.indexOf(',') + 1))
                .window(Windows.tumbling(Duration.ofSeconds(1)))
                .aggregate(Aggregations.<String>count())
                .values().collectList().block(TIMEOUT);
        assertThat(results).extracting(r -> r.key() + "@" + r.start() + "=" + r.value())
                .containsExactlyInAnyOrder("a@1000=1", "b@1000=1");
    }

    @Test
    void fileLinesStampNoTimestamp() throws Exception {
        Path file = dir.resolve("one.txt");
        Files.write(file, List.of("x"), StandardCharsets.UTF_8);

        StepVerifier.create(StreamSources.fileLines(file))
                .assertNext(r -> assertThat(((StreamRecord<Void, String>) r).timestamp()).isEqualTo(StreamRecord.NO_TIMESTAMP)
                        .isEqualTo(MIN))
                .expectComplete()
                .verify(TIMEOUT);
    }

    // ------------------------------------------------------------------ the guard

    private WatermarkStrategy<String, Long> guarded(VirtualTimeScheduler clock, ErrorPolicy policy) {
        return bounded(0, policy).withMaxTimestampAhead(Duration.ofHours(1)).withScheduler(clock);
    }

    private static VirtualTimeScheduler clockAt(long millis) {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        clock.advanceTimeTo(Instant.ofEpochMilli(millis));
        return clock;
    }

    private static final String AHEAD = "ms ahead of both the watermark of its partition";

    @Test
    void theGuardSendsAMicrosecondTimestampAndTheYear2900ToTheDeadLetterOutputWithoutAdvancingTheWatermark() {
        VirtualTimeScheduler clock = clockAt(NOW);
        StreamRecord<String, Long> micros = rec(NOW * 1_000, 2);
        StreamRecord<String, Long> year2900 = rec(YEAR_2900, 4);

        StepVerifier.create(Flux.just(rec(NOW, 1), micros, rec(NOW + 10, 3), year2900, rec(NOW + 20, 5))
                        .transform(guarded(clock, ErrorPolicy.deadLetter()).assign()))
                .expectNext(rec(NOW, 1), wm(NOW - 1))
                .assertNext(e -> deadLetterOf(e, micros, NOW * 1_000, "it is more than 3600000 ms ahead of both the "
                        + "watermark of its partition (" + (NOW - 1) + ") and processing time (" + NOW + "), the limit "
                        + "set by WatermarkStrategy.withMaxTimestampAhead; is it in the right unit (epoch milliseconds)?"))
                .expectNext(rec(NOW + 10, 3), wm(NOW + 9))
                .assertNext(e -> assertThat(((DeadLetter<?, ?>) e).error()).hasMessageContaining(AHEAD))
                .expectNext(rec(NOW + 20, 5), wm(NOW + 19), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(deadLetters("assign")).isEqualTo(2.0);
    }

    @Test
    void aPipelineBehindTheGuardGivesTheResultsOfItsGoodRecords() {
        VirtualTimeScheduler clock = clockAt(NOW);
        List<StreamElement<String, WindowResult<String, Long>>> out = Flux.just(rec(NOW + 1_000, 1),
                        rec(YEAR_2900, 2), rec(NOW + 1_500, 3), rec((NOW + 1_600) * 1_000, 4), rec(NOW + 2_100, 5),
                        rec(NOW + 1_900, 6))
                .transform(guarded(clock, ErrorPolicy.deadLetter()).assign())
                .transform(WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                        .allowedLateness(Duration.ofSeconds(1))
                        .aggregate(Aggregations.count()))
                .collectList().block(TIMEOUT);

        assertThat(out).filteredOn(e -> e instanceof StreamRecord)
                .map(e -> (WindowResult<?, ?>) ((StreamRecord<?, ?>) e).value())
                .extracting(r -> (r.start() - NOW) + ".." + (r.end() - NOW) + "=" + r.value() + " " + r.pane().timing())
                .containsExactly("1000..2000=2 ON_TIME", "1000..2000=3 LATE", "2000..3000=1 ON_TIME");
        assertThat(out).filteredOn(e -> e instanceof DeadLetter).hasSize(2);
        assertThat(out).noneMatch(e -> e instanceof LateRecord);
    }

    @Test
    void theGuardJudgesTheFirstRecordOfAPartitionAgainstProcessingTime() {
        VirtualTimeScheduler clock = clockAt(NOW);
        StreamRecord<String, Long> year2900 = rec(YEAR_2900, 1);

        StepVerifier.create(Flux.just(year2900, rec(NOW - 5_000, 2))
                        .transform(guarded(clock, ErrorPolicy.deadLetter()).assign()))
                .assertNext(e -> assertThat(((DeadLetter<?, ?>) e).error()).hasMessageContaining(
                        "ahead of both the watermark of its partition (none yet) and processing time (" + NOW + ")"))
                .expectNext(rec(NOW - 5_000, 2), wm(NOW - 5_001), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void theGuardAcceptsWhatEitherTheWatermarkOrTheClockFindsPlausible() {
        VirtualTimeScheduler clock = clockAt(NOW);
        long day = Duration.ofDays(1).toMillis();

        StepVerifier.create(Flux.just(
                                rec(NOW - day, 1),          // a partition catching up: far behind the clock
                                rec(NOW, 2),                // a day ahead of its watermark, but not of the clock
                                rec(NOW + 3_000_000, 3),    // 50 minutes ahead of both
                                rec(NOW + 6_000_000, 4),    // 100 minutes ahead of the clock, 50 of the watermark
                                rec(NOW + 9_000_000, 5))    // a replay running ahead of real time
                        .transform(guarded(clock, ErrorPolicy.fail()).assign()))
                .expectNext(rec(NOW - day, 1), wm(NOW - day - 1))
                .expectNext(rec(NOW, 2), wm(NOW - 1))
                .expectNext(rec(NOW + 3_000_000, 3), wm(NOW + 2_999_999))
                .expectNext(rec(NOW + 6_000_000, 4), wm(NOW + 5_999_999))
                .expectNext(rec(NOW + 9_000_000, 5), wm(NOW + 8_999_999))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void theGuardJudgesEachPartitionAgainstItsOwnWatermarkNotTheLaggingMinimum() {
        VirtualTimeScheduler clock = clockAt(0); // a simulation: event time runs ahead of the clock
        WatermarkStrategy<String, Long> strategy = WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withMaxTimestampAhead(Duration.ofSeconds(1))
                .withScheduler(clock)
                .withErrorPolicy(ErrorPolicy.deadLetter())
                .withMetrics("p", "assign", registry);
        StreamRecord<String, Long> jump = rec(1, 3_000, 7);

        StepVerifier.create(Flux.just(rec(0, 900, 1), rec(0, 1_800, 2), rec(0, 2_700, 3), rec(1, 100, 4),
                                rec(0, 3_600, 5), rec(1, 1_050, 6), jump)
                        .transform(strategy.assign()))
                .expectNext(rec(0, 900, 1), wm(899))
                .expectNext(rec(0, 1_800, 2), wm(1_799))       // each within a second of its partition's watermark
                .expectNext(rec(0, 2_700, 3), wm(2_699))
                .expectNext(rec(1, 100, 4))                     // the minimum over the partitions is now 99
                .expectNext(rec(0, 3_600, 5))                   // 3.5 s ahead of the minimum, 0.9 s of its own
                .expectNext(rec(1, 1_050, 6))
                .assertNext(e -> assertThat(((DeadLetter<?, ?>) e).input()).isEqualTo(jump))
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void aPartitionWhoseOnlyRecordWasRejectedDoesNotHoldTheWatermarkBack() {
        VirtualTimeScheduler clock = clockAt(NOW);

        StepVerifier.create(Flux.just(rec(0, NOW, 1), rec(1, YEAR_2900, 2), rec(0, NOW + 100, 3))
                        .transform(guarded(clock, ErrorPolicy.deadLetter()).assign()))
                .expectNext(rec(0, NOW, 1), wm(NOW - 1))
                .assertNext(e -> assertThat(e).isInstanceOf(DeadLetter.class))
                .expectNext(rec(0, NOW + 100, 3), wm(NOW + 99), Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void underTheFailPolicyTheGuardFailsThePipelineWithTheMessageOfItsDeadLetter() {
        Function<ErrorPolicy, Flux<StreamElement<String, Long>>> run = policy -> Flux.just(rec(NOW, 1),
                rec(YEAR_2900, 2)).transform(guarded(clockAt(NOW), policy).assign());
        String message = ((DeadLetter<?, ?>) run.apply(ErrorPolicy.deadLetter())
                .filter(e -> e instanceof DeadLetter).blockFirst(TIMEOUT)).error().getMessage();

        StepVerifier.create(run.apply(ErrorPolicy.fail()))
                .expectNext(rec(NOW, 1), wm(NOW - 1))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalArgumentException.class).hasMessage(message)
                        .hasMessageContaining(AHEAD))
                .verify(TIMEOUT);
    }

    @Test
    void aGuardThatIsNotPositiveIsAConfigurationError() {
        assertThatThrownBy(() -> WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withMaxTimestampAhead(Duration.ZERO).withIdleness(Duration.ofSeconds(-1)).assign())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("max timestamp ahead must be at least 1 ms, was PT0S")
                .hasMessageContaining("idleness timeout must be positive");
        assertThatThrownBy(() -> WatermarkStrategy.<String, Long>forMonotonousTimestamps()
                .withMaxTimestampAhead(Duration.ofMillis(-5)).assign())
                .hasMessageContaining("max timestamp ahead must be at least 1 ms");
    }
}
