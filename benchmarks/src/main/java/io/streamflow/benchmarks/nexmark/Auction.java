package io.streamflow.benchmarks.nexmark;

/**
 * An item put up for auction (3 events in 50).
 *
 * @param id          auction id, from {@link NexmarkGenerator#FIRST_AUCTION_ID} on, in event order
 * @param itemName    a random item name
 * @param description a random description
 * @param initialBid  starting price in cents
 * @param reserve     reserve price in cents, above the initial bid
 * @param dateTime    event time (epoch millis)
 * @param expires     when the auction closes (epoch millis), after {@code dateTime}
 * @param seller      id of a person that exists when the auction is created
 * @param category    category id, from {@link NexmarkGenerator#FIRST_CATEGORY_ID} on
 */
public record Auction(long id, String itemName, String description, long initialBid, long reserve, long dateTime,
                      long expires, long seller, long category) implements NexmarkEvent {
}
