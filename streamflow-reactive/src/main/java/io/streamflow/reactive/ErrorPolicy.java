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

    public static ErrorPolicy fail() {
        return FAIL;
    }

    public static ErrorPolicy deadLetter() {
        return DEAD_LETTER;
    }

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
