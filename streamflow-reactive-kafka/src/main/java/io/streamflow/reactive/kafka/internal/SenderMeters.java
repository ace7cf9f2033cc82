package io.streamflow.reactive.kafka.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** The counters of a {@code KafkaSender}: records sent, dead-lettered and failed. Thread-safe. */
public final class SenderMeters {

    private final Counter sent;
    private final Counter deadLetter;
    private final Counter failed;

    /**
     * @param registry where the counters go
     * @param pipeline the {@code pipeline} tag
     * @param sender   the {@code sender} tag
     */
    public SenderMeters(MeterRegistry registry, String pipeline, String sender) {
        this.sent = counter(registry, pipeline, sender, "sent");
        this.deadLetter = counter(registry, pipeline, sender, "dead_letter");
        this.failed = counter(registry, pipeline, sender, "failed");
    }

    private static Counter counter(MeterRegistry registry, String pipeline, String sender, String result) {
        return Counter.builder("streamflow.kafka.sender.records").description("Records a KafkaSender sent, "
                        + "or could not send").baseUnit("records")
                .tags("pipeline", pipeline, "sender", sender, "result", result).register(registry);
    }

    /** A record the broker acknowledged. */
    public void sent() {
        sent.increment();
    }

    /** A record that could not be sent and became a dead letter. */
    public void deadLetter() {
        deadLetter.increment();
    }

    /** A record that could not be sent and failed the subscription. */
    public void failed() {
        failed.increment();
    }
}
