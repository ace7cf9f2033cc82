package io.streamflow.reactive.http.internal.results;

import io.streamflow.reactive.http.ResultEvent;
import io.streamflow.reactive.http.internal.results.LogEntry.WindowKey;
import reactor.core.CoreSubscriber;
import reactor.core.scheduler.Scheduler;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The retained, numbered log behind a {@code ResultLog}: events by id, the live view (latest
 * non-retracted result of each key and window still retained) and the registered clients.
 * <p>
 * Appends are serialized by a short critical section that only touches memory (assign ids, update
 * the live view, trim); everything else reads without it: events are published in a concurrent map
 * before the head id is, and each client reads the map by id from its own cursor on its own drain.
 */
public final class RetainedLog {

    /** Window start of a window-less value (a key's current value, e.g. of a running aggregate). */
    public static final long NO_WINDOW_START = Long.MIN_VALUE;
    /** Window end of a window-less value. */
    public static final long NO_WINDOW_END = Long.MAX_VALUE;

    final String name;
    final int retainCount;
    final long retainAgeMillis;
    final int clientBuffer;
    final long heartbeatMillis;
    final boolean sessions;
    final Scheduler clock;
    final Scheduler delivery;

    private final Object appendLock = new Object();
    private final ConcurrentHashMap<Long, LogEntry> entries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, ConcurrentHashMap<WindowKey, LogEntry>> live = new ConcurrentHashMap<>();
    /** the live results by id (oldest first), for expiry and snapshots; only used under the append lock */
    private final TreeMap<Long, LogEntry> liveById = new TreeMap<>();
    private final CopyOnWriteArrayList<LogSubscription> clients = new CopyOnWriteArrayList<>();
    /** oldest retained id; {@code head + 1} when nothing is retained */
    private volatile long first = 1;
    /** newest id; every entry up to it is in {@link #entries} unless trimmed */
    private volatile long head;
    /** the changes of the batch being appended, {@code null} outside {@link #appendBatch}; under the append lock */
    private List<Change> tx;
    /** whether the log's events are kept in a store (set by {@link #restore}); under the append lock */
    private boolean durable;

    /**
     * @param name            name of the log, for messages
     * @param retainCount     events retained at most
     * @param retainAgeMillis events older than this are dropped
     * @param clientBuffer    events a client may fall behind
     * @param heartbeatMillis heartbeat interval, 0 for none
     * @param sessions        whether a result retracts every overlapping live result of its key
     * @param clock           clock for age and heartbeats
     * @param delivery        where clients' drains run
     * @param firstId         the id the first appended event gets ({@code >= 1})
     */
    public RetainedLog(String name, int retainCount, long retainAgeMillis, int clientBuffer, long heartbeatMillis,
                       boolean sessions, Scheduler clock, Scheduler delivery, long firstId) {
        this.name = name;
        this.retainCount = retainCount;
        this.retainAgeMillis = retainAgeMillis;
        this.clientBuffer = clientBuffer;
        this.heartbeatMillis = heartbeatMillis;
        this.sessions = sessions;
        this.clock = clock;
        this.delivery = delivery;
        this.first = firstId;
        this.head = firstId - 1;
    }

    /** @return the log's name */
    public String name() {
        return name;
    }

    /** @return the id of the newest event, {@code 0} when none was ever appended */
    public long head() {
        return head;
    }

    /** @return the id of the oldest retained event; {@code head() + 1} when none is retained */
    public long first() {
        return first;
    }

    /** @return the client buffer, events a client may fall behind before it is cut off */
    public int clientBuffer() {
        return clientBuffer;
    }

    /** @return the retention as text, for messages: {@code "10000 events, PT10M"} */
    public String retention() {
        return retainCount + " events, " + java.time.Duration.ofMillis(retainAgeMillis);
    }

    LogEntry entry(long id) {
        return entries.get(id);
    }

