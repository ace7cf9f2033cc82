package io.streamflow.reactive.internal.store;

import org.h2.mvstore.SingleFileStore;
import org.h2.mvstore.WriteBuffer;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * MVStore's single-file store, telling a listener when a commit has taken its snapshot. MVStore
 * commits in two steps: it fixes the root page of every map at the new version (later changes
 * copy pages and belong to the next version), then serialises and writes the changed pages. The
 * first write buffer is taken right after the first step, and only by that serialisation, so that
 * moment is reported: from then on the operators may change state again while the pages are
 * written.
 */
final class CommitFileStore extends SingleFileStore {

    private final AtomicReference<Runnable> onSnapshot = new AtomicReference<>();

    private final boolean scanAll;

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
}
