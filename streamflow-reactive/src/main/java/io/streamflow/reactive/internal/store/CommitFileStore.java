package io.streamflow.reactive.internal.store;

import org.h2.mvstore.SFChunk;
import org.h2.mvstore.SingleFileStore;
import org.h2.mvstore.WriteBuffer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * MVStore's single-file store, telling a listener when a commit has taken its snapshot, and
 * compacting only chunks that are less than {@link CheckpointStore#COMPACT_FILL_RATE} % full.
 * <p>
 * MVStore commits in two steps: it fixes the root page of every map at the new version (later
 * changes copy pages and belong to the next version), then serialises and writes the changed
 * pages. The first write buffer is taken right after the first step, and only by that
 * serialisation, so that moment is reported: from then on the operators may change state again
 * while the pages are written.
 */
final class CommitFileStore extends SingleFileStore {

    private final AtomicReference<Runnable> onSnapshot = new AtomicReference<>();

    private final boolean scanAll;

    /** Fill rate (%) below which a chunk is rewritten: the last {@link #compact} call's. */
    private volatile int compactFillRate = CheckpointStore.COMPACT_FILL_RATE;

    /** @param scanAll on open, search every block of the file for chunks (MVStore's recovery scan) */
    CommitFileStore(Map<String, Object> config, boolean scanAll) {
        super(config);
        this.scanAll = scanAll;
    }

    /**
     * With {@code scanAll}, the header is read as in MVStore's recovery mode, which finds the newest
     * complete set of chunks anywhere in the file. Only the header: a damaged page still fails its
     * read (in full recovery mode it would read as empty).
     */
    @Override
    protected void readStoreHeader(boolean recoveryMode) {
        super.readStoreHeader(recoveryMode || scanAll);
    }

    /** {@code listener} runs once, when the next commit has fixed its version (or via {@link #snapshotTaken}). */
    void beforeNextCommit(Runnable listener) {
        onSnapshot.set(listener);
    }

    /** Runs the listener now if the commit has not run it (it had nothing to write, or failed before). */
    void snapshotTaken() {
        Runnable r = onSnapshot.getAndSet(null);
        if (r != null) {
            r.run();
        }
    }

    @Override
    public WriteBuffer getWriteBuffer() {
        snapshotTaken();
        return super.getWriteBuffer();
    }

    /**
     * Rewrites the live pages of chunks that are less than {@code targetFillRate} % full, at most
     * about {@code write} bytes of them, when the chunks that hold live pages are on the whole less
     * than that full. MVStore's own {@code compact} judges the fill rate of all chunks, also of
     * those that hold no live page any more and are kept only for older versions (they are freed
     * within a few commits anyway), and then rewrites the rewritable chunks least full first
     * whatever their fill rate: with old versions kept that made it run after every checkpoint and
     * rewrite pages of nearly full chunks, which then had to be kept for older versions in turn.
     */
    @Override
    public boolean compact(int targetFillRate, int write) {
        compactFillRate = targetFillRate;
        if (targetFillRate <= 0 || liveChunksFillRate() >= targetFillRate) {
            return false;
        }
        // above 100: MVStore's check of all chunks' fill rate always passes; the candidates are
        // chosen by getRewriteCandidates
        return super.compact(101, write);
    }

    /** @return the chunks with live pages that are less than the compaction's fill rate full */
    @Override
    public Collection<SFChunk> getRewriteCandidates() {
        List<SFChunk> out = new ArrayList<>();
        int target = compactFillRate;
        for (SFChunk c : getChunks().values()) {
            if (c.maxLenLive > 0 && c.maxLenLive * 100 < c.maxLen * target) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * @return how full (in %) the chunks that hold live pages are, together: their live pages' bytes
     * against their pages' bytes (100 without such chunks)
     */
    int liveChunksFillRate() {
        long all = 0;
        long live = 0;
        for (SFChunk c : getChunks().values()) {
            if (c.maxLenLive > 0) {
                all += c.maxLen;
                live += c.maxLenLive;
            }
        }
        return all == 0 ? 100 : (int) (100 * live / all);
    }
}
