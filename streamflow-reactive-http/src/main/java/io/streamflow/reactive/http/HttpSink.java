package io.streamflow.reactive.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.internal.sink.Backoff;
import io.streamflow.reactive.http.internal.sink.Bodies;
import io.streamflow.reactive.http.internal.sink.HttpOutboxSink;
import io.streamflow.reactive.http.internal.sink.RecordsOperator;
import io.streamflow.reactive.http.internal.sink.Sender;
import io.streamflow.reactive.http.internal.sink.SinkMeters;
import io.streamflow.reactive.http.internal.sink.SinkSettings;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongUnaryOperator;

/**
 * Sends a pipeline's results to a URL with HTTP POST or PUT, in batches, with bounded in-flight
 * requests, retries and an idempotency key per result.
 * <pre>{@code
 * HttpSink sink = HttpSink.to(URI.create("http://kv.internal:8080/results"))
 *         .batchSize(100).maxInFlight(4).header("Authorization", "Bearer " + token).build();
 * Flux<StreamElement<String, Long>> outcomes = counts.transform(
 *         sink.send(r -> Map.of("word", r.key(), "count", r.value())));
 * }</pre>
 * <h2>The requests</h2>
 * Each request carries up to {@link Builder#batchSize} results; a partial batch goes out after
 * {@link Builder#maxBatchDelay}. Each result is sent as
 * {@code {"idempotencyKey":"<key>","result":<the result's JSON>}}: all of a request's results in
 * one JSON array ({@link BodyFormat#JSON_ARRAY}, {@code Content-Type: application/json}), or one per
 * line ({@link BodyFormat#JSON_LINES}, {@code application/x-ndjson}). The request has the header
 * {@value #IDEMPOTENCY_KEY_HEADER} with a key of the batch, plus the headers given with
 * {@link Builder#header}. A 2xx answer means the receiver took every result of the request.
 * <p>
 * At most {@link Builder#maxInFlight} requests of one sink are open at a time (its connection pool
 * has that many connections); further results wait upstream, through Reactive Streams demand.
 * <h2>Retries</h2>
 * 5xx, 408 and 429 answers, timeouts (no connection or no answer within {@link Builder#timeout})
 * and connection errors are retried up to {@link Builder#maxRetries} times, with exponential
 * backoff and full jitter: before retry {@code n} the sink waits a uniformly random time in
 * {@code [0, min(maxBackoff, initialBackoff * 2^(n-1))]}, or what the answer's {@code Retry-After}
 * asks for (seconds or an HTTP date), at most {@code maxBackoff}. Other answers (4xx, 3xx) are not
 * retried. After the last retry, or on an answer that is not retried, the request's results are
 * refused with an {@link HttpSinkException} that gives the status, the start of the answer's body
 * and the number of attempts.
 * <h2>Idempotency keys</h2>
 * Every result has its own key, the same every time the same result is sent again, so a receiver
 * that keeps the keys it has taken can drop a result sent twice (after a retry whose first answer
 * was lost, or a restart after a crash):
 * <ul>
 *   <li>output of a checkpoint ({@link #outbox()}):
 *       {@code <name>:cp:<checkpoint id>:<index in the checkpoint's output>:<hash>};</li>
 *   <li>a record of a plain pipeline ({@link #send}):
 *       {@code <name>:<source>:<partition>:<position, or - when unknown>:<hash>} from the record's
 *       {@link io.streamflow.reactive.Origin}, with {@code :<n>} appended for the n-th of
 *       consecutive records that would get the same key;</li>
 *   <li>the request ({@value #IDEMPOTENCY_KEY_HEADER} header): {@code <name>:batch:<hash of its
 *       results' keys>}.</li>
 * </ul>
 * The hash is 16 hex digits of SHA-256 over the result's JSON (for a plain record also its key and
 * timestamp): a key never stands for two different results, even when a restore from an older
 * checkpoint reuses checkpoint ids or a result (a window's) has no source position. Two sinks that
 * write to the same receiver need different {@link Builder#name names}.
 * <h2>Meters</h2>
 * Tagged {@code sink} (the {@link Builder#name name}) and {@code result}:
 * <ul>
 *   <li>{@code streamflow.http.sink.requests} (counter, each attempt) and
 *       {@code streamflow.http.sink.request.duration} (timer): {@code result} is {@code success},
 *       {@code server_error} (5xx), {@code too_many_requests} (429), {@code request_timeout} (408),
 *       {@code refused} (other statuses), {@code timeout}, {@code connection_error} or {@code error};</li>
 *   <li>{@code streamflow.http.sink.records} (counter of results): {@code sent},
 *       {@code dead_letter} (refused, given to the dead letters) or {@code failed} (a checkpoint's
 *       results whose delivery failed; they stay in its outbox).</li>
 * </ul>
 * Close the sink to close its connections.
 */
