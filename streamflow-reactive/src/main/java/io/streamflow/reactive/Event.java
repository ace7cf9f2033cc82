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

    /**
     * An event without metadata.
     *
     * @param key       the event's key, may be {@code null}
     * @param fields    field names and values (copied, in their iteration order; values may be
     *                  {@code null})
     * @param timestamp event time in epoch milliseconds, or {@link StreamRecord#NO_TIMESTAMP}
     * @return the event
     * @throws NullPointerException if {@code fields} is {@code null}
     */
    public static Event of(String key, Map<String, Object> fields, long timestamp) {
        return of(key, fields, timestamp, Map.of());
    }

    /**
     * An event with metadata, which becomes the record's headers in {@link #toRecord(Origin)}.
     *
     * @param key       the event's key, may be {@code null}
     * @param fields    field names and values (copied, in their iteration order; values may be
     *                  {@code null})
     * @param timestamp event time in epoch milliseconds, or {@link StreamRecord#NO_TIMESTAMP}
     * @param metadata  metadata names and values (copied), none of them {@code null}
     * @return the event
     * @throws NullPointerException if {@code fields} or {@code metadata} is {@code null}, or
     *                              {@code metadata} holds a {@code null} name or value
     */
    public static Event of(String key, Map<String, Object> fields, long timestamp, Map<String, String> metadata) {
        Objects.requireNonNull(fields, "fields");
        Objects.requireNonNull(metadata, "metadata");
        return new Event(key, java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields)), timestamp,
                Map.copyOf(metadata));
    }

    /** @return the event's key, may be {@code null} */
    public String key() {
        return key;
    }

    /** @return the fields, unmodifiable, in the order they were given or decoded */
    public Map<String, Object> fields() {
        return fields;
    }

    /** @return event time in epoch milliseconds, or {@link StreamRecord#NO_TIMESTAMP} when it has none */
    public long timestamp() {
        return timestamp;
    }

    /** @return the metadata, unmodifiable; empty when there is none */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * @param name the field's name
     * @return the field's value, or {@code null} when absent (or present with a {@code null} value)
     */
    public Object field(String name) {
        return fields.get(name);
    }

    /**
     * @param name the field's name
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

    /**
     * @param name the field's name
     * @return the field as a string ({@code String.valueOf}), or {@code null} when absent
     */
    public String stringField(String name) {
        Object v = fields.get(name);
        return v == null ? null : String.valueOf(v);
    }

    /**
     * @param name  the field's name; an existing field keeps its place, a new one is added last
     * @param value the field's value, may be {@code null}
     * @return a copy with one field set; key, timestamp and metadata unchanged
     */
    public Event withField(String name, Object value) {
        java.util.LinkedHashMap<String, Object> f = new java.util.LinkedHashMap<>(fields);
        f.put(name, value);
        return new Event(key, java.util.Collections.unmodifiableMap(f), timestamp, metadata);
    }

    /**
     * @param origin where the event was read from ({@link Origin#NONE} when it was made in memory)
     * @return this event as a record keyed by the event key at the event timestamp, with the
     * metadata as headers
     * @throws NullPointerException if {@code origin} is {@code null}
     */
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
