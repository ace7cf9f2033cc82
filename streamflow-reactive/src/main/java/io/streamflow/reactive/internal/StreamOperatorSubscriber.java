package io.streamflow.reactive.internal;

import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.Fuseable;
import reactor.core.publisher.Operators;
import reactor.util.concurrent.Queues;
import reactor.util.context.Context;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

/**
 * Base of every stateful StreamFlow operator: a {@link CoreSubscriber} and {@link Subscription}
 * whose signals ({@code onNext}, {@code request}, timer ticks, termination) only add work and call
 * {@link #drain()}; one thread at a time runs the drain loop, which owns all operator state.
 * Downstream {@code onNext} is never called while holding a lock.
 * <p>
 * Demand: upstream is asked for at most {@code prefetch} elements ahead; they wait in a bounded
 * queue. An input is only processed when the previous input's output has been delivered, and
 * large outputs (for example a watermark that fires every key's window) are produced lazily by a
 * {@linkplain #setPending(Iterator) pending iterator} as downstream requests them. So the
 * operator holds at most {@code prefetch} inputs plus one input's immediate outputs in flight,
 * whatever the downstream demand.
 * <p>
 * On cancel, queued inputs and undelivered outputs are passed to the discard hook and
 * {@link #clearState()} is called. A user function that throws terminates the operator with
 * {@code onError} after cancelling upstream (subclasses apply their dead-letter policy before
 * that). A JVM-fatal error ({@link OutOfMemoryError}, {@link StackOverflowError}), which Reactor
 * would throw instead of signalling, terminates it too: downstream receives a
 * {@link FatalErrorException} carrying it.
 * <p>
 * Fusion: when upstream offers synchronous fusion ({@link Fuseable#SYNC}, for example the generator
 * source or another StreamFlow operator), the drain loop pulls each input with {@code poll()}
 * instead of receiving {@code onNext} into its queue, so a record costs no atomic operation and no
 * queue hand-off. An operator that {@linkplain #offersSyncFusion() says it can} is itself pulled
 * that way by a downstream StreamFlow operator: its {@code poll()} runs the next input through
 * {@link #onInput} on the consumer's thread. It only offers this while its upstream is fused
 * synchronously too and it has no timers and never pauses; a downstream that needs a thread
 * barrier ({@code publishOn}) is refused.
 *
 * @param <I> input element type
 * @param <O> output element type
 */
public abstract class StreamOperatorSubscriber<I, O> implements CoreSubscriber<I>, Subscription {

    protected final CoreSubscriber<? super O> actual;
    private final int prefetch;
    private final int limit;
    private final Queue<I> inQueue;
    private final ArrayDeque<O> out = new ArrayDeque<>();
    private Iterator<? extends O> pending;

    private Subscription s;
    /** Upstream, when it is fused synchronously: inputs are pulled from it and {@link #inQueue} is unused. */
    private Fuseable.QueueSubscription<I> syncUpstream;
    /** Whether downstream pulls this operator's outputs with {@link FusedOutput#poll()} (its drain loop is unused). */
    private boolean outputFused;
    private int consumed;
    private boolean endHandled;
    private boolean terminated;

    private volatile boolean done;
    private Throwable error;
    private volatile boolean cancelled;

    private volatile long requested;
    /** Outputs delivered so far; owned by the drain loop. */
    private long produced;
    /**
     * Set while the thread that owns the drain loop runs an input or a pending step with no output
     * queued (in the drain loop, or on {@link #onNext}'s fast path): {@link #emit} may then hand an
     * output straight to downstream when nothing is queued ahead of it and demand allows, instead of
     * queueing it for the drain loop. An output set by {@link #setPending} meanwhile still follows it,
     * as it would from the queue.
     */
    private boolean direct;
    /**
     * Set while {@link FusedOutput#poll()} runs an input: {@link #emit} may then keep the first
     * output in {@link #slot}, which the poll returns, instead of queueing it.
     */
    private boolean pollSlot;
    /** The output kept by {@link #emit} for the running poll; it precedes everything in {@link #out}. */
    private O slot;
    @SuppressWarnings("rawtypes")
    private static final AtomicLongFieldUpdater<StreamOperatorSubscriber> REQUESTED =
            AtomicLongFieldUpdater.newUpdater(StreamOperatorSubscriber.class, "requested");

    private volatile int wip;
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<StreamOperatorSubscriber> WIP =
            AtomicIntegerFieldUpdater.newUpdater(StreamOperatorSubscriber.class, "wip");

