package io.streamflow.reactive.kafka.internal;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.json.JsonDecoder;
import org.apache.kafka.common.header.Headers;
import reactor.core.publisher.Flux;

import java.util.function.Function;

/**
 * Record values decoded by a {@link JsonDecoder}, with the decoder's stream semantics (a timestamp
 * field gives the record its time; without one the record keeps its Kafka timestamp): each record
 * goes through {@link JsonDecoder#decodeBytes()}, a synchronous element-wise map, so nothing is
 * scheduled or blocked. A record it cannot decode throws its {@code JsonDecodingException}.
 *
 * @param <V> the decoded type
 */
public final class JsonValues<V> implements ValueDecoder<String, V> {

    private final Function<Flux<? extends StreamElement<String, byte[]>>, Flux<StreamElement<String, V>>> decode;

    /** @param decoder the JSON decoder */
    public JsonValues(JsonDecoder<V> decoder) {
        this.decode = decoder.decodeBytes();
    }

    @Override
    public StreamRecord<String, V> decode(StreamRecord<String, byte[]> record, Headers headers) {
        Object[] out = new Object[1];
        decode.apply(Flux.just(record)).subscribe(e -> out[0] = e);
        if (out[0] instanceof StreamRecord<?, ?> decoded) {
            @SuppressWarnings("unchecked")
            StreamRecord<String, V> r = (StreamRecord<String, V>) decoded;
            return r;
        }
        if (out[0] instanceof DeadLetter<?, ?> dead && dead.error() instanceof RuntimeException e) {
            throw e;
        }
        throw new IllegalStateException("the JSON decoder gave " + out[0] + " for " + record);
    }
}