public final class HttpSink implements AutoCloseable {

    /** The request header holding the key of a request's batch of results. */
    public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

    /** The HTTP method of the requests. */
    public enum Method {
        /** {@code POST}, the default. */
        POST,
        /** {@code PUT}. */
        PUT
    }

    /** How a request's results are laid out in its body. */
    public enum BodyFormat {
        /** One JSON array of the results, {@code Content-Type: application/json} (the default). */
        JSON_ARRAY,
        /** One result per line, {@code Content-Type: application/x-ndjson}. */
        JSON_LINES
    }

    private final SinkSettings settings;
    private final SinkMeters meters;
    private final Sender sender;

    private HttpSink(SinkSettings settings) {
        this.settings = settings;
        this.meters = new SinkMeters(settings.registry(), settings.name(), settings.pipeline());
        this.sender = new Sender(settings, meters);
    }

    /**
     * Starts the options of a sink to {@code uri}; nothing is opened until {@link Builder#build()}.
     *
     * @param uri an {@code http} or {@code https} URL
     * @return a builder of a sink to {@code uri}
     * @throws NullPointerException if {@code uri} is {@code null}
     */
    public static Builder to(URI uri) {
        return new Builder(Objects.requireNonNull(uri, "uri"));
    }

    /**
     * The sink as an operator of a plain (not checkpointed) pipeline, for {@code Flux.transform}.
     * Each record's result is {@code format}'s value written as JSON by Jackson. Every record comes
     * out again once its request was answered 2xx, or as a {@link DeadLetter} (the record as its
     * input, its origin, the sink's name as operator, an {@link HttpSinkException} as error) once it
     * was refused or its last retry failed; a record that {@code format} cannot make into JSON comes
     * out as a dead letter at once. Outcomes come out in the input order; each is counted in
     * {@code streamflow.http.sink.records}. {@code format} runs on the thread that delivers the
     * record, which may be a Netty event loop asking for more: it must not block.
     * <p>
     * Watermarks and input statuses end here (nothing downstream of the sink is in event time);
     * checkpoint barriers, late records and dead letters pass through in order, each taking one
     * place in a batch. The records between the upstream and their outcomes are bounded by about
     * {@code (maxInFlight + 3) * batchSize}: the batches in flight, the batch being filled and the
     * outcomes waiting for downstream demand. On cancel, or an error from upstream, requests in
     * flight are cancelled and their connections closed; their records may or may not have reached
     * the receiver, and no outcome is emitted for them. Delivery is at-least-once: what a crash
     * interrupts is sent again by the replay, with the same keys.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param format a record's result: any value Jackson can write (a map, a record, a
     *               {@code JsonNode}, a string, a number)
     * @return the operator
     * @throws NullPointerException if {@code format} is {@code null}
     */
    public <K, V> Function<Flux<? extends StreamElement<K, V>>, Flux<StreamElement<K, V>>> send(
            Function<? super StreamRecord<K, V>, ?> format) {
        return new RecordsOperator<>(settings, sender, meters, format);
    }

