package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCodec;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.Page;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The checkpoint directory's state file: an MVStore with auto-commit off, in which each
 * checkpoint is one commit holding the operators' state maps, the checkpoint's record (id,
 * positions, entry counts, CRC) and the sink outbox.
 * <p>
 * Opening verifies the latest checkpoint: its record's CRC, every page of the state (pages carry
 * CRCs of their keys and values, checked when read) and the entry count of every state map.
 * When that fails, or the file does not open, the problem is reported and the store is rolled back
 * to the previous checkpoint, which is verified the same way. The store keeps the chunks of its
 * last {@value #KEPT_VERSIONS} versions (checkpoints) in the file, so the previous checkpoint and
 * the one before it are still there; the space of older chunks is reused at once, since every
 * checkpoint is forced to disk before the next one is written.
 */
public final class CheckpointStore implements AutoCloseable {

    /** Name of the state file in a checkpoint directory. */
    public static final String FILE = "state.mv";
    /**
     * Written after each checkpoint is durable: its id. A store whose latest checkpoint is older
     * lost its end (truncated, or its last commit did not reach the disk), which is reported.
     */
    static final String LATEST_FILE = "latest-checkpoint";
    static final String CHECKPOINTS = "streamflow.checkpoints";
    static final String OUTBOX = "streamflow.outbox";
    private static final int KEEP_RECORDS = 100;
    private static final int CACHE_MB = 64;
    /** Chunks less full than this (in %) are rewritten after a checkpoint, so the file stays bounded. */
    static final int COMPACT_FILL_RATE = 50;
    /** At most this many bytes of live pages are rewritten per checkpoint (less with a small heap). */
    public static final int COMPACT_WRITE_BYTES = 16 << 20;

    /** File system scheme for the state file ({@code null}: the default); for fault-injection tests. */
    private static volatile String scheme;
    /**
     * Versions (each a checkpoint) before the one being written whose chunks stay in the file: a
     * commit reuses the space of chunks that only older versions need. So after a crash, also one
     * during a commit, the newest complete checkpoint, the previous one and the one before it are
     * in the file, for a restore to fall back to. Each kept version costs the bytes it replaced, up
     * to the whole state when a checkpoint rewrites all pages (MVStore's default is 5).
     */
    static final int KEPT_VERSIONS = 3;
    /**
     * Time-based retention of old chunks, in ms: none. MVStore's default (45 s) protects chunks whose
     * writes a crash may have lost when a file is not forced to disk; every checkpoint is synced
     * before the next commit, and the last {@value #KEPT_VERSIONS} versions are kept by count. With
     * a time-based retention the file holds all that was written within it: at a checkpoint every
     * 50 ms to 1 s, 50 to 160 times the live state.
     */
    static final int RETENTION_MILLIS = 0;
    /** Retention time in ms instead of {@link #RETENTION_MILLIS} ({@code -1}: that); for tests only. */
    private static volatile int retentionOverride = -1;

    private static final Logger LOG = Loggers.getLogger(CheckpointStore.class);

    private final Path file;
    private final MVStore store;
    private final DurableStateBackend backend;
    private final MVMap<byte[], Object> checkpoints;
    /** Ids of the checkpoints taken at the end of their input (after the end-of-input watermark). */
    private final MVMap<byte[], Object> ends;
    /** One outbox per output channel ({@link #MAIN}, {@link #LATE}, {@link #DEAD_LETTERS}). */
    private final Outbox[] outboxes;
    private CheckpointRecord latest;
    /** The id noted as durable in the directory when it was opened ({@code 0}: none). */
    private final long noted;
    /** Set when a compaction failed: the store is not compacted again until it is reopened. */
    private volatile boolean compactionOff;

    /** Output channels of a checkpointed sink, each with its own outbox. */
    public static final int MAIN = 0;
    public static final int LATE = 1;
    public static final int DEAD_LETTERS = 2;
    public static final int CHANNELS = 3;
    private static final String[] OUTBOX_MAPS = {OUTBOX, OUTBOX + ".late", OUTBOX + ".dead-letters"};
    static final String ENDS = "streamflow.end-of-input";

    private CheckpointStore(Path file, MVStore store, DurableStateBackend backend, CheckpointRecord latest,
                            long noted) {
        this.file = file;
        this.store = store;
        this.backend = backend;
        this.latest = latest;
        this.noted = noted;
        this.checkpoints = backend.openMap(CHECKPOINTS);
        this.ends = backend.openMap(ENDS);
        this.outboxes = new Outbox[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            outboxes[c] = new Outbox(backend.openMap(OUTBOX_MAPS[c]));
        }
    }

    /** One channel's outbox: keys are (checkpoint id, sequence number). */
    private static final class Outbox {
        final MVMap<byte[], Object> map;
        long seq;

        Outbox(MVMap<byte[], Object> map) {
            this.map = map;
            byte[] last = map.lastKey();
            this.seq = last == null ? 0 : ByteBuffer.wrap(last).getLong(8) + 1;
        }
    }

    /**
     * Opens (or creates) the state file of {@code directory} and restores its latest valid
     * checkpoint; {@code report} is told about every checkpoint that failed verification.
     * {@code intervalMillis} (the checkpoint interval) does not change how the store keeps old
     * versions: it keeps the last {@value #KEPT_VERSIONS} by count, whatever their age.
     */
    public static CheckpointStore open(Path directory, Map<Class<?>, StateCodec<?>> codecs, long intervalMillis,
                                       Consumer<String> report) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create checkpoint directory " + directory, e);
        }
        Path file = directory.resolve(FILE);
        boolean existed = Files.exists(file);
        MVStore store;
        try {
            store = openStore(file, false);
        } catch (RuntimeException | AssertionError e) {
            if (!existed) {
                throw new IllegalStateException("cannot create the state file " + file + ": " + e.getMessage(), e);
            }
            report.accept("the state file " + file + " does not open (" + e + "); recovering the newest complete "
                    + "checkpoint in it");
            try {
                store = reopenForRecovery(file, false, Long.MAX_VALUE, report);
            } catch (RuntimeException again) {
                again.addSuppressed(e);
                throw new IllegalStateException("the state file " + file + " does not open, not even without its "
                        + "newest commits: " + again.getMessage(), again);
            }
        }
        long noted = readNoted(directory.resolve(LATEST_FILE));
        Set<String> reported = new HashSet<>();
        Restored restored = restoreLatest(file, store, codecs, noted, false, problem -> {
            reported.add(problem);
            report.accept(problem);
        });
        if (noted > restored.id() && !restored.store().isReadOnly()) {
            // MVStore opens at the newest chunk it reaches from the store header and the file's tail;
            // a damaged tail can stop it at an older chunk although newer complete ones exist, so
            // every block of the file is searched for chunks once more
            restored.store().closeImmediately();
            MVStore scanned;
            try {
                scanned = openStore(file, true);
            } catch (RuntimeException | AssertionError e) {
                report.accept("searching the whole state file " + file + " for newer commits failed (" + e + ")");
                scanned = openStore(file, false);
            }
            // the same checks run again on the scanned file: a problem already reported is not reported twice
            restored = restoreLatest(file, scanned, codecs, noted, true, problem -> {
                if (reported.add(problem)) {
                    report.accept(problem);
                }
            });
        }
        store = restored.store();
        DurableStateBackend backend = restored.backend();
        CheckpointRecord latest = restored.latest();
        long restoredId = latest == null ? 0 : latest.id();
        if (noted > restoredId) {
            report.accept("checkpoint " + noted + " was completed but the state file ends "
                    + (latest == null ? "before any checkpoint" : "at checkpoint " + restoredId)
                    + " (truncated, or its last commits did not reach the disk); using "
                    + (latest == null ? "no checkpoint" : "checkpoint " + restoredId));
        }
        CheckpointStore cs = new CheckpointStore(file, store, backend, latest, noted);
        if (noted < restoredId && !store.isReadOnly()) {
            // a note older than the store (or none): the store is right. A note newer than the store
            // is kept: it is how a later open still knows that completed checkpoints were lost
            cs.noteLatest();
        }
        return cs;
    }

    private record Restored(MVStore store, DurableStateBackend backend, CheckpointRecord latest) {
        long id() {
            return latest == null ? 0 : latest.id();
        }
    }

    /**
     * Finds the newest checkpoint of {@code store} that verifies, rolling back (or hiding damaged
     * newest commits) past those that do not; {@code noted} is the id of the last checkpoint noted
     * as completed.
     */
    private static Restored restoreLatest(Path file, MVStore store, Map<Class<?>, StateCodec<?>> codecs, long noted,
                                          boolean scanAll, Consumer<String> report) {
        DurableStateBackend backend = null;
        CheckpointRecord latest = null;
        for (;;) {
            CheckpointRecord candidate = null;
            String problem;
            try {
                backend = DurableStateBackend.open(store, codecs);
                candidate = readLatest(backend);
                problem = candidate == null ? null : verify(store, backend, candidate);
                if (candidate == null && noted > 0 && store.getCurrentVersion() > 0) {
                    // a completed checkpoint was noted, yet this version reads as holding none: a
                    // damaged newest commit can read so (its pages point at the wrong data)
                    problem = "it holds no checkpoint record, though checkpoint " + noted + " was completed";
                }
            } catch (RuntimeException | AssertionError e) {
                // AssertionError: MVStore's own consistency assertions, when enabled, on damaged pages
                problem = "it cannot be read: " + e;
            }
            if (problem == null) {
                latest = candidate;
                break;
            }
            long version = store.getCurrentVersion();
            long previous = candidate != null ? candidate.previousVersion() : version - 1;
            report.accept("latest checkpoint" + (candidate == null ? "" : " " + candidate.id()) + " (store version "
                    + version + ") is damaged: " + problem + "; using the previous checkpoint (store version "
                    + Math.max(previous, 0) + ")");
            if (previous <= 0) {
                store.rollbackTo(0);
                backend = DurableStateBackend.open(store, codecs);
                break;
            }
            if (previous == version - 1 && !store.isReadOnly()) {
                // the newest commit is the damaged one: drop it from the file and open afresh, so
                // that nothing of it (its chunk list, say) is read again; rolling back in memory
                // can keep a damaged chunk list, which hides older chunks
                store.closeImmediately();
                try {
                    // only commits up to the damaged one: a newer complete commit that this open did
                    // not reach stays in the file for the whole-file search to find
                    store = reopenForRecovery(file, scanAll, version, report);
                } catch (RuntimeException e) {
                    throw new IllegalStateException("the state file " + file + " does not open without its damaged "
                            + "newest commit: " + e.getMessage(), e);
                }
                if (!scanAll && store.getCurrentVersion() < version - 1) {
                    // the open skipped complete commits between the one dropped and the one it reached (it
                    // follows the file's header and tail): search the whole file before anything older is
                    // dropped, since the newer commits may still need pages in the older chunks
                    store.closeImmediately();
                    try {
                        store = openStore(file, true);
                        scanAll = true;
                    } catch (RuntimeException | AssertionError e) {
                        report.accept("searching the whole state file " + file + " for newer commits failed (" + e
                                + ")");
                        store = openStore(file, false);
                    }
                }
                continue;
            }
            store.rollbackTo(previous);
        }
        return new Restored(store, backend, latest);
    }

    private static long readNoted(Path f) {
        try {
            String s = Files.readString(f).trim();
            return s.isEmpty() ? 0 : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return 0; // absent or unreadable: nothing to compare with
        }
    }

    /** Notes the latest durable checkpoint's id next to the state file (replaced atomically). */
    private void noteLatest() {
        Path dir = file.getParent();
        Path tmp = dir.resolve(LATEST_FILE + ".tmp");
        try {
            Files.writeString(tmp, Long.toString(latest == null ? 0 : latest.id()));
            Files.move(tmp, dir.resolve(LATEST_FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(LATEST_FILE), e);
        }
    }

    /**
     * Makes the store open its file through the MVStore file system registered under
     * {@code fileSystemScheme} (for example one that fails writes like a full disk); {@code null}
     * restores the default. For fault-injection tests.
     */
    public static void useFileSystem(String fileSystemScheme) {
        scheme = fileSystemScheme;
    }

    /**
     * Sets the store's retention time for stores opened after the call ({@code -1}: the default,
     * {@value #RETENTION_MILLIS}). Space of old chunks is reused only after it; the last
     * {@value #KEPT_VERSIONS} versions are kept in any case. For tests.
     */
    public static void useRetentionTime(int millis) {
        retentionOverride = millis;
    }

    private static String fileName(Path file) {
        String s = scheme;
        return s == null ? file.toString() : s + ":" + file;
    }

    /** @param scanAll search every block of the file for chunks, not only those reached from its header and tail */
    private static MVStore openStore(Path file, boolean scanAll) {
        // autoCommitBufferSize(0): without it MVStore still commits by itself once unsaved changes pass
        // a memory threshold, inside a put on an operator thread, which would split a checkpoint
        // the page cache is kept to a sixteenth of the heap (the operators' state keeps its working set
        // on the heap besides it), so state larger than the heap fits
        int cacheMb = (int) Math.max(1, Math.min(CACHE_MB, Runtime.getRuntime().maxMemory() / 16 / (1 << 20)));
        Map<String, Object> config = new java.util.HashMap<>();
        config.put("cacheSize", cacheMb);
        CommitFileStore fs = new CommitFileStore(config, scanAll);
        fs.open(fileName(file), false, null);
        try {
            MVStore store = new MVStore.Builder().adoptFileStore(fs).autoCommitDisabled().autoCommitBufferSize(0).open();
            store.setVersionsToKeep(KEPT_VERSIONS);
            store.setRetentionTime(retentionOverride >= 0 ? retentionOverride : RETENTION_MILLIS);
            return store;
        } catch (RuntimeException | AssertionError e) {
            try {
                fs.close();
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * Recovers a state file that does not open: its newest chunk of a version up to
     * {@code maxVersion} (the latest such commit, found by its header) is hidden by blanking its
     * header and footer, so that the store opens at the commit before it; repeated while it still
     * does not open. The file is first replaced by a copy of itself, because a store that failed to
     * open may keep the original locked in this process.
     */
    private static MVStore reopenForRecovery(Path file, boolean scanAll, long maxVersion, Consumer<String> report) {
        Path copy = file.resolveSibling(FILE + ".recovering");
        RuntimeException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                Files.copy(file, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                String hidden = hideNewestChunk(copy, maxVersion);
                Files.move(copy, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                if (hidden == null) {
                    break;
                }
                report.accept("hid the newest commit of " + file + " (" + hidden + ")");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare " + file + " for recovery", e);
            }
            try {
                return openStore(file, scanAll);
            } catch (RuntimeException | AssertionError e) {
                last = e instanceof RuntimeException r ? r : new IllegalStateException(e);
            }
        }
        throw last != null ? last : new IllegalStateException("no commit of " + file + " could be opened");
    }

    private static final int BLOCK = 4096;

    /**
     * Blanks the header and footer of the chunk with the highest id among those of a version up
     * to {@code maxVersion}; @return its header, or null if none
     */
    static String hideNewestChunk(Path f, long maxVersion) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            long size = ch.size();
            long bestId = -1;
            long bestBlock = -1;
            long bestLen = 0;
            String bestHeader = null;
            ByteBuffer buf = ByteBuffer.allocate(256);
            for (long block = 2; block * BLOCK < size; block++) {
                buf.clear();
                ch.read(buf, block * BLOCK);
                String head = new String(buf.array(), 0, buf.position(), java.nio.charset.StandardCharsets.ISO_8859_1);
                if (!head.startsWith("chunk:")) {
                    continue;
                }
                int nl = head.indexOf('\n');
                String header = nl < 0 ? head : head.substring(0, nl);
                try {
                    Map<String, String> m = org.h2.mvstore.DataUtils.parseMap(header);
                    long id = Long.parseLong(m.get("chunk"), 16);
                    // MVStore reads a chunk without a version as of version = id
                    String v = m.get("version");
                    long version = v == null ? id : Long.parseLong(v, 16);
                    if (id > bestId && version <= maxVersion) {
                        bestId = id;
                        bestBlock = block;
                        bestLen = Long.parseLong(m.get("len"), 16);
                        bestHeader = header;
                    }
                } catch (RuntimeException notAHeader) {
                    // damaged or not a chunk header: not a candidate
                }
            }
            if (bestId < 0) {
                return null;
            }
            ByteBuffer zeros = ByteBuffer.allocate(BLOCK);
            ch.write(zeros, bestBlock * BLOCK);
            long footer = (bestBlock + bestLen) * BLOCK - BLOCK;
            if (bestLen > 1 && footer < size) {
                zeros.clear();
                ch.write(zeros, footer);
            }
            ch.force(true);
            return bestHeader;
        }
    }

    private static CheckpointRecord readLatest(DurableStateBackend backend) {
        MVMap<byte[], Object> records = backend.openMap(CHECKPOINTS);
        byte[] last = records.lastKey();
        if (last == null) {
            return null;
        }
        Object r = records.get(last);
        if (!(r instanceof CheckpointRecord rec)) {
            throw new IllegalStateException("checkpoint record is " + r);
        }
        return rec;
    }

    /** @return {@code null} when the checkpoint is intact, else what is wrong */
    private static String verify(MVStore store, DurableStateBackend backend, CheckpointRecord rec) {
        if (!rec.intact()) {
            return "its record fails its CRC";
        }
        if (rec.version() != store.getCurrentVersion()) {
            return "its record says store version " + rec.version() + " but the store is at "
                    + store.getCurrentVersion();
        }
        for (String name : store.getMapNames()) {
            if (backend.isOwnMap(name)) {
                readAllPages(backend.openMap(name).getRootPage());
            }
        }
        for (Map.Entry<String, Long> e : rec.stateEntries().entrySet()) {
            long size = backend.openMap(e.getKey()).sizeAsLong();
            if (size != e.getValue()) {
                return "state " + e.getKey() + " has " + size + " entries, its checkpoint recorded " + e.getValue();
            }
        }
        for (String name : store.getMapNames()) {
            if (backend.isStateMap(name) && !rec.stateEntries().containsKey(name)
                    && backend.openMap(name).sizeAsLong() != 0) {
                return "state " + name + " is not in its checkpoint record";
            }
        }
        return null;
    }

    /**
     * Reads every page of the map's current version. Reading decodes each page, which checks its
     * key and value CRCs and MVStore's page header checks; a damaged chunk entry of the store's
     * layout makes a page unreadable too. This costs a read of the whole state at open, which is
     * what makes a damaged byte anywhere in the state detectable before anything is emitted.
     */
    private static void readAllPages(Page<byte[], Object> page) {
        if (page.isLeaf()) {
            return;
        }
        int n = page.getRawChildPageCount();
        for (int i = 0; i < n; i++) {
            readAllPages(page.getChildPage(i));
        }
    }

    public DurableStateBackend backend() {
        return backend;
    }

    /** @return the latest committed checkpoint, {@code null} before the first */
    public CheckpointRecord latest() {
        return latest;
    }

    /**
     * @return the id of the newest checkpoint noted as durable in the directory when it was
     * opened: higher than {@link #latest()}'s when completed checkpoints were lost (a fallback)
     */
    public long notedId() {
        return noted;
    }

    /** @return the record of checkpoint {@code id} if the store still keeps it (the last 100 are kept) */
    public CheckpointRecord record(long id) {
        Object r = checkpoints.get(ByteBuffer.allocate(8).putLong(id).array());
        return r instanceof CheckpointRecord rec ? rec : null;
    }

    /**
     * @return the record of checkpoint {@code id}, or else of the first later checkpoint the store
     * still keeps; {@code null} if none
     */
    public CheckpointRecord recordAtOrAfter(long id) {
        byte[] key = checkpoints.ceilingKey(ByteBuffer.allocate(8).putLong(id).array());
        return key == null ? null : (CheckpointRecord) checkpoints.get(key);
    }

    /** @return whether checkpoint {@code id} was taken at the end of its input */
    public boolean isEndOfInput(long id) {
        return ends.containsKey(ByteBuffer.allocate(8).putLong(id).array());
    }

    /** Adds a sink record to the main outbox of checkpoint {@code id} (committed with it). */
    public void appendOutbox(long id, Object value) {
        appendOutbox(MAIN, id, value);
    }

    /** Adds a record to {@code channel}'s outbox of checkpoint {@code id} (committed with it). */
    public void appendOutbox(int channel, long id, Object value) {
        backend.types().checkEncodable(value); // a value that fails to encode during the commit would close the store
        Outbox o = outboxes[channel];
        o.map.put(ByteBuffer.allocate(16).putLong(id).putLong(o.seq++).array(), value);
    }

    /**
     * @return a fingerprint of {@code value} that is the same in every store and run (a 64-bit
     * hash of its portable encoding); fingerprints of several values are summed
     */
    public long fingerprint(Object value) {
        byte[] b = value instanceof String s ? s.getBytes(java.nio.charset.StandardCharsets.UTF_8)
                : backend.types().encodePortable(value);
        long h = 0xcbf29ce484222325L; // FNV-1a, then a 64-bit finaliser so that close inputs spread
        for (byte x : b) {
            h ^= x & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= b.length;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /** @return the main outbox of committed checkpoints (delivery pending), by checkpoint id */
    public TreeMap<Long, List<Object>> outbox() {
        return outbox(MAIN);
    }

    /** @return {@code channel}'s outbox of committed checkpoints (delivery pending), by checkpoint id */
    public TreeMap<Long, List<Object>> outbox(int channel) {
        TreeMap<Long, List<Object>> out = new TreeMap<>();
        long committed = latest == null ? 0 : latest.id();
        Iterator<Map.Entry<byte[], Object>> it = outboxes[channel].map.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<byte[], Object> e = it.next();
            long id = ByteBuffer.wrap(e.getKey()).getLong(0);
            if (id > committed) {
                break;
            }
            out.computeIfAbsent(id, k -> new ArrayList<>()).add(e.getValue());
        }
        return out;
    }

    /** Removes a delivered checkpoint's main outbox (the removal is committed with the next checkpoint). */
    public void removeOutbox(long id) {
        removeOutbox(MAIN, id);
    }

    /** Removes a delivered checkpoint's outbox of {@code channel} (committed with the next checkpoint). */
    public void removeOutbox(int channel, long id) {
        MVMap<byte[], Object> map = outboxes[channel].map;
        byte[] from = ByteBuffer.allocate(16).putLong(id).putLong(0).array();
        List<byte[]> keys = new ArrayList<>();
        Iterator<byte[]> it = map.keyIterator(from);
        while (it.hasNext()) {
            byte[] k = it.next();
            if (ByteBuffer.wrap(k).getLong(0) != id) {
                break;
            }
            keys.add(k);
        }
        for (byte[] k : keys) {
            map.remove(k);
        }
    }

    private long outboxSize() {
        long n = 0;
        for (Outbox o : outboxes) {
            n += o.map.sizeAsLong();
        }
        return n;
    }

    /**
     * Commits checkpoint {@code id}: the state as it is now, the outbox, and the checkpoint record.
     * The caller makes sure no operator changes state until the commit has fixed its version.
     */
    public CheckpointRecord commit(long id, long timeMillis, Map<String, Map<Integer, Long>> positions) {
        return commit(id, timeMillis, positions, () -> { });
    }

    /**
     * Commits checkpoint {@code id} like {@link #commit(long, long, Map)}; {@code snapshotTaken}
     * runs (on this thread) as soon as the commit has fixed the new version, before its pages are
     * written: from then on operators may change state again. It runs at the latest when the
     * commit ends, also when it fails.
     */
    public CheckpointRecord commit(long id, long timeMillis, Map<String, Map<Integer, Long>> positions,
                                   Runnable snapshotTaken) {
        return commit(id, timeMillis, positions, false, snapshotTaken);
    }

    /**
     * Commits checkpoint {@code id} like {@link #commit(long, long, Map, Runnable)};
     * {@code endOfInput} marks a checkpoint taken after the end of the input was processed.
     */
    public CheckpointRecord commit(long id, long timeMillis, Map<String, Map<Integer, Long>> positions,
                                   boolean endOfInput, Runnable snapshotTaken) {
        CommitFileStore fs = (CommitFileStore) store.getFileStore();
        fs.beforeNextCommit(snapshotTaken);
        try {
            return commitNow(id, timeMillis, positions, endOfInput);
        } finally {
            fs.snapshotTaken();
        }
    }

    private CheckpointRecord commitNow(long id, long timeMillis, Map<String, Map<Integer, Long>> positions,
                                       boolean endOfInput) {
        Map<String, Long> entries = new TreeMap<>();
        List<String> operators = new ArrayList<>(new java.util.TreeSet<>(backend.operatorNames()));
        for (Map.Entry<String, Long> e : backend.stateSizes().entrySet()) {
            if (backend.isStateMap(e.getKey())) {
                entries.put(e.getKey(), e.getValue());
            }
        }
        long version = store.getCurrentVersion() + 1;
        long previous = latest == null ? 0 : latest.version();
        long fileBytes = fileSize();
        Map<String, Map<Integer, Long>> sortedPositions = new TreeMap<>();
        positions.forEach((k, v) -> sortedPositions.put(k, new TreeMap<>(v)));
        long outboxRecords = outboxSize();
        long crc = CheckpointRecord.crcOf(id, timeMillis, sortedPositions, operators, entries, outboxRecords,
                version, previous, fileBytes);
        CheckpointRecord rec = new CheckpointRecord(id, timeMillis, sortedPositions, operators, entries,
                outboxRecords, version, previous, fileBytes, crc);
        checkpoints.put(ByteBuffer.allocate(8).putLong(id).array(), rec);
        while (checkpoints.sizeAsLong() > KEEP_RECORDS) {
            checkpoints.remove(checkpoints.firstKey());
        }
        if (endOfInput) {
            ends.put(ByteBuffer.allocate(8).putLong(id).array(), Boolean.TRUE);
        }
        byte[] oldest = checkpoints.firstKey();
        while (ends.firstKey() != null && oldest != null
                && ByteBuffer.wrap(ends.firstKey()).getLong() < ByteBuffer.wrap(oldest).getLong()) {
            ends.remove(ends.firstKey());
        }
        long stored = store.commit();
        if (stored != version) {
            throw new IllegalStateException("checkpoint " + id + " was stored as version " + stored + ", expected "
                    + version);
        }
        latest = rec;
        backend.committed();
        return rec;
    }

    /**
     * Rewrites the live pages of chunks that are less than half full (at most {@code maxBytes}),
     * so that the space of old chunks can be reused and the file does not grow while the live
     * state does not. It marks pages changed; they are written by the next checkpoint's commit, so
     * {@code maxBytes} adds to that commit's size (and to the heap it needs). Safe while operators
     * change state.
     */
    public void compact(int maxBytes) {
        if (!store.isClosed() && !store.isReadOnly() && maxBytes > 0 && !compactionOff) {
            try {
                store.compact(COMPACT_FILL_RATE, maxBytes);
            } catch (RuntimeException e) {
                // Compaction also reads pages that only older kept versions still use; the restore
                // verified every page of the restored version, so a damaged one here (a file damaged
                // where an older chunk lies) must not stop the pipeline. The file may grow until the
                // next start, which verifies the store again.
                compactionOff = true;
                LOG.warn("compacting " + fileName(file) + " failed, compaction is off until the next start: " + e);
            }
        }
    }

    /** @return MVStore's estimate of the memory held by changes not yet committed */
    public long uncommittedBytes() {
        return store.getUnsavedMemory();
    }

    /** Forces the file to disk, then notes the latest checkpoint as durable. */
    public void sync() {
        store.sync();
        noteLatest();
    }

    private long fileSize() {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    /** Closes the file, dropping every change after the last checkpoint. */
    @Override
    public void close() {
        if (store.isClosed()) {
            return;
        }
        try {
            store.rollback();
            store.close();
        } catch (RuntimeException e) {
            store.closeImmediately();
        }
    }

    /** @return the checkpoint records of {@code directory}, oldest first (the store is not changed) */
    public static List<CheckpointRecord> list(Path directory) {
        Path file = directory.resolve(FILE);
        if (!Files.exists(file)) {
            return List.of();
        }
        MVStore store = new MVStore.Builder().fileName(file.toString()).readOnly().open();
        try {
            DurableStateBackend backend = DurableStateBackend.open(store, Map.of());
            List<CheckpointRecord> out = new ArrayList<>();
            for (Object o : backend.openMap(CHECKPOINTS).values()) {
                out.add((CheckpointRecord) o);
            }
            return out;
        } finally {
            store.closeImmediately();
        }
    }
}
