package io.streamflow.benchmarks.nexmark;

import io.streamflow.benchmarks.Checksum;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The Nexmark event generator: a deterministic function of (seed, event number), so a
 * {@link Config} always gives the same events and event {@code n} does not depend on how many
 * events are generated. Written from the published rules of the benchmark (an online auction:
 * people register, put items up for auction and bid on them):
 * <ul>
 *   <li><b>Mix.</b> Events are numbered {@code 0..n-1}. Out of every 50 consecutive events
 *   ({@code n / 50} is the "epoch", {@code n % 50} the offset) offset 0 is a {@link Person},
 *   offsets 1..3 are {@link Auction}s and offsets 4..49 are {@link Bid}s: exactly 1:3:46.</li>
 *   <li><b>Ids.</b> Ids follow the event number: the person of epoch {@code e} has id
 *   {@code 1000 + e}, the auction at offset {@code o} has id {@code 1000 + 3e + (o - 1)}. So the
 *   latest person / auction at any event is known without state.</li>
 *   <li><b>Referential integrity.</b> A bid names an auction and a bidder, and an auction a seller,
 *   that already exist (created by an earlier event). The published generator lets a few bids
 *   name ids up to 10 ahead of the latest one; this generator does not, so every reference
 *   resolves.</li>
 *   <li><b>Skew.</b> Half of the bids go to the current <i>hot auction</i> (the latest auction whose
 *   0-based id is a multiple of 100), the others to one of the 100 latest auctions, uniformly.
 *   Three bids in four come from the current <i>hot bidder</i> (the latest person whose 0-based id
 *   is {@code 100k + 1}), the others from one of the 1,000 latest people. Three auctions in four
 *   are sold by the current <i>hot seller</i> (the latest person whose 0-based id is a multiple
 *   of 100), the others by one of the 1,000 latest people.</li>
 *   <li><b>Fields.</b> Prices are cents, {@code round(10^(6u) * 100)} for a uniform {@code u} in
 *   {@code [0, 1)}, so from $1 to $1,000,000 with a log-uniform spread; an auction's reserve is its
 *   initial bid plus another such price; its category is one of 5 (ids 10..14); it expires a
 *   random time after its creation, up to twice the event time it takes to create 100 auctions.
 *   Names, cities and states come from fixed lists, e-mail addresses and item texts are random
 *   letters, credit cards 16 random digits. A bid's channel is one of four big channels for 3 bids
 *   in 4, otherwise one of 10,000 small ones; each channel has one fixed URL. (The published
 *   generator also pads events with filler bytes to a target size; this one does not.)</li>
 *   <li><b>Event time.</b> Event {@code n} happens at {@code BASE_TIME + n * 1000 / eventsPerSecond}
 *   (integer milliseconds), so event time never decreases: the input is in order. The default rate
 *   is {@value #DEFAULT_EVENTS_PER_SECOND} events per second of event time, the benchmark's default
 *   spacing (one event every 100 µs): 5 million events span 500 s, i.e. 50 tumbling 10 s windows
 *   of about 92,000 bids each, and the 10 s session gap separates the sessions of the ordinary
 *   (not hot) bidders.</li>
 * </ul>
 */
public final class NexmarkGenerator {

    /** People per {@value #TOTAL_PROPORTION} events. */
    public static final int PERSON_PROPORTION = 1;
    /** Auctions per {@value #TOTAL_PROPORTION} events. */
    public static final int AUCTION_PROPORTION = 3;
    /** Bids per {@value #TOTAL_PROPORTION} events. */
    public static final int BID_PROPORTION = 46;
    public static final int TOTAL_PROPORTION = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;

    public static final long FIRST_PERSON_ID = 1000;
    public static final long FIRST_AUCTION_ID = 1000;
    public static final long FIRST_CATEGORY_ID = 10;
    public static final int CATEGORIES = 5;

    /** Hot auctions, sellers and bidders are the latest ones of each group of this many ids. */
    public static final int HOT_GROUP = 100;
    /** One bid in this many does not go to the hot auction. */
    public static final int HOT_AUCTION_RATIO = 2;
    /** One bid in this many is not by the hot bidder. */
    public static final int HOT_BIDDER_RATIO = 4;
    /** One auction in this many is not by the hot seller. */
    public static final int HOT_SELLER_RATIO = 4;
    /** Bids not on the hot auction go to one of this many latest auctions. */
    public static final int IN_FLIGHT_AUCTIONS = 100;
    /** Bidders and sellers that are not hot are one of this many latest people. */
    public static final int ACTIVE_PEOPLE = 1000;

    /** Event time of event 0: 2023-11-14T22:13:20Z (a multiple of 10 s, so windows align with it). */
    public static final long BASE_TIME = 1_700_000_000_000L;
    /** The benchmark's default event rate: one event every 100 µs of event time. */
    public static final long DEFAULT_EVENTS_PER_SECOND = 10_000;

    /**
     * What to generate.
     *
     * @param seed            random seed
     * @param events          number of events
     * @param eventsPerSecond events per second of event time
     */
    public record Config(long seed, int events, long eventsPerSecond) {
        public Config {
            if (events < 0 || eventsPerSecond < 1 || eventsPerSecond > 1_000_000) {
                throw new IllegalArgumentException("events must be >= 0 and eventsPerSecond in [1, 1000000]: "
                        + events + ", " + eventsPerSecond);
            }
        }

        /** {@code events} events at the default rate. */
        public static Config of(long seed, int events) {
            return new Config(seed, events, DEFAULT_EVENTS_PER_SECOND);
        }

        @Override
        public String toString() {
            return events + " Nexmark events, " + eventsPerSecond + " events/s of event time, seed " + seed;
        }
    }

    private NexmarkGenerator() {
    }

    /** Generates every event of {@code config} into memory (in parallel; the result does not depend on it). */
    public static NexmarkEvents generate(Config config) {
        NexmarkEvent[] events = new NexmarkEvent[config.events()];
        IntStream.range(0, events.length).parallel().forEach(i -> events[i] = event(config, i));
        return NexmarkEvents.generated(config, events);
    }

    /** Event number {@code n} of {@code config}'s sequence. */
    public static NexmarkEvent event(Config config, long n) {
        SplittableRandom rnd = new SplittableRandom(Checksum.mix(config.seed() ^ Checksum.mix(n)));
        long time = dateTime(config.eventsPerSecond(), n);
        long offset = n % TOTAL_PROPORTION;
        if (offset < PERSON_PROPORTION) {
            return person(rnd, n, time);
        }
        if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) {
            return auction(rnd, n, time, config.eventsPerSecond());
        }
        return bid(rnd, n, time);
    }

    /** Event time of event {@code n}. */
    public static long dateTime(long eventsPerSecond, long n) {
        return BASE_TIME + n * 1000 / eventsPerSecond;
    }

    /** 0-based id of the latest person created at or before event {@code n}. */
    static long lastPersonBase0(long n) {
        return n / TOTAL_PROPORTION;
    }

    /** 0-based id of the latest auction created at or before event {@code n} ({@code -1}: none yet). */
    static long lastAuctionBase0(long n) {
        long epoch = n / TOTAL_PROPORTION;
        long offset = n % TOTAL_PROPORTION;
        if (offset < PERSON_PROPORTION) {
            return epoch * AUCTION_PROPORTION - 1;
        }
        long inEpoch = Math.min(offset - PERSON_PROPORTION, AUCTION_PROPORTION - 1);
        return epoch * AUCTION_PROPORTION + inEpoch;
    }

    private static Person person(SplittableRandom rnd, long n, long time) {
        long id = FIRST_PERSON_ID + lastPersonBase0(n);
        String name = Words.FIRST_NAMES[rnd.nextInt(Words.FIRST_NAMES.length)] + " "
                + Words.LAST_NAMES[rnd.nextInt(Words.LAST_NAMES.length)];
        String email = letters(rnd, 7) + "@" + letters(rnd, 5) + ".com";
        String card = String.format(java.util.Locale.ROOT, "%04d %04d %04d %04d", rnd.nextInt(10_000),
                rnd.nextInt(10_000), rnd.nextInt(10_000), rnd.nextInt(10_000));
        String city = Words.CITIES[rnd.nextInt(Words.CITIES.length)];
        String state = Words.STATES[rnd.nextInt(Words.STATES.length)];
        return new Person(id, name, email, card, city, state, time);
    }

    private static Auction auction(SplittableRandom rnd, long n, long time, long eventsPerSecond) {
        long id = FIRST_AUCTION_ID + lastAuctionBase0(n);
        long lastPerson = lastPersonBase0(n);
        long seller = rnd.nextInt(HOT_SELLER_RATIO) > 0 ? (lastPerson / HOT_GROUP) * HOT_GROUP
                : recent(rnd, lastPerson, ACTIVE_PEOPLE);
        long category = FIRST_CATEGORY_ID + rnd.nextInt(CATEGORIES);
        long initialBid = price(rnd);
        long reserve = initialBid + price(rnd);
        // the event time it takes to create IN_FLIGHT_AUCTIONS auctions
        long horizon = (long) IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION / AUCTION_PROPORTION * 1000 / eventsPerSecond;
        long expires = time + 1 + rnd.nextLong(2 * horizon + 1);
        String item = text(rnd, 20);
        String description = text(rnd, 100);
        return new Auction(id, item, description, initialBid, reserve, time, expires, FIRST_PERSON_ID + seller,
                category);
    }

    private static Bid bid(SplittableRandom rnd, long n, long time) {
        long lastAuction = lastAuctionBase0(n);
        long auction = rnd.nextInt(HOT_AUCTION_RATIO) > 0 ? (lastAuction / HOT_GROUP) * HOT_GROUP
                : recent(rnd, lastAuction, IN_FLIGHT_AUCTIONS);
        long lastPerson = lastPersonBase0(n);
        long bidder;
        if (rnd.nextInt(HOT_BIDDER_RATIO) > 0) {
            bidder = (lastPerson / HOT_GROUP) * HOT_GROUP + 1;
            if (bidder > lastPerson) {
                // the group's hot bidder does not exist yet: the previous group's (or person 0)
                bidder = Math.max(0, bidder - HOT_GROUP);
            }
        } else {
            bidder = recent(rnd, lastPerson, ACTIVE_PEOPLE);
        }
        long price = price(rnd);
        int c = rnd.nextInt(4) > 0 ? rnd.nextInt(Channels.BIG) : Channels.BIG + rnd.nextInt(Channels.SMALL);
        return new Bid(FIRST_AUCTION_ID + auction, FIRST_PERSON_ID + bidder, price, Channels.NAMES[c],
                Channels.URLS[c], time);
    }

    /** Uniformly one of the {@code window} latest 0-based ids up to {@code last}. */
    private static long recent(SplittableRandom rnd, long last, int window) {
        long first = Math.max(0, last - window + 1);
        return first + rnd.nextLong(last - first + 1);
    }

    /** Cents, log-uniform from 100 ($1) to 100,000,000 ($1M); strict math so every JVM agrees. */
    static long price(SplittableRandom rnd) {
        return Math.round(StrictMath.pow(10.0, rnd.nextDouble() * 6.0) * 100.0);
    }

    private static String letters(SplittableRandom rnd, int length) {
        char[] c = new char[length];
        for (int i = 0; i < length; i++) {
            c[i] = (char) ('a' + rnd.nextInt(26));
        }
        return new String(c);
    }

    /** Random lowercase words of 1 to {@code maxLength} characters in all. */
    private static String text(SplittableRandom rnd, int maxLength) {
        int length = 1 + rnd.nextInt(maxLength);
        char[] c = new char[length];
        for (int i = 0; i < length; i++) {
            c[i] = i > 0 && c[i - 1] != ' ' && rnd.nextInt(8) == 0 ? ' ' : (char) ('a' + rnd.nextInt(26));
        }
        return new String(c);
    }

    /** Bid channels and their URLs: shared strings, the same for every seed. */
    private static final class Channels {
        static final int BIG = 4;
        static final int SMALL = 10_000;
        static final String[] NAMES = new String[BIG + SMALL];
        static final String[] URLS = new String[BIG + SMALL];

        static {
            String[] big = {"Google", "Facebook", "Baidu", "Apple"};
            SplittableRandom rnd = new SplittableRandom(0x5EED);
            for (int i = 0; i < NAMES.length; i++) {
                NAMES[i] = i < BIG ? big[i] : "channel-" + (i - BIG);
                URLS[i] = "https://www.nexmark.com/" + letters(rnd, 5) + "/" + letters(rnd, 5) + "/item.htm?query=1"
                        + (i < BIG ? "" : "&channel_id=" + (i - BIG));
            }
        }
    }

    /** Fixed word lists for people. */
    private static final class Words {
        static final String[] FIRST_NAMES = {"Ada", "Ben", "Clara", "Dmitri", "Elena", "Farid", "Grace", "Hiro",
                "Ines", "Jonas", "Kira", "Luis", "Maya", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara"};
        static final String[] LAST_NAMES = {"Abbott", "Brandt", "Castillo", "Dubois", "Eriksen", "Fischer",
                "Garcia", "Hughes", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor",
                "Petrov", "Quispe", "Rossi", "Schmidt", "Tanaka"};
        static final String[] CITIES = {"Phoenix", "Portland", "Boise", "Denver", "Austin", "Seattle", "Reno",
                "Tucson", "Omaha", "Madison", "Raleigh", "Albany"};
        static final String[] STATES = {"AZ", "OR", "ID", "CO", "TX", "WA", "NV", "NE", "WI", "NC", "NY", "CA"};
    }
}
