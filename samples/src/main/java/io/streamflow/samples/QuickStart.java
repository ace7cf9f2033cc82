package io.streamflow.samples;

import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;

/**
 * The README quick start: 20,000 synthetic readings (10 keys, 1,000 events per event-time second,
 * up to 100 ms out of order) from the built-in generator, counted per key in 5-second tumbling
 * event-time windows, printed as they fire.
 * <p>
 * Arguments (optional): number of events, number of keys.
 */
public final class QuickStart {

    private QuickStart() {
    }

    public static void main(String[] args) {
        long events = args.length > 0 ? Long.parseLong(args[0]) : 20_000;
        int keys = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        EventStream.from(
                        StreamSources.syntheticReadings(events, 0, keys, 1_000, 100, 42L, 1_700_000_000_000L,
                                Schedulers.parallel()),
                        WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ofMillis(100)))
                .window(Windows.tumbling(Duration.ofSeconds(5)))
                .aggregate(Aggregations.count())
                .sink(StreamSinks.stdout(r -> String.format("%-8s [%d, %d) count=%d %s", r.key(),
                        r.value().start(), r.value().end(), r.value().value(), r.value().pane())))
                .block();
    }
}
