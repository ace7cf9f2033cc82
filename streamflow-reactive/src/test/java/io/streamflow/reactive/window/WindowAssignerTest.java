package io.streamflow.reactive.window;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.window.WindowTestKit.In;
import io.streamflow.reactive.window.WindowTestKit.Outcome;
import io.streamflow.reactive.window.WindowTestKit.Pane;
import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Window assigners beyond the conformance vectors: calendar days and weeks across daylight-saving
 * changes, global windows, count windows, and configuration errors.
 */
class WindowAssignerTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final long HOUR = 3_600_000L;

    private static long at(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    private static long[] assign(TimeWindowAssigner a, long t) {
        long[] starts = new long[a.maxWindowsPerRecord()];
        long[] ends = new long[a.maxWindowsPerRecord()];
        assertThat(a.assign(t, starts, ends)).isEqualTo(1);
        return new long[] {starts[0], ends[0]};
    }

    // ------------------------------------------------------------------ calendar

    @Test
    void calendarDaysShouldBeTwentyThreeHoursLongWhenTheClocksGoForward() {
        // Europe/Berlin, 2025-03-30: 02:00 CET becomes 03:00 CEST
        long dayStart = at("2025-03-29T23:00:00Z"); // 2025-03-30T00:00+01:00
        long dayEnd = at("2025-03-30T22:00:00Z"); // 2025-03-31T00:00+02:00
        List<In> input = List.of(
                new In("k", at("2025-03-30T00:30:00Z"), 1, 0), // 01:30 CET, before the change
                new In("k", at("2025-03-30T01:30:00Z"), 2, 1), // 03:30 CEST, after it
                new In("k", dayEnd - 1, 4, 2), // 23:59:59.999 CEST, last millisecond of the day
                new In("k", dayEnd, 8, 3)); // midnight: the next day
        Outcome out = WindowTestKit.run(input, 0, WindowTestKit.operator(Windows.calendarDays(BERLIN), 0, null));
        assertThat(out.panes()).containsExactly(
                new Pane("k", dayStart, dayEnd, 3, 7, PaneInfo.Timing.ON_TIME, 0, true),
                new Pane("k", dayEnd, dayEnd + 24 * HOUR, 1, 8, PaneInfo.Timing.ON_TIME, 0, true));
        assertThat(dayEnd - dayStart).isEqualTo(23 * HOUR);
        assertThat(out.lateSeqs()).isEmpty();
    }

    @Test
    void calendarDaysShouldBeTwentyFiveHoursLongWhenTheClocksGoBack() {
        // Europe/Berlin, 2025-10-26: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice
        long dayStart = at("2025-10-25T22:00:00Z"); // 2025-10-26T00:00+02:00
        long dayEnd = at("2025-10-26T23:00:00Z"); // 2025-10-27T00:00+01:00
        List<In> input = List.of(
                new In("k", dayStart - 1, 100, 0), // 2025-10-25T23:59:59.999+02:00: the day before
                new In("k", dayStart, 1, 1),
                new In("k", at("2025-10-26T00:30:00Z"), 2, 2), // 02:30 CEST
                new In("k", at("2025-10-26T01:30:00Z"), 4, 3), // 02:30 CET, one hour later
                new In("k", dayEnd - 1, 8, 4));
        Outcome out = WindowTestKit.run(input, 0, WindowTestKit.operator(Windows.calendarDays(BERLIN), 0, null));
        assertThat(out.panes()).containsExactly(
                new Pane("k", dayStart - 24 * HOUR, dayStart, 1, 100, PaneInfo.Timing.ON_TIME, 0, true),
                new Pane("k", dayStart, dayEnd, 4, 15, PaneInfo.Timing.ON_TIME, 0, true));
        assertThat(dayEnd - dayStart).isEqualTo(25 * HOUR);
    }

    @Test
    void calendarDaysShouldRunFromLocalMidnightToLocalMidnightWhateverTheOrderOfTimestamps() {
        // every 7 minutes across both 2025 changes in Berlin, in random order (the assigner caches the last day)
        List<Long> times = new ArrayList<>();
        for (long t = at("2025-03-28T00:00:00Z"); t < at("2025-04-02T00:00:00Z"); t += 7 * 60_000L) {
            times.add(t);
        }
        for (long t = at("2025-10-24T00:00:00Z"); t < at("2025-10-29T00:00:00Z"); t += 7 * 60_000L) {
            times.add(t);
        }
        Collections.shuffle(times, new Random(42));
        TimeWindowAssigner days = Windows.calendarDays(BERLIN);
        for (long t : times) {
            long[] w = assign(days, t);
            ZonedDateTime start = Instant.ofEpochMilli(w[0]).atZone(BERLIN);
            ZonedDateTime end = Instant.ofEpochMilli(w[1]).atZone(BERLIN);
            assertThat(w[0]).as("start of the day of %s", Instant.ofEpochMilli(t)).isLessThanOrEqualTo(t);
            assertThat(w[1]).as("end of the day of %s", Instant.ofEpochMilli(t)).isGreaterThan(t);
            assertThat(start.toLocalTime()).isEqualTo(LocalTime.MIDNIGHT);
            assertThat(end.toLocalTime()).isEqualTo(LocalTime.MIDNIGHT);
            assertThat(end.toLocalDate()).isEqualTo(start.toLocalDate().plusDays(1));
            assertThat(start.toLocalDate()).isEqualTo(Instant.ofEpochMilli(t).atZone(BERLIN).toLocalDate());
        }
    }

    @Test
    void aCalendarDayWhoseMidnightDoesNotExistShouldStartAtItsFirstInstant() {
        // America/Sao_Paulo, 2018-11-04: the clocks jumped from 00:00 to 01:00
        ZoneId saoPaulo = ZoneId.of("America/Sao_Paulo");
        long[] w = assign(Windows.calendarDays(saoPaulo), at("2018-11-04T14:00:00Z"));
        assertThat(Instant.ofEpochMilli(w[0])).isEqualTo(Instant.parse("2018-11-04T03:00:00Z")); // 01:00-02:00
        assertThat(Instant.ofEpochMilli(w[1])).isEqualTo(Instant.parse("2018-11-05T02:00:00Z")); // 00:00-02:00
        assertThat(w[1] - w[0]).isEqualTo(23 * HOUR);
    }

    @Test
    void calendarWeeksShouldStartOnTheGivenDayAndHaveTheRealLengthAcrossDaylightSavingChanges() {
        TimeWindowAssigner mondays = Windows.calendarWeeks(BERLIN, DayOfWeek.MONDAY);
        // Sunday 2025-03-30 is in the week of Monday 2025-03-24, which loses an hour
        long[] spring = assign(mondays, at("2025-03-30T12:00:00Z"));
        assertThat(Instant.ofEpochMilli(spring[0])).isEqualTo(Instant.parse("2025-03-23T23:00:00Z"));
        assertThat(Instant.ofEpochMilli(spring[1])).isEqualTo(Instant.parse("2025-03-30T22:00:00Z"));
        assertThat(spring[1] - spring[0]).isEqualTo(7 * 24 * HOUR - HOUR);
        // Sunday 2025-10-26 is in the week of Monday 2025-10-20, which gains an hour
        long[] autumn = assign(mondays, at("2025-10-26T12:00:00Z"));
        assertThat(Instant.ofEpochMilli(autumn[0])).isEqualTo(Instant.parse("2025-10-19T22:00:00Z"));
        assertThat(Instant.ofEpochMilli(autumn[1])).isEqualTo(Instant.parse("2025-10-26T23:00:00Z"));
        assertThat(autumn[1] - autumn[0]).isEqualTo(7 * 24 * HOUR + HOUR);
        // weeks starting on Sunday: 2025-03-30 begins one
        long[] sunday = assign(Windows.calendarWeeks(BERLIN, DayOfWeek.SUNDAY), at("2025-03-30T12:00:00Z"));
        assertThat(Instant.ofEpochMilli(sunday[0])).isEqualTo(Instant.parse("2025-03-29T23:00:00Z"));
        assertThat(Instant.ofEpochMilli(sunday[1])).isEqualTo(Instant.parse("2025-04-05T22:00:00Z"));
    }

    @Test
    void calendarWeekWindowsShouldFireOncePerWeekThroughTheOperator() {
        long week1 = at("2025-10-19T22:00:00Z");
        long week2 = at("2025-10-26T23:00:00Z");
        List<In> input = List.of(
                new In("a", at("2025-10-20T08:00:00Z"), 1, 0),
                new In("b", at("2025-10-26T01:30:00Z"), 2, 1),
                new In("a", at("2025-10-26T22:59:59.999Z"), 4, 2),
                new In("a", week2, 8, 3));
        Outcome out = WindowTestKit.run(input, 0,
                WindowTestKit.operator(Windows.calendarWeeks(BERLIN, DayOfWeek.MONDAY), 0, null));
        assertThat(out.panes()).containsExactlyInAnyOrder(
                new Pane("a", week1, week2, 2, 5, PaneInfo.Timing.ON_TIME, 0, true),
                new Pane("b", week1, week2, 1, 2, PaneInfo.Timing.ON_TIME, 0, true),
                new Pane("a", week2, at("2025-11-02T23:00:00Z"), 1, 8, PaneInfo.Timing.ON_TIME, 0, true));
    }

    // ------------------------------------------------------------------ global

    @Test
    void globalWindowsShouldFireOnlyAtTheEndOfInput() {
        List<In> input = List.of(
                new In("a", 1_000, 1, 0),
                new In("b", 5_000, 2, 1),
                new In("a", 100_000, 4, 2),
                new In("a", 10, 8, 3), // far behind the watermark: a global window still takes it
                new In("b", 1_000_000, 16, 4));
        Outcome out = WindowTestKit.run(input, 0, WindowTestKit.operator(Windows.global(), 0, null));
        assertThat(out.panes()).containsExactlyInAnyOrder(
                new Pane("a", Long.MIN_VALUE, Long.MAX_VALUE, 3, 13, PaneInfo.Timing.ON_TIME, 0, true),
                new Pane("b", Long.MIN_VALUE, Long.MAX_VALUE, 2, 18, PaneInfo.Timing.ON_TIME, 0, true));
        assertThat(out.lateSeqs()).isEmpty();
        // every watermark of the input went by before the first pane; END came after the panes
        List<StreamElement<String, ?>> raw = out.raw();
        int firstPane = indexOfFirstResult(raw);
        for (int i = firstPane; i < raw.size(); i++) {
            if (raw.get(i) instanceof Watermark<?, ?> w) {
                assertThat(w.timestamp()).isEqualTo(Watermark.END);
            }
        }
        assertThat(raw.subList(0, firstPane)).filteredOn(e -> e instanceof Watermark<?, ?>)
                .extracting(e -> ((Watermark<?, ?>) e).timestamp()).contains(1_000_000L - 1);
        assertThat(raw.get(raw.size() - 1)).isEqualTo(Watermark.end());
    }

    @Test
    void globalWindowsShouldFireEarlyPanesByCountAndAFinalOneAtTheEnd() {
        List<In> input = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            input.add(new In("a", 1_000L * i, i + 1, i));
        }
        Outcome out = WindowTestKit.run(input, 0, WindowTestKit.operator(Windows.global(), 0,
                Trigger.onWatermark().withEarlyFiringsEvery(2)));
        assertThat(out.panes()).containsExactly(
                new Pane("a", Long.MIN_VALUE, Long.MAX_VALUE, 2, 3, PaneInfo.Timing.EARLY, 0, false),
                new Pane("a", Long.MIN_VALUE, Long.MAX_VALUE, 4, 10, PaneInfo.Timing.EARLY, 1, false),
                new Pane("a", Long.MIN_VALUE, Long.MAX_VALUE, 5, 15, PaneInfo.Timing.ON_TIME, 2, true));
    }

    private static int indexOfFirstResult(List<StreamElement<String, ?>> raw) {
        for (int i = 0; i < raw.size(); i++) {
            if (raw.get(i) instanceof StreamRecord<?, ?>) {
                return i;
            }
        }
        throw new AssertionError("no result in " + raw);
    }

    // ------------------------------------------------------------------ count

    @Test
    void countWindowsShouldFireEveryNRecordsOfAKeyAndThePartialRestAtTheEnd() {
        List<In> input = List.of(
                new In("a", 100, 1, 0),
                new In("b", 50, 2, 1),
                new In("a", 90, 4, 2),
                new In("a", 300, 8, 3), // third "a": fires [90, 301)
                new In("a", 10, 16, 4), // far behind the watermark: count windows have no late data
                new In("b", 60, 32, 5),
                new In("a", 400, 64, 6),
                new In("b", 70, 128, 7)); // third "b": fires [50, 71)
        Outcome out = WindowTestKit.run(input, 0, WindowTestKit.operator(Windows.count(3), 0, null));
        assertThat(out.panes()).containsExactly(
                new Pane("a", 90, 301, 3, 13, PaneInfo.Timing.ON_TIME, 0, true),
                new Pane("b", 50, 71, 3, 162, PaneInfo.Timing.ON_TIME, 0, true),
                new Pane("a", 10, 401, 2, 80, PaneInfo.Timing.ON_TIME, 0, true)); // the partial rest, at the end
        assertThat(out.lateSeqs()).isEmpty();
        // the full windows fire as their n-th record arrives, before the end of input
        List<StreamElement<String, ?>> raw = out.raw();
        int end = raw.indexOf(Watermark.end());
        assertThat(raw.subList(0, end)).filteredOn(e -> e instanceof StreamRecord<?, ?>).hasSize(3);
        assertThat(indexOfFirstResult(raw))
                .as("the first count window fires with its third record, before that record's watermark 299")
                .isLessThan(raw.indexOf(Watermark.of(299)));
    }

    @Test
    void countWindowsShouldRejectEarlyTriggersAndSizesBelowOne() {
        assertThatThrownBy(() -> Windows.count(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("size must be >= 1, was 0");
        WindowOperator<String, Integer> op = WindowOperator.<String, Integer>of(Windows.count(3))
                .trigger(Trigger.onWatermark().withEarlyFiringsEvery(2));
        assertThatThrownBy(() -> op.aggregate(Aggregations.count())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("count windows").hasMessageContaining("early");
    }

    // ------------------------------------------------------------------ configuration errors

    @Test
    void aNegativeSizeShouldBeRejectedSayingWhatIsExpected() {
        assertThatThrownBy(() -> Windows.tumbling(Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tumbling window").hasMessageContaining("size must be at least 1 ms");
        assertThatThrownBy(() -> Windows.sliding(Duration.ofMillis(-5), Duration.ofMillis(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sliding window").hasMessageContaining("size must be at least 1 ms");
        assertThatThrownBy(() -> Windows.session(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gap must be at least 1 ms");
    }

    @Test
    void aSlideLargerThanTheSizeShouldBeRejected() {
        assertThatThrownBy(() -> Windows.sliding(Duration.ofMillis(100), Duration.ofMillis(200)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slide (200 ms) must not be larger than size (100 ms)");
        // equal is fine: that is a tumbling window
        assertThat(Windows.sliding(Duration.ofMillis(100), Duration.ofMillis(100))).isNotNull();
    }

    @Test
    void everyConfigurationErrorShouldBeReportedInOneMessage() {
        // negative size and negative slide and a negative offset
        assertThatThrownBy(() -> Windows.sliding(Duration.ofMillis(-100), Duration.ofMillis(-5),
                Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("size must be at least 1 ms")
                .hasMessageContaining("slide must be at least 1 ms")
                .hasMessageContaining("offset must be in");
        // slide larger than size and an offset outside [0, slide)
        assertThatThrownBy(() -> Windows.sliding(Duration.ofMillis(100), Duration.ofMillis(200),
                Duration.ofMillis(250)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slide (200 ms) must not be larger than size (100 ms)")
                .hasMessageContaining("offset must be in [0, 200) ms, was 250 ms");
        // tumbling: negative size and missing offset
        assertThatThrownBy(() -> Windows.tumbling(Duration.ofMillis(-1), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("size must be at least 1 ms")
                .hasMessageContaining("offset is missing");
    }

    @Test
    void negativeLatenessAndEarlyCountsBelowOneShouldBeRejected() {
        WindowOperator<String, Integer> op = WindowOperator.of(Windows.tumbling(Duration.ofSeconds(1)));
        assertThatThrownBy(() -> op.allowedLateness(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not be negative");
        assertThatThrownBy(() -> Trigger.onWatermark().withEarlyFiringsEvery(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(">= 1");
        assertThatThrownBy(() -> Trigger.onWatermark().withEarlyFiringsEvery(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1 ms");
    }

    // ------------------------------------------------------------------ offsets and negative time

    @Test
    void tumblingAndSlidingWindowsShouldFollowTheFloorModRuleAlsoBeforeTheEpoch() {
        TimeWindowAssigner tumbling = Windows.tumbling(Duration.ofMillis(100), Duration.ofMillis(30));
        assertThat(assign(tumbling, 30)).containsExactly(30, 130);
        assertThat(assign(tumbling, 29)).containsExactly(-70, 30);
        assertThat(assign(tumbling, -71)).containsExactly(-170, -70);
        TimeWindowAssigner sliding = Windows.sliding(Duration.ofMillis(100), Duration.ofMillis(40));
        long[] starts = new long[3];
        long[] ends = new long[3];
        int n = sliding.assign(-1, starts, ends);
        // starts ≡ 0 (mod 40) in (-101, -1]: -40, -80 (size not a multiple of slide: 2 or 3 windows)
        assertThat(n).isEqualTo(2);
        assertThat(starts).startsWith(-40, -80);
        assertThat(ends).startsWith(60, 20);
        assertThat(sliding.assign(0, starts, ends)).isEqualTo(3); // 0, -40, -80
    }
}
