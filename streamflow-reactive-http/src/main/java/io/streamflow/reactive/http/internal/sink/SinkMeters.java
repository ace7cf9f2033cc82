package io.streamflow.reactive.http.internal.sink;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.streamflow.reactive.StreamFlowMeters;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The meters of one HTTP sink, tagged {@code sink} (its name) and {@code result}.
 */
public final class SinkMeters {

    /** Counter of requests (each attempt), tagged with an {@link Outcome}'s tag. */
    public static final String REQUESTS = "streamflow.http.sink.requests";
    /** Timer of requests (each attempt), from sending to the end of the answer or the error. */
    public static final String REQUEST_DURATION = "streamflow.http.sink.request.duration";
    /** Counter of results, tagged {@code sent}, {@code dead_letter} or {@code failed}. */
    public static final String RECORDS = "streamflow.http.sink.records";

    /** A result that reached the receiver (a 2xx answer). */
    public static final String SENT = "sent";
    /** A result refused or undeliverable, sent to the dead letters. */
    public static final String DEAD_LETTER = "dead_letter";
    /** A checkpoint's result whose delivery failed: it stays in the outbox. */
    public static final String FAILED = "failed";

    private final MeterRegistry registry;
    private final String sink;
    private final Map<String, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Timer> durations = new ConcurrentHashMap<>();
    private final Map<String, Counter> records = new ConcurrentHashMap<>();
    /** The pipeline-wide dead-letter counter, where every {@link io.streamflow.reactive.DeadLetter} is counted. */
    private final Counter deadLetters;

    /**
     * @param registry where the meters go
     * @param sink     the sink's name, tag {@code sink}, and {@code operator} of the dead-letter counter
     * @param pipeline tag {@code pipeline} of the dead-letter counter
     */
    public SinkMeters(MeterRegistry registry, String sink, String pipeline) {
        this.registry = registry;
        this.sink = sink;
        StreamFlowMeters dl = StreamFlowMeters.RECORDS_DEAD_LETTER;
        this.deadLetters = Counter.builder(dl.meterName()).baseUnit(dl.baseUnit()).description(dl.description())
                .tag("pipeline", pipeline).tag("operator", sink).register(registry);
        for (Outcome o : Outcome.values()) {
            requests.put(o.tag(), Counter.builder(REQUESTS).baseUnit("requests")
                    .description("HTTP requests of the sink (each attempt), by result")
                    .tag("sink", sink).tag("result", o.tag()).register(registry));
            durations.put(o.tag(), Timer.builder(REQUEST_DURATION)
                    .description("HTTP requests of the sink (each attempt), from sending to the end of the answer")
                    .tag("sink", sink).tag("result", o.tag()).register(registry));
        }
        for (String r : new String[] {SENT, DEAD_LETTER, FAILED}) {
            records.put(r, Counter.builder(RECORDS).baseUnit("records")
                    .description("Results of the HTTP sink: sent, sent to the dead letters, or failed (kept in the "
                            + "checkpoint's outbox)")
                    .tag("sink", sink).tag("result", r).register(registry));
        }
    }

    void request(Outcome outcome, long nanos) {
        requests.get(outcome.tag()).increment();
        durations.get(outcome.tag()).record(nanos, TimeUnit.NANOSECONDS);
    }

    void records(String result, int n) {
        if (n > 0) {
            records.get(result).increment(n);
            if (result.equals(DEAD_LETTER)) {
                deadLetters.increment(n);
            }
        }
    }

    @Override
    public String toString() {
        return "SinkMeters{" + sink + " in " + registry + "}";
    }
}
