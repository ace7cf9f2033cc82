package io.streamflow.samples;

import io.streamflow.reactive.test.KafkaBroker;
import io.streamflow.reactive.test.KafkaBrokerExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link KafkaPageViews} against a real broker: what it prints per page and minute equals counts
 * computed directly from the records in the {@code pageviews} topic, every view counted once.
 */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class KafkaPageViewsTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.create();

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final long MINUTE = 60_000;
    /** {@code /docs    [2026-12-06T23:54:00Z, 2026-12-06T23:55:00Z) views=84 ON_TIME#0(final)}. */
    private static final Pattern WINDOW_LINE = Pattern.compile("(\\S+)\\s+\\[(\\S+), (\\S+)\\) views=(\\d+) (\\S+)");

    /** One page view as it is in Kafka. */
    private record View(String page, String user, long timestamp) {
    }

    /** The printed output of one run. */
    private record Printed(List<String> lines, String text) {
    }

    private static Printed run(KafkaBroker broker, long views, long seed, long start,
                               KafkaPageViews.Summary[] summary) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (SampleKafka kafka = SampleKafka.open(broker.bootstrapServers(), out)) {
            summary[0] = KafkaPageViews.run(kafka, views, seed, start, out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        return new Printed(text.lines().toList(), text);
    }

    /** The views of one run as a plain consumer finds them in the topic, between the run's offsets. */
    private static List<View> readBack(KafkaBroker broker, SampleKafka.Produced produced) {
        List<View> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(broker.clientProperties(),
                new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = produced.first().keySet().stream()
                    .map(p -> new TopicPartition(KafkaPageViews.TOPIC, p)).toList();
            consumer.assign(partitions);
            partitions.forEach(tp -> consumer.seek(tp, produced.first().get(tp.partition())));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) <= produced.last().get(tp.partition()))) {
                assertThat(System.nanoTime()).as("reading the views back in time").isLessThan(deadline);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.offset() <= produced.last().get(r.partition())) {
                        out.add(new View(r.key(), r.value(), r.timestamp()));
                    }
                }
            }
        }
        return out;
    }

    /** The reference: views per "page@minuteStart", counted one by one. */
    private static Map<String, Long> countsPerPageAndMinute(List<View> views) {
        Map<String, Long> out = new TreeMap<>();
        for (View v : views) {
            out.merge(v.page() + "@" + Instant.ofEpochMilli(Math.floorDiv(v.timestamp(), MINUTE) * MINUTE), 1L,
                    Long::sum);
        }
        return out;
    }

    /** The window lines of the output as "page@start" → count; each window printed once, on time and final. */
    private static Map<String, Long> printedCounts(Printed printed) {
        Map<String, Long> out = new TreeMap<>();
        for (String line : printed.lines()) {
            if (line.startsWith("--")) {
                continue;
            }
            Matcher m = WINDOW_LINE.matcher(line);
            assertThat(m.matches()).as("a window line: " + line).isTrue();
            Instant start = Instant.parse(m.group(2));
            assertThat(Instant.parse(m.group(3))).as(line).isEqualTo(start.plusMillis(MINUTE));
            assertThat(m.group(5)).as(line).isEqualTo("ON_TIME#0(final)");
            Long before = out.put(m.group(1) + "@" + start, Long.parseLong(m.group(4)));
            assertThat(before).as("printed twice: " + line).isNull();
        }
        return out;
    }

    @Test
    void prints_for_each_page_and_minute_the_views_that_the_topic_holds(KafkaBroker broker) {
        System.out.println("KafkaPageViewsTest seed " + SEED + " (replay with -Dseed=" + SEED + ")");
        long views = 3_000;
        long start = KafkaPageViews.startFor(views, System.currentTimeMillis());
        KafkaPageViews.Summary[] summary = new KafkaPageViews.Summary[1];

        Printed printed = run(broker, views, SEED, start, summary);

        List<View> inKafka = readBack(broker, summary[0].produced());
        assertThat(inKafka).as("the views in the topic").hasSize((int) views);
        // the generator's views, as produced: 4 pages, out of order, event times from the start minute on
        List<View> generated = PageViewsPerMinute.source(views, SEED, start)
                .map(r -> new View(r.key(), r.value().stringField("user"), r.timestamp())).collectList().block();
        assertThat(inKafka).containsExactlyInAnyOrderElementsOf(generated);
        assertThat(inKafka).extracting(View::page).containsOnly("/", "/docs", "/pricing", "/blog");
        assertThat(inKafka).extracting(View::timestamp).isNotEmpty().isNotEqualTo(
                inKafka.stream().map(View::timestamp).sorted().toList());

        Map<String, Long> reference = countsPerPageAndMinute(inKafka);
        Map<String, Long> out = printedCounts(printed);
        assertThat(out).as(printed.text()).isEqualTo(reference);
        assertThat(out.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(views);
        assertThat(summary[0]).extracting(KafkaPageViews.Summary::read, KafkaPageViews.Summary::windows,
                        KafkaPageViews.Summary::counted, KafkaPageViews.Summary::late,
                        KafkaPageViews.Summary::deadLetters)
                .containsExactly(views, (long) reference.size(), views, 0L, 0L);
        assertThat(printed.lines()).last().isEqualTo("-- " + views + " page views read from pageviews, "
                + reference.size() + " windows, " + views + " views counted, 0 late, 0 dead letters");
    }

    @Test
    void a_second_run_on_the_same_topic_counts_only_its_own_views(KafkaBroker broker) {
        long views = 800;
        long start = KafkaPageViews.startFor(views, System.currentTimeMillis());
        KafkaPageViews.Summary[] first = new KafkaPageViews.Summary[1];
        KafkaPageViews.Summary[] second = new KafkaPageViews.Summary[1];

        Printed firstOut = run(broker, views, SEED + 1, start, first);
        // the same minutes again, another seed: the topic now holds both runs' views
        Printed secondOut = run(broker, views, SEED + 2, start, second);

        assertThat(second[0].produced().first()).allSatisfy((p, offset) -> assertThat(offset)
                .as("partition " + p + " held the first run's views").isGreaterThan(0));
        Map<String, Long> firstReference = countsPerPageAndMinute(readBack(broker, first[0].produced()));
        Map<String, Long> secondReference = countsPerPageAndMinute(readBack(broker, second[0].produced()));
        assertThat(firstReference).isNotEqualTo(secondReference);
        assertThat(printedCounts(firstOut)).isEqualTo(firstReference);
        assertThat(printedCounts(secondOut)).as(secondOut.text()).isEqualTo(secondReference);
        assertThat(second[0].read()).isEqualTo(views);
    }

    @Test
    void views_start_on_a_whole_minute_and_end_a_minute_before_now() {
        long now = 1_800_000_012_345L;
        long start = KafkaPageViews.startFor(2_000, now);

        assertThat(start % MINUTE).isZero();
        long lastNominal = start + 3_000 + 1_999 * 200;
        assertThat(lastNominal).isLessThanOrEqualTo(now - MINUTE).isGreaterThan(now - 2 * MINUTE);
    }
}