    /**
     * Read-ahead from a synchronously fused upstream (see {@link #readAhead(int)}): a batch of
     * inputs pulled before their turn, in order, taken from {@link #aheadHead}; {@link #aheadCount}
     * are left. {@code null} until read-ahead is first asked for.
     */
    private Object[] ahead;
    /** Inputs to pull per batch; 0 when read-ahead is off. */
    private int aheadBatch;
    private int aheadHead;
    private int aheadCount;
    /** The last input of the batch stops further read-ahead until the batch has been processed. */
    private boolean aheadHold;
    /** Upstream ended or failed ({@link #aheadError}) while reading ahead: nothing more is pulled. */
    private boolean aheadDone;
    private Throwable aheadError;

    /** Inputs and timers wait (owned by the drain loop) until {@link #resumed} is set. */
    private boolean paused;
    private volatile boolean resumed;

    private volatile int timerTicks;
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<StreamOperatorSubscriber> TIMER_TICKS =
            AtomicIntegerFieldUpdater.newUpdater(StreamOperatorSubscriber.class, "timerTicks");

    protected StreamOperatorSubscriber(CoreSubscriber<? super O> actual, int prefetch) {
        if (prefetch < 1) {
            throw new IllegalArgumentException("prefetch must be >= 1, was " + prefetch);
        }
        this.actual = actual;
        this.prefetch = prefetch;
        this.limit = Math.max(1, prefetch - (prefetch >> 2));
        this.inQueue = Queues.<I>get(prefetch).get();
    }

    // ---------------------------------------------------------------- subclass contract

    /** Processes one input; may {@link #emit(Object)} outputs or {@link #setPending(Iterator)}. */
    protected abstract void onInput(I input);

    /** Called in the drain loop after one or more {@link #signalTimer()} calls. */
    protected void onTimer() {
    }

    /** Called once, in the drain loop, when upstream completed and every input was processed. */
    protected void onEndOfInput() {
    }

    /** Called once when the operator subscribes (before any input); start timers here. */
    protected void onStart() {
    }

    /**
     * Sets how many inputs the drain loop pulls at a time from a synchronously fused upstream,
     * before their turn, so that the operator can start the memory reads their processing will need
     * all at once ({@link #onReadAhead}, then {@link #readAheadDone()}): their cache misses then
     * overlap instead of waiting one after another. The next batch is pulled when the last one has
     * been processed. 0 (the default) turns it off; without a synchronously fused upstream it has
     * no effect. Call from the drain loop only.
     */
    protected final void readAhead(int batch) {
        if (batch < 0) {
            throw new IllegalArgumentException("read-ahead batch must be >= 0, was " + batch);
        }
        if (batch > 0 && (ahead == null || ahead.length < batch)) {
            Object[] q = new Object[batch];
            if (ahead != null) {
                System.arraycopy(ahead, aheadHead, q, 0, aheadCount);
            }
            ahead = q;
            aheadHead = 0;
        }
        aheadBatch = batch;
    }

    /**
     * An input was pulled ahead of its turn; {@link #onInput} gets it later, in order. Must not change
     * what the processing of earlier inputs sees.
     * @return whether inputs after it may be pulled before it is processed ({@code false} for a
     * checkpoint barrier, so nothing after it runs upstream before the operator has paused)
     */
    protected boolean onReadAhead(I input) {
        return true;
    }

    /** A batch of inputs was pulled ahead ({@link #onReadAhead} saw each of them). */
    protected void readAheadDone() {
    }

    /**
     * Whether a downstream operator may pull this operator's outputs with {@code poll()}: only
     * when this operator starts no timers, never {@linkplain #pauseUntilCommitted pauses} and
     * never calls {@link #drain()} itself. Asked once, after {@link #onStart()}. Default: no.
     */
    protected boolean offersSyncFusion() {
        return false;
    }

    /** Called once on cancel or termination: stop timers, release state. Must not throw. */
    protected void clearState() {
    }

    // ---------------------------------------------------------------- helpers for subclasses

    /** Adds an output; delivered in order as downstream demand allows. */
    protected final void emit(O o) {
        if (direct) {
            if (out.isEmpty() && produced != requested && !cancelled) {
                produced++;
                actual.onNext(o);
                return;
            }
        } else if (pollSlot && slot == null && out.isEmpty()) {
            slot = o;
            return;
        }
        out.add(o);
    }

