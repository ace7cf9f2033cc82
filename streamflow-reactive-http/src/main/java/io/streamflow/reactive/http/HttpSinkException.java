package io.streamflow.reactive.http;

import java.io.IOException;

/**
 * Results that an {@link HttpSink} could not deliver: the receiver refused them with a status that
 * is not retried, or the last retry failed too. It is the {@link io.streamflow.reactive.DeadLetter#error()}
 * of a record refused by {@link HttpSink#send}, and what {@link HttpSink#outbox()} throws when a
 * checkpoint's output cannot be delivered.
 */
public final class HttpSinkException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The {@link #status()} when no HTTP answer came (timeout, connection error). */
    public static final int NO_ANSWER = 0;

    /** The HTTP status of the last answer, or {@link #NO_ANSWER}. */
    private final int status;
    /** The start of the last answer's body; empty when there was none. */
    private final String bodyExcerpt;
    /** How many requests were made. */
    private final int attempts;

    /**
     * Creates the exception; the sink makes these.
     *
     * @param message     what was sent where, what went wrong and how often it was tried
     * @param status      the HTTP status of the last answer, or {@link #NO_ANSWER}
     * @param bodyExcerpt the start of the last answer's body (empty when there was none)
     * @param attempts    how many requests were made, {@code >= 1}
     * @param cause       the transport error of the last attempt, or {@code null} for an HTTP answer
     */
    public HttpSinkException(String message, int status, String bodyExcerpt, int attempts, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.bodyExcerpt = bodyExcerpt == null ? "" : bodyExcerpt;
        this.attempts = attempts;
    }

    /** @return the HTTP status of the last answer, or {@link #NO_ANSWER} when none came */
    public int status() {
        return status;
    }

    /** @return the start of the last answer's body (at most 1,024 bytes, decoded as UTF-8); empty when none */
    public String bodyExcerpt() {
        return bodyExcerpt;
    }

    /** @return how many requests were made for these results (the first one and the retries) */
    public int attempts() {
        return attempts;
    }
}
