package io.streamflow.samples;

import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.Locale;

/**
 * The smallest pipeline: a generator paced at 1,000 events per second, keep the values above 50,
 * double them, print them. Stateless, so it needs no watermarks ({@link EventStream#fromRecords}).
 * <p>
 * Event {@code n} has the value {@code (n * 37) % 100}: every block of 100 events holds each value
 * 0..99 once, scattered, so 49 of every 100 events pass the filter.
 * <p>
 * Arguments (optional): number of events (default 5,000, which takes 5 seconds).
 */
public final class SimplePipeline {

    /** Events per second of processing time. */
    public static final double RATE_PER_SECOND = 1_000;
    /** Event time of event 0 (2023-11-14T22:13:20Z); event {@code n} is {@code n} ms later. */
    public static final long START_MILLIS = 1_700_000_000_000L;

    private SimplePipeline() {
    }

    public static void main(String[] args) {
        long count = args.length > 0 ? Long.parseLong(args[0]) : 5_000;
        pipeline(source(count, Schedulers.parallel()))
                .sink(StreamSinks.stdout(SimplePipeline::format))
                .block();
    }

    /**
     * The rate-limited generator: {@code count} readings, one every millisecond of processing time on
     * {@code scheduler} (pass {@code Schedulers.parallel()} inside {@code StepVerifier.withVirtualTime}
     * to run it in virtual time).
     */
    public static Flux<StreamRecord<String, Long>> source(long count, Scheduler scheduler) {
        return StreamSources.generator(count, RATE_PER_SECOND,
                n -> StreamRecord.of("reading", value(n), START_MILLIS + n, Origin.of("generator", 0, n)),
                scheduler);
    }

    /** The value of generated event {@code n}. */
    public static long value(long n) {
        return (n * 37) % 100;
    }

    /** filter(value > 50) then map(value * 2), on any source of readings. */
    public static EventStream<String, Long> pipeline(Publisher<StreamRecord<String, Long>> source) {
        return EventStream.fromRecords(source)
                .filter(v -> v > 50)
                .map(v -> v * 2);
    }

    /** One output line: the generator position, the event time and the doubled value. */
    public static String format(StreamRecord<String, Long> r) {
        return String.format(Locale.ROOT, "#%-5d ts=%d value=%d", r.origin().position(), r.timestamp(), r.value());
    }
}
