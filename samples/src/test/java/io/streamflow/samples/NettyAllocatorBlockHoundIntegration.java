package io.streamflow.samples;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Lets Netty 4.2's adaptive buffer allocator take its magazine lock when it adds magazines under
 * contention (a short lock inside Netty, as in the HTTP module's tests); everything else stays
 * checked by BlockHound in this module's tests.
 */
public final class NettyAllocatorBlockHoundIntegration implements BlockHoundIntegration {

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines");
    }
}
