package io.streamflow.reactive.http;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Lets Netty 4.2's adaptive buffer allocator take its magazine lock when it adds magazines under
 * contention: a short lock inside Netty (its own BlockHound integration allows only the
 * allocator's thread-local setup), seen on event loops and on the sink's timer threads when
 * several connections allocate at once. Everything else stays checked.
 */
public final class NettyAllocatorBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines");
    }
}
