package io.streamflow.reactive.json;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.json.internal.JsonCodec;
import reactor.core.publisher.Flux;
import tools.jackson.databind.ObjectMapper;

import java.util.Objects;
import java.util.function.Function;

/**
 * Decodes JSON into {@link Event}s or into instances of your own class (a record, a bean), strictly:
 * one JSON value per input and nothing after it, with a {@link JsonDecodingException} that says what
 * was expected when the input is not that. Immutable; each setter returns a copy; thread-safe.
 * <pre>{@code
 * JsonDecoder<Event> readings = JsonDecoder.events().timestampField("ts").keyField("sensor");
 * EventStream.from(StreamSources.fileLines(file).transform(readings.decodeText()),
 *                 WatermarkStrategy.<Void, Event>forBoundedOutOfOrderness(Duration.ofMinutes(1)))
 *         .keyBy(Event::key)
 *         ...
 * }</pre>
 * <h2>Event time</h2>
 * The event time is read from a field holding epoch milliseconds as a JSON integer:
 * {@value #DEFAULT_TIMESTAMP_FIELD} by default for {@link #events()}, none by default for
 * {@link #of(Class)}; {@link #timestampField(String)} names another one. An input whose field is
 * missing, {@code null}, not an integer ({@code 1.7e12}, {@code "2024-01-01"}) or out of range is
 * not decoded. In a stream, the decoded record carries that time as its timestamp, which
 * {@link io.streamflow.reactive.WatermarkStrategy} uses by default. With
 * {@link #withoutTimestampField()} the record keeps its own timestamp (say, a Kafka record's), and
 * you may assign time with {@code WatermarkStrategy.withTimestampAssigner}.
 * <h2>In a stream</h2>
 * {@link #decodeText()} and {@link #decodeBytes()} decode the value of each record of a stream and
 * turn each record they cannot decode into a {@link DeadLetter} in its place, whose
 * {@linkplain DeadLetter#origin() origin} is the record's (source, partition, position: for a file,
 * the byte offset of the line), whose {@linkplain DeadLetter#input() input} is the record (so the
 * line itself) and whose error is the {@link JsonDecodingException}. Other elements (dead letters of
 * the source, watermarks) pass through. Apply them before the watermark strategy, which then counts
 * the dead letters in {@code streamflow.records.dead.letter} and takes the decoded timestamps.
 *
 * @param <T> the decoded type
 */
public final class JsonDecoder<T> {

    /** Timestamp field of {@link #events()} unless another is named. */
    public static final String DEFAULT_TIMESTAMP_FIELD = "timestamp";

    /** The {@link DeadLetter#operator()} of what {@link #decodeText()} and {@link #decodeBytes()} cannot decode. */
    public static final String OPERATOR = "json";

    private final Class<T> type;
    private final boolean events;
    private final ObjectMapper mapper;
    private final String timestampField;
    private final String keyField;
    private final JsonCodec<T> codec;

    private JsonDecoder(Class<T> type, boolean events, ObjectMapper mapper, String timestampField, String keyField) {
        this.type = type;
        this.events = events;
        this.mapper = mapper;
        this.timestampField = timestampField;
        this.keyField = keyField;
        this.codec = new JsonCodec<>(mapper == null ? JsonCodec.defaultMapper() : mapper, type, events,
                timestampField, keyField);
    }

    /**
     * JSON objects as {@link Event}s: every field of the object becomes a field of the event
     * (strings, numbers, booleans, {@code null}, nested maps and lists), the timestamp comes from
     * the field {@value #DEFAULT_TIMESTAMP_FIELD} and the key is {@code null} until
     * {@link #keyField(String)} names the field holding it.
     *
     * @return a decoder of JSON objects into events, with the default mapper
     */
    public static JsonDecoder<Event> events() {
        return new JsonDecoder<>(Event.class, true, null, DEFAULT_TIMESTAMP_FIELD, null);
    }

    /**
     * JSON bound to {@code type} by Jackson (records, beans, collections of them; unknown properties
     * are ignored, a missing primitive is an error, a floating-point number is not truncated into an
     * integer). No timestamp field unless {@link #timestampField(String)} names one.
     *
     * @param <T>  the class to bind to
     * @param type the class to bind to; not {@link Event}
     * @return a decoder into {@code type}, with the default mapper
     * @throws NullPointerException     if {@code type} is {@code null}
     * @throws IllegalArgumentException if {@code type} is {@link Event} (use {@link #events()})
     */
    public static <T> JsonDecoder<T> of(Class<T> type) {
        Objects.requireNonNull(type, "type");
        if (type == Event.class) {
            throw new IllegalArgumentException("use JsonDecoder.events() to decode into Event");
        }
        return new JsonDecoder<>(type, false, null, null, null);
    }

    /**
     * Names the field that holds the event time. Every input must then be a JSON object; the field
     * is still bound to the class (or kept among the event's fields) as well.
     *
     * @param name a top-level field of the JSON object
     * @return a copy that reads the event time (epoch millis, a JSON integer) from the top-level field {@code name}
     * @throws NullPointerException     if {@code name} is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public JsonDecoder<T> timestampField(String name) {
        return new JsonDecoder<>(type, events, mapper, requireName(name, "timestamp field"), keyField);
    }

    /** @return a copy that reads no event time: records keep their own timestamp (decode: events get StreamRecord.NO_TIMESTAMP) */
    public JsonDecoder<T> withoutTimestampField() {
        return new JsonDecoder<>(type, events, mapper, null, keyField);
    }