    /**
     * The sink as the {@link OutboxSink} of a checkpointed pipeline:
     * {@code cp.sink(httpSink.outbox(), HttpSink.json(format))}. Each outbox entry is one result as
     * JSON text. A delivery sends the checkpoint's output in batches, up to {@code maxInFlight} at a
     * time, and blocks until all are answered (the pipeline calls it where blocking is allowed).
     * <p>
     * When a request is refused (after its last retry, or with a status that is not retried), the
     * delivery fails with an {@link HttpSinkException}: the pipeline fails, the results stay in the
     * checkpoint's outbox and a restart delivers them again, with the same keys, so the receiver
     * can drop those it took already. With {@link Builder#deadLetters} the refused results go there
     * instead and the delivery succeeds.
     * <p>
     * It keeps no {@link OutboxSink.Delivery delivery records} (it cannot ask an arbitrary receiver
     * what it holds): exactly-once relies on the receiver dropping keys it has seen, and a pipeline
     * whose checkpoint store fell back to an older checkpoint starts only with
     * {@code acceptRedeliveryAfterFallback()}.
     *
     * @return the outbox sink
     */
    public OutboxSink<String> outbox() {
        return new HttpOutboxSink(settings, sender, meters);
    }

    /**
     * A format for {@link io.streamflow.reactive.Checkpointing#sink}: the record's result as JSON
     * text, which {@link #outbox()} sends.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param format a record's result: any value Jackson can write
     * @return a function from a record to its result's JSON text
     * @throws NullPointerException if {@code format} is {@code null}
     */
    public static <K, V> Function<StreamRecord<K, V>, String> json(Function<? super StreamRecord<K, V>, ?> format) {
        Objects.requireNonNull(format, "format");
        return r -> Bodies.MAPPER.writeValueAsString(format.apply(r));
    }

    /** Closes the sink's connections; requests still in flight fail. */
    @Override
    public void close() {
        sender.close();
    }

    @Override
    public String toString() {
        return "HttpSink '" + settings.name() + "' (" + settings.target() + ")";
    }

    /**
     * Options of an {@link HttpSink}. {@link #build()} checks them all and reports every problem at
     * once.
     */
    public static final class Builder {
        private static final Set<String> RESERVED = Set.of("content-type", "content-length", "host",
                "transfer-encoding", IDEMPOTENCY_KEY_HEADER.toLowerCase(Locale.ROOT));

        private final URI uri;
        private Method method = Method.POST;
        private String name = "http-sink";
        private String pipeline = "default";
        private int batchSize = 100;
        private Duration maxBatchDelay = Duration.ofMillis(100);
        private int maxInFlight = 4;
        private Duration timeout = Duration.ofSeconds(10);
        private int maxRetries = 5;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(10);
        private final Map<String, String> headers = new LinkedHashMap<>();
        private final List<String> problems = new ArrayList<>();
        private BodyFormat bodyFormat = BodyFormat.JSON_ARRAY;
        private Scheduler scheduler = Schedulers.parallel();
        private MeterRegistry registry = new SimpleMeterRegistry();
        private OutboxSink<String> deadLetters;
        private LongUnaryOperator jitter = Backoff.RANDOM_JITTER;

        private Builder(URI uri) {
            this.uri = uri;
        }

        /**
         * @param newMethod {@link Method#POST} (default) or {@link Method#PUT}
         * @return this builder
         * @throws NullPointerException if {@code newMethod} is {@code null}
         */
        public Builder method(Method newMethod) {
            this.method = Objects.requireNonNull(newMethod, "method");
            return this;
        }

        /**
         * @param newName the sink's name (default {@code "http-sink"}): the {@code sink} tag of its
         *                meters, the operator of its dead letters and the start of its idempotency
         *                keys; not blank
         * @return this builder
         * @throws NullPointerException if {@code newName} is {@code null}
         */
        public Builder name(String newName) {
            this.name = Objects.requireNonNull(newName, "name");
            return this;
        }

