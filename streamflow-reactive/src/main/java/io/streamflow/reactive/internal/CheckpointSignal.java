package io.streamflow.reactive.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Completion of one checkpoint, carried by its barrier: stateful operators that forwarded the
 * barrier hold back their inputs until the checkpoint's commit is done (so no change made after
 * the barrier leaks into it), and register here to be told when it is.
 */
public final class CheckpointSignal {

    private final long id;
    private List<Runnable> waiters = new ArrayList<>();
    private boolean done;

    public CheckpointSignal(long id) {
        this.id = id;
    }

    public long id() {
        return id;
    }

    /** Runs {@code r} once the checkpoint is done (at once, on this thread, when it already is). */
    public void whenDone(Runnable r) {
        synchronized (this) {
            if (!done) {
                waiters.add(r);
                return;
            }
        }
        r.run();
    }

    /** Marks the checkpoint done (committed, or given up) and wakes every waiting operator. */
    public void done() {
        List<Runnable> run;
        synchronized (this) {
            if (done) {
                return;
            }
            done = true;
            run = waiters;
            waiters = null;
        }
        for (Runnable r : run) {
            r.run();
        }
    }

    public synchronized boolean isDone() {
        return done;
    }
}
