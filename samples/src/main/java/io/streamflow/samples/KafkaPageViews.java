package io.streamflow.samples;

import io.streamflow.reactive.Event;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.kafka.KafkaSource;
import io.streamflow.reactive.window.WindowResult;
import org.apache.kafka.clients.producer.ProducerRecord;
import reactor.core.scheduler.Schedulers;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Page views per minute from Kafka: {@link PageViewsPerMinute} on a real Kafka topic.
 * <ol>
 *   <li>Uses the cluster given by {@code --bootstrap host:port} (or the system property
 *   {@value SampleKafka#BOOTSTRAP_PROPERTY}), or starts the test kit's broker for the run (see
 *   {@link SampleKafka});</li>
 *   <li>creates the topic {@value #TOPIC} ({@value #PARTITIONS} partitions) unless it exists;</li>
 *   <li>produces a seeded stream of page views (the generator of {@link PageViewsPerMinute}: one
 *   view every 200 ms of event time, up to 3 s out of order, on 4 pages), each a record with the
 *   page as key, the user as value and the view's event time as its Kafka timestamp, so a page's
 *   views share a partition; the views start on a whole minute and end at least a minute before
 *   now;</li>
 *   <li>reads exactly those records back with a {@link KafkaSource} (from the offset of this run's
 *   first record in each partition to its last, so earlier runs' records in the topic do not
 *   count; the source hands every partition's first record over first, oldest first, so the
 *   watermark knows every partition before it moves), assigns event time (the Kafka timestamp) and
 *   per-partition watermarks with
 *   {@link PageViewsPerMinute#MAX_OUT_OF_ORDERNESS} of out-of-orderness, counts the views per page
 *   in 1-minute tumbling windows ({@link PageViewsPerMinute#countPerMinute}) and prints each
 *   window's count as it fires; after the last record the input ends, the final watermark fires
 *   the remaining windows, and a summary line follows;</li>
 *   <li>stops the broker if it started one.</li>
 * </ol>
 * Late views and dead letters (none with this input) would be printed and counted, not dropped.
 * <p>
 * Arguments (optional): {@code [--bootstrap host:port] [views (default 2,000)] [seed (default 42)]}.
 * Run with {@code mvn -q -pl samples -am compile exec:java -Dexec.mainClass=io.streamflow.samples.KafkaPageViews}.
 */
public final class KafkaPageViews {

    public static final String TOPIC = "pageviews";
    public static final int PARTITIONS = 3;
    /** The longest the pipeline may take to read and count the views. */
    public static final Duration TIMEOUT = Duration.ofMinutes(5);

    private static final long MINUTE = 60_000;

    private KafkaPageViews() {
    }

    public static void main(String[] args) {
        SampleKafka.Args a = SampleKafka.Args.parse(args);
        long views = a.longArg(0, 2_000);
        long seed = a.longArg(1, 42L);
        try (SampleKafka kafka = SampleKafka.open(a.bootstrap(), System.out)) {
            run(kafka, views, seed, startFor(views, System.currentTimeMillis()), System.out);
        }
    }

    /**
     * What a run did.
     *
     * @param produced    where the views are in {@value #TOPIC}
     * @param read        records the source delivered (views and dead letters)
     * @param windows     window results printed
     * @param counted     views counted in them
     * @param late        late views (printed, not counted)
     * @param deadLetters records that could not be read (printed, not counted)
     */
    public record Summary(SampleKafka.Produced produced, long read, long windows, long counted, long late,
                          long deadLetters) {
    }

    /**
     * The first view's nominal minute for {@code views} views that end at least a minute before
     * {@code nowMillis}: a whole minute, recent enough for any broker's timestamp checks and
     * retention.
     */
    public static long startFor(long views, long nowMillis) {
        long start = nowMillis - MINUTE - 3_000 - views * 200;
        return start - Math.floorMod(start, MINUTE);
    }

    /**
     * Produces {@code views} page views (seed {@code seed}, from {@code startMillis}) to
     * {@value #TOPIC} on {@code kafka}, then reads and counts them, printing one line per window
     * ({@link PageViewsPerMinute#format}) and {@code --} lines about the run to {@code out}.
     *
     * @return what was produced, read and printed
     */
    public static Summary run(SampleKafka kafka, long views, long seed, long startMillis, PrintStream out) {
        kafka.createTopic(TOPIC, PARTITIONS);
        List<ProducerRecord<String, String>> records = PageViewsPerMinute.source(views, seed, startMillis)
                .map(r -> new ProducerRecord<String, String>(TOPIC, null, r.timestamp(), r.key(), r.value().stringField("user")))
                .collectList()
                .block();
        SampleKafka.Produced produced = kafka.produce(TOPIC, records);
        out.println("-- produced " + produced.records() + " page views to " + TOPIC + " (partitions and offsets "
                + produced.first() + " to " + produced.last() + "), event times from "
                + Instant.ofEpochMilli(startMillis));

        KafkaSource<String, String> source = KafkaSource.strings(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                        "auto.offset.reset", "earliest"))
                .assign(TOPIC, produced.partitions());
        AtomicLong read = new AtomicLong();
        AtomicLong windows = new AtomicLong();
        AtomicLong counted = new AtomicLong();
        AtomicLong late = new AtomicLong();
        AtomicLong dead = new AtomicLong();
        EventStream<String, Event> pageViews = EventStream.from(
                        SampleKafka.untilLastRecord(source.resume().apply(produced.startPositions()), produced)
                                .doOnNext(e -> read.incrementAndGet()),
                        WatermarkStrategy.<String, String>forBoundedOutOfOrderness(PageViewsPerMinute.MAX_OUT_OF_ORDERNESS))
                .onDeadLetter(d -> d.publishOn(Schedulers.boundedElastic()).doOnNext(x -> {
                    dead.incrementAndGet();
                    out.println("-- dead letter: " + x);
                }))
                .mapRecord(r -> r.withValue(PageViewsPerMinute.pageView(r.key(), r.value(), r.timestamp())));
        PageViewsPerMinute.countPerMinute(pageViews)
                .onLateData(l -> l.publishOn(Schedulers.boundedElastic()).doOnNext(x -> {
                    late.incrementAndGet();
                    out.println("-- late: " + x);
                }))
                .sink(StreamSinks.printStream(out, (StreamRecord<String, WindowResult<String, Long>> r) -> {
                    windows.incrementAndGet();
                    counted.addAndGet(r.value().value());
                    return PageViewsPerMinute.format(r.value());
                }))
                .block(TIMEOUT);
        Summary summary = new Summary(produced, read.get(), windows.get(), counted.get(), late.get(), dead.get());
        out.println("-- " + summary.read() + " page views read from " + TOPIC + ", " + summary.windows()
                + " windows, " + summary.counted() + " views counted, " + summary.late() + " late, "
                + summary.deadLetters() + " dead letters");
        out.flush();
        return summary;
    }
}