        /**
         * @param name the {@code pipeline} tag (default {@code "default"}) under which the sink's dead
         *             letters are also counted in {@code streamflow.records.dead.letter} (with
         *             {@code operator} the sink's name), like every dead letter of the pipeline
         * @return this builder
         * @throws NullPointerException if {@code name} is {@code null}
         */
        public Builder pipeline(String name) {
            this.pipeline = Objects.requireNonNull(name, "pipeline");
            return this;
        }

        /**
         * @param size most results per request (default 100), {@code >= 1}
         * @return this builder
         */
        public Builder batchSize(int size) {
            this.batchSize = size;
            return this;
        }

        /**
         * @param delay longest a partial batch waits for more results before it is sent (default
         *              100 ms), positive; timed on the {@link #scheduler}
         * @return this builder
         * @throws NullPointerException if {@code delay} is {@code null}
         */
        public Builder maxBatchDelay(Duration delay) {
            this.maxBatchDelay = Objects.requireNonNull(delay, "maxBatchDelay");
            return this;
        }

        /**
         * @param requests most requests of this sink open at a time (default 4), {@code >= 1}
         * @return this builder
         */
        public Builder maxInFlight(int requests) {
            this.maxInFlight = requests;
            return this;
        }

        /**
         * @param newTimeout longest wait for a connection, and for the answer once the request is
         *                   sent (default 10 s), positive; past it the attempt counts as a timeout
         * @return this builder
         * @throws NullPointerException if {@code newTimeout} is {@code null}
         */
        public Builder timeout(Duration newTimeout) {
            this.timeout = Objects.requireNonNull(newTimeout, "timeout");
            return this;
        }

        /**
         * @param retries how many times a request is tried again after a retryable failure (default
         *                5), {@code >= 0}
         * @return this builder
         */
        public Builder maxRetries(int retries) {
            this.maxRetries = retries;
            return this;
        }

        /**
         * @param initial the bound of the first retry's random delay (default 100 ms), positive
         * @param max     the bound of every retry's delay and of a {@code Retry-After} wait (default
         *                10 s), at least {@code initial}
         * @return this builder
         * @throws NullPointerException if an argument is {@code null}
         */
        public Builder backoff(Duration initial, Duration max) {
            this.initialBackoff = Objects.requireNonNull(initial, "initial");
            this.maxBackoff = Objects.requireNonNull(max, "max");
            return this;
        }

