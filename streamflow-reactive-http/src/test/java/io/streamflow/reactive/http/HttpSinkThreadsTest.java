package io.streamflow.reactive.http;

import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which threads the sink may block: BlockHound guards the tests, and the outbox refuses non-blocking threads. */
class HttpSinkThreadsTest {

    @Test
    void shouldRunTheseTestsWithBlockHoundInstalled() {
        assertThatThrownBy(() -> Mono.fromRunnable(() -> LockSupport.parkNanos(1_000))
                .subscribeOn(Schedulers.parallel())
                .block(Duration.ofSeconds(5)))
                .hasCauseInstanceOf(BlockingOperationError.class);
    }

    @Test
    void shouldRefuseToDeliverACheckpointOnANonBlockingThreadWithoutSendingAnything() {
        try (MiniKv kv = MiniKv.start(); HttpSink sink = HttpSink.to(kv.uri()).name("threads-test").build()) {
            assertThatThrownBy(() -> Mono.fromCallable(() -> {
                        sink.outbox().deliver(1, List.of("{\"n\":1}"));
                        return true;
                    })
                    .subscribeOn(Schedulers.parallel())
                    .block(Duration.ofSeconds(10)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("blocking");
            // nothing of this sink reached the receiver (a request of another test's sink that still
            // retries against a port the receiver now has would not carry this sink's keys)
            assertThat(kv.log).noneMatch(r -> r.batchKey() != null && r.batchKey().startsWith("threads-test:"));
            assertThat(kv.store.keySet()).noneMatch(k -> k.startsWith("threads-test:"));
        }
    }
}
