package io.streamflow.reactive.http.internal.results;

import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.http.ResultEvent;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The store of a durable result log: one MVStore file of its own holding the retained events, the
 * live view, the head and first ids and the delivery records of the checkpoints it was given, so
 * that a restart restores all of it and ids go on. Auto-commit is off: each batch of results is one
 * commit, together with its delivery record, followed by a sync; only then do its events become
 * visible to clients.
 * <p>
 * Every method blocks on the file: it must be called on a thread that may block.
 */
public final class DurableResults implements AutoCloseable, OutboxSink<String> {

    private static final Logger LOG = Loggers.getLogger(DurableResults.class);

    /** Delivery records kept: enough for the pipeline to match a replay after it fell back by this many checkpoints. */
    static final int KEPT_DELIVERIES = 1_000;

    private final Path file;
    private final MVStore store;
    private final MVMap<Long, String> events;
    private final MVMap<Long, String> live;
    private final MVMap<String, Long> meta;
    private final MVMap<Long, String> deliveries;
    private final RetainedLog log;
    /** Set when a commit failed part way: the file and the log in memory may disagree until a reopen. */
    private volatile String broken;
    /** Test hook: runs after a batch is written to the maps and before it is committed. */
    volatile Runnable beforeCommit = () -> { };

    private DurableResults(Path file, MVStore store, RetainedLog log) {
        this.file = file;
        this.store = store;
        this.events = store.openMap("events");
        this.live = store.openMap("live");
        this.meta = store.openMap("meta");
        this.deliveries = store.openMap("deliveries");
        this.log = log;
    }

    /**
     * Opens (or creates) the store of log {@code log} in {@code directory} and restores the log from
     * it.
     *
     * @param directory where the file is (created if needed)
     * @param log       the empty log to restore
     * @return the store
     * @throws IOException when the directory cannot be created or the file does not open or is damaged
     */
    public static DurableResults open(Path directory, RetainedLog log) throws IOException {

        Files.createDirectories(directory);
        Path file = directory.resolve("results-" + log.name().replaceAll("[^A-Za-z0-9._-]", "_") + ".mv");
        MVStore store;
        try {
            store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().autoCommitBufferSize(0)
                    .open();
        } catch (RuntimeException e) {
            throw new IOException("result log '" + log.name() + "' cannot open its store " + file + ": "
                    + e.getMessage(), e);
        }
        try {
            DurableResults d = new DurableResults(file, store, log);
            d.restore();
            return d;
        } catch (RuntimeException e) {
            store.closeImmediately();
            throw new IOException("result log '" + log.name() + "' cannot read its store " + file + ": "
                    + e.getMessage(), e);
        }
    }

    private void restore() {
        List<LogEntry> ev = new ArrayList<>(events.size());
        for (String s : events.values()) {
            ev.add(EntryCodec.decode(s));
        }
        List<LogEntry> lv = new ArrayList<>(live.size());
        for (String s : live.values()) {
            lv.add(EntryCodec.decode(s));
        }
        long head = meta.getOrDefault("head", 0L);
        long first = meta.getOrDefault("first", head + 1);
        log.restore(ev, lv, head, first);
        LOG.info("result log '{}' restored from {}: events {}..{}, {} live results, {} delivery records",
                log.name(), file, first, head, lv.size(), deliveries.size());
    }

    /** @return the file */
    public Path file() {
        return file;
    }

    /**
     * Appends the records of one checkpoint to the log with the delivery record in one commit, then
     * makes them visible. A checkpoint the store already holds (same id, same positions and number of
     * records) is skipped; one with an id the store holds for other records, or older than the newest
     * it holds and not held, is refused: the log is fed by another pipeline than before.
     *
     * @param delivery the checkpoint's delivery record
     * @param records  its results, as {@link EntryCodec#encodeItem} wrote them
     * @throws IOException when the checkpoint is refused or cannot be written (nothing of it is then
     *                     visible), or the store stopped after a failed commit
     */
    @Override
    public void deliver(Delivery delivery, List<String> records) throws IOException {
        if (broken != null) {
            throw new IOException("result log '" + log.name() + "' stopped taking results after " + broken
                    + "; build it again on " + file.getParent() + " to restore what was committed");
        }
        long last = meta.getOrDefault("delivered", 0L);
        String held = deliveries.get(delivery.checkpointId());
        if (held != null) {
            Delivery before = Delivery.parse(held);
            if (before.records() != records.size() || !before.positions().equals(delivery.positions())) {
                throw new IOException("result log '" + log.name() + "' already holds checkpoint "
                        + delivery.checkpointId() + " as " + before.records() + " results at positions "
                        + before.positions() + ", but it is delivered again as " + records.size() + " results at "
                        + delivery.positions() + ": is this log fed by another pipeline or checkpoint directory "
                        + "than the one it was fed by? Nothing was appended");
            }
            LOG.info("result log '{}' already holds checkpoint {}: skipped", log.name(), delivery.checkpointId());
            return;
        }
        if (delivery.checkpointId() <= last) {
            throw new IOException("result log '" + log.name() + "' holds checkpoints up to " + last + ", and "
                    + "checkpoint " + delivery.checkpointId() + " is older and not among the delivery records it "
                    + "keeps: checkpoint ids went back, so this log is fed by another pipeline or checkpoint "
                    + "directory than the one it was fed by (or that directory was replaced by an older copy). "
                    + "Nothing was appended; use a new log directory, or the checkpoint directory that fed it");
        }
        List<RetainedLog.Item> items = new ArrayList<>(records.size());
        for (String r : records) {
            items.add(EntryCodec.decodeItem(r));
        }
        log.appendBatch(items, (changes, newHead, newFirst) -> write(delivery, changes, newHead, newFirst));
    }

