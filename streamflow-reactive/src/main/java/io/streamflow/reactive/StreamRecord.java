package io.streamflow.reactive;

import java.util.Map;
import java.util.Objects;

/**
 * The typed record envelope: key, value, event timestamp (epoch millis), headers, and the
 * {@link Origin} it was read from.
 * <p>
 * Immutable; the {@code with*} methods return copies.
 *
 * @param <K> key type (may be {@code null} before {@code keyBy})
 * @param <V> value type
 */
public final class StreamRecord<K, V> implements StreamElement<K, V> {

    /**
     * The timestamp of a record whose source carries no event time ({@code Long.MIN_VALUE}), such as
     * {@link StreamSources#fileLines}: give it one with
     * {@link WatermarkStrategy#withTimestampAssigner}. It is never an event time: a watermark strategy
     * without a timestamp assigner fails on such a record as a configuration error, and event-time
     * operators do not place it. {@code Long.MAX_VALUE}, the end-of-input watermark
     * ({@link Watermark#END}), is not an event time either; valid event timestamps lie strictly
     * between the two.
     */
    public static final long NO_TIMESTAMP = Long.MIN_VALUE;

    private final K key;
    private final V value;
    private final long timestamp;
    private final Map<String, String> headers;
    private final Origin origin;

    private StreamRecord(K key, V value, long timestamp, Map<String, String> headers, Origin origin) {
        this.key = key;
        this.value = value;
        this.timestamp = timestamp;
        this.headers = headers;
        this.origin = origin;
    }

    /**
     * A record made in memory: no headers, origin {@link Origin#NONE}.
     *
     * @param <K>       key type
     * @param <V>       value type
     * @param key       the key, may be {@code null} (before {@code keyBy})
     * @param value     the value, may be {@code null}
     * @param timestamp event time in epoch milliseconds, or {@link #NO_TIMESTAMP}
     * @return the record
     */
    public static <K, V> StreamRecord<K, V> of(K key, V value, long timestamp) {
        return new StreamRecord<>(key, value, timestamp, Map.of(), Origin.NONE);
    }

    /**
     * A record read from {@code origin}, with no headers.
     *
     * @param <K>       key type
     * @param <V>       value type
     * @param key       the key, may be {@code null} (before {@code keyBy})
     * @param value     the value, may be {@code null}
     * @param timestamp event time in epoch milliseconds, or {@link #NO_TIMESTAMP}
     * @param origin    where the record was read from
     * @return the record
     * @throws NullPointerException if {@code origin} is {@code null}
     */
    public static <K, V> StreamRecord<K, V> of(K key, V value, long timestamp, Origin origin) {
        return new StreamRecord<>(key, value, timestamp, Map.of(), Objects.requireNonNull(origin, "origin"));
    }

    /**
     * A record with headers, read from {@code origin}. The headers are copied.
     *
     * @param <K>       key type
     * @param <V>       value type
     * @param key       the key, may be {@code null} (before {@code keyBy})
     * @param value     the value, may be {@code null}
     * @param timestamp event time in epoch milliseconds, or {@link #NO_TIMESTAMP}
     * @param headers   header names and values, none of them {@code null}
     * @param origin    where the record was read from
     * @return the record
     * @throws NullPointerException if {@code origin} or {@code headers} is {@code null} or holds a
     *                              {@code null} name or value
     */
    public static <K, V> StreamRecord<K, V> of(K key, V value, long timestamp, Map<String, String> headers,
                                               Origin origin) {
        return new StreamRecord<>(key, value, timestamp, Map.copyOf(headers), Objects.requireNonNull(origin, "origin"));
    }

    /** @return the key; {@code null} for records of sources that have none, until {@code keyBy} */
    public K key() {
        return key;
    }

    /** @return the value, as the source or the last function produced it */
    public V value() {
        return value;
    }

    /** @return event time in epoch milliseconds, or {@link #NO_TIMESTAMP} when the source carries none */
    public long timestamp() {
        return timestamp;
    }

    /** @return the headers, an unmodifiable map; empty when the record has none */
    public Map<String, String> headers() {
        return headers;
    }

    /** @return where the record was read from; {@link Origin#NONE} for records made in memory */
    public Origin origin() {
        return origin;
    }

    /**
     * @param <V2>     the new value type
     * @param newValue the new value, may be {@code null}
     * @return a copy with another value, same key, time, headers and origin
     */
    public <V2> StreamRecord<K, V2> withValue(V2 newValue) {
        return new StreamRecord<>(key, newValue, timestamp, headers, origin);
    }

    /**
     * @param <K2>   the new key type
     * @param newKey the new key, may be {@code null}
     * @return a copy with another key, same value, time, headers and origin
     */
    public <K2> StreamRecord<K2, V> withKey(K2 newKey) {
        return new StreamRecord<>(newKey, value, timestamp, headers, origin);
    }

    /**
     * @param <K2>     the new key type
     * @param <V2>     the new value type
     * @param newKey   the new key, may be {@code null}
     * @param newValue the new value, may be {@code null}
     * @return a copy with another key and value, same time, headers and origin
     */
    public <K2, V2> StreamRecord<K2, V2> with(K2 newKey, V2 newValue) {
        return new StreamRecord<>(newKey, newValue, timestamp, headers, origin);
    }

    /**
     * @param newTimestamp event time in epoch milliseconds
     * @return a copy with another event timestamp, the rest unchanged
     */
    public StreamRecord<K, V> withTimestamp(long newTimestamp) {
        return new StreamRecord<>(key, value, newTimestamp, headers, origin);
    }

    /**
     * @param name        header name; an existing header of that name is replaced
     * @param headerValue header value
     * @return a copy with one more header
     * @throws NullPointerException if {@code name} or {@code headerValue} is {@code null}
     */
    public StreamRecord<K, V> withHeader(String name, String headerValue) {
        java.util.HashMap<String, String> h = new java.util.HashMap<>(headers);
        h.put(name, headerValue);
        return new StreamRecord<>(key, value, timestamp, Map.copyOf(h), origin);
    }

    @Override
    public boolean isRecord() {
        return true;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof StreamRecord<?, ?> r)) {
            return false;
        }
        return timestamp == r.timestamp && Objects.equals(key, r.key) && Objects.equals(value, r.value)
                && headers.equals(r.headers) && origin.equals(r.origin);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, value, timestamp, headers, origin);
    }

    @Override
    public String toString() {
        return "StreamRecord{key=" + key + ", value=" + value + ", ts=" + timestamp
                + (headers.isEmpty() ? "" : ", headers=" + headers)
                + (origin == Origin.NONE ? "" : ", origin=" + origin) + '}';
    }
}
