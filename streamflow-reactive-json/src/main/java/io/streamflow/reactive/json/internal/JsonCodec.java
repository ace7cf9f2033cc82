package io.streamflow.reactive.json.internal;

import io.streamflow.reactive.Event;
import io.streamflow.reactive.json.JsonDecodingException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.json.JsonMapper;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decodes one JSON text (a {@code String} or UTF-8/16/32 bytes) into an {@link Event} or an
 * instance of a class, strictly: exactly one JSON value, nothing after it, and the timestamp and
 * key fields (when configured) present and of the right type. Every failure is a
 * {@link JsonDecodingException} that says what was expected. Thread-safe and immutable.
 *
 * @param <T> the decoded type
 */
public final class JsonCodec<T> {

    private static final int SHOWN_CHARS = 80;

    /** A decoded value and, when the codec has a timestamp field, the event time read from it. */
    public record Decoded<T>(T value, boolean timed, long timestamp) {
    }

    private final ObjectMapper mapper;
    private final Class<T> type;
    private final boolean events;
    private final String timestampField;
    private final String keyField;
    private final JavaType target;
    /** Readers that leave trailing content to {@link #requireEnd}, whatever the mapper's features, for one message. */
    private final ObjectReader valueReader;
    private final ObjectReader treeReader;

    /**
     * @param events         decode into {@link Event}s ({@code type} is then {@code Event.class})
     * @param timestampField field holding the event time in epoch millis, {@code null}: none
     * @param keyField       field holding an event's key ({@code events} only), {@code null}: none
     */
    public JsonCodec(ObjectMapper mapper, Class<T> type, boolean events, String timestampField, String keyField) {
        this.mapper = Objects.requireNonNull(mapper, "mapper");
        this.type = Objects.requireNonNull(type, "type");
        this.events = events;
        this.timestampField = timestampField;
        this.keyField = keyField;
        this.target = events ? mapper.getTypeFactory().constructMapType(LinkedHashMap.class, String.class,
                Object.class) : mapper.constructType(type);
        this.valueReader = mapper.readerFor(target).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.treeReader = mapper.readerFor(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /**
     * The mapper used unless one is given: Jackson's defaults, except that a floating-point number
     * is not silently truncated into an integer field.
     */
    public static ObjectMapper defaultMapper() {
        return JsonMapper.builder().disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT).build();
    }

    /** Decodes {@code text}; an event without a timestamp field gets {@code defaultTimestamp}. */
    public Decoded<T> decode(String text, long defaultTimestamp) {
        if (text == null) {
            throw new JsonDecodingException("no input (null); expected JSON text", null);
        }
        try (JsonParser parser = valueReader.createParser(text)) {
            return decode(parser, defaultTimestamp);
        } catch (JacksonException e) {
            throw translate(e);
        }
    }

    /** Decodes {@code bytes} (UTF-8, or UTF-16/32 detected by Jackson); see {@link #decode(String, long)}. */
    public Decoded<T> decode(byte[] bytes, long defaultTimestamp) {
        if (bytes == null) {
            throw new JsonDecodingException("no input (null); expected JSON bytes", null);
        }
        try (JsonParser parser = valueReader.createParser(bytes)) {
            return decode(parser, defaultTimestamp);
        } catch (JacksonException e) {
            throw translate(e);
        }
    }

    @SuppressWarnings("unchecked")
    private Decoded<T> decode(JsonParser parser, long defaultTimestamp) {
        JsonToken first = parser.nextToken();
        if (first == null) {
            throw new JsonDecodingException("empty input; expected " + (events || timestampField != null
                    ? "a JSON object" : "JSON for " + type.getSimpleName()), null);
        }
        if ((events || timestampField != null) && first != JsonToken.START_OBJECT) {
            throw new JsonDecodingException("expected a JSON object, got " + describe(first), null);
        }
        if (events) {
            Map<String, Object> fields = valueReader.readValue(parser);
            requireEnd(parser);
            boolean timed = timestampField != null;
            long ts = timed ? timestamp(fields.containsKey(timestampField), fields.get(timestampField))
                    : defaultTimestamp;
            String key = keyField == null ? null : key(fields);
            return new Decoded<>((T) Event.of(key, fields, ts), timed, ts);
        }
        if (timestampField == null) {
            T value = valueReader.readValue(parser);
            requireEnd(parser);
            if (value == null) {
                throw new JsonDecodingException("expected JSON for " + type.getSimpleName() + ", got null", null);
            }
            return new Decoded<>(value, false, defaultTimestamp);
        }
        JsonNode tree = treeReader.readValue(parser);
        requireEnd(parser);
        JsonNode field = tree.get(timestampField);
        long ts;
        if (field != null && field.isIntegralNumber() && field.canConvertToLong()) {
            ts = field.longValue();
        } else {
            ts = timestamp(field != null, field == null || field.isNull() ? null
                    : field.isString() ? field.stringValue() : field.isNumber() ? field.numberValue() : field);
        }
        T value = mapper.treeToValue(tree, target);
        return new Decoded<>(value, true, ts);
    }

    private static void requireEnd(JsonParser parser) {
        JsonToken next = parser.nextToken();
        if (next != null) {
            throw new JsonDecodingException("trailing content after the JSON value: " + describe(next)
                    + where(parser.currentTokenLocation()) + "; expected one JSON value per input", null);
        }
    }

    private long timestamp(boolean present, Object value) {
        if (!present) {
            throw new JsonDecodingException("field '" + timestampField + "' is missing; expected the event time in "
                    + "it as an integer (epoch millis). Name the field holding event time with "
                    + "JsonDecoder.timestampField(name), or use withoutTimestampField() and assign time in the "
                    + "WatermarkStrategy", null);
        }
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        String outOfRange = value instanceof BigInteger ? " (out of range)" : "";
        throw new JsonDecodingException("field '" + timestampField + "' must be an integer (epoch millis), was "
                + show(value) + outOfRange, null);
    }

    private String key(Map<String, Object> fields) {
        Object k = fields.get(keyField);
        if (k instanceof String s) {
            return s;
        }
        if (k instanceof Number || k instanceof Boolean) {
            return String.valueOf(k);
        }
        if (k == null) {
            throw new JsonDecodingException("field '" + keyField + "' (the key) is " + (fields.containsKey(keyField)
                    ? "null" : "missing") + "; expected a string or a number", null);
        }
        throw new JsonDecodingException("field '" + keyField + "' (the key) must be a string or a number, was "
                + show(k), null);
    }

    private JsonDecodingException translate(JacksonException e) {
        String where = where(e.getLocation());
        if (e instanceof StreamReadException) {
            return new JsonDecodingException("invalid JSON: " + e.getOriginalMessage() + where, e);
        }
        if (e instanceof DatabindException) {
            String path = path(e.getPath());
            return new JsonDecodingException("cannot decode into " + (events ? "an event" : type.getSimpleName())
                    + (path.isEmpty() ? "" : " (at " + path + ")") + ": " + e.getOriginalMessage() + where, e);
        }
        return new JsonDecodingException("cannot decode JSON: " + e.getOriginalMessage() + where, e);
    }

    private static String where(TokenStreamLocation location) {
        if (location == null || location.getColumnNr() <= 0) {
            return "";
        }
        return location.getLineNr() > 1 ? " at line " + location.getLineNr() + ", column " + location.getColumnNr()
                : " at column " + location.getColumnNr();
    }

    private static String path(List<JacksonException.Reference> references) {
        StringBuilder b = new StringBuilder();
        for (JacksonException.Reference r : references) {
            if (r.getPropertyName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getPropertyName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    private static String describe(JsonToken token) {
        return switch (token) {
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> String.valueOf(token);
        };
    }

    private static String show(Object value) {
        String s = value instanceof String str ? "\"" + str + "\"" : String.valueOf(value);
        return s.length() <= SHOWN_CHARS ? s : s.substring(0, SHOWN_CHARS) + "...";
    }

    @Override
    public String toString() {
        return (events ? "events" : type.getSimpleName()) + (timestampField == null ? "" : ", timestamp field '"
                + timestampField + "'") + (keyField == null ? "" : ", key field '" + keyField + "'");
    }
}
