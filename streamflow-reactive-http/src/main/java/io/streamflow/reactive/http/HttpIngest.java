package io.streamflow.reactive.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.internal.ingest.IngestAccess;
import io.streamflow.reactive.http.internal.ingest.IngestEngine;
import io.streamflow.reactive.json.JsonDecoder;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A named source fed by HTTP: clients {@code POST} JSON records, a pipeline reads them with demand.
 * <pre>{@code
 * HttpIngest<Event> clicks = HttpIngest.builder("clicks", JsonDecoder.events().timestampField("ts"))
 *         .bufferRecords(10_000)
 *         .build();
 * EventStream.from(clicks.flux(), WatermarkStrategy.<Void, Event>forBoundedOutOfOrderness(Duration.ofSeconds(5)))
 *         ...
 * }</pre>
 * The server that mounts the source answers {@code POST}s to it; see the module's documentation.
 * <h2>Requests</h2>
 * <ul>
 * <li>{@code Content-Type: application/x-ndjson} or {@code application/jsonl}: one JSON value per
 * line (LF or CRLF); empty lines are ignored but counted, so line numbers are those of the body.</li>
 * <li>{@code Content-Type: application/json}: a JSON array of values, or one value; a record's
 * "line" is then its element's 1-based index.</li>
 * <li>Any other content type, or a charset other than UTF-8: {@code 415}.</li>
 * </ul>
 * Each record is decoded by the {@link JsonDecoder} (which takes its event time from the timestamp
 * field). A record that cannot be decoded, is not valid UTF-8 (decoded strictly) or is longer than
 * {@link Builder#maxRecordBytes(int)} is rejected: it becomes a {@link DeadLetter} in its place,
 * while the request's other records are accepted. The answer is {@code 200} with
 * {@code {"requestId":"...","accepted":n,"rejected":m,"errors":[{"line":3,"error":"..."}]}} (at
 * most ten errors listed). A request none of whose records can be decoded, a body that is empty or
 * holds no records, or a JSON body that does not parse at all is answered {@code 400} and nothing
 * of it is taken. A body longer than {@link Builder#maxRequestBytes(long)} is answered {@code 413}:
 * by its {@code Content-Length} before any of it is read, or, for a chunked body, as soon as the
 * bytes read pass the limit. Error answers are JSON:
 * {@code {"status":413,"error":"Payload Too Large","message":"..."}}. The request id is the
 * {@code X-Request-Id} header (printable ASCII, at most 128 characters) or a generated one, and
 * is echoed in the response's {@code X-Request-Id}.
 * <h2>Backpressure: all or nothing per request</h2>
 * Accepted records wait in a buffer of {@link Builder#bufferRecords(int)} elements (records and
 * dead letters) until the pipeline requests them. A request is taken whole or not at all: when its
 * elements do not fit in the free part of the buffer it is answered {@code 429 Too Many Requests}
 * with {@code Retry-After} ({@link Builder#retryAfter(Duration)}) and nothing of it is taken, so
 * the client sends the same request again later. A request with more elements than the whole
 * buffer can never fit and is answered {@code 413}. The buffer never holds more than its size, and
 * a request body is never held beyond {@code maxRequestBytes}.
 * <h2>Idempotency</h2>
 * A request with an {@code Idempotency-Key} header whose key was accepted before (one of the last
 * {@code count} keys, within {@code age}; see {@link Builder#idempotencyKeys(int, Duration)}) is
 * not taken again: it gets the first answer again, with the header {@code Idempotent-Replayed: true}.
 * The same key with a different body is answered {@code 422}. Two concurrent requests with the
 * same key are never both taken. Only accepted requests ({@code 200}) are remembered, so a request
 * answered {@code 429} may be sent again with its key.
 * <h2>Waiting for durability</h2>
 * A request to the route with {@code ?wait=durable} is answered once a checkpoint holding its last
 * element is durable, as told by {@link #durableUpTo(long)}: {@code 200} with
 * {@code "durable":true}; or, after {@link Builder#durableTimeout(Duration)}, {@code 202} with
 * {@code "durable":false} (the records were taken and are on their way, but not yet in a
 * checkpoint). Without it, {@code 200} means the records are in the buffer, in memory. Another
 * {@code wait} value is answered {@code 400}. A replayed answer ({@code Idempotent-Replayed}) does
 * not wait.
 * <h2>The stream</h2>
 * {@link #flux()} delivers, in the order they were accepted, each request's elements together:
 * {@link StreamRecord}s with a {@code null} key, the decoded value, the event time from the
 * decoder and the {@link Origin} (source name, partition 0, sequence number), and
 * {@link DeadLetter}s (operator {@value #OPERATOR}, the same kind of origin, the line or its bytes
 * as input, an {@link HttpIngestException} as error). It has one subscriber at a time and honours
 * its demand; what a cancelled subscriber did not receive stays for the next one. It completes
 * after {@link #close()} once the buffer is empty. Each accepted element is delivered once.
 * Records waiting in the buffer are in memory only: a crash loses what the pipeline had not yet
 * taken into a checkpoint.
 * <h2>Meters</h2>
 * Tagged {@code source} (the name): {@code streamflow.http.ingest.records} (counter, tag
 * {@code result}: {@code accepted} or {@code rejected}), {@code streamflow.http.ingest.requests}
 * (counter, tag {@code status}: the HTTP status answered) and {@code streamflow.http.ingest.buffered}
 * (gauge: elements waiting for the pipeline).
 *
 * @param <T> the decoded record type
 */
public final class HttpIngest<T> {

    /** The {@link DeadLetter#operator()} of the records an {@link HttpIngest} rejects. */
    public static final String OPERATOR = "httpIngest";

    static {
        IngestAccess.install(ingest -> ingest.engine);
    }

    private final IngestEngine<T> engine;

    private HttpIngest(IngestEngine<T> engine) {
        this.engine = engine;
    }

    /**
     * Starts the configuration of a source.
     *
     * @param <T>     the decoded record type
     * @param name    the source's name: in each record's {@link Origin}, in the meters' tags and, for
     *                a checkpointed pipeline, in its checkpoints
     * @param decoder decodes each record; its timestamp field gives the event time
     * @return a builder with the defaults
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static <T> Builder<T> builder(String name, JsonDecoder<T> decoder) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(decoder, "decoder");
        if (name.isBlank()) {
            throw new IllegalArgumentException("the source name must not be blank");
        }
        return new Builder<>(name, decoder);
    }

    /** @return the source's name */
    public String name() {
        return engine.name();
    }

    /**
     * The accepted records and dead letters, in the order they were accepted, with demand. One
     * subscriber at a time: a second concurrent subscriber gets an {@link IllegalStateException}.
     * A subscriber that cancels leaves what it did not receive to the next one. Completes once
     * {@link #close()} was called and everything accepted was delivered.
     *
     * @return the stream of this source, for {@code EventStream.from} or a {@code WatermarkStrategy}
     */
    public Flux<StreamElement<Void, T>> flux() {
        return engine.flux();
    }

    /**
     * A resume function for {@code Checkpointing.source(name(), ingest.resume(), strategy)}: sequence
     * numbers continue after the restored position, so positions in the checkpoints keep growing across
     * restarts. Records in the buffer when the process ended were not in a checkpoint and are not
     * delivered again: clients whose requests were not durable must send them again.
     *
     * @return the resume function, giving {@link #flux()} numbered after the restored position of partition 0
     */
    public Function<Map<Integer, Long>, Flux<StreamElement<Void, T>>> resume() {
        return positions -> {
            Long last = positions.get(0);
            if (last != null && last >= 0) {
                engine.continueAfter(last);
            }
            return engine.flux();
        };
    }

    /**
     * Tells the source that a checkpoint holding every element of partition 0 up to {@code position}
     * (a sequence number, as in the records' {@link Origin}) is durable: requests sent with
     * {@code ?wait=durable} whose last element is at or before it are answered. Call it with the
     * source's position of each durable checkpoint; positions that do not grow are ignored.
     *
     * @param position the source's position in the durable checkpoint
     */
    public void durableUpTo(long position) {
        engine.durableUpTo(position);
    }

    /**
     * Answers the requests sent with {@code ?wait=durable} as the checkpoints of
     * {@code checkpointing} become durable ({@link Checkpointing#durable()}): for a pipeline whose
     * checkpointed source named {@code sourceName} reads {@link #resume()} of this ingest.
     *
     * @param checkpointing the pipeline's checkpoints
     * @param sourceName    the name of this ingest's source in {@code Checkpointing.source}
     * @return stops following the checkpoints when disposed
     * @throws NullPointerException if an argument is {@code null}
     */
    public Disposable followCheckpoints(Checkpointing checkpointing, String sourceName) {
        Objects.requireNonNull(checkpointing, "checkpointing");
        Objects.requireNonNull(sourceName, "sourceName");
        return checkpointing.durable().subscribe(c -> {
            Long position = c.positions().getOrDefault(sourceName, Map.of()).get(0);
            if (position != null) {
                durableUpTo(position);
            }
        });
    }

    /** @return the number of elements (records and dead letters) waiting for the pipeline's demand */
    public int buffered() {
        return engine.buffered();
    }

    /**
     * Stops taking requests (they are answered {@code 503}); {@link #flux()} completes once what was
     * accepted has been delivered. Idempotent.
     */
    public void close() {
        engine.close();
    }

    @Override
    public String toString() {
        return "HttpIngest{" + engine + '}';
    }

    /**
     * Configuration of an {@link HttpIngest}; each setter validates its argument at once and
     * returns this builder. Not thread-safe.
     *
     * @param <T> the decoded record type
     */
    public static final class Builder<T> {

        /** Default {@link #maxRequestBytes(long)}: 10 MiB. */
        public static final long DEFAULT_MAX_REQUEST_BYTES = 10L * 1024 * 1024;
        /** Default {@link #maxRecordBytes(int)}: 1 MiB. */
        public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
        /** Default {@link #bufferRecords(int)}. */
        public static final int DEFAULT_BUFFER_RECORDS = 10_000;
        /** Default number of {@link #idempotencyKeys(int, Duration)} remembered. */
        public static final int DEFAULT_IDEMPOTENCY_KEYS = 10_000;
        /** Default time {@link #idempotencyKeys(int, Duration)} are remembered: 24 hours. */
        public static final Duration DEFAULT_IDEMPOTENCY_AGE = Duration.ofHours(24);
        /** Default {@link #durableTimeout(Duration)}: 30 seconds. */
        public static final Duration DEFAULT_DURABLE_TIMEOUT = Duration.ofSeconds(30);
        /** Default {@link #retryAfter(Duration)}: 1 second. */
        public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

        private final String name;
        private final JsonDecoder<T> decoder;
        private long maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
        private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
        private int bufferRecords = DEFAULT_BUFFER_RECORDS;
        private int idempotencyKeys = DEFAULT_IDEMPOTENCY_KEYS;
        private Duration idempotencyAge = DEFAULT_IDEMPOTENCY_AGE;
        private Duration retryAfter = DEFAULT_RETRY_AFTER;
        private Duration durableTimeout = DEFAULT_DURABLE_TIMEOUT;
        private MeterRegistry registry = Metrics.globalRegistry;
        private Scheduler scheduler = Schedulers.parallel();

        private Builder(String name, JsonDecoder<T> decoder) {
            this.name = name;
            this.decoder = decoder;
        }

        /**
         * The largest request body taken: a longer one is answered {@code 413}, by its
         * {@code Content-Length} before it is read, or as soon as a chunked body passes it.
         *
         * @param bytes at least 1 and at most {@code Integer.MAX_VALUE - 8}; default {@value #DEFAULT_MAX_REQUEST_BYTES}
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is out of range
         */
        public Builder<T> maxRequestBytes(long bytes) {
            if (bytes < 1 || bytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxRequestBytes must be between 1 and " + (Integer.MAX_VALUE - 8)
                        + ", was " + bytes);
            }
            this.maxRequestBytes = bytes;
            return this;
        }

        /**
         * The longest record (a line without its line end, or an array element as JSON text): a
         * longer one is rejected as a dead letter without being kept in memory.
         *
         * @param bytes at least 1; default {@value #DEFAULT_MAX_RECORD_BYTES}
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is less than 1
         */
        public Builder<T> maxRecordBytes(int bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxRecordBytes must be at least 1, was " + bytes);
            }
            this.maxRecordBytes = bytes;
            return this;
        }

        /**
         * How many elements (records and dead letters) may wait for the pipeline's demand. A request
         * that does not fit is answered {@code 429}; one larger than the whole buffer {@code 413}.
         *
         * @param records at least 1; default {@value #DEFAULT_BUFFER_RECORDS}
         * @return this builder
         * @throws IllegalArgumentException if {@code records} is less than 1
         */
        public Builder<T> bufferRecords(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("bufferRecords must be at least 1, was " + records);
            }
            this.bufferRecords = records;
            return this;
        }

        /**
         * How many accepted {@code Idempotency-Key}s are remembered, and for how long: a request with
         * a remembered key gets the first answer again and is not taken again. The oldest key is
         * forgotten first when there are more than {@code count}.
         *
         * @param count how many keys, {@code 0} to ignore the header; default {@value #DEFAULT_IDEMPOTENCY_KEYS}
         * @param age   how long a key is remembered after its request was accepted, positive; default 24 hours
         * @return this builder
         * @throws NullPointerException     if {@code age} is {@code null}
         * @throws IllegalArgumentException if {@code count} is negative or {@code age} is not positive
         */
        public Builder<T> idempotencyKeys(int count, Duration age) {
            Objects.requireNonNull(age, "age");
            if (count < 0) {
                throw new IllegalArgumentException("idempotency key count must be >= 0, was " + count);
            }
            if (age.isZero() || age.isNegative()) {
                throw new IllegalArgumentException("idempotency key age must be positive, was " + age);
            }
            this.idempotencyKeys = count;
            this.idempotencyAge = age;
            return this;
        }

        /**
         * What {@code Retry-After} tells a client whose request did not fit in the buffer.
         *
         * @param delay at least one second (the header counts whole seconds; rounded up); default 1 second
         * @return this builder
         * @throws NullPointerException     if {@code delay} is {@code null}
         * @throws IllegalArgumentException if {@code delay} is less than one second
         */
        public Builder<T> retryAfter(Duration delay) {
            Objects.requireNonNull(delay, "delay");
            if (delay.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("retryAfter must be at least 1 second (Retry-After counts "
                        + "whole seconds), was " + delay);
            }
            this.retryAfter = delay;
            return this;
        }

        /**
         * How long a request with {@code ?wait=durable} waits for a checkpoint holding its records
         * before it is answered {@code 202} (taken, not yet durable); see {@link HttpIngest#durableUpTo(long)}.
         *
         * @param timeout positive; default 30 seconds
         * @return this builder
         * @throws NullPointerException     if {@code timeout} is {@code null}
         * @throws IllegalArgumentException if {@code timeout} is not positive
         */
        public Builder<T> durableTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("durableTimeout must be positive, was " + timeout);
            }
            this.durableTimeout = timeout;
            return this;
        }

        /**
         * @param newRegistry where the meters are registered; default {@code Metrics.globalRegistry}
         * @return this builder
         * @throws NullPointerException if {@code newRegistry} is {@code null}
         */
        public Builder<T> meterRegistry(MeterRegistry newRegistry) {
            this.registry = Objects.requireNonNull(newRegistry, "registry");
            return this;
        }

        /**
         * @param clock the scheduler whose {@code now} ages idempotency keys and which times
         *              {@link #durableTimeout(Duration)} (a {@code VirtualTimeScheduler} in tests);
         *              default {@code Schedulers.parallel()}
         * @return this builder
         * @throws NullPointerException if {@code clock} is {@code null}
         */
        public Builder<T> scheduler(Scheduler clock) {
            this.scheduler = Objects.requireNonNull(clock, "scheduler");
            return this;
        }

        /**
         * Builds the source and registers its meters.
         *
         * @return the source
         */
        public HttpIngest<T> build() {
            return new HttpIngest<>(new IngestEngine<>(name, decoder, maxRequestBytes, maxRecordBytes, bufferRecords,
                    idempotencyKeys, idempotencyAge, retryAfter, durableTimeout, registry, scheduler));
        }

        @Override
        public String toString() {
            return "HttpIngest.Builder{name=" + name + ", maxRequestBytes=" + maxRequestBytes + ", maxRecordBytes="
                    + maxRecordBytes + ", bufferRecords=" + bufferRecords + ", idempotencyKeys=" + idempotencyKeys
                    + "/" + idempotencyAge + ", retryAfter=" + retryAfter + '}';
        }
    }
}
