package io.streamflow.samples;

import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class MovingAverageTest {

    /** 2023-11-14T22:15:00Z, a multiple of 5 minutes. */
    private static final long T0 = MovingAverage.START_MILLIS;
    private static final long MINUTE = 60_000;
    private static final PaneInfo ON_TIME = new PaneInfo(PaneInfo.Timing.ON_TIME, 0, true);

    /** The window {@code [T0 + startMinute, T0 + startMinute + 5 min)}. */
    private static WindowResult<String, Double> avg(String host, long startMinute, double value) {
        return new WindowResult<>(host, T0 + startMinute * MINUTE, T0 + (startMinute + 5) * MINUTE, value, ON_TIME);
    }

    private static List<WindowResult<String, Double>> run(Flux<StreamRecord<String, Double>> readings) {
        List<WindowResult<String, Double>> out = new ArrayList<>(
                MovingAverage.pipeline(readings).values().collectList().block());
        assertThat(out).extracting(WindowResult::end).isSorted();
        out.sort(Comparator.<WindowResult<String, Double>>comparingLong(WindowResult::end)
                .thenComparing(WindowResult::key));
        return out;
    }

    @Test
    void averages_each_host_over_the_last_five_minutes_every_minute() {
        List<WindowResult<String, Double>> out = run(Flux.just(
                StreamRecord.of("a", 10.0, T0 + 30_000),
                StreamRecord.of("b", 4.0, T0 + 45_000),
                StreamRecord.of("a", 20.0, T0 + MINUTE + 30_000)));

        // a reading at 0:30 is in the windows starting at -4, -3, -2, -1 and 0 minutes; 1:30 in -3 .. 1
        assertThat(out).containsExactly(
                avg("a", -4, 10.0),
                avg("b", -4, 4.0),
                avg("a", -3, 15.0),
                avg("b", -3, 4.0),
                avg("a", -2, 15.0),
                avg("b", -2, 4.0),
                avg("a", -1, 15.0),
                avg("b", -1, 4.0),
                avg("a", 0, 15.0),
                avg("b", 0, 4.0),
                avg("a", 1, 20.0));
    }

    @Test
    void a_reading_on_a_minute_boundary_starts_a_window_and_leaves_the_oldest_one() {
        List<WindowResult<String, Double>> out = run(Flux.just(
                StreamRecord.of("a", 3.0, T0),
                StreamRecord.of("a", 5.0, T0 + MINUTE)));

        assertThat(out).containsExactly(
                avg("a", -4, 3.0),
                avg("a", -3, 4.0),
                avg("a", -2, 4.0),
                avg("a", -1, 4.0),
                avg("a", 0, 4.0),
                avg("a", 1, 5.0));
    }

    @Test
    void prints_host_window_and_average() {
        assertThat(MovingAverage.format(avg("web-1", -4, 12.5)))
                .isEqualTo("web-1  [2023-11-14T22:11:00Z, 2023-11-14T22:16:00Z) avg=12.50 ms");
    }
}
