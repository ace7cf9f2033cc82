package io.streamflow.benchmarks.nexmark;

import java.time.Duration;
import java.util.Set;

/**
 * The Nexmark queries of the harness. Each reads the whole event sequence (people, auctions and
 * bids), keeps the bids (the join queries Q3, Q4 and Q8: the people and the auctions, or the
 * auctions and the bids), and reduces its result rows to an order-independent
 * {@link io.streamflow.benchmarks.Checksum} ({@code addRow} with the fields listed below, in that
 * order; a text field enters as its {@link #fingerprint}). Event time is the event's
 * {@code dateTime}; the watermark is bounded out-of-orderness with bound {@link #WATERMARK_BOUND}
 * (0 ms: the generated input is in order), i.e. {@code W = max dateTime seen - 1 ms}, and the end
 * of the input fires every remaining window. Windows are half-open {@code [start, end)} and
 * aligned to the epoch.
 * <ul>
 *   <li>{@link #Q0} pass-through: one row per bid {@code (auction, bidder, price, dateTime)}.</li>
 *   <li>{@link #Q1} currency conversion: one row per bid
 *   {@code (auction, bidder, price * 908 / 1000, dateTime)}; the price in cents of US dollars
 *   becomes cents of euros at 0.908 per dollar, in long integer arithmetic (the division truncates).</li>
 *   <li>{@link #Q2} selection: one row {@code (auction, price)} per bid whose
 *   {@code auction % 123 == 0}.</li>
 *   <li>{@link #Q3} local item suggestion: the auctions of category {@value #Q3_CATEGORY} whose seller
 *   lives in one of the states {@link #Q3_STATES} (OR, ID, CA). A temporal (as-of) join: each such
 *   auction is joined with its seller as registered at the auction's time, i.e. with the person of
 *   {@code id == seller} in one of those states and the latest {@code dateTime <= auction.dateTime}
 *   (equal times match): one row {@code (fingerprint(name), fingerprint(city), fingerprint(state),
 *   auction id)} per auction. Persons are selected by state before the join, auctions by category.
 *   The standard query is a regular (unwindowed) join, which also matches a seller that registers
 *   after the auction; the generator never makes one (a seller exists when its auction is created,
 *   and person ids are unique), so on generated events the rows are the standard ones.</li>
 *   <li>{@link #Q4} average price for a category: a bid is valid for its auction when
 *   {@code auction.dateTime <= bid.dateTime <= auction.expires} (both ends inclusive); an auction
 *   closes at {@code expires} with its highest valid bid price as closing price, and an auction
 *   with no valid bid closes without a price and is left out (the join and the closing prices of
 *   the standard query, exactly). For each category and each time {@code t} at which at least one
 *   of its auctions closes with a price: one row {@code (category, t, n, s, s / n)}, where
 *   {@code n} and {@code s} are the number and the sum of the closing prices of the category's
 *   auctions closed at or before {@code t} (long integers, the average truncated). That is every
 *   update of the standard query's running average per category, the auctions that close at the
 *   same millisecond together, so the rows do not depend on the order of equal times; the last
 *   row of a category is its final average.</li>
 *   <li>{@link #Q5} hot items: sliding windows of 10 s every 2 s (each bid is in 5 windows); per
 *   window, the number of bids of every auction; for each window the auction(s) with the most
 *   bids, all of them on a tie: one row {@code (window start, window end, auction, count)} each.
 *   Windows with no bid have no row.</li>
 *   <li>{@link #Q7} highest bid: tumbling windows of 10 s; per window the bid(s) with the highest
 *   price, all of them on a tie (two equal bids give two equal rows): one row
 *   {@code (auction, bidder, price, window end)} each.</li>
 *   <li>{@link #Q8} monitor new users: tumbling windows of 10 s; a person and an auction whose
 *   {@code seller} is the person's {@code id}, both with their {@code dateTime} in the same window
 *   (a window join), are one pair: one row {@code (person id, fingerprint(name), auction reserve,
 *   window start)} per pair, i.e. per auction a new user created in the window of its
 *   registration. This is the original Nexmark query ({@code Rstream(P.id, P.name, A.reserve)}, a
 *   row per pair) and Beam's Query 8 on fixed windows; the SQL version of nexmark-flink keeps one row
 *   {@code (id, name, window start)} per person and window instead, the distinct
 *   {@code (id, window start)} of these rows.</li>
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
    Q3("local item suggestion: auctions of category 10 with their seller in OR, ID or CA (as-of join)"),
    Q4("average price for a category: running average of the closing prices of auctions, per category"),
    Q5("hot items: the auction(s) with the most bids per sliding window of 10 s every 2 s"),
    Q7("highest bid: the bid(s) with the highest price per tumbling window of 10 s"),
    Q8("monitor new users: auctions of people created in their registration window of 10 s (window join)"),
    Q11("user sessions: number of bids per bidder per session (gap 10 s)");

    /** Watermark bound of every query, in both systems. */
    public static final Duration WATERMARK_BOUND = Duration.ZERO;
    /** Q1: euro cents per 1000 dollar cents. */
    public static final long EUROS_PER_THOUSAND_DOLLARS = 908;
    /** Q2: the selected auctions' ids are multiples of this. */
    public static final long Q2_AUCTION_MODULUS = 123;
    /** Q3: the category of the selected auctions. */
    public static final long Q3_CATEGORY = 10;
    /** Q3: the states of the selected sellers. */
    public static final Set<String> Q3_STATES = Set.of("OR", "ID", "CA");
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
    /** Q8 window size. */
    public static final Duration Q8_SIZE = Duration.ofSeconds(10);
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

    /** Q3's person selection: lives in one of {@link #Q3_STATES}. */
    public static boolean q3Seller(Person p) {
        return Q3_STATES.contains(p.state());
    }

    /** Q3's auction selection: in category {@link #Q3_CATEGORY}. */
    public static boolean q3Auction(Auction a) {
        return a.category() == Q3_CATEGORY;
    }

    /** Q4: whether {@code bid} counts for {@code auction} (same id, made while the auction was open). */
    public static boolean q4Valid(Auction auction, Bid bid) {
        return bid.auction() == auction.id() && auction.dateTime() <= bid.dateTime()
                && bid.dateTime() <= auction.expires();
    }

    /**
     * A text field as a checksum field: the 64-bit FNV-1a hash of its UTF-16 code units, the same
     * in every JVM.
     */
    public static long fingerprint(String text) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < text.length(); i++) {
            h ^= text.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }
}
