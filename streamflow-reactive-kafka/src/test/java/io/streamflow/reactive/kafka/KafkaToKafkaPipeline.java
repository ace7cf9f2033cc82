package io.streamflow.reactive.kafka;

import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.kafka.internal.PollLoop;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowAssigner;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Kafka → keyed windows → Kafka exactly-once, run in a child JVM by {@link KafkaToKafkaCrashTest}:
 * two checkpointed pipelines in one JVM, each reading the whole input topic through a
 * {@link KafkaSource} subscribed in a consumer group of its own ({@code topic(...)}, the offsets in
 * its checkpoints) and writing through a {@link KafkaSink} of its own:
 * <ul>
 *   <li>{@value #TUMBLING}: counts per key in 1 s tumbling windows, key {@code "key@start"};</li>
 *   <li>{@value #SESSIONS}: counts per key in session windows with a gap of {@value #GAP_MILLIS} ms,
 *   key {@code "key@start-end"};</li>
 * </ul>
 * each value the count as 8 bytes. A record's event time is its Kafka timestamp, watermarks are
 * bounded by {@value #DISORDER} ms of disorder per partition. The input ends at offset
 * {@value #PER_PARTITION} - 1 of each of its {@value #PARTITIONS} partitions.
 * <p>
 * The consumers are static group members ({@code group.instance.id}), so a restarted JVM takes its
 * partitions back at once instead of waiting for the killed one's session to time out; their
 * session timeout is {@value #SESSION_TIMEOUT_MILLIS} ms, so a broker or a JVM frozen for longer
 * loses its members.
 * <p>
 * It prints, so that a test can kill it in any phase: {@code opened} once both checkpoint
 * directories are open and restored; {@code progress <n>} every {@code progressEvery} records the
 * two pipelines read together in this run; {@code delivering <pipeline> <checkpoint>} when a
 * committed checkpoint's output is handed to the Kafka sink and {@code delivered <pipeline>
 * <checkpoint>} after its transaction committed; {@code input-done <pipeline>} when a pipeline's
 * input ended, {@code input-done} when both did; and {@code done} at the end. For diagnosis it
 * also prints {@code resume <pipeline> <positions>} when a source is subscribed, and once per
 * stall a {@code stalled ...} line with each poll loop's assigned and paused partitions and
 * buffered records when nothing was read for 20 s. {@code -Dkafka.k2k.static=false} makes the
 * consumers dynamic group members.
 * <p>
 * Arguments: bootstrap servers, checkpoint directory (one subdirectory per pipeline), input
 * topic, tumbling output topic, session output topic, checkpoint interval in ms, progressEvery.
 */
public final class KafkaToKafkaPipeline {

    static final int PARTITIONS = 3;
    static final int PER_PARTITION = 30_000;
    static final long DISORDER = 50;
    static final long GAP_MILLIS = 250;
    static final int SESSION_TIMEOUT_MILLIS = 6_000;
    static final String TUMBLING = "tumbling";
    static final String SESSIONS = "sessions";

    private static final AtomicLong READ = new AtomicLong();
    private static final Map<String, PollLoop<String, String>> LOOPS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final AtomicInteger INPUTS_DONE = new AtomicInteger();
    private static long progressEvery;

    private KafkaToKafkaPipeline() {
    }

    public static void main(String[] args) throws IOException {
        String servers = args[0];
        Path checkpoints = Path.of(args[1]);
        String input = args[2];
        String tumblingTopic = args[3];
        String sessionsTopic = args[4];
        Duration interval = Duration.ofMillis(Long.parseLong(args[5]));
        progressEvery = Long.parseLong(args[6]);
        try (Checkpointing tumblingCp = Checkpointing.builder(checkpoints.resolve(TUMBLING)).interval(interval)
                     .pipeline(TUMBLING).open();
             Checkpointing sessionsCp = Checkpointing.builder(checkpoints.resolve(SESSIONS)).interval(interval)
                     .pipeline(SESSIONS).open();
             KafkaSink tumblingSink = KafkaSink.exactlyOnce(Map.of("bootstrap.servers", servers), "k2k-" + TUMBLING);
             KafkaSink sessionsSink = KafkaSink.exactlyOnce(Map.of("bootstrap.servers", servers), "k2k-" + SESSIONS)) {
            say("opened");
            Thread watch = new Thread(() -> {
                long last = -1;
                boolean stalled = false;
                for (;;) {
                    try {
                        Thread.sleep(20_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                    long now = READ.get();
                    if (now == last && !stalled) {
                        stalled = true;
                        StringBuilder b = new StringBuilder("stalled read=" + now);
                        LOOPS.forEach((n, l) -> b.append(' ').append(n).append(" assigned=").append(l.assignedPartitions())
                                .append(" paused=").append(l.pausedPartitions()).append(" buffered=").append(l.buffered())
                                .append(" closed=").append(l.isClosed()));
                        say(b.toString());
                    }
                    stalled = now == last;
                    last = now;
                }
            }, "stall-watch");
            watch.setDaemon(true);
            watch.start();
            Mono<Void> tumbling = pipeline(TUMBLING, tumblingCp, source(servers, TUMBLING, input),
                    Windows.tumbling(Duration.ofSeconds(1)), tumblingSink,
                    w -> tumblingTopic + " " + w.key() + "@" + w.start());
            Mono<Void> sessions = pipeline(SESSIONS, sessionsCp, source(servers, SESSIONS, input),
                    Windows.session(Duration.ofMillis(GAP_MILLIS)), sessionsSink,
                    w -> sessionsTopic + " " + w.key() + "@" + w.start() + "-" + w.end());
            Mono.when(tumbling, sessions).block();
        }
        say("done");
    }

    private static KafkaSource<String, String> source(String servers, String pipeline, String input) {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", servers);
        props.put("group.id", "k2k-" + pipeline);
        if (Boolean.parseBoolean(System.getProperty("kafka.k2k.static", "true"))) {
            props.put("group.instance.id", "k2k-" + pipeline + "-member");
        }
        props.put("session.timeout.ms", SESSION_TIMEOUT_MILLIS);
        props.put("heartbeat.interval.ms", 1_000);
        props.put("auto.offset.reset", "earliest");
        return KafkaSource.strings(props).topic(input);
    }

    /**
     * One pipeline: source → window counts → the sink, each result to the topic and key that
     * {@code topicAndKey} gives as {@code "topic key"}.
     */
    private static Mono<Void> pipeline(String name, Checkpointing cp, KafkaSource<String, String> source,
                                       WindowAssigner windows, KafkaSink sink,
                                       Function<WindowResult<String, Long>, String> topicAndKey) {
        return EventStream.of(cp.source("input", positions -> untilTheEnd(say("resume " + name + " " + new java.util.TreeMap<>(positions), positions),
                                source.flux(Map.copyOf(positions), l -> LOOPS.put(name, l)))
                                .doOnNext(e -> {
                                    long n = READ.incrementAndGet();
                                    if (n % progressEvery == 0) {
                                        say("progress " + n);
                                    }
                                })
                                .doOnComplete(() -> {
                                    say("input-done " + name);
                                    if (INPUTS_DONE.incrementAndGet() == 2) {
                                        say("input-done");
                                    }
                                }),
                        WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ofMillis(DISORDER))))
                .settings(OperatorSettings.named(name).withPipeline(name).withStateBackend(cp.stateBackend()))
                .window(windows).name(name)
                .aggregate(Aggregations.<String>count())
                .elements()
                .as(cp.sink(source.committingOffsets("input", saying(name, sink)),
                        (StreamRecord<String, WindowResult<String, Long>> r) -> {
                            String[] tk = topicAndKey.apply(r.value()).split(" ", 2);
                            return KafkaRecord.of(tk[0], tk[1].getBytes(StandardCharsets.UTF_8),
                                    ByteBuffer.allocate(8).putLong(r.value().value()).array());
                        }));
    }

    /** The sink, printing a line before and after each checkpoint's delivery. */
    private static OutboxSink<KafkaRecord> saying(String name, KafkaSink sink) {
        return new OutboxSink<>() {
            @Override
            public void deliver(long checkpointId, List<KafkaRecord> records) throws IOException {
                sink.deliver(checkpointId, records);
            }

            @Override
            public void deliver(Delivery delivery, List<KafkaRecord> records) throws IOException {
                say("delivering " + name + " " + delivery.checkpointId());
                sink.deliver(delivery, records);
                say("delivered " + name + " " + delivery.checkpointId());
            }

            @Override
            public Optional<List<Delivery>> deliveries() throws IOException {
                return sink.deliveries();
            }
        };
    }

    /** The elements up to offset PER_PARTITION - 1 of every partition; the Kafka source itself never ends. */
    static Flux<StreamElement<String, String>> untilTheEnd(Map<Integer, Long> positions,
                                                           Flux<StreamElement<String, String>> elements) {
        Set<Integer> done = new HashSet<>();
        positions.forEach((p, at) -> {
            if (at >= PER_PARTITION - 1) {
                done.add(p);
            }
        });
        if (done.size() == PARTITIONS) {
            return Flux.empty();
        }
        return elements.takeUntil(e -> {
            // release markers of partitions revoked in a rebalance carry no position
            Origin o = e instanceof StreamRecord<?, ?> r ? r.origin()
                    : e instanceof DeadLetter<?, ?> d ? d.origin() : null;
            if (o != null && o.position() >= PER_PARTITION - 1) {
                done.add(o.partition());
            }
            return done.size() == PARTITIONS;
        });
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    private static <T> T say(String line, T value) {
        say(line);
        return value;
    }
}
