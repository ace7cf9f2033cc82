package io.streamflow.reactive.http;

/**
 * Ends the event stream of a {@link ResultLog} client that fell too far behind: it did not request
 * events as fast as they were appended, and more than the log's client buffer
 * ({@link ResultLog.Builder#clientBuffer(int)}) waited for it, or the events it had not read yet
 * left retention. Only that client is cut off; the appender and the other clients never wait for
 * it. The client resumes by id: {@link #lastEventId()} is the id of the last event it was given
 * (over HTTP the stream ends with {@code retry: 1000}, and an {@code EventSource} reconnects with
 * that id as {@code Last-Event-ID}).
 */
public final class SlowClientException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Events appended that the client had not been given when it was cut off. */
    private final long behind;
    /** How many events the client was allowed to fall behind. */
    private final long limit;
    /** Id of the last event the client was given. */
    private final long lastEventId;

    /**
     * Describes the cut-off of one client.
     *
     * @param log         name of the log
     * @param behind      events appended that the client had not been given
     * @param limit       how many it may fall behind (the client buffer)
     * @param lastEventId id of the last event the client was given ({@code 0}: none yet)
     * @param retention   whether it is cut off because unread events left retention, rather than
     *                    for exceeding the limit
     */
    public SlowClientException(String log, long behind, long limit, long lastEventId, boolean retention) {
        super(retention
                ? "client of result log '" + log + "' was cut off: events after id " + lastEventId
                  + " left retention before it read them (" + behind + " events behind); resume with Last-Event-ID "
                  + lastEventId + " to get a reset and a snapshot"
                : "client of result log '" + log + "' was cut off: it fell " + behind
                  + " events behind, at most " + limit + " are allowed (clientBuffer); resume with Last-Event-ID "
                  + lastEventId);
        this.behind = behind;
        this.limit = limit;
        this.lastEventId = lastEventId;
    }

    /** @return how many appended events the client had not been given when it was cut off */
    public long behind() {
        return behind;
    }

    /** @return how many events a client may fall behind (the log's client buffer) */
    public long limit() {
        return limit;
    }

    /** @return the id of the last event the client was given, to resume from ({@code 0}: none yet) */
    public long lastEventId() {
        return lastEventId;
    }
}
