package io.streamflow.reactive.http.internal.results;

import reactor.core.publisher.Flux;
import reactor.netty.http.client.HttpClient;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A small server-sent-events client for the tests: frames as the SSE format defines them. */
final class SseFrames {

    /** One frame: fields absent are {@code null}. */
    record Frame(Long id, String event, String data, String comment, Integer retry) {
        boolean isHeartbeat() {
            return "keep-alive".equals(comment) && event == null;
        }
    }

    private final StringBuilder pending = new StringBuilder();

    private SseFrames() {
    }

    private List<Frame> feed(String chunk) {
        pending.append(chunk);
        List<Frame> out = new ArrayList<>();
        int end;
        while ((end = pending.indexOf("\n\n")) >= 0) {
            String block = pending.substring(0, end);
            pending.delete(0, end + 2);
            out.add(parse(block));
        }
        return out;
    }

    static Frame parse(String block) {
        Long id = null;
        String event = null;
        String data = null;
        String comment = null;
        Integer retry = null;
        for (String line : block.split("\n")) {
            if (line.startsWith("id: ")) {
                id = Long.parseLong(line.substring(4));
            } else if (line.startsWith("event: ")) {
                event = line.substring(7);
            } else if (line.startsWith("data: ")) {
                data = data == null ? line.substring(6) : data + "\n" + line.substring(6);
            } else if (line.startsWith(": ")) {
                comment = comment == null ? line.substring(2) : comment + "\n" + line.substring(2);
            } else if (line.startsWith("retry: ")) {
                retry = Integer.parseInt(line.substring(7));
            } else {
                throw new AssertionError("not an SSE line: '" + line + "' in " + block);
            }
        }
        return new Frame(id, event, data, comment, retry);
    }

    /**
     * A client without connection pool on loopback, with Netty's pooled allocator: Netty 4.2's default
     * adaptive allocator takes a {@code StampedLock} when it grows under contention between event
     * loops, which BlockHound reports as a blocking call on an event loop.
     *
     * @return the client
     */
    static HttpClient client() {
        return HttpClient.newConnection().host("127.0.0.1")
                .option(io.netty.channel.ChannelOption.ALLOCATOR, io.netty.buffer.PooledByteBufAllocator.DEFAULT);
    }

    /** @return a server on 127.0.0.1, port 0, with the pooled allocator (see {@link #client()}) */
    static reactor.netty.http.server.HttpServer server() {
        return reactor.netty.http.server.HttpServer.create().host("127.0.0.1").port(0)
                .childOption(io.netty.channel.ChannelOption.ALLOCATOR, io.netty.buffer.PooledByteBufAllocator.DEFAULT);
    }

    /**
     * @param port        the server's port on 127.0.0.1
     * @param path        path and query
     * @param lastEventId sent as {@code Last-Event-ID} unless {@code null}
     * @return the frames of one connection (its own, closed on cancel)
     */
    static Flux<Frame> connect(int port, String path, Long lastEventId) {
        return Flux.defer(() -> {
            SseFrames parser = new SseFrames();
            return client().port(port)
                    .headers(h -> {
                        if (lastEventId != null) {
                            h.set("Last-Event-ID", lastEventId.toString());
                        }
                    })
                    .get().uri(path)
                    .responseContent().asString(StandardCharsets.UTF_8)
                    .concatMapIterable(parser::feed);
        });
    }
}
