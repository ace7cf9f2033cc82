package io.streamflow.benchmarks.nexmark;

import java.util.Arrays;

/**
 * Intermediate records and the one accumulator that the StreamFlow and the Flink implementations
 * of the queries share (plain data, no framework types).
 */
public final class NexmarkRecords {

    private NexmarkRecords() {
    }

    /**
     * Q5, first step: the number of bids on one auction in one sliding window.
     *
     * @param auction the auction
     * @param start   window start (inclusive)
     * @param end     window end (exclusive)
     * @param count   bids on the auction in the window
     */
    public record AuctionCount(long auction, long start, long end, long count) {
    }

    /**
     * Q7, first step: a candidate highest bid of the tumbling window that ends at {@code end}.
     *
     * @param auction the bid's auction
     * @param bidder  the bid's bidder
     * @param price   the bid's price
     * @param end     window end (exclusive)
     */
    public record WindowBid(long auction, long bidder, long price, long end) {
    }

    /**
     * Q11: one session of one bidder.
     *
     * @param bidder the bidder
     * @param count  bids in the session
     * @param start  the first bid's time (inclusive session start)
     * @param end    the last bid's time + the gap (exclusive session end)
     */
    public record BidderSession(long bidder, long count, long start, long end) {
    }

    /**
     * Q3: one auction with its seller.
     *
     * @param name    the seller's name
     * @param city    the seller's city
     * @param state   the seller's state
     * @param auction the auction's id
     */
    public record SellerAuction(String name, String city, String state, long auction) {
    }

    /**
     * Q4, first step: a valid bid with what its auction's closing needs.
     *
     * @param auction  the auction
     * @param category the auction's category
     * @param expires  when the auction closes
     * @param price    the bid's price
     */
    public record AuctionBid(long auction, long category, long expires, long price) {
    }

    /**
     * Q4, second step: an auction closed with a price.
     *
     * @param auction  the auction
     * @param category its category
     * @param price    the closing price: the highest valid bid
     * @param expires  when it closed
     */
    public record ClosedAuction(long auction, long category, long price, long expires) {
    }

    /**
     * Q4, third and last steps: closing prices of one category, either of the auctions that closed at
     * {@code time} (third step) or of all that closed at or before it (the result rows).
     *
     * @param category the category
     * @param time     a close time
     * @param count    number of closed auctions
     * @param sum      sum of their closing prices
     */
    public record CategoryCloses(long category, long time, long count, long sum) {
        /** @return the average closing price, truncated */
        public long average() {
            return sum / count;
        }
    }

    /**
     * Q8: a person and one of its auctions in the window of its registration.
     *
     * @param person  the person's id
     * @param name    the person's name
     * @param reserve the auction's reserve price
     * @param start   the window's start
     */
    public record NewUser(long person, String name, long reserve, long start) {
    }

    /**
     * The maximum of a value and every item (a pair of longs) that has it: the arg-max with all
     * ties. Mutable; {@link #add} and {@link #merge} allocate only when the tie list grows.
     * Public fields and a no-argument constructor, so Flink handles it as a POJO.
     */
    public static final class MaxWithTies {
        /** The largest value added, {@code Long.MIN_VALUE} while empty. */
        public long max = Long.MIN_VALUE;
        /** Number of items that have {@link #max}. */
        public int size;
        /** First long of each item with the maximum, valid up to {@link #size}. */
        public long[] first = new long[2];
        /** Second long of each item with the maximum, valid up to {@link #size}. */
        public long[] second = new long[2];

        public MaxWithTies() {
        }

        /** Adds an item {@code (a, b)} with {@code value}. */
        public MaxWithTies add(long value, long a, long b) {
            if (value > max) {
                max = value;
                size = 0;
            } else if (value < max) {
                return this;
            }
            if (size == first.length) {
                first = Arrays.copyOf(first, size * 2);
                second = Arrays.copyOf(second, size * 2);
            }
            first[size] = a;
            second[size] = b;
            size++;
            return this;
        }

        /** Adds every item of {@code other}. */
        public MaxWithTies merge(MaxWithTies other) {
            for (int i = 0; i < other.size; i++) {
                add(other.max, other.first[i], other.second[i]);
            }
            return this;
        }

        /** @return an independent copy (a firing's result must not share the accumulator) */
        public MaxWithTies copy() {
            MaxWithTies c = new MaxWithTies();
            c.max = max;
            c.size = size;
            c.first = Arrays.copyOf(first, Math.max(2, size));
            c.second = Arrays.copyOf(second, Math.max(2, size));
            return c;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("MaxWithTies{max=").append(max).append(", items=");
            for (int i = 0; i < size; i++) {
                sb.append(i == 0 ? "" : " ").append('(').append(first[i]).append(',').append(second[i]).append(')');
            }
            return sb.append('}').toString();
        }
    }
}
