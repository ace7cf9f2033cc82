package io.streamflow.reactive.http.internal.ingest;

import reactor.core.scheduler.Scheduler;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code Idempotency-Key}s of accepted requests, with the digest of their body and their answer,
 * bounded by count (the oldest is forgotten first) and by age (from the scheduler's clock). Callers
 * look a key up and remember it inside one {@code synchronized (keys)} block together with the
 * append, so two concurrent requests with one key are never both appended.
 */
final class IdempotencyKeys {

    /** A remembered answer. */
    record Entry(byte[] digest, Answer answer, long atMillis) {
    }

    private final int count;
    private final long ageMillis;
    private final Scheduler clock;
    /** Insertion order is acceptance order, so the eldest entry is the first to expire. Guarded by this. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    IdempotencyKeys(int count, long ageMillis, Scheduler clock) {
        this.count = count;
        this.ageMillis = ageMillis;
        this.clock = clock;
    }

    boolean enabled() {
        return count > 0;
    }

    /** The remembered entry of {@code key}, or {@code null}; forgets expired keys first. Call holding this. */
    Entry find(String key) {
        expire();
        return entries.get(key);
    }

    /** Remembers an accepted request's answer. Call holding this. */
    void remember(String key, byte[] digest, Answer answer) {
        expire();
        entries.remove(key);
        entries.put(key, new Entry(digest, answer, clock.now(TimeUnit.MILLISECONDS)));
        while (entries.size() > count) {
            Iterator<String> eldest = entries.keySet().iterator();
            eldest.next();
            eldest.remove();
        }
    }

    private void expire() {
        long now = clock.now(TimeUnit.MILLISECONDS);
        Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            if (now - it.next().getValue().atMillis() < ageMillis) {
                return;
            }
            it.remove();
        }
    }
}
