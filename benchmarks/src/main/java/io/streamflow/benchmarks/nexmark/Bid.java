package io.streamflow.benchmarks.nexmark;

/**
 * A bid on an auction (46 events in 50).
 *
 * @param auction  id of an auction that exists when the bid is made
 * @param bidder   id of a person that exists when the bid is made
 * @param price    bid in cents (US dollars)
 * @param channel  where the bid came from
 * @param url      the page the bid was made on
 * @param dateTime event time (epoch millis)
 */
public record Bid(long auction, long bidder, long price, String channel, String url, long dateTime)
        implements NexmarkEvent {
}