    /** Installs a lazily produced output sequence; inputs wait until it is exhausted. */
    protected final void setPending(Iterator<? extends O> it) {
        if (pending != null) {
            throw new IllegalStateException("an output sequence is already pending");
        }
        pending = it;
    }

    /**
     * Holds back further inputs, timers and the end of input until the checkpoint of
     * {@code barrier} is committed; outputs already emitted (the barrier itself, typically) are
     * still delivered. Called by stateful operators right after they forward a barrier, so that no
     * state change made after the barrier enters that checkpoint's commit. A barrier without a
     * signal ({@link io.streamflow.reactive.CheckpointBarrier#of(long)}) does not pause.
     */
    protected final void pauseUntilCommitted(io.streamflow.reactive.CheckpointBarrier<?, ?> barrier) {
        CheckpointSignal signal = Barriers.signal(barrier);
        if (signal == null) {
            return;
        }
        paused = true;
        signal.whenDone(() -> {
            resumed = true;
            drain();
        });
    }

    /** Thread-safe: asks the drain loop to call {@link #onTimer()}. */
    protected final void signalTimer() {
        if (TIMER_TICKS.getAndIncrement(this) == 0) {
            drain();
        }
    }

    protected final Context context() {
        return actual.currentContext();
    }

    protected final boolean isCancelled() {
        return cancelled;
    }

    // ---------------------------------------------------------------- Subscriber

    @Override
    public Context currentContext() {
        return actual.currentContext();
    }

    @Override
    @SuppressWarnings("unchecked")
    public final void onSubscribe(Subscription subscription) {
        if (Operators.validate(this.s, subscription)) {
            this.s = subscription;
            if (subscription instanceof Fuseable.QueueSubscription<?> qs
                    && qs.requestFusion(Fuseable.SYNC) == Fuseable.SYNC) {
                syncUpstream = (Fuseable.QueueSubscription<I>) qs;
            }
            onStart();
            actual.onSubscribe(syncUpstream != null && offersSyncFusion() ? new FusedOutput() : this);
            if (syncUpstream == null) {
                subscription.request(prefetch);
            }
        }
    }

    @Override
    public final void onNext(I t) {
        if (done) {
            Operators.onNextDropped(t, actual.currentContext());
            return;
        }
        if (cancelled) {
            // the drain loop no longer runs after cancel: discard what a late upstream still sends
            Operators.onDiscard(t, actual.currentContext());
            return;
        }
        if (wip == 0 && WIP.compareAndSet(this, 0, 1)) {
            // fast path: this thread owns the drain loop and nothing waits ahead of the input, so it
            // is processed at once instead of going through the queue
            if (!terminated && !paused && inQueue.isEmpty() && out.isEmpty() && pending == null) {
                direct = true;
                try {
                    onInput(t);
                } catch (Throwable ex) {
                    direct = false;
                    failFromUser(ex);
                    terminated = true;
                    return;
                }
                direct = false;
                if (++consumed == limit) {
                    consumed = 0;
                    s.request(limit);
                }
                // nothing left to deliver and no other signal arrived meanwhile: release the loop
                if (out.isEmpty() && pending == null && !paused && WIP.compareAndSet(this, 1, 0)) {
                    return;
                }
            } else {
                offer(t); // on overflow it signals the error, which this drain loop then delivers
            }
            drainLoop(1);
            return;
        }
        if (offer(t)) {
            drain();
        }
    }

    private boolean offer(I t) {
        if (inQueue.offer(t)) {
            return true;
        }
        Operators.onDiscard(t, actual.currentContext());
        Throwable e = Operators.onOperatorError(s, Exceptions.failWithOverflow(
                "upstream sent more than requested (prefetch " + prefetch + ")"), t, actual.currentContext());
        onError(e);
        return false;
    }

    @Override
    public final void onError(Throwable t) {
        if (done) {
            Operators.onErrorDropped(t, actual.currentContext());
            return;
        }
        error = t;
        done = true;
        drain();
    }

    @Override
    public final void onComplete() {
        if (done) {
            return;
        }
        done = true;
        drain();
    }

    // ---------------------------------------------------------------- Subscription

    @Override
    public final void request(long n) {
        if (outputFused) {
            return; // a synchronously fused downstream pulls with poll() and never requests
        }
        if (Operators.validate(n)) {
            Operators.addCap(REQUESTED, this, n);
            drain();
        }
    }

    @Override
    public final void cancel() {
        if (cancelled) {
            return;
        }
        cancelled = true;
        s.cancel();
        if (WIP.getAndIncrement(this) == 0) {
            discardAll();
        }
    }

