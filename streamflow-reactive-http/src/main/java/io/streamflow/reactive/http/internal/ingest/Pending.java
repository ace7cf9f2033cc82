package io.streamflow.reactive.http.internal.ingest;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.HttpIngest;
import io.streamflow.reactive.http.HttpIngestException;

import java.util.function.LongConsumer;

/**
 * An accepted element waiting in the buffer: a decoded value with its event time, or a rejected
 * record's input and error. It gets its sequence number, and so its {@link Origin}, when it is
 * delivered, so numbering follows delivery order and continues after a restored position.
 *
 * @param value     the decoded value (a record), or {@code null} (a dead letter, when {@code error} is set)
 * @param timestamp the event time of a record
 * @param input     a dead letter's input: the line's text, its bytes, or {@code null}
 * @param error     a dead letter's error, {@code null} for a record
 * @param delivered told the element's sequence number when it is delivered (the last element of a
 *                  request that waits for durability), or {@code null}
 * @param <T>       the decoded type
 */
record Pending<T>(T value, long timestamp, Object input, HttpIngestException error, LongConsumer delivered) {

    static <T> Pending<T> record(T value, long timestamp) {
        return new Pending<>(value, timestamp, null, null, null);
    }

    static <T> Pending<T> rejected(Object input, HttpIngestException error) {
        return new Pending<>(null, StreamRecord.NO_TIMESTAMP, input, error, null);
    }

    Pending<T> whenDelivered(LongConsumer listener) {
        return new Pending<>(value, timestamp, input, error, listener);
    }

    StreamElement<Void, T> toElement(String source, long sequence) {
        Origin origin = Origin.of(source, 0, sequence);
        if (error != null) {
            return new DeadLetter<>(input, origin, HttpIngest.OPERATOR, error);
        }
        return StreamRecord.of(null, value, timestamp, origin);
    }
}
