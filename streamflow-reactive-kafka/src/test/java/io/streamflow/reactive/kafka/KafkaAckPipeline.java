package io.streamflow.reactive.kafka;

import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import reactor.core.publisher.Flux;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pipeline of the acknowledgement crash test, run in a child JVM: {@link KafkaSource#flux()} of
 * the input topic (a static group member, committing every 100 ms) → keep the records → a
 * {@link KafkaSender} that copies each record to the output topic. With {@code acknowledged} the
 * source is {@link KafkaSource#acknowledged()} and the sender's results are acknowledged
 * ({@link KafkaSource#acknowledgeResults()}); with {@code plain} the source commits what it handed
 * to the sender. The sender is slow on purpose: {@value #MAX_IN_FLIGHT} records in flight, held by
 * the producer for {@code linger.ms} before they are sent, so a kill finds records in flight.
 * It prints {@code handed <n>} and {@code results <n>} every {@value #STEP} records.
 * <p>
 * Arguments: bootstrap servers, input topic, output topic, group, {@code acknowledged} or
 * {@code plain}, linger in ms.
 */
public final class KafkaAckPipeline {

    static final int MAX_IN_FLIGHT = 100;
    static final int STEP = 100;

    private KafkaAckPipeline() {
    }

    /** Consumer properties of the pipeline's static group member. */
    static Map<String, Object> consumerProperties(String servers, String group) {
        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", servers);
        props.put("group.id", group);
        props.put("group.instance.id", group + "-member");
        props.put("auto.offset.reset", "earliest");
        return props;
    }

    /**
     * The pipeline: copies every record of {@code input} to {@code output}, counting elements handed to
     * the sender and results in {@code handed} and {@code results}.
     */
    @SuppressWarnings("unchecked")
    static Flux<SendResult<StreamRecord<String, String>>> pipeline(String servers, String input, String output,
                                                                   String group, boolean acknowledged, long lingerMs,
                                                                   AtomicLong handed, AtomicLong results) {
        KafkaSource<String, String> source = KafkaSource.strings(consumerProperties(servers, group)).topic(input)
                .commitInterval(Duration.ofMillis(100));
        if (acknowledged) {
            source = source.acknowledged();
        }
        KafkaSender sender = KafkaSender.create(Map.of("bootstrap.servers", servers, "linger.ms", lingerMs,
                "batch.size", 1 << 20)).maxInFlight(MAX_IN_FLIGHT);
        Flux<SendResult<StreamRecord<String, String>>> sent = source.flux()
                .filter(source.keepOrAcknowledge(StreamElement::isRecord))
                .map(e -> (StreamRecord<String, String>) e)
                .doOnNext(r -> step("handed", handed.incrementAndGet()))
                .transform(sender.send(r -> KafkaRecord.of(output, r.key().getBytes(StandardCharsets.UTF_8),
                        r.value().getBytes(StandardCharsets.UTF_8))));
        if (acknowledged) {
            sent = sent.transform(source.acknowledgeResults());
        }
        return sent.doOnNext(r -> step("results", results.incrementAndGet()));
    }

    private static void step(String what, long n) {
        if (n % STEP == 0) {
            System.out.println(what + " " + n);
            System.out.flush();
        }
    }

    public static void main(String[] args) {
        pipeline(args[0], args[1], args[2], args[3], args[4].equals("acknowledged"), Long.parseLong(args[5]),
                new AtomicLong(), new AtomicLong()).blockLast();
    }
}