    // ---------------------------------------------------------------- synchronous fusion (output side)

    /**
     * The subscription handed to downstream when this operator {@linkplain #offersSyncFusion() may be
     * pulled}: a {@link Fuseable.QueueSubscription} whose {@code poll()} runs inputs pulled from the
     * synchronously fused upstream through {@link #onInput} until an output is ready. Downstream that
     * does not fuse uses it like the operator itself.
     */
    private final class FusedOutput implements Fuseable.QueueSubscription<O> {

        @Override
        public int requestFusion(int requestedMode) {
            // a thread barrier would move onInput (user functions) to the consumer's thread: refused
            if ((requestedMode & Fuseable.SYNC) != 0 && (requestedMode & Fuseable.THREAD_BARRIER) == 0) {
                outputFused = true;
                return Fuseable.SYNC;
            }
            return Fuseable.NONE;
        }

        /**
         * The next output; {@code null} once the input ended and every output was taken. A throwing
         * user function or upstream throws from here, to the consumer.
         */
        @Override
        public O poll() {
            for (;;) {
                O o = out.poll();
                if (o != null) {
                    return o;
                }
                if (pending != null) {
                    if (pending.hasNext()) {
                        O next = pending.next();
                        if (next != null) {
                            return next;
                        }
                    } else {
                        pending = null;
                    }
                    continue;
                }
                if (terminated) {
                    return null;
                }
                I v = syncUpstream.poll();
                if (v == null) {
                    if (finishInput()) {
                        return null;
                    }
                    continue;
                }
                pollSlot = true;
                try {
                    onInput(v);
                } catch (Throwable t) {
                    // the consumer's drain loop signals what it catches, but Reactor's would throw a
                    // JVM-fatal error again
                    throw FatalErrors.rethrow(t, describe());
                } finally {
                    pollSlot = false;
                }
                O first = slot;
                if (first != null) {
                    slot = null;
                    return first;
                }
            }
        }

        @Override
        public boolean isEmpty() {
            return out.isEmpty() && pending == null && (terminated || endHandled || syncUpstream.isEmpty());
        }

        @Override
        public int size() {
            return out.size();
        }

        @Override
        public void clear() {
            discardSlot(actual.currentContext());
            Operators.onDiscardMultiple(out, actual.currentContext());
            out.clear();
            pending = null;
            syncUpstream.clear();
        }

        @Override
        public void request(long n) {
            StreamOperatorSubscriber.this.request(n);
        }

        @Override
        public void cancel() {
            StreamOperatorSubscriber.this.cancel();
        }
    }

    // ---------------------------------------------------------------- drain loop

    /** An output kept for a poll that then failed. */
    private void discardSlot(Context ctx) {
        O o = slot;
        if (o != null) {
            slot = null;
            Operators.onDiscard(o, ctx);
        }
    }

    private void discardAll() {
        Context ctx = actual.currentContext();
        Operators.onDiscardQueueWithClear(inQueue, ctx, null);
        Object[] q = ahead;
        if (q != null) {
            for (; aheadCount > 0; aheadCount--) {
                Object v = q[aheadHead];
                q[aheadHead++] = null;
                Operators.onDiscard(v, ctx);
            }
        }
        if (syncUpstream != null) {
            syncUpstream.clear();
        }
        discardSlot(ctx);
        Operators.onDiscardMultiple(out, ctx);
        out.clear();
        pending = null;
        if (!terminated) {
            terminated = true;
            clearState();
        }
    }

    private void failFromUser(Throwable t) {
        // a JVM-fatal error thrown from here would leave this drain loop held and the pipeline
        // waiting forever: it is signalled downstream instead, carried by an exception
        t = FatalErrors.signallable(t, describe());
        Exceptions.throwIfFatal(t); // Reactor's own bubbling signals still go up
        done = true; // terminated: whatever upstream still sends goes to the dropped hooks
        s.cancel();
        discardAll();
        actual.onError(Operators.onOperatorError(t, actual.currentContext()));
    }

    /** Names the operator in an error message. */
    private String describe() {
        String type = getClass().getSimpleName();
        return "operator " + (type.isEmpty() ? getClass().getName() : type);
    }

    /**
     * The input ended and every input was processed: the first call runs {@link #onEndOfInput()}
     * (whose outputs are delivered next) and returns {@code false}; the following call terminates
     * the operator and returns {@code true}.
     */
    private boolean finishInput() {
        if (!endHandled) {
            endHandled = true;
            onEndOfInput();
            return false;
        }
        terminated = true;
        clearState();
        return true;
    }

