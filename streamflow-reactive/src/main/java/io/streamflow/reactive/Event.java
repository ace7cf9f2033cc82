package io.streamflow.reactive;

import java.util.Map;
import java.util.Objects;

/**
 * A schema-less event for JSON-style pipelines: a key, a map of fields, an event timestamp
 * (epoch millis) and string metadata.
 * <p>
 * Fields are kept in an unmodifiable copy; field values are whatever the decoder produced
 * (strings, numbers, booleans, nested maps and lists).
 */
public final class Event {

    private final String key;
    private final Map<String, Object> fields;
    private final long timestamp;
    private final Map<String, String> metadata;

    private Event(String key, Map<String, Object> fields, long timestamp, Map<String, String> metadata) {
        this.key = key;
        this.fields = fields;
        this.timestamp = timestamp;
        this.metadata = metadata;
    }

    public static Event of(String key, Map<String, Object> fields, long timestamp) {
        return of(key, fields, timestamp, Map.of());
    }

    public static Event of(String key, Map<String, Object> fields, long timestamp, Map<String, String> metadata) {
        Objects.requireNonNull(fields, "fields");
        Objects.requireNonNull(metadata, "metadata");
        return new Event(key, java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields)), timestamp,
                Map.copyOf(metadata));
    }

    public String key() {
        return key;
    }

    public Map<String, Object> fields() {
        return fields;
    }

    public long timestamp() {
        return timestamp;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** @return the field, or {@code null} when absent */
    public Object field(String name) {
        return fields.get(name);
    }

    /**
     * @return the field as a double
     * @throws IllegalArgumentException when the field is missing or not a number, naming the field
     */
    public double doubleField(String name) {
        Object v = fields.get(name);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("field '" + name + "' of event " + key + " is "
                + (v == null ? "missing" : "not a number: " + v) + "; expected a number");
    }

    /** @return the field as a string ({@code String.valueOf}), or {@code null} when absent */
    public String stringField(String name) {
        Object v = fields.get(name);
        return v == null ? null : String.valueOf(v);
    }

    /** @return a copy with one field set */
    public Event withField(String name, Object value) {
        java.util.LinkedHashMap<String, Object> f = new java.util.LinkedHashMap<>(fields);
        f.put(name, value);
        return new Event(key, java.util.Collections.unmodifiableMap(f), timestamp, metadata);
    }

    /** @return this event as a record keyed by the event key at the event timestamp */
    public StreamRecord<String, Event> toRecord(Origin origin) {
        return StreamRecord.of(key, this, timestamp, metadata, origin);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Event e && timestamp == e.timestamp && Objects.equals(key, e.key)
                && fields.equals(e.fields) && metadata.equals(e.metadata);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, fields, timestamp, metadata);
    }

    @Override
    public String toString() {
        return "Event{key=" + key + ", ts=" + timestamp + ", fields=" + fields
                + (metadata.isEmpty() ? "" : ", metadata=" + metadata) + '}';
    }
}
