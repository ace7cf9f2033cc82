package io.streamflow.reactive.kafka.internal;

import io.streamflow.reactive.StreamRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Makes a record's value from its bytes, on the poll thread; it may also give the record another
 * timestamp (a JSON timestamp field). It throws to make the record a dead letter.
 *
 * @param <K> key type
 * @param <V> value type
 */
@FunctionalInterface
public interface ValueDecoder<K, V> {

    /**
     * @param record  the record with its key decoded and its value as the bytes in Kafka (not {@code null})
     * @param headers the record's Kafka headers
     * @return the record with its decoded value
     * @throws RuntimeException when the value cannot be decoded
     */
    StreamRecord<K, V> decode(StreamRecord<K, byte[]> record, Headers headers);

    /**
     * @param <K>          key type
     * @param <V>          value type
     * @param deserializer a Kafka deserializer, called with the topic and the headers
     * @return a decoder calling {@code deserializer}
     */
    static <K, V> ValueDecoder<K, V> of(Deserializer<V> deserializer) {
        return (r, headers) -> r.withValue(deserializer.deserialize(r.origin().source(), headers, r.value()));
    }
}