    @Override
    public void deliver(long checkpointId, List<String> records) throws IOException {
        throw new UnsupportedOperationException("a durable result log takes a checkpoint's results with its "
                + "delivery record, deliver(Delivery, List)");
    }

    private void write(Delivery delivery, List<RetainedLog.Change> changes, long newHead, long newFirst)
            throws IOException {
        boolean committing = false;
        try {
            for (RetainedLog.Change c : changes) {
                LogEntry e = c.entry();
                switch (c.kind()) {
                    case EVENT -> events.put(e.id, EntryCodec.encode(e));
                    case LIVE -> live.put(e.id, EntryCodec.encode(e));
                    case NOT_LIVE -> live.remove(e.id);
                }
            }
            long oldFirst = meta.getOrDefault("first", 1L);
            for (long id = oldFirst; id < newFirst; id++) {
                events.remove(id);
            }
            meta.put("head", newHead);
            meta.put("first", newFirst);
            meta.put("delivered", delivery.checkpointId());
            deliveries.put(delivery.checkpointId(), delivery.toText());
            while (deliveries.size() > KEPT_DELIVERIES) {
                deliveries.remove(deliveries.firstKey());
            }
            beforeCommit.run();
            committing = true;
            store.commit();
            store.sync();
        } catch (RuntimeException e) {
            if (committing) {
                broken = "a failed commit of checkpoint " + delivery.checkpointId() + " (" + e + ")";
            }
            try {
                store.rollback();
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw new IOException("result log '" + log.name() + "' cannot write checkpoint "
                    + delivery.checkpointId() + " to " + file + " (nothing of it was published; the pipeline "
                    + "delivers it again after a restart): " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<List<Delivery>> deliveries() throws IOException {
        List<Delivery> out = new ArrayList<>(deliveries.size());
        try {
            for (String s : deliveries.values()) {
                out.add(Delivery.parse(s));
            }
        } catch (RuntimeException e) {
            throw new IOException("result log '" + log.name() + "' cannot read its delivery records in " + file
                    + ": " + e.getMessage(), e);
        }
        return Optional.of(out);
    }

    /** Closes the file (everything delivered is committed already). */
    @Override
    public void close() {
        if (!store.isClosed()) {
            try {
                store.close();
            } catch (RuntimeException e) {
                store.closeImmediately();
            }
        }
    }

    @Override
    public String toString() {
        return "result log '" + log.name() + "' (" + file + ")";
    }

    /**
     * Text forms of log entries and outbox records: fields, each as its length, a colon and its text.
     */
    public static final class EntryCodec {

        private EntryCodec() {
        }

        /**
         * @param keyText  the key as text
         * @param keyJson  the key as JSON
         * @param start    window start
         * @param end      window end
         * @param bodyJson the result's JSON members after the key
         * @return what the outbox keeps for one result
         */
        public static String encodeItem(String keyText, String keyJson, long start, long end, String bodyJson) {
            return join(keyText, keyJson, Long.toString(start), Long.toString(end), bodyJson);
        }

        static RetainedLog.Item decodeItem(String s) {
            List<String> f = split(s, 5);
            return new RetainedLog.Item(f.get(0), f.get(1), Long.parseLong(f.get(2)), Long.parseLong(f.get(3)),
                    f.get(4));
        }

        static String encode(LogEntry e) {
            return join(e.retraction ? "X" : "R", Long.toString(e.id), Long.toString(e.retracts), e.keyText, e.keyJson,
                    Long.toString(e.start), Long.toString(e.end), Long.toString(e.appendedAt), e.event.data());
        }

        static LogEntry decode(String s) {
            List<String> f = split(s, 9);
            boolean retraction = f.get(0).equals("X");
            long id = Long.parseLong(f.get(1));
            return new LogEntry(id, retraction, Long.parseLong(f.get(2)), f.get(3), f.get(4), Long.parseLong(f.get(5)),
                    Long.parseLong(f.get(6)), Long.parseLong(f.get(7)), new ResultEvent(id,
                    retraction ? ResultEvent.Type.RETRACT : ResultEvent.Type.RESULT, f.get(8)));
        }

        private static String join(String... parts) {
            StringBuilder sb = new StringBuilder();
            for (String p : parts) {
                sb.append(p.length()).append(':').append(p);
            }
            return sb.toString();
        }

        private static List<String> split(String s, int n) {
            List<String> out = new ArrayList<>(n);
            int i = 0;
            while (i < s.length()) {
                int colon = s.indexOf(':', i);
                if (colon < 0) {
                    throw new IllegalArgumentException("damaged entry: " + s);
                }
                int len = Integer.parseInt(s.substring(i, colon));
                out.add(s.substring(colon + 1, colon + 1 + len));
                i = colon + 1 + len;
            }
            if (out.size() != n) {
                throw new IllegalArgumentException("damaged entry (" + out.size() + " fields, expected " + n + "): " + s);
            }
            return out;
        }
    }
}
