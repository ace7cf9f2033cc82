package io.streamflow.reactive.internal;

/**
 * A JVM-fatal error ({@link OutOfMemoryError}, {@link StackOverflowError}, a {@link LinkageError}
 * ...) that stopped a pipeline, carried as the cause of an exception so that it travels as an
 * {@code onError} signal to whoever waits for the pipeline (see {@link FatalErrors}). The JVM may be
 * unusable after such an error: the safe reaction is to end the process and restart it.
 */
public final class FatalErrorException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    FatalErrorException(String where, Throwable cause) {
        // no stack trace of its own: the cause has the one that matters, and after an
        // OutOfMemoryError the less this allocates the better
        super(where + " failed with " + cause + "; the pipeline stopped, and the JVM may be unusable: "
                + "restart the process", cause, true, false);
    }
}
