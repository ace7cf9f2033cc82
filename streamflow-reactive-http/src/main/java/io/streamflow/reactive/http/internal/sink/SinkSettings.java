package io.streamflow.reactive.http.internal.sink;

import io.micrometer.core.instrument.MeterRegistry;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.http.HttpSink;
import reactor.core.scheduler.Scheduler;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongUnaryOperator;

/**
 * The validated options of one {@link HttpSink}.
 *
 * @param uri            where results go
 * @param method         POST or PUT
 * @param name           the sink's name: meter tag, key prefix, dead-letter operator name
 * @param pipeline       the {@code pipeline} tag of the dead-letter counter
 * @param batchSize      most results per request
 * @param maxBatchDelay  longest a partial batch waits for more results
 * @param maxInFlight    most requests at a time
 * @param timeout        connect and answer timeout of one request
 * @param maxRetries     retries after the first attempt
 * @param initialBackoff cap of the first retry's delay
 * @param maxBackoff     cap of every retry's delay (also of a Retry-After wait)
 * @param headers        extra request headers, in order
 * @param bodyFormat     JSON array or JSON lines
 * @param scheduler      timer of the batch delay and the backoff
 * @param registry       where the meters go
 * @param deadLetters    where the outbox puts refused results, or {@code null} to fail the delivery
 * @param jitter         given a bound {@code b >= 0}, a value in {@code [0, b]}: the full jitter
 */
public record SinkSettings(URI uri, HttpSink.Method method, String name, String pipeline, int batchSize,
                           Duration maxBatchDelay, int maxInFlight, Duration timeout, int maxRetries,
                           Duration initialBackoff, Duration maxBackoff, Map<String, String> headers, HttpSink.BodyFormat bodyFormat,
                           Scheduler scheduler, MeterRegistry registry, OutboxSink<String> deadLetters,
                           LongUnaryOperator jitter) {

    /** @return e.g. {@code POST http://host:8080/results}, for messages */
    public String target() {
        return method + " " + uri;
    }
}
