package io.streamflow.reactive.http;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Trigger;
import io.streamflow.reactive.window.Windows;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The pipeline of {@link DurableResultsCrashTest}, run in a child JVM: a seeded generator of
 * {@code records} records (record {@code n}: key {@link #key(long, long)}, timestamp
 * {@code n * }{@value #STEP_MILLIS} ms) at {@code rate} records per second → count per key in 1 s
 * tumbling windows with an early pane every {@value #EARLY_EVERY} records (so later panes retract
 * earlier ones) → a durable {@link ResultLog} fed through its outbox sink, served on 127.0.0.1 at
 * {@code port} under {@code /results}.
 * <p>
 * BlockHound is installed, as in the tests' own JVM. It prints {@code serving <lastEventId>} once the log is restored and the server is up, and
 * {@code done <lastEventId>} when the input ended and its last checkpoint is in the log; then it
 * serves until it is killed.
 * <p>
 * Arguments: checkpoint directory, result log directory, port, records, seed, rate.
 */
public final class DurableResultsCrashPipeline {

    static final long STEP_MILLIS = 5;
    static final long WINDOW_MILLIS = 1_000;
    static final int EARLY_EVERY = 7;
    static final int KEYS = 8;

    private DurableResultsCrashPipeline() {
    }

    /** @return the key of record {@code n} for {@code seed} */
    static String key(long seed, long n) {
        long z = n + seed * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return "k" + Math.floorMod(z ^ (z >>> 31), KEYS);
    }

    public static void main(String[] args) {
        // as in the test JVM: a blocking call on a non-blocking thread (an MVStore commit on an event
        // loop, say) fails the call
        reactor.blockhound.BlockHound.install();
        Path checkpoints = Path.of(args[0]);
        Path results = Path.of(args[1]);
        int port = Integer.parseInt(args[2]);
        long records = Long.parseLong(args[3]);
        long seed = Long.parseLong(args[4]);
        double rate = Double.parseDouble(args[5]);
        ResultLog<String, Long> log = ResultLog.<String, Long>builder("counts").retainCount(100_000)
                .clientBuffer(50_000).heartbeat(Duration.ofMillis(500)).durable(results).build();
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(150))
                .pipeline("results-crash").open();
             StreamFlowHttpServer server = StreamFlowHttpServer.builder().host("127.0.0.1").port(port)
                     .results("/results", log).start()) {
            say("serving " + log.lastEventId());
            EventStream.of(cp.source("input", positions -> {
                                long from = positions.getOrDefault(0, -1L) + 1;
                                return StreamSources.generator(from, Math.max(0, records - from), rate,
                                        n -> StreamRecord.of(key(seed, n), key(seed, n), n * STEP_MILLIS,
                                                Origin.of("input", 0, n)), Schedulers.parallel());
                            },
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ofMillis(20))
                                    .withTimestampAssigner(StreamRecord::timestamp)))
                    .settings(OperatorSettings.named("counts").withStateBackend(cp.stateBackend()))
                    .keyBy(v -> v)
                    .window(Windows.tumbling(Duration.ofMillis(WINDOW_MILLIS)))
                    .trigger(Trigger.onWatermark().withEarlyFiringsEvery(EARLY_EVERY))
                    .aggregate(Aggregations.<String>count())
                    .elements()
                    .as(cp.sink(log.outboxSink(), log.outboxFormat()))
                    .block();
            say("done " + log.lastEventId());
            for (;;) {
                LockSupport.parkNanos(1_000_000_000L); // serve the clients until the test kills this JVM
            }
        }
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
