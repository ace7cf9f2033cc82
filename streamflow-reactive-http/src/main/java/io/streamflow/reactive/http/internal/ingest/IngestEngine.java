package io.streamflow.reactive.http.internal.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.LineDecodingException;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.HttpIngestException;
import io.streamflow.reactive.json.JsonDecoder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Everything of one {@link io.streamflow.reactive.http.HttpIngest} that is not HTTP: its limits,
 * decoding a request's records into buffer elements, the all-or-nothing append with idempotency
 * keys, the answers and the meters. Thread-safe.
 *
 * @param <T> the decoded type
 */
public final class IngestEngine<T> {

    /** Meter: records taken or rejected, tag {@code result}. */
    public static final String RECORDS_METER = "streamflow.http.ingest.records";
    /** Meter: requests answered, tag {@code status}. */
    public static final String REQUESTS_METER = "streamflow.http.ingest.requests";
    /** Meter: elements waiting in the buffer. */
    public static final String BUFFERED_METER = "streamflow.http.ingest.buffered";

    /** At most this many errors are listed in an answer. */
    static final int MAX_LISTED_ERRORS = 10;

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String name;
    private final JsonDecoder<T> decoder;
    private final long maxRequestBytes;
    private final int maxRecordBytes;
    private final IngestBuffer<T> buffer;
    private final IdempotencyKeys keys;
    private final long retryAfterSeconds;
    private final MeterRegistry registry;
    private final Counter accepted;
    private final Counter rejected;
    private final DurableWaits durableWaits = new DurableWaits();
    private final Duration durableTimeout;
    private final Scheduler clock;
    /**
     * Runs between the lookup of a request's idempotency key and its append; {@code null} but in tests,
     * which pause there to check that a concurrent request with the same key waits.
     */
    volatile Runnable beforeKeyedAppend;

    /**
     * Creates the engine; {@code HttpIngest.Builder} validated the arguments.
     *
     * @param name            source name
     * @param decoder         record decoder
     * @param maxRequestBytes largest body
     * @param maxRecordBytes  longest record
     * @param bufferRecords   buffer size in elements
     * @param idempotencyKeys keys remembered, 0 for none
     * @param idempotencyAge  how long keys are remembered
     * @param retryAfter      what {@code Retry-After} says
     * @param durableTimeout  how long a request waits for durability
     * @param registry        where meters go
     * @param clock           the clock of the idempotency keys
     */
    public IngestEngine(String name, JsonDecoder<T> decoder, long maxRequestBytes, int maxRecordBytes,
                        int bufferRecords, int idempotencyKeys, Duration idempotencyAge, Duration retryAfter,
                        Duration durableTimeout, MeterRegistry registry, Scheduler clock) {
        this.name = name;
        this.decoder = decoder;
        this.maxRequestBytes = maxRequestBytes;
        this.maxRecordBytes = maxRecordBytes;
        BodyReader.firstInvalidUtf8(new byte[0], 0); // initialises BodyReader (its digest lookup) here
        this.buffer = new IngestBuffer<>(name, bufferRecords);
        this.keys = new IdempotencyKeys(idempotencyKeys, idempotencyAge.toMillis(), clock);
        long seconds = retryAfter.getSeconds() + (retryAfter.getNano() > 0 ? 1 : 0);
        this.retryAfterSeconds = Math.max(1, seconds);
        this.registry = registry;
        this.durableTimeout = durableTimeout;
        this.clock = clock;
        this.accepted = Counter.builder(RECORDS_METER).baseUnit("records").tag("source", name)
                .tag("result", "accepted").description("Records taken from HTTP requests").register(registry);
        this.rejected = Counter.builder(RECORDS_METER).baseUnit("records").tag("source", name)
                .tag("result", "rejected").description("Records of HTTP requests that could not be decoded")
                .register(registry);
        Gauge.builder(BUFFERED_METER, buffer, IngestBuffer::held).baseUnit("records").tag("source", name)
                .description("Elements of HTTP requests waiting for the pipeline's demand").register(registry);
    }

    /** @return the source name */
    public String name() {
        return name;
    }

