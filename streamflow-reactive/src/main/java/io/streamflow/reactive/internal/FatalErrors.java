package io.streamflow.reactive.internal;

import reactor.core.Exceptions;

import java.util.function.Consumer;

/**
 * Turns JVM-fatal errors into error signals. Reactor throws a {@link VirtualMachineError}
 * ({@link OutOfMemoryError}, {@link StackOverflowError}), a {@link LinkageError} or a
 * {@code ThreadDeath} instead of signalling it ({@link Exceptions#throwIfFatal}): on a scheduler's
 * worker it escapes to the thread's uncaught-exception handler, and the subscriber of the pipeline
 * waits forever. Where StreamFlow calls user functions or does blocking work it catches such an
 * error and signals a {@link FatalErrorException} that carries it as its cause instead, so the
 * pipeline terminates with it.
 */
public final class FatalErrors {

    private FatalErrors() {
    }

    /**
     * @return {@code t} itself, or a {@link FatalErrorException} carrying it when Reactor would throw
     * it instead of signalling it
     */
    public static Throwable signallable(Throwable t, String where) {
        return Exceptions.isJvmFatal(t) ? new FatalErrorException(where, t) : t;
    }

    /**
     * Throws what {@code t} would be signalled as ({@link #signallable}); for a {@code catch (Throwable)}
     * around a call that must not let a JVM-fatal error through. Declared to return an exception so
     * that callers can write {@code throw FatalErrors.rethrow(t, where)}.
     */
    public static RuntimeException rethrow(Throwable t, String where) {
        throw FatalErrors.<RuntimeException>sneaky(signallable(t, where));
    }

    /** {@code action}, with a JVM-fatal error it throws turned into a {@link FatalErrorException}. */
    public static <T> Consumer<T> guard(Consumer<T> action, String where) {
        return v -> {
            try {
                action.accept(v);
            } catch (Throwable t) {
                throw rethrow(t, where);
            }
        };
    }

    /** {@code action}, with a JVM-fatal error it throws turned into a {@link FatalErrorException}. */
    public static Runnable guard(Runnable action, String where) {
        return () -> {
            try {
                action.run();
            } catch (Throwable t) {
                throw rethrow(t, where);
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable t) throws E {
        throw (E) t;
    }
}
