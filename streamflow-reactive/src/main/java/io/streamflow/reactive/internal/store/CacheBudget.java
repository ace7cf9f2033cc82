package io.streamflow.reactive.internal.store;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap budget shared by the {@link CachedKeyedState}s of one store: estimated bytes of all
 * cached entries and of the entries changed since the last checkpoint. Past the cache limit, a
 * state that reports evicts its clean entries (its share of the excess); past the dirty limit, the
 * pressure listener is called once, until {@link #committed()}, so that a checkpoint is taken early
 * and the changes become clean. Thread-safe; states report in steps of {@link #REPORT_STEP}.
 */
public final class CacheBudget {

    /** States report their change in estimated bytes once it reaches this. */
    static final long REPORT_STEP = 256 << 10;
    /** An eviction brings the total down to this fraction of the cache limit. */
    private static final double EVICT_TO = 0.8;

    private final AtomicLong cached = new AtomicLong();
    private final AtomicLong dirty = new AtomicLong();
    private final AtomicBoolean signalled = new AtomicBoolean();
    private final List<CachedKeyedState<?, ?, ?>> states = new CopyOnWriteArrayList<>();
    private volatile long cacheLimit;
    /**
     * Heap that writing a changed entry the store already holds takes until the commit, per byte of
     * the entry: the store copies the entry's page. Measured at each checkpoint ({@link #measured});
     * until then a guess that suits sparse updates of a large store.
     */
    private volatile double amplification = INITIAL_AMPLIFICATION;
    private static final double INITIAL_AMPLIFICATION = 8;
    private static final double MAX_AMPLIFICATION = 64;
    private volatile long dirtyLimit;
    private volatile Runnable pressure = () -> { };
    final long reportStep;

    /**
     * @param cacheLimit estimated bytes of cached entries above which clean ones are evicted (0: never)
     */
    public CacheBudget(long cacheLimit) {
        this(cacheLimit, REPORT_STEP);
    }

    /** @param reportStep change in estimated bytes after which a state reports (and may evict); small in tests */
    CacheBudget(long cacheLimit, long reportStep) {
        limitCache(cacheLimit);
        this.reportStep = reportStep;
    }

    /** @param bytes estimated bytes of cached entries above which clean ones are evicted (0: never) */
    public void limitCache(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cache limit must be >= 0, was " + bytes);
        }
        this.cacheLimit = bytes;
    }

    /**
     * Calls {@code listener} once when the changed entries reach {@code limitBytes}, until
     * {@link #committed()}; 0 turns it off.
     */
    public void onDirty(long limitBytes, Runnable listener) {
        this.pressure = Objects.requireNonNull(listener, "listener");
        this.dirtyLimit = limitBytes;
    }

    /** A checkpoint was committed: the pressure listener may be called again. */
    public void committed() {
        signalled.set(false);
    }

    void register(CachedKeyedState<?, ?, ?> state) {
        states.add(state);
    }

    /** @return the states using this budget, in the order they were opened */
    public List<CachedKeyedState<?, ?, ?>> states() {
        return List.copyOf(states);
    }

    void update(long cachedDelta, long dirtyDelta, boolean snapshot) {
        cached.addAndGet(cachedDelta);
        long d = dirty.addAndGet(dirtyDelta);
        long limit = dirtyLimit;
        if (!snapshot && limit > 0 && d >= limit && signalled.compareAndSet(false, true)) {
            pressure.run();
        }
    }

    double amplification() {
        return amplification;
    }

    /**
     * Notes what a checkpoint's changes took in the store before its commit: {@code unsavedBytes}
     * (the store's estimate) for {@code newBytes} of entries it did not hold and {@code storedBytes}
     * of entries it did.
     */
    public void measured(long unsavedBytes, long newBytes, long storedBytes) {
        if (storedBytes < REPORT_STEP) {
            return; // too few to tell
        }
        double a = (double) Math.max(0, unsavedBytes - newBytes) / storedBytes;
        amplification = Math.max(1, Math.min(MAX_AMPLIFICATION, a));
    }

    boolean overCache() {
        long limit = cacheLimit;
        return limit > 0 && cached.get() > limit;
    }

    /** @return the bytes a state holding {@code own} of the cached bytes should evict */
    long excessShare(long own) {
        long total = Math.max(1, cached.get());
        long excess = total - (long) (cacheLimit * EVICT_TO);
        return excess <= 0 ? 0 : (long) ((double) excess * own / total) + 1;
    }

    /** @return estimated bytes of all cached entries */
    public long cachedBytes() {
        return cached.get();
    }

    /** @return estimated bytes of the entries changed since the last checkpoint */
    public long dirtyBytes() {
        return dirty.get();
    }
}