        /**
         * Adds a header to every request, such as {@code Authorization}; a later call with the same
         * name replaces the value. {@code Content-Type}, {@code Content-Length}, {@code Host},
         * {@code Transfer-Encoding} and {@value HttpSink#IDEMPOTENCY_KEY_HEADER} are set by the sink.
         *
         * @param headerName  the header's name
         * @param headerValue its value
         * @return this builder
         * @throws NullPointerException if an argument is {@code null}
         */
        public Builder header(String headerName, String headerValue) {
            Objects.requireNonNull(headerName, "headerName");
            Objects.requireNonNull(headerValue, "headerValue");
            if (RESERVED.contains(headerName.toLowerCase(Locale.ROOT))) {
                problems.add("header '" + headerName + "' is set by the sink; do not set it with header()");
            } else if (headerName.isBlank() || !headerName.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':')) {
                problems.add("header name '" + headerName + "' must be visible ASCII without ':'");
            } else if (!headerValue.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c < 0x7f))) {
                problems.add("the value of header '" + headerName + "' must be printable ASCII");
            } else {
                headers.put(headerName, headerValue);
            }
            return this;
        }

        /**
         * @param format {@link BodyFormat#JSON_ARRAY} (default) or {@link BodyFormat#JSON_LINES}
         * @return this builder
         * @throws NullPointerException if {@code format} is {@code null}
         */
        public Builder bodyFormat(BodyFormat format) {
            this.bodyFormat = Objects.requireNonNull(format, "format");
            return this;
        }

        /**
         * @param newScheduler times the batch delay and the backoff between retries (default
         *                     {@code Schedulers.parallel()}; a virtual-time scheduler in tests)
         * @return this builder
         * @throws NullPointerException if {@code newScheduler} is {@code null}
         */
        public Builder scheduler(Scheduler newScheduler) {
            this.scheduler = Objects.requireNonNull(newScheduler, "scheduler");
            return this;
        }

        /**
         * @param newRegistry where the sink's meters go (default: a private
         *                    {@code SimpleMeterRegistry}, so they are not published)
         * @return this builder
         * @throws NullPointerException if {@code newRegistry} is {@code null}
         */
        public Builder meterRegistry(MeterRegistry newRegistry) {
            this.registry = Objects.requireNonNull(newRegistry, "registry");
            return this;
        }

        /**
         * Where {@link HttpSink#outbox()} puts the results it could not deliver, instead of failing
         * the delivery: one JSON line per result, {@code {"sink", "target", "checkpoint", "index",
         * "idempotencyKey", "status", "attempts", "error", "result"}}, delivered under the
         * checkpoint's id (so {@code StreamSinks.exactlyOnceFiles(dir)} keeps them exactly once).
         * Not used by {@link HttpSink#send}, whose dead letters go downstream.
         *
         * @param sink where refused results of a checkpoint go
         * @return this builder
         * @throws NullPointerException if {@code sink} is {@code null}
         */
        public Builder deadLetters(OutboxSink<String> sink) {
            this.deadLetters = Objects.requireNonNull(sink, "deadLetters");
            return this;
        }

        /** For tests: given a bound {@code b}, the delay in {@code [0, b]} nanoseconds. */
        Builder jitter(LongUnaryOperator newJitter) {
            this.jitter = Objects.requireNonNull(newJitter, "jitter");
            return this;
        }

        /**
         * Checks the options and makes the sink, with a connection pool of {@code maxInFlight}
         * connections (opened as requests need them).
         *
         * @return the sink; close it when done
         * @throws IllegalArgumentException listing every invalid option, each with what is expected
         */
        public HttpSink build() {
            List<String> errors = new ArrayList<>(problems);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                errors.add("uri must be an absolute http:// or https:// URL, was '" + uri + "'");
            } else if (uri.getHost() == null) {
                errors.add("uri must name a host, was '" + uri + "'");
            }
            if (name.isBlank()) {
                errors.add("name must not be blank");
            }
            if (batchSize < 1) {
                errors.add("batchSize must be >= 1, was " + batchSize);
            }
            if (maxInFlight < 1) {
                errors.add("maxInFlight must be >= 1, was " + maxInFlight);
            }
            if (maxRetries < 0) {
                errors.add("maxRetries must be >= 0, was " + maxRetries);
            }
            positive(errors, "maxBatchDelay", maxBatchDelay);
            positive(errors, "timeout", timeout);
            positive(errors, "initial backoff", initialBackoff);
            positive(errors, "max backoff", maxBackoff);
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                errors.add("max backoff must be >= initial backoff, was " + maxBackoff + " < " + initialBackoff);
            }
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException("invalid HttpSink options for " + uri + ": "
                        + String.join("; ", errors));
            }
            return new HttpSink(new SinkSettings(uri, method, name, pipeline, batchSize, maxBatchDelay, maxInFlight,
                    timeout, maxRetries, initialBackoff, maxBackoff, Map.copyOf(headers), bodyFormat, scheduler,
                    registry, deadLetters, jitter));
        }

        private static void positive(List<String> errors, String what, Duration d) {
            if (d.isZero() || d.isNegative()) {
                errors.add(what + " must be positive, was " + d);
            }
        }
    }
}