    /**
     * Appends one result: the retractions of the live results it supersedes, then the result.
     *
     * @param keyText  the key as text (identifies the key)
     * @param keyJson  the key as JSON
     * @param start    window start ({@link #NO_WINDOW_START} for a window-less value)
     * @param end      window end ({@link #NO_WINDOW_END} for a window-less value)
     * @param bodyJson the JSON members after {@code "key"}: {@code "window":{...},"value":...,"pane":{...}}
     *                 ({@code "value":...} alone for a window-less value)
     * @return the id of the result event
     */
    public long append(String keyText, String keyJson, long start, long end, String bodyJson) {
        long resultId;
        synchronized (appendLock) {
            long now = clock.now(TimeUnit.MILLISECONDS);
            long next = appendLocked(keyText, keyJson, start, end, bodyJson, expire(now, head), now);
            resultId = next;
            publish(next, now);
        }
        wakeClients();
        return resultId;
    }

    /**
     * Appends a batch of results, has {@code journal} write the batch's changes, and only when that
     * succeeded makes the batch visible: its events to clients, its changes of the live view to
     * {@link #current} and snapshots. When the journal throws, the log is left as it was before the
     * batch (nothing of it was visible) and the error is thrown.
     *
     * @param items   the results, in order
     * @param journal writes the changes durably; called under the append lock
     * @return the id of the newest event after the batch
     * @throws IOException what the journal threw
     */
    public long appendBatch(List<Item> items, Journal journal) throws IOException {
        long next;
        synchronized (appendLock) {
            long now = clock.now(TimeUnit.MILLISECONDS);
            List<Change> changes = new ArrayList<>();
            tx = changes;
            try {
                next = expire(now, head);
                for (Item i : items) {
                    next = appendLocked(i.keyText(), i.keyJson(), i.start(), i.end(), i.bodyJson(), next, now);
                }
            } finally {
                tx = null;
            }
            long newFirst = trimmedFirst(next, now);
            // readers that do not take the lock (current) see the log as it was until the batch is written
            for (int i = changes.size() - 1; i >= 0; i--) {
                changes.get(i).undo(this);
            }
            journal.write(changes, next, newFirst);
            for (Change c : changes) {
                c.redo(this);
            }
            publish(next, now);
        }
        wakeClients();
        return next;
    }

    /** Appends under the lock after event {@code next}; returns the id of the result event. */
    private long appendLocked(String keyText, String keyJson, long start, long end, String bodyJson, long next,
                              long now) {
        ConcurrentHashMap<WindowKey, LogEntry> perKey = live.get(keyText);
        List<LogEntry> superseded = new ArrayList<>(1);
        if (perKey != null && sessions) {
            for (LogEntry e : perKey.values()) {
                // a window-less value and the key's windows never supersede one another
                if (e.overlaps(start, end) && e.windowless() == (start == NO_WINDOW_START && end == NO_WINDOW_END)) {
                    superseded.add(e);
                }
            }
            superseded.sort(Comparator.comparingLong(e -> e.id));
        } else if (perKey != null) {
            LogEntry e = perKey.get(new WindowKey(start, end));
            if (e != null) {
                superseded.add(e);
            }
        }
        for (LogEntry s : superseded) {
            next = retract(s, "superseded", next, now);
        }
        while (liveById.size() >= retainCount) {
            next = retract(liveById.firstEntry().getValue(), "expired", next, now);
        }
        long resultId = next + 1;
        String data = "{\"id\":" + resultId + ",\"key\":" + keyJson + "," + bodyJson + "}";
        LogEntry result = new LogEntry(resultId, false, 0, keyText, keyJson, start, end, now,
                new ResultEvent(resultId, ResultEvent.Type.RESULT, data));
        addEntry(result);
        addLive(result);
        return resultId;
    }

    private void addEntry(LogEntry e) {
        entries.put(e.id, e);
        if (tx != null) {
            tx.add(new Change(Change.Kind.EVENT, e));
        }
    }

    private void addLive(LogEntry e) {
        live.computeIfAbsent(e.keyText, k -> new ConcurrentHashMap<>()).put(e.window(), e);
        liveById.put(e.id, e);
        if (tx != null) {
            tx.add(new Change(Change.Kind.LIVE, e));
        }
    }

    private void removeLive(LogEntry s) {
        liveById.remove(s.id);
        ConcurrentHashMap<WindowKey, LogEntry> perKey = live.get(s.keyText);
        if (perKey != null && perKey.remove(s.window(), s) && perKey.isEmpty()) {
            live.remove(s.keyText);
        }
        if (tx != null) {
            tx.add(new Change(Change.Kind.NOT_LIVE, s));
        }
    }