    /** @return the stream of accepted elements */
    public Flux<StreamElement<Void, T>> flux() {
        return buffer;
    }

    /** @param position the restored position: sequence numbers continue after it */
    public void continueAfter(long position) {
        buffer.continueAfter(position);
    }

    /** @return elements waiting for demand */
    public int buffered() {
        return buffer.held();
    }

    /** @return the most elements that waited at once since the source was built */
    public int peakBuffered() {
        return buffer.peak();
    }

    /** @return the buffer's size */
    public int capacity() {
        return buffer.capacity();
    }

    /** @param position a checkpoint holding every element up to this sequence number is durable */
    public void durableUpTo(long position) {
        durableWaits.durableUpTo(position);
    }

    /** @return requests waiting for durability */
    public int durableWaiting() {
        return durableWaits.waiting();
    }

    /** Stops taking requests; the stream completes once drained. */
    public void close() {
        buffer.close();
    }

    boolean isClosed() {
        return buffer.isClosed();
    }

    long maxRequestBytes() {
        return maxRequestBytes;
    }

    int maxRecordBytes() {
        return maxRecordBytes;
    }

    /** Counts an answered request. */
    void answered(int status) {
        registry.counter(REQUESTS_METER, "source", name, "status", Integer.toString(status)).increment();
    }

    /**
     * Decodes and takes one request whose body was read entirely: the whole request or nothing.
     * CPU work only (no I/O, no waiting).
     */
    Answer take(String requestId, String idempotencyKey, BodyReader body) {
        return take(requestId, idempotencyKey, body, null);
    }

    /**
     * As {@link #take(String, String, BodyReader)}; when {@code wait} is given and the request is taken,
     * {@code wait} completes once a checkpoint holding its last element is durable.
     */
    Answer take(String requestId, String idempotencyKey, BodyReader body, DurableWaits.Wait wait) {
        byte[] digest = body.finishDigest();
        if (idempotencyKey != null && keys.enabled()) {
            Answer earlier = replay(idempotencyKey, digest);
            if (earlier != null) {
                return earlier; // no need to decode what will not be taken
            }
        }
        List<BodyReader.RawRecord> raw;
        if (body.format() == BodyReader.Format.LINES) {
            raw = body.lines();
        } else {
            try {
                raw = jsonRecords(body.body());
            } catch (BadBody bad) {
                return error(400, bad.getMessage());
            }
        }
        if (raw.isEmpty()) {
            return error(400, "the body holds no records (" + body.bytes() + " bytes" + (body.bytes() == 0 ? ""
                    : body.format() == BodyReader.Format.LINES ? ", only empty lines" : ", an empty array")
                    + "); send one JSON record per line (application/x-ndjson), or a JSON array of records "
                    + "(application/json)");
        }
        List<Pending<T>> elements = decode(requestId, raw);
        long bad = elements.stream().filter(p -> p.error() != null).count();
        long good = elements.size() - bad;
        if (good == 0) {
            rejected.increment(bad);
            Map<String, Object> answer = errorBody(400, "none of the " + bad + " records of request " + requestId
                    + " could be taken; the errors say why (JSON per record, UTF-8, at most " + maxRecordBytes
                    + " bytes each)");
            answer.put("requestId", requestId);
            answer.putAll(counts(0, bad, elements));
            return new Answer(400, Map.of(), write(answer), false);
        }
        Map<String, Object> ok = new LinkedHashMap<>();
        ok.put("requestId", requestId);
        ok.putAll(counts(good, bad, elements));
        Answer success = new Answer(200, Map.of(), write(ok), false);
        if (wait != null) {
            int last = elements.size() - 1;
            elements.set(last, elements.get(last).whenDelivered(sequence -> durableWaits.delivered(sequence, wait)));
        }
        IngestBuffer.Offer offer;
        if (idempotencyKey != null && keys.enabled()) {
            // look up, append and remember as one step, so that of two concurrent requests with one key
            // only one is appended; the pipeline is called after the lock is released
            synchronized (keys) {
                Answer earlier = replay(idempotencyKey, digest);
                if (earlier != null) {
                    return earlier;
                }
                Runnable pause = beforeKeyedAppend;
                if (pause != null) {
                    pause.run();
                }
                offer = buffer.append(elements);
                if (offer == IngestBuffer.Offer.TAKEN) {
                    keys.remember(idempotencyKey, digest, success);
                }
            }
            if (offer == IngestBuffer.Offer.TAKEN) {
                buffer.drain();
            }
        } else {
            offer = buffer.offer(elements);
        }
        return switch (offer) {
            case TAKEN -> {
                accepted.increment(good);
                rejected.increment(bad);
                yield success;
            }
            case FULL -> error(429, "the source '" + name + "' has room for " + Math.max(0, buffer.free())
                    + " of the " + elements.size() + " records of this request now (buffer of " + buffer.capacity()
                    + "); nothing of it was taken: send it again after " + retryAfterSeconds + " s")
                    .withHeader("Retry-After", Long.toString(retryAfterSeconds));
            case TOO_MANY -> error(413, "the request holds " + elements.size() + " records, more than the "
                    + buffer.capacity() + " the source '" + name + "' buffers (bufferRecords); nothing of it was "
                    + "taken: send at most " + buffer.capacity() + " records per request");
            case CLOSED -> closedAnswer();
        };
    }