    /**
     * @return a copy whose events take their key from the top-level field {@code name} (a string, or a
     * number or boolean as text); an object without it is not decoded
     * @param name a top-level field of the JSON object
     * @throws IllegalStateException for a decoder of a class: key its records with {@code keyBy}
     * @throws NullPointerException     if {@code name} is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public JsonDecoder<T> keyField(String name) {
        if (!events) {
            throw new IllegalStateException("keyField applies to JsonDecoder.events(); key records of "
                    + type.getSimpleName() + " with EventStream.keyBy(value -> ...)");
        }
        return new JsonDecoder<>(type, true, mapper, timestampField, requireName(name, "key field"));
    }

    /**
     * @param objectMapper the mapper to decode with; used as it is, so the default mapper's settings
     *                     (such as refusing a float for an integer) do not apply unless it has them
     * @return a copy that decodes with {@code objectMapper} (your modules, naming strategy, features),
     * used as it is; one value per input is still required
     * @throws NullPointerException if {@code objectMapper} is {@code null}
     */
    public JsonDecoder<T> mapper(ObjectMapper objectMapper) {
        return new JsonDecoder<>(type, events, Objects.requireNonNull(objectMapper, "objectMapper"), timestampField,
                keyField);
    }

    /**
     * Decodes one input outside a stream. An event decoded without a timestamp field has the
     * timestamp {@link StreamRecord#NO_TIMESTAMP}.
     *
     * @param json the JSON text
     * @return the value of {@code json}
     * @throws JsonDecodingException when it is not one JSON value of the expected shape, saying what was
     *                               expected; also when {@code json} is {@code null}
     */
    public T decode(String json) {
        return codec.decode(json, io.streamflow.reactive.StreamRecord.NO_TIMESTAMP).value();
    }

    /**
     * Decodes one input outside a stream; see {@link #decode(String)}.
     *
     * @param json the JSON bytes
     * @return the value of {@code json} (UTF-8, or UTF-16/32 detected from the first bytes)
     * @throws JsonDecodingException when it is not one JSON value of the expected shape, saying what was
     *                               expected; also when {@code json} is {@code null}
     */
    public T decode(byte[] json) {
        return codec.decode(json, io.streamflow.reactive.StreamRecord.NO_TIMESTAMP).value();
    }

    /**
     * The stream operator for records whose value is JSON text (file lines, HTTP bodies): each
     * record's value is decoded, each record that cannot be decoded becomes a {@link DeadLetter} in
     * its place, other elements pass through. Use with {@code Flux.transform}.
     * <p>
     * A stateless, element-wise operator: one output per input, decoded on the thread that delivers
     * the input, nothing buffered. A decoded record keeps its key, headers and origin; it takes the
     * timestamp field's time, or keeps its own without a timestamp field. Errors and cancellation pass
     * through unchanged.
     *
     * @param <K> key type of the records
     * @return the operator
     */
    public <K> Function<Flux<? extends StreamElement<K, String>>, Flux<StreamElement<K, T>>> decodeText() {
        return elements -> elements.<StreamElement<K, T>>map(e -> {
            if (!(e instanceof StreamRecord<K, String> r)) {
                return StreamElement.<K, T>forward(e);
            }
            try {
                return decoded(r, codec.decode(r.value(), r.timestamp()));
            } catch (JsonDecodingException x) {
                return new DeadLetter<>(r, r.origin(), OPERATOR, x);
            }
        });
    }

    /**
     * As {@link #decodeText()}, for records whose value is JSON bytes (Kafka record values). The
     * encoding (UTF-8, UTF-16 or UTF-32) is detected from the first bytes.
     *
     * @param <K> key type of the records
     * @return the operator
     */
    public <K> Function<Flux<? extends StreamElement<K, byte[]>>, Flux<StreamElement<K, T>>> decodeBytes() {
        return elements -> elements.<StreamElement<K, T>>map(e -> {
            if (!(e instanceof StreamRecord<K, byte[]> r)) {
                return StreamElement.<K, T>forward(e);
            }
            try {
                return decoded(r, codec.decode(r.value(), r.timestamp()));
            } catch (JsonDecodingException x) {
                return new DeadLetter<>(r, r.origin(), OPERATOR, x);
            }
        });
    }

    private static <K, T> StreamElement<K, T> decoded(StreamRecord<K, ?> r, JsonCodec.Decoded<T> d) {
        StreamRecord<K, T> out = r.withValue(d.value());
        return d.timed() && d.timestamp() != r.timestamp() ? out.withTimestamp(d.timestamp()) : out;
    }

    private static String requireName(String name, String what) {
        Objects.requireNonNull(name, what);
        if (name.isBlank()) {
            throw new IllegalArgumentException(what + " name must not be blank");
        }
        return name;
    }

    @Override
    public String toString() {
        return "JsonDecoder{" + codec + (mapper == null ? "" : ", custom mapper") + '}';
    }
}
