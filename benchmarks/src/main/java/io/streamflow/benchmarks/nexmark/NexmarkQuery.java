package io.streamflow.benchmarks.nexmark;

import java.time.Duration;

/**
 * The Nexmark queries of the harness. Each reads the whole event sequence (people, auctions and
 * bids), keeps the bids, and reduces its result rows to an order-independent
 * {@link io.streamflow.benchmarks.Checksum} ({@code addRow} with the fields listed below, in that
 * order). Event time is the event's {@code dateTime}; the watermark is bounded out-of-orderness
 * with bound {@link #WATERMARK_BOUND} (0 ms: the generated input is in order), i.e.
 * {@code W = max dateTime seen - 1 ms}, and the end of the input fires every remaining window.
 * Windows are half-open {@code [start, end)} and aligned to the epoch.
 * <ul>
 *   <li>{@link #Q0} pass-through: one row per bid {@code (auction, bidder, price, dateTime)}.</li>
 *   <li>{@link #Q1} currency conversion: one row per bid
 *   {@code (auction, bidder, price * 908 / 1000, dateTime)}; the price in cents of US dollars
 *   becomes cents of euros at 0.908 per dollar, in long integer arithmetic (the division truncates).</li>
 *   <li>{@link #Q2} selection: one row {@code (auction, price)} per bid whose
 *   {@code auction % 123 == 0}.</li>
 *   <li>{@link #Q5} hot items: sliding windows of 10 s every 2 s (each bid is in 5 windows); per
 *   window, the number of bids of every auction; for each window the auction(s) with the most
 *   bids, all of them on a tie: one row {@code (window start, window end, auction, count)} each.
 *   Windows with no bid have no row.</li>
 *   <li>{@link #Q7} highest bid: tumbling windows of 10 s; per window the bid(s) with the highest
 *   price, all of them on a tie (two equal bids give two equal rows): one row
 *   {@code (auction, bidder, price, window end)} each.</li>
 *   <li>{@link #Q11} user sessions: per bidder, session windows with a gap of 10 s (a bid at
 *   {@code t} opens {@code [t, t + 10 s)}; sessions that overlap or touch merge, so bids at most
 *   10 s apart are one session): one row {@code (bidder, number of bids, session start = first
 *   bid's time, session end = last bid's time + 10 s)} per session.</li>
 * </ul>
 */
public enum NexmarkQuery {

    Q0("pass-through: every bid"),
    Q1("currency conversion: every bid with its price in euros (price * 908 / 1000)"),
    Q2("selection: auction and price of the bids on auctions whose id is a multiple of 123"),
    Q5("hot items: the auction(s) with the most bids per sliding window of 10 s every 2 s"),
    Q7("highest bid: the bid(s) with the highest price per tumbling window of 10 s"),
    Q11("user sessions: number of bids per bidder per session (gap 10 s)");

    /** Watermark bound of every query, in both systems. */
    public static final Duration WATERMARK_BOUND = Duration.ZERO;
    /** Q1: euro cents per 1000 dollar cents. */
    public static final long EUROS_PER_THOUSAND_DOLLARS = 908;
    /** Q2: the selected auctions' ids are multiples of this. */
    public static final long Q2_AUCTION_MODULUS = 123;
    /** Q5 window size. */
    public static final Duration Q5_SIZE = Duration.ofSeconds(10);
    /** Q5 window slide. */
    public static final Duration Q5_SLIDE = Duration.ofSeconds(2);
    /** Q7 window size. */
    public static final Duration Q7_SIZE = Duration.ofSeconds(10);
    /**
     * Q7 is computed in two steps in both systems: the top bids of each window per
     * {@code price % Q7_FANOUT}, then the top of those per window, so that the first, heavy step
     * has more than one key to spread over parallel instances.
     */
    public static final int Q7_FANOUT = 16;
    /** Q11 session gap. */
    public static final Duration Q11_GAP = Duration.ofSeconds(10);

    private final String description;

    NexmarkQuery(String description) {
        this.description = description;
    }

    /** @return one line describing the query, for reports */
    public String description() {
        return description;
    }

    /** Q1's conversion: dollar cents to euro cents, truncating. */
    public static long toEuros(long dollarCents) {
        return dollarCents * EUROS_PER_THOUSAND_DOLLARS / 1000;
    }
}
