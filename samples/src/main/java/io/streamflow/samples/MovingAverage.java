package io.streamflow.samples;

import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * A moving average: the mean response time per host over the last 5 minutes, updated every minute
 * (5-minute windows sliding by 1 minute, so each reading counts in 5 windows).
 * <p>
 * Windows start on whole minutes: a reading at 12:02:30 is in {@code [11:58, 12:03)} ...
 * {@code [12:02, 12:07)}. Each window emits once, when the watermark passes its end.
 * <p>
 * Arguments (optional): number of readings (default 600: 3 hosts with one reading each every 10 s,
 * so 200 readings per host over 33 minutes 10 seconds of event time).
 */
public final class MovingAverage {

    public static final Duration SIZE = Duration.ofMinutes(5);
    public static final Duration SLIDE = Duration.ofMinutes(1);
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofSeconds(10);
    /** 2023-11-14T22:15:00Z. */
    public static final long START_MILLIS = 1_700_000_100_000L;

    private static final String[] HOSTS = {"web-1", "web-2", "db-1"};

    private MovingAverage() {
    }

    public static void main(String[] args) {
        long count = args.length > 0 ? Long.parseLong(args[0]) : 600;
        pipeline(source(count))
                .sink(StreamSinks.stdout(r -> format(r.value())))
                .block();
    }

    /**
     * Reading {@code n} is for host {@code n % 3} at {@code START_MILLIS + (n / 3) * 10 s}: a response
     * time in milliseconds that climbs by 1 per reading and wraps at 100, plus a per-host base.
     */
    public static Flux<StreamRecord<String, Double>> source(long count) {
        return StreamSources.generator(count, 0, n -> {
            int host = (int) (n % HOSTS.length);
            long step = n / HOSTS.length;
            double millis = 10.0 * host + (step % 100);
            return StreamRecord.of(HOSTS[host], millis, START_MILLIS + step * 10_000,
                    Origin.of("response-times", 0, n));
        }, Schedulers.parallel());
    }

    /** Event time and watermarks, then the sliding average of each host's value. */
    public static EventStream<String, WindowResult<String, Double>> pipeline(
            Publisher<StreamRecord<String, Double>> readings) {
        return EventStream.from(readings,
                        WatermarkStrategy.<String, Double>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS))
                .window(Windows.sliding(SIZE, SLIDE))
                .aggregate(Aggregations.average(Double::doubleValue));
    }

    /** {@code web-1  [2023-11-14T22:11:00Z, 2023-11-14T22:16:00Z) avg=12.50 ms}. */
    public static String format(WindowResult<String, Double> r) {
        return String.format(Locale.ROOT, "%-6s [%s, %s) avg=%.2f ms", r.key(), Instant.ofEpochMilli(r.start()),
                Instant.ofEpochMilli(r.end()), r.value());
    }
}
