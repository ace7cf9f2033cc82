package io.streamflow.reactive.http.internal.sink;

import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.http.HttpSinkException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The HTTP sink as an operator: records are formatted, keyed and batched; at most
 * {@code maxInFlight} batches are sent at a time; each record comes out again once its batch was
 * answered 2xx, or as a {@link DeadLetter} once it was refused. Outcomes keep the input order.
 * Watermarks and input statuses end here; checkpoint barriers, late records and dead letters pass
 * through in order (each takes a place in a batch).
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class RecordsOperator<K, V>
        implements Function<Flux<? extends StreamElement<K, V>>, Flux<StreamElement<K, V>>> {

    private final SinkSettings settings;
    private final Sender sender;
    private final SinkMeters meters;
    private final Function<? super StreamRecord<K, V>, ?> format;

    /**
     * @param settings the sink's options
     * @param sender   sends the batches
     * @param meters   the sink's meters
     * @param format   a record's result, serialised by Jackson
     */
    public RecordsOperator(SinkSettings settings, Sender sender, SinkMeters meters,
                           Function<? super StreamRecord<K, V>, ?> format) {
        this.settings = settings;
        this.sender = sender;
        this.meters = meters;
        this.format = Objects.requireNonNull(format, "format");
    }

    @Override
    public Flux<StreamElement<K, V>> apply(Flux<? extends StreamElement<K, V>> upstream) {
        return Flux.defer(() -> {
            Occurrences occurrences = new Occurrences();
            return upstream
                    .filter(e -> !(e instanceof Watermark<K, V>) && !(e instanceof InputStatus<K, V>))
                    .map(e -> prepare(e, occurrences))
                    .bufferTimeout(settings.batchSize(), settings.maxBatchDelay(), settings.scheduler(), true)
                    .flatMapSequential(this::send, settings.maxInFlight(), 1)
                    .concatMapIterable(list -> list, 1);
        });
    }

    /** A record ready to send, or an element that passes through. */
    private sealed interface Entry<K, V> permits Pending, Passing {
    }

    private record Pending<K, V>(StreamRecord<K, V> record, Item item) implements Entry<K, V> {
    }

    private record Passing<K, V>(StreamElement<K, V> element) implements Entry<K, V> {
    }

    /** Counts consecutive records with the same key, so that each gets a key of its own. */
    private static final class Occurrences {
        String last;
        int n;

        String next(String base) {
            if (base.equals(last)) {
                n++;
                return base + ":" + n;
            }
            last = base;
            n = 0;
            return base;
        }
    }

    private Entry<K, V> prepare(StreamElement<K, V> e, Occurrences occurrences) {
        if (!(e instanceof StreamRecord<K, V> r)) {
            if (!(e instanceof CheckpointBarrier<K, V>) && !(e instanceof DeadLetter<K, V>)
                    && !(e instanceof io.streamflow.reactive.LateRecord<K, V>)) {
                throw new IllegalStateException("unexpected element " + e);
            }
            return new Passing<>(e);
        }
        JsonNode json;
        byte[] bytes;
        try {
            Object value = format.apply(r);
            json = Bodies.MAPPER.valueToTree(value);
            bytes = Bodies.MAPPER.writeValueAsBytes(json);
        } catch (RuntimeException ex) {
            meters.records(SinkMeters.DEAD_LETTER, 1);
            return new Passing<>(new DeadLetter<>(r, r.origin(), settings.name(), new IllegalArgumentException(
                    "the format of HTTP sink '" + settings.name() + "' failed on " + r
                            + ": it must return a value Jackson can write as JSON (" + ex + ")", ex)));
        }
        String key = occurrences.next(Keys.ofRecord(settings.name(), r, bytes));
        return new Pending<>(r, new Item(key, json));
    }

    private Mono<List<StreamElement<K, V>>> send(List<Entry<K, V>> batch) {
        List<Item> items = new ArrayList<>(batch.size());
        for (Entry<K, V> e : batch) {
            if (e instanceof Pending<K, V> p) {
                items.add(p.item());
            }
        }
        if (items.isEmpty()) {
            return Mono.just(outcomes(batch, null));
        }
        return Mono.defer(() -> {
            byte[] body = Bodies.encode(settings.bodyFormat(), items);
            List<String> keys = items.stream().map(Item::key).toList();
            return sender.send(body, Keys.ofBatch(settings.name(), keys), items.size());
        }).then(Mono.fromCallable(() -> {
            meters.records(SinkMeters.SENT, items.size());
            return outcomes(batch, null);
        })).onErrorResume(HttpSinkException.class, ex -> {
            meters.records(SinkMeters.DEAD_LETTER, items.size());
            return Mono.just(outcomes(batch, ex));
        });
    }

    private List<StreamElement<K, V>> outcomes(List<Entry<K, V>> batch, HttpSinkException error) {
        List<StreamElement<K, V>> out = new ArrayList<>(batch.size());
        for (Entry<K, V> e : batch) {
            if (e instanceof Pending<K, V> p) {
                StreamRecord<K, V> r = p.record();
                out.add(error == null ? r : new DeadLetter<>(r, r.origin(), settings.name(), error));
            } else {
                out.add(((Passing<K, V>) e).element());
            }
        }
        return out;
    }
}
