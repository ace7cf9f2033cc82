package io.streamflow.reactive.http.internal.sink;

import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.http.HttpSinkException;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP sink as the {@link OutboxSink} of a checkpointed pipeline: each record is one JSON
 * document; a checkpoint's output is sent in batches of {@code batchSize}, up to
 * {@code maxInFlight} at a time, each result with the key {@link Keys#ofCheckpoint}. A delivery
 * blocks until every batch was answered.
 * <p>
 * A batch that is refused (after the last retry, or with a status that is not retried) fails the
 * delivery with its {@link HttpSinkException}: the records stay in the outbox and the whole
 * checkpoint is delivered again after a restart (what already arrived carries the same keys). With
 * a dead-letter sink, the refused results go there instead, one JSON line each, delivered under the
 * same checkpoint id, and the delivery succeeds.
 * <p>
 * {@link #deliveries()} is not kept: the sink cannot ask an arbitrary receiver what it holds, so
 * redelivery relies on the receiver dropping keys it has seen.
 */
public final class HttpOutboxSink implements OutboxSink<String> {

    private final SinkSettings settings;
    private final Sender sender;
    private final SinkMeters meters;

    /**
     * @param settings the sink's options
     * @param sender   sends the batches
     * @param meters   the sink's meters
     */
    public HttpOutboxSink(SinkSettings settings, Sender sender, SinkMeters meters) {
        this.settings = settings;
        this.sender = sender;
        this.meters = meters;
    }

    /** A batch of a checkpoint's output: the results and their indexes in it. */
    private record Batch(List<Integer> indexes, List<Item> items) {
    }

    /** A refused batch or result. */
    private record Refused(List<Integer> indexes, List<String> keys, Exception error) {
    }

    @Override
    public void deliver(long checkpointId, List<String> records) throws IOException {
        if (reactor.core.scheduler.Schedulers.isInNonBlockingThread()) {
            // before anything is sent: block() refuses such a thread only after it subscribed, so the
            // requests would already be on their way while the delivery is reported as failed
            throw new IllegalStateException("HttpSink delivers a checkpoint by blocking until the receiver answered, "
                    + "which thread " + Thread.currentThread().getName() + " must not do: deliver it from a "
                    + "blocking-capable thread (Checkpointing does, on Schedulers.boundedElastic())");
        }
        if (records.isEmpty()) {
            return;
        }
        List<Refused> refused = new ArrayList<>();
        List<Batch> batches = new ArrayList<>();
        List<Integer> indexes = new ArrayList<>();
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            String text = records.get(i);
            String key = Keys.ofCheckpoint(settings.name(), checkpointId, i, text);
            JsonNode json;
            try {
                json = Bodies.MAPPER.readTree(text);
            } catch (JacksonException e) {
                refused.add(new Refused(List.of(i), List.of(key), new IllegalArgumentException("result " + i
                        + " of checkpoint " + checkpointId + " is not a JSON document (format the records with "
                        + "HttpSink.json): " + e.getOriginalMessage(), e)));
                continue;
            }
            indexes.add(i);
            items.add(new Item(key, json));
            if (items.size() == settings.batchSize()) {
                batches.add(new Batch(indexes, items));
                indexes = new ArrayList<>();
                items = new ArrayList<>();
            }
        }
        if (!items.isEmpty()) {
            batches.add(new Batch(indexes, items));
        }
        if (!refused.isEmpty() && settings.deadLetters() == null) {
            meters.records(SinkMeters.FAILED, records.size());
            throw new IOException(refused.get(0).error().getMessage(), refused.get(0).error());
        }
        boolean toDeadLetters = settings.deadLetters() != null;
        AtomicInteger sent = new AtomicInteger();
        List<Refused> failed;
        try {
            failed = Flux.fromIterable(batches)
                    .flatMap(b -> {
                        List<String> keys = b.items().stream().map(Item::key).toList();
                        return Mono.fromCallable(() -> Bodies.encode(settings.bodyFormat(), b.items()))
                                .flatMap(body -> sender.send(body, Keys.ofBatch(settings.name(), keys), keys.size()))
                                .then(Mono.fromRunnable(() -> {
                                    meters.records(SinkMeters.SENT, keys.size());
                                    sent.addAndGet(keys.size());
                                }))
                                .then(Mono.<Refused>empty())
                                .onErrorResume(HttpSinkException.class, ex -> toDeadLetters
                                        ? Mono.just(new Refused(b.indexes(), keys, ex)) : Mono.error(ex));
                    }, settings.maxInFlight())
                    .collectList()
                    .onErrorMap(HttpSinkException.class, ex -> {
                        meters.records(SinkMeters.FAILED, records.size() - sent.get());
                        return new HttpSinkException("could not deliver the output of checkpoint " + checkpointId
                                + " (" + records.size() + " results) with HTTP sink '" + settings.name() + "': "
                                + ex.getMessage() + ". The results stay in the checkpoint's outbox and are delivered "
                                + "again after a restart, with the same idempotency keys", ex.status(),
                                ex.bodyExcerpt(), ex.attempts(), ex);
                    })
                    .block();
        } catch (RuntimeException e) {
            if (Exceptions.unwrap(e) instanceof IOException io) {
                throw io;
            }
            throw e;
        }
        refused.addAll(failed);
        if (refused.isEmpty()) {
            return;
        }
        List<String> lines = new ArrayList<>();
        int count = 0;
        for (Refused r : refused) {
            for (int j = 0; j < r.indexes().size(); j++) {
                int index = r.indexes().get(j);
                lines.add(deadLetter(checkpointId, index, r.keys().get(j), records.get(index), r.error()));
                count++;
            }
        }
        try {
            settings.deadLetters().deliver(checkpointId, lines);
        } catch (IOException | RuntimeException e) {
            meters.records(SinkMeters.FAILED, count);
            throw e;
        }
        meters.records(SinkMeters.DEAD_LETTER, count);
    }

    private String deadLetter(long checkpointId, int index, String key, String text, Exception error) {
        ObjectNode n = Bodies.MAPPER.createObjectNode();
        n.put("sink", settings.name());
        n.put("target", settings.target());
        n.put("checkpoint", checkpointId);
        n.put("index", index);
        n.put("idempotencyKey", key);
        if (error instanceof HttpSinkException h) {
            n.put("status", h.status());
            n.put("attempts", h.attempts());
        }
        n.put("error", error.getMessage());
        n.put("result", text);
        return Bodies.MAPPER.writeValueAsString(n);
    }

    @Override
    public String toString() {
        return "HttpSink '" + settings.name() + "' (" + settings.target() + ")";
    }
}