    /**
     * Puts back what {@link #appendBatch} or {@link #restore} found in the store: retained events and
     * live results (which may have left the events). Only before the log is used.
     *
     * @param events      retained events, any order
     * @param liveResults live results, any order
     * @param newHead     newest id
     * @param newFirst    oldest retained id
     */
    public void restore(Collection<LogEntry> events, Collection<LogEntry> liveResults, long newHead, long newFirst) {
        synchronized (appendLock) {
            for (LogEntry e : events) {
                entries.put(e.id, e);
            }
            for (LogEntry e : liveResults) {
                live.computeIfAbsent(e.keyText, k -> new ConcurrentHashMap<>()).put(e.window(), e);
                liveById.put(e.id, e);
            }
            first = newFirst;
            head = newHead;
            durable = true;
        }
    }

    /** Logs the retraction of live result {@code s} with id {@code next + 1}; returns that id. */
    private long retract(LogEntry s, String reason, long next, long now) {
        long id = next + 1;
        String data = "{\"id\":" + id + ",\"retracts\":" + s.id + ",\"key\":" + s.keyJson
                + (s.windowless() ? "" : ",\"window\":{\"start\":" + s.start + ",\"end\":" + s.end + "}")
                + ",\"reason\":\"" + reason + "\"}";
        addEntry(new LogEntry(id, true, s.id, s.keyText, s.keyJson, s.start, s.end, now,
                new ResultEvent(id, ResultEvent.Type.RETRACT, data)));
        removeLive(s);
        return id;
    }

    /** Retracts the live results older than the retention age; returns the last id used. */
    private long expire(long now, long next) {
        Map.Entry<Long, LogEntry> oldest;
        while ((oldest = liveById.firstEntry()) != null && now - oldest.getValue().appendedAt > retainAgeMillis) {
            next = retract(oldest.getValue(), "expired", next, now);
        }
        return next;
    }

    /** Makes the events up to {@code next} visible, then trims the events beyond retention. */
    private void publish(long next, long now) {
        head = next;
        long to = trimmedFirst(next, now);
        while (first < to) {
            long id = first;
            first = id + 1;
            entries.remove(id);
        }
    }

    /** @return the oldest id retained once the head is {@code next}, at clock time {@code now} */
    private long trimmedFirst(long next, long now) {
        long f = first;
        while (f <= next && (next - f + 1 > retainCount || now - entries.get(f).appendedAt > retainAgeMillis)) {
            f++;
        }
        return f;
    }

    private void wakeClients() {
        for (LogSubscription c : clients) {
            c.wake();
        }
    }

    /**
     * Applies the retention age at the clock's current time: retracts the live results older than
     * it (events of their own) and drops the events older than it. A durable log does nothing here
     * (its retractions must be written to its store first): it applies age with each batch.
     */
    public void trim() {
        boolean retracted;
        synchronized (appendLock) {
            if (durable) {
                return; // a durable log applies age when a batch is written, so that every event is in its store
            }
            long h = head;
            long now = clock.now(TimeUnit.MILLISECONDS);
            long next = expire(now, h);
            publish(next, now);
            retracted = next != h;
        }
        if (retracted) {
            wakeClients();
        }
    }

    /**
     * The current results of a key, read without the append lock (weakly consistent with an append
     * in progress), without results older than the retention age.
     *
     * @param keyText the key as text
     * @return its result events, by window start then end
     */
    public List<ResultEvent> current(String keyText) {
        ConcurrentHashMap<WindowKey, LogEntry> perKey = live.get(keyText);
        if (perKey == null) {
            return List.of();
        }
        long oldest = clock.now(TimeUnit.MILLISECONDS) - retainAgeMillis;
        long h = head;
        List<LogEntry> list = new ArrayList<>(perKey.values());
        list.removeIf(e -> e.appendedAt < oldest || e.id > h);
        list.sort(Comparator.comparing(LogEntry::window));
        List<ResultEvent> out = new ArrayList<>(list.size());
        for (LogEntry e : list) {
            out.add(e.event);
        }
        return out;
    }