    /**
     * The next input of the read-ahead batch, pulling the next batch from the fused upstream when it is empty;
     * {@code null} at the end of input. An upstream failure met while reading ahead is thrown once
     * the inputs pulled before it are taken.
     */
    @SuppressWarnings("unchecked")
    private I pollAhead() {
        Object[] q = ahead;
        if (aheadCount == 0) {
            aheadHold = false;
            aheadHead = 0;
            if (aheadBatch == 0 && !aheadDone) {
                return syncUpstream.poll();
            }
            fillAhead(q);
        }
        if (aheadCount == 0) {
            Throwable t = aheadError;
            if (t != null) {
                aheadError = null;
                throw StreamOperatorSubscriber.<RuntimeException>rethrow(t);
            }
            return null;
        }
        I v = (I) q[aheadHead];
        q[aheadHead++] = null;
        aheadCount--;
        return v;
    }

    /** Pulls the next batch into the empty {@link #ahead}. */
    private void fillAhead(Object[] q) {
        int n = aheadBatch;
        while (aheadCount < n && !aheadHold && !aheadDone) {
            I v;
            try {
                v = syncUpstream.poll();
            } catch (Throwable t) {
                Exceptions.throwIfFatal(t);
                aheadError = t;
                aheadDone = true;
                break;
            }
            if (v == null) {
                aheadDone = true;
                break;
            }
            q[aheadCount++] = v;
            if (!onReadAhead(v)) {
                aheadHold = true;
            }
        }
        if (aheadCount != 0) {
            readAheadDone();
        }
    }

    /** Throws {@code t} as it is, checked or not. */
    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T rethrow(Throwable t) throws T {
        throw (T) t;
    }

    protected final void drain() {
        if (WIP.getAndIncrement(this) != 0) {
            return;
        }
        drainLoop(1);
    }

    private void drainLoop(int missed) {
        for (;;) {
            if (terminated) {
                return;
            }
            // demand: 'requested' only grows (capped at Long.MAX_VALUE), 'produced' counts deliveries;
            // comparing the two avoids an atomic subtraction per drain pass
            long r = requested;
            long e = produced;
            for (;;) {
                if (cancelled) {
                    discardAll();
                    return;
                }
                if (done && error != null) {
                    Throwable ex = error;
                    discardAll();
                    actual.onError(ex);
                    return;
                }
                O o = out.poll();
                if (o != null) {
                    if (e == r) {
                        out.addFirst(o);
                        break;
                    }
                    actual.onNext(o);
                    e++;
                    continue;
                }
                try {
                    if (pending != null) {
                        if (pending.hasNext()) {
                            // nothing is queued here: the step's outputs may go straight downstream
                            produced = e;
                            direct = true;
                            O next = pending.next();
                            if (next != null) {
                                emit(next);
                            }
                            direct = false;
                            e = produced;
                            r = requested; // produced was counted against the current demand
                        } else {
                            pending = null;
                        }
                        continue;
                    }
                    if (paused) {
                        if (!resumed) {
                            break;
                        }
                        paused = false;
                        resumed = false;
                    }
                    if (timerTicks != 0) {
                        TIMER_TICKS.set(this, 0);
                        onTimer();
                        continue;
                    }
                    boolean d;
                    I v;
                    if (syncUpstream != null) {
                        // pulled only while downstream has demand left (or to see the end of input):
                        // without demand no input is taken from a fused source
                        if (e == r && (aheadCount != 0 || !syncUpstream.isEmpty())) {
                            break;
                        }
                        // throws what upstream throws: handled below as a failure
                        v = ahead != null ? pollAhead() : syncUpstream.poll();
                        d = v == null;
                    } else {
                        d = done;
                        v = inQueue.poll();
                    }
                    if (v == null) {
                        if (d) {
                            if (finishInput()) {
                                actual.onComplete();
                                return;
                            }
                            continue;
                        }
                        break;
                    }
                    produced = e;
                    direct = true;
                    onInput(v);
                    direct = false;
                    e = produced;
                    r = requested;
                } catch (Throwable t) {
                    direct = false;
                    failFromUser(t);
                    terminated = true;
                    return;
                }
                if (syncUpstream == null && ++consumed == limit) {
                    consumed = 0;
                    s.request(limit);
                }
            }
            produced = e;
            missed = WIP.addAndGet(this, -missed);
            if (missed == 0) {
                break;
            }
        }
    }
}