    /**
     * The answer of a request taken with a wait: once a checkpoint holding it is durable, the
     * answer with {@code "durable":true}; after the timeout, {@code 202} with {@code "durable":false}
     * (the records were taken and are on their way; they are not yet in a checkpoint).
     */
    Mono<Answer> whenDurable(Answer taken, DurableWaits.Wait wait) {
        return wait.durable()
                .map(position -> withDurable(taken, 200, true, null))
                .timeout(durableTimeout, clock)
                .onErrorResume(TimeoutException.class, e -> {
                    durableWaits.cancel(wait);
                    return Mono.just(withDurable(taken, 202, false, "the records were taken but no checkpoint "
                            + "holding them was durable within " + durableTimeout + "; they are on their way"));
                })
                .doOnCancel(() -> durableWaits.cancel(wait));
    }

    @SuppressWarnings("unchecked")
    private static Answer withDurable(Answer taken, int status, boolean durable, String message) {
        Map<String, Object> body = JSON.readValue(taken.body(), LinkedHashMap.class);
        body.put("durable", durable);
        if (message != null) {
            body.put("message", message);
        }
        return new Answer(status, taken.headers(), write(body), taken.close());
    }

    private Answer replay(String key, byte[] digest) {
        IdempotencyKeys.Entry e;
        synchronized (keys) {
            e = keys.find(key);
        }
        if (e == null) {
            return null;
        }
        if (!Arrays.equals(e.digest(), digest)) {
            return error(422, "the Idempotency-Key '" + key + "' was used for a request with another body; "
                    + "use a new key for new records, or send the same body to get the first answer again");
        }
        return e.answer().withHeader("Idempotent-Replayed", "true");
    }

    Answer closedAnswer() {
        return error(503, "the source '" + name + "' is closed and takes no more records");
    }