    /**
     * The live view with the head it reflects, copied under the append lock so that both agree.
     *
     * @param filter which entries to keep, {@code null} for all
     * @param out    receives the snapshot events, oldest result first
     * @return the head id the snapshot reflects
     */
    long snapshot(Predicate<LogEntry> filter, List<ResultEvent> out) {
        synchronized (appendLock) {
            for (LogEntry e : liveById.values()) {
                if (filter == null || filter.test(e)) {
                    out.add(e.asSnapshot());
                }
            }
            return head;
        }
    }

    /**
     * Subscribes a client.
     *
     * @param actual      the subscriber
     * @param lastEventId id to resume after, or {@code null}
     * @param snapshot    whether a client without id wants a snapshot first
     * @param filter      which events the client gets, {@code null} for all
     */
    public void subscribe(CoreSubscriber<? super ResultEvent> actual, Long lastEventId, boolean snapshot,
                          Predicate<LogEntry> filter) {
        LogSubscription s = new LogSubscription(this, actual, lastEventId, snapshot, filter, head);
        clients.add(s);
        actual.onSubscribe(s);
        s.startHeartbeat();
        s.wake();
    }

    void unregister(LogSubscription s) {
        clients.remove(s);
    }

    /** @return how many clients are subscribed */
    public int clientCount() {
        return clients.size();
    }

    /**
     * @param keyText the key as text
     * @return a filter for the events of one key
     */
    public static Predicate<LogEntry> keyFilter(String keyText) {
        return e -> e.keyText.equals(keyText);
    }

    /**
     * One result of a batch: the arguments of {@link #append(String, String, long, long, String)}.
     *
     * @param keyText  the key as text (identifies the key)
     * @param keyJson  the key as JSON
     * @param start    window start
     * @param end      window end
     * @param bodyJson the JSON members after {@code "key"}
     */
    public record Item(String keyText, String keyJson, long start, long end, String bodyJson) {
    }

    /** Writes the changes of a batch durably, before any of them becomes visible. */
    @FunctionalInterface
    public interface Journal {
        /**
         * @param changes  what the batch did, in order
         * @param newHead  the newest id after the batch
         * @param newFirst the oldest id retained after the batch
         * @throws IOException when the changes cannot be written; the batch is then undone
         */
        void write(List<Change> changes, long newHead, long newFirst) throws IOException;
    }

    /**
     * One change of a batch.
     *
     * @param kind  what changed
     * @param entry the entry concerned
     */
    public record Change(Kind kind, LogEntry entry) {

        /** What a change does. */
        public enum Kind {
            /** a new event */
            EVENT,
            /** a result joins the live view */
            LIVE,
            /** a result leaves the live view */
            NOT_LIVE
        }

        void redo(RetainedLog log) {
            switch (kind) {
                case EVENT -> log.entries.put(entry.id, entry);
                case LIVE -> {
                    log.live.computeIfAbsent(entry.keyText, k -> new ConcurrentHashMap<>()).put(entry.window(), entry);
                    log.liveById.put(entry.id, entry);
                }
                case NOT_LIVE -> {
                    log.liveById.remove(entry.id);
                    ConcurrentHashMap<WindowKey, LogEntry> perKey = log.live.get(entry.keyText);
                    if (perKey != null && perKey.remove(entry.window(), entry) && perKey.isEmpty()) {
                        log.live.remove(entry.keyText);
                    }
                }
            }
        }

        void undo(RetainedLog log) {
            switch (kind) {
                case EVENT -> log.entries.remove(entry.id);
                case LIVE -> {
                    log.liveById.remove(entry.id);
                    ConcurrentHashMap<WindowKey, LogEntry> perKey = log.live.get(entry.keyText);
                    if (perKey != null && perKey.remove(entry.window(), entry) && perKey.isEmpty()) {
                        log.live.remove(entry.keyText);
                    }
                }
                case NOT_LIVE -> {
                    log.live.computeIfAbsent(entry.keyText, k -> new ConcurrentHashMap<>()).put(entry.window(), entry);
                    log.liveById.put(entry.id, entry);
                }
            }
        }
    }
}
