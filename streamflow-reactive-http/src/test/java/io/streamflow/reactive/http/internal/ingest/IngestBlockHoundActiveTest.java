package io.streamflow.reactive.http.internal.ingest;

import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ingest tests run with BlockHound: a blocking call on a non-blocking thread fails them. */
class IngestBlockHoundActiveTest {

    @Test
    void shouldRejectABlockingCallOnANonBlockingThread() {
        assertThatThrownBy(() -> Mono.fromRunnable(() -> LockSupport.parkNanos(1_000))
                .subscribeOn(Schedulers.parallel())
                .block(Duration.ofSeconds(5)))
                .hasCauseInstanceOf(BlockingOperationError.class);
    }
}
