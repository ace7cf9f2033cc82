package io.streamflow.reactive.internal;

import java.util.Iterator;

/**
 * A lazily executed job for {@link StreamOperatorSubscriber#setPending}: every {@code next()}
 * performs one bounded {@linkplain #step() step} (which emits its outputs itself) and returns
 * {@code null}. This keeps a large firing (every key of a window) from materialising all its
 * results at once: the drain loop runs the next step only when the previous outputs were
 * delivered.
 */
public abstract class Work<O> implements Iterator<O> {

    private boolean finished;

    /** Performs one unit of work. @return {@code false} when there is no more work */
    protected abstract boolean step();

    @Override
    public final boolean hasNext() {
        return !finished;
    }

    @Override
    public final O next() {
        if (!finished && !step()) {
            finished = true;
        }
        return null;
    }
}
