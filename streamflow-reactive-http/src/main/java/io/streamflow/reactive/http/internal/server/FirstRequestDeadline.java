package io.streamflow.reactive.http.internal.server;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection that has not delivered the head (request line and headers) of its first
 * request within a deadline. The idle timeout alone lets a client that sends one byte a little more
 * often than the timeout hold a connection for ever (slowloris); this bounds the whole head. The
 * timer runs on the connection's own event loop and does not block it.
 */
public final class FirstRequestDeadline {

    private static final AttributeKey<Boolean> SEEN = AttributeKey.valueOf("streamflow.firstRequestSeen");

    private final long millis;

    /** @param deadline time from accepting a connection to the head of its first request */
    public FirstRequestDeadline(Duration deadline) {
        this.millis = deadline.toMillis();
    }

    /**
     * Starts the deadline of a connection just accepted.
     *
     * @param channel the connection
     */
    public void opened(Channel channel) {
        ScheduledFuture<?> timer = channel.eventLoop().schedule(() -> {
            if (!Boolean.TRUE.equals(channel.attr(SEEN).get())) {
                channel.close();
            }
        }, millis, TimeUnit.MILLISECONDS);
        channel.closeFuture().addListener(f -> timer.cancel(false));
    }

    /**
     * Notes that a request's head arrived on the connection.
     *
     * @param channel the connection
     */
    public static void requestSeen(Channel channel) {
        channel.attr(SEEN).set(Boolean.TRUE);
    }
}
