package io.streamflow.reactive.http.internal.ingest;

import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Requests waiting until a checkpoint holding their last record is durable: each waits for a
 * sequence number, {@link #durableUpTo(long)} releases those at or below a durable position.
 * Never blocks; the lock only guards the map.
 */
final class DurableWaits {

    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private final TreeMap<Long, List<Sinks.One<Long>>> waiting = new TreeMap<>();
    /** Guarded by {@link #lock}. */
    private long durable = -1;

    /** One request's wait: completes with the durable position once its last record's sequence is in it. */
    static final class Wait {
        final Sinks.One<Long> done = Sinks.one();
        /** The sequence it waits for once its last record was delivered; guarded by the waits' lock. */
        long sequence = -1;

        Mono<Long> durable() {
            return done.asMono();
        }
    }

    /** The request's last record was delivered with {@code sequence}. */
    void delivered(long sequence, Wait wait) {
        long now;
        synchronized (lock) {
            now = durable;
            if (sequence > now) {
                wait.sequence = sequence;
                waiting.computeIfAbsent(sequence, s -> new ArrayList<>(1)).add(wait.done);
                return;
            }
        }
        wait.done.tryEmitValue(now);
    }

    /** A checkpoint holding every record up to {@code position} is durable. */
    void durableUpTo(long position) {
        List<Sinks.One<Long>> release = new ArrayList<>();
        synchronized (lock) {
            if (position <= durable) {
                return;
            }
            durable = position;
            NavigableMap<Long, List<Sinks.One<Long>>> done = waiting.headMap(position, true);
            for (Map.Entry<Long, List<Sinks.One<Long>>> e : done.entrySet()) {
                release.addAll(e.getValue());
            }
            done.clear();
        }
        for (Sinks.One<Long> s : release) {
            s.tryEmitValue(position);
        }
    }

    /** Stops waiting (the request was answered without it), so nothing is kept for it. */
    void cancel(Wait wait) {
        synchronized (lock) {
            List<Sinks.One<Long>> at = wait.sequence < 0 ? null : waiting.get(wait.sequence);
            if (at != null) {
                at.remove(wait.done);
                if (at.isEmpty()) {
                    waiting.remove(wait.sequence);
                }
            }
        }
    }

    int waiting() {
        synchronized (lock) {
            return waiting.values().stream().mapToInt(List::size).sum();
        }
    }
}
