package io.streamflow.benchmarks;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowAssigner;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.function.Function;

/**
 * The StreamFlow pipeline of the harness: records from the event columns → bounded
 * out-of-orderness watermarks → keyed window count + sum → checksum. Synchronous (one thread
 * end to end), or with one async boundary ({@code publishOn}) between the watermark assigner and
 * the window operator.
 */
public final class StreamFlowWindows {

    private StreamFlowWindows() {
    }

    public static Measured run(BenchEvents ev, WindowWorkload w, boolean async) {
        Checksum checksum = new Checksum();
        Flux<StreamRecord<Long, Long>> source = source(ev);
        Function<Flux<StreamElement<Long, Long>>, Flux<StreamElement<Long, Long>>> boundary = f -> f;
        Scheduler scheduler = null;
        if (async) {
            Scheduler s = Schedulers.newSingle("bench-window");
            scheduler = s;
            boundary = f -> f.publishOn(s);
        }
        try {
            long t0 = System.nanoTime();
            pipeline(source, w, ev.spec.disorderMillis(), boundary)
                    .doOnNext(e -> {
                        if (e instanceof StreamRecord<Long, WindowResult<Long, Aggregations.CountAndSum>> r) {
                            WindowResult<Long, Aggregations.CountAndSum> res = r.value();
                            checksum.add(res.key(), res.start(), res.end(), res.value().count(), res.value().sum());
                        }
                    })
                    .then()
                    .block();
            return new Measured(checksum, System.nanoTime() - t0);
        } finally {
            if (scheduler != null) {
                scheduler.dispose();
            }
        }
    }

    /** The records of the event columns, read from partition 0 of source "bench" by the generator source. */
    public static Flux<StreamRecord<Long, Long>> source(BenchEvents ev) {
        Origin origin = Origin.of("bench", 0, 0);
        long[] keys = ev.keys;
        long[] ts = ev.timestamps;
        long[] values = ev.values;
        return StreamSources.generator(ev.size(), 0, i -> StreamRecord.of(keys[(int) i], values[(int) i],
                ts[(int) i], origin), Schedulers.immediate());
    }

    public static WindowAssigner assigner(WindowWorkload w) {
        return switch (w) {
            case TUMBLING -> Windows.tumbling(Duration.ofMillis(w.size));
            case SLIDING -> Windows.sliding(Duration.ofMillis(w.size), Duration.ofMillis(w.slide));
            case SESSION -> Windows.session(Duration.ofMillis(w.gap));
        };
    }

    public static Flux<StreamElement<Long, WindowResult<Long, Aggregations.CountAndSum>>> pipeline(
            Flux<StreamRecord<Long, Long>> source, WindowWorkload w, long boundMillis,
            Function<Flux<StreamElement<Long, Long>>, Flux<StreamElement<Long, Long>>> boundary) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        return source
                .transform(WatermarkStrategy.<Long, Long>forBoundedOutOfOrderness(Duration.ofMillis(boundMillis))
                        .withMetrics("bench", "watermarks", registry).assign())
                .transform(boundary)
                .transform(WindowOperator.<Long, Long>of(assigner(w))
                        .settings(OperatorSettings.named("window").withMeterRegistry(registry))
                        .aggregate(Aggregations.countAndSum(v -> v)));
    }
}
