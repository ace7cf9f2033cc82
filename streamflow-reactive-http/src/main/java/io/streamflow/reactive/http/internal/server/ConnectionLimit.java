package io.streamflow.reactive.http.internal.server;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts the server's open connections (Reactor Netty has no limit of its own). A connection opened
 * while {@code max} are open is marked; the router answers its first request 503 and closes it, so
 * the connections already open keep being served. Also closes every connection when the server stops.
 */
public final class ConnectionLimit {

    private static final AttributeKey<Boolean> OVER_LIMIT = AttributeKey.valueOf("streamflow.overLimit");

    private final int max;
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();

    /** @param max the most connections served at a time, {@code >= 1} */
    public ConnectionLimit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("maxConnections must be >= 1, was " + max);
        }
        this.max = max;
    }

    /** @return the most connections served at a time */
    public int max() {
        return max;
    }

    /**
     * Called once per accepted connection, before it reads anything.
     *
     * @param channel the connection
     */
    public void opened(Channel channel) {
        // the over-limit connection is counted too until it closes: it holds a socket meanwhile
        open.add(channel);
        if (open.size() > max) {
            channel.attr(OVER_LIMIT).set(Boolean.TRUE);
        }
        channel.closeFuture().addListener(f -> open.remove(channel));
    }

    /**
     * @param channel a connection
     * @return whether it was opened beyond the limit and must be answered 503
     */
    public boolean overLimit(Channel channel) {
        return Boolean.TRUE.equals(channel.attr(OVER_LIMIT).get());
    }

    /** @return the connections open now */
    public int openConnections() {
        return open.size();
    }

    /** Closes every open connection (the server is stopping). */
    public void closeAll() {
        for (Channel c : open) {
            c.close();
        }
    }
}
