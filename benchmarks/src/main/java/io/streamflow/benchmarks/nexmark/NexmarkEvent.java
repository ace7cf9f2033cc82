package io.streamflow.benchmarks.nexmark;

/**
 * One event of the Nexmark online auction: a new {@link Person}, a new {@link Auction} or a
 * {@link Bid}. Every event carries its event time, {@link #dateTime()} (epoch millis), which both
 * systems use as the record's event timestamp.
 */
public sealed interface NexmarkEvent permits Person, Auction, Bid {

    /** @return the event time in epoch milliseconds */
    long dateTime();
}
