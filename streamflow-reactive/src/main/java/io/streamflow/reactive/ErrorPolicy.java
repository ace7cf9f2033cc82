package io.streamflow.reactive;

/**
 * What an operator does when a user function throws on a record, when a record's timestamp
 * cannot be extracted, or when it cannot be used (it is not an event time, it cannot be placed in a
 * window or join range, or the watermark strategy's guard rejects it; such a record is never
 * retried, as the same timestamp fails the same way).
 * <ul>
 *   <li>{@link #fail()} (the default): the pipeline terminates with the error, upstream is
 *   cancelled.</li>
 *   <li>{@link #deadLetter()}: the record and the error go to the dead-letter side output
 *   ({@link DeadLetter}), are counted, and processing continues.</li>
 *   <li>{@link #retryThenDeadLetter(int)}: the function is called again up to {@code n} more times
 *   (for flaky lookups); if it still throws, the record goes to the dead-letter output.</li>
 * </ul>
 */
public final class ErrorPolicy {

    private static final ErrorPolicy FAIL = new ErrorPolicy(false, 0);
    private static final ErrorPolicy DEAD_LETTER = new ErrorPolicy(true, 0);

    private final boolean deadLetter;
    private final int retries;

    private ErrorPolicy(boolean deadLetter, int retries) {
        this.deadLetter = deadLetter;
        this.retries = retries;
    }

    /**
     * The default policy: the first failure terminates the pipeline with the error and cancels
     * upstream.
     *
     * @return the shared fail policy
     */
    public static ErrorPolicy fail() {
        return FAIL;
    }

    /**
     * Failed records go to the dead-letter output at once, without retrying the function, and
     * processing continues with the next record.
     *
     * @return the shared dead-letter policy
     */
    public static ErrorPolicy deadLetter() {
        return DEAD_LETTER;
    }

    /**
     * A throwing user function is called again on the same record, up to {@code retries} more times,
     * at once and on the same thread (there is no back-off); if every call throws, the record goes to
     * the dead-letter output with the last error, which carries the earlier ones as suppressed.
     * Unusable timestamps and JVM-fatal errors are never retried.
     *
     * @param retries how many more calls after the first one fails, {@code >= 1}
     * @return a policy with that many retries
     * @throws IllegalArgumentException if {@code retries < 1}
     */
    public static ErrorPolicy retryThenDeadLetter(int retries) {
        if (retries < 1) {
            throw new IllegalArgumentException("retries must be >= 1, was " + retries);
        }
        return new ErrorPolicy(true, retries);
    }

    /** @return whether failed records go to the dead-letter output instead of failing the pipeline */
    public boolean isDeadLetter() {
        return deadLetter;
    }

    /** @return how many times a failing function is called again before giving up */
    public int retries() {
        return retries;
    }

    @Override
    public String toString() {
        return !deadLetter ? "ErrorPolicy.fail" : retries == 0 ? "ErrorPolicy.deadLetter"
                : "ErrorPolicy.retryThenDeadLetter(" + retries + ")";
    }
}