    private Map<String, Object> counts(long good, long bad, List<Pending<T>> elements) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("accepted", good);
        m.put("rejected", bad);
        List<Map<String, Object>> errors = new ArrayList<>();
        for (Pending<T> p : elements) {
            if (p.error() != null && errors.size() < MAX_LISTED_ERRORS) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("line", p.error().line());
                e.put("error", p.error().getCause() == null ? p.error().getMessage() : p.error().getCause().getMessage());
                errors.add(e);
            }
        }
        m.put("errors", errors);
        return m;
    }

    /** The records of a JSON body: the elements of an array, or the body as one record. */
    private List<BodyReader.RawRecord> jsonRecords(byte[] body) {
        if (body.length == 0) {
            return List.of();
        }
        int invalid = BodyReader.firstInvalidUtf8(body, body.length);
        if (invalid >= 0) {
            throw new BadBody("the body is not valid UTF-8: byte 0x" + String.format("%02X", body[invalid] & 0xFF)
                    + " at byte " + invalid + " is not part of a valid sequence; send UTF-8 JSON");
        }
        String text = new String(body, StandardCharsets.UTF_8);
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new BadBody("the body is not JSON (expected a JSON array of records, or one JSON record): "
                    + e.getOriginalMessage() + locationOf(e));
        }
        if (root == null || root.isMissingNode()) {
            return List.of();
        }
        List<BodyReader.RawRecord> out = new ArrayList<>();
        if (!root.isArray()) {
            out.add(jsonRecord(1, text.strip()));
            return out;
        }
        long n = 0;
        for (JsonNode element : root) {
            n++;
            out.add(jsonRecord(n, JSON.writeValueAsString(element)));
        }
        return out;
    }

    private BodyReader.RawRecord jsonRecord(long n, String text) {
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > maxRecordBytes) {
            return new BodyReader.RawRecord(n, null, null, new LineDecodingException(
                    LineDecodingException.Reason.TOO_LONG, -1, bytes, -1, "element " + n + " is " + bytes
                    + " bytes as JSON, longer than the limit of " + maxRecordBytes + " bytes per record (maxRecordBytes)"));
        }
        return new BodyReader.RawRecord(n, text, null, null);
    }

    private static String locationOf(JacksonException e) {
        return e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr() + ")";
    }

    /**
     * Decodes the records that could be read as text with the source's decoder, in one synchronous
     * pass through its stream operator (which gives the event time); keeps the order of the body.
     */
    private List<Pending<T>> decode(String requestId, List<BodyReader.RawRecord> raw) {
        List<StreamRecord<Void, String>> texts = new ArrayList<>(raw.size());
        for (BodyReader.RawRecord r : raw) {
            if (r.text() != null) {
                texts.add(StreamRecord.of(null, r.text(), StreamRecord.NO_TIMESTAMP, Origin.of(name, 0, r.line())));
            }
        }
        List<StreamElement<Void, T>> decoded = new ArrayList<>(texts.size());
        // Flux.fromIterable + map: runs to completion on this thread during subscribe
        Flux.fromIterable(texts).transform(decoder.<Void>decodeText()).subscribe(decoded::add, e -> {
            throw new IllegalStateException("the JSON decoder failed on request " + requestId, e);
        });
        if (decoded.size() != texts.size()) {
            throw new IllegalStateException("the JSON decoder gave " + decoded.size() + " results for "
                    + texts.size() + " records of request " + requestId);
        }
        List<Pending<T>> out = new ArrayList<>(raw.size());
        int next = 0;
        for (BodyReader.RawRecord r : raw) {
            if (r.text() == null) {
                out.add(Pending.rejected(r.input(), new HttpIngestException(requestId, r.line(),
                        r.error().getMessage(), r.error())));
                continue;
            }
            StreamElement<Void, T> e = decoded.get(next++);
            if (e instanceof StreamRecord<Void, T> rec) {
                out.add(Pending.record(rec.value(), rec.timestamp()));
            } else if (e instanceof DeadLetter<Void, T> dead) {
                out.add(Pending.rejected(r.text(), new HttpIngestException(requestId, r.line(),
                        dead.error().getMessage(), dead.error())));
            } else {
                throw new IllegalStateException("the JSON decoder gave " + e + " for record " + r.line()
                        + " of request " + requestId);
            }
        }
        return out;
    }

    Answer error(int status, String message) {
        return new Answer(status, Map.of(), write(errorBody(status, message)), false);
    }

    static Map<String, Object> errorBody(int status, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status);
        m.put("error", reason(status));
        m.put("message", message);
        return m;
    }

    static byte[] write(Map<String, Object> body) {
        return JSON.writeValueAsBytes(body);
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 405 -> "Method Not Allowed";
            case 413 -> "Payload Too Large";
            case 415 -> "Unsupported Media Type";
            case 422 -> "Unprocessable Content";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "HTTP " + status;
        };
    }

    @Override
    public String toString() {
        return "name=" + name + ", maxRequestBytes=" + maxRequestBytes + ", maxRecordBytes=" + maxRecordBytes
                + ", buffer=" + buffer.held() + "/" + buffer.capacity();
    }

    /** A body that is not JSON at all. */
    static final class BadBody extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadBody(String message) {
            super(message, null, false, false);
        }
    }
}
