package io.streamflow.reactive.http.internal.sink;

/** What became of one request: the {@code result} tag of the request meters. */
public enum Outcome {
    /** A 2xx answer. */
    SUCCESS("success", false),
    /** A 5xx answer; retried. */
    SERVER_ERROR("server_error", true),
    /** 429 Too Many Requests; retried after its Retry-After. */
    TOO_MANY_REQUESTS("too_many_requests", true),
    /** 408 Request Timeout; retried. */
    REQUEST_TIMEOUT("request_timeout", true),
    /** Any other answer (4xx, 3xx, 1xx); not retried. */
    REFUSED("refused", false),
    /** No answer within the timeout (or no connection within it); retried. */
    TIMEOUT("timeout", true),
    /** The connection could not be made or broke; retried. */
    CONNECTION_ERROR("connection_error", true),
    /** Anything else that failed the request (not retried). */
    ERROR("error", false);

    private final String tag;
    private final boolean retryable;

    Outcome(String tag, boolean retryable) {
        this.tag = tag;
        this.retryable = retryable;
    }

    /** @return the meter tag */
    public String tag() {
        return tag;
    }

    /** @return whether the request is tried again (up to maxRetries) */
    public boolean retryable() {
        return retryable;
    }

    /**
     * @param status an HTTP status
     * @return what it means for the sink
     */
    public static Outcome ofStatus(int status) {
        if (status >= 200 && status < 300) {
            return SUCCESS;
        }
        if (status >= 500 && status < 600) {
            return SERVER_ERROR;
        }
        if (status == 429) {
            return TOO_MANY_REQUESTS;
        }
        if (status == 408) {
            return REQUEST_TIMEOUT;
        }
        return REFUSED;
    }
}
