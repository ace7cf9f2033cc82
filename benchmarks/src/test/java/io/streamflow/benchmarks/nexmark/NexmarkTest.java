package io.streamflow.benchmarks.nexmark;

import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.AuctionCount;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.BidderSession;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.CategoryCloses;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.ClosedAuction;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.MaxWithTies;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.NewUser;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.SellerAuction;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.WindowBid;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The generator follows the Nexmark rules, and StreamFlow, Flink and a batch reference give the
 * same results for every query: on generated events at small scale and on hand-made events whose
 * expected rows are written out below (window edges, ties, sessions that just touch).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NexmarkTest {

    /** 40,000 events at 500 events/s: 80 s of event time, 8 tumbling and 44 sliding windows. */
    private static final NexmarkGenerator.Config SMALL = new NexmarkGenerator.Config(7, 40_000, 500);
    private static final long T = NexmarkGenerator.BASE_TIME;

    private NexmarkEvents small;

    @BeforeAll
    void generate() {
        small = NexmarkGenerator.generate(SMALL);
    }

    // ------------------------------------------------------------------ generator

    @Test
    void generationIsDeterministicAndDoesNotDependOnTheCount() {
        NexmarkEvents again = NexmarkGenerator.generate(SMALL);
        assertThat(again.asList()).isEqualTo(small.asList());
        NexmarkEvents prefix = NexmarkGenerator.generate(new NexmarkGenerator.Config(7, 1_234, 500));
        assertThat(prefix.asList()).isEqualTo(small.asList().subList(0, 1_234));
        NexmarkEvents otherSeed = NexmarkGenerator.generate(new NexmarkGenerator.Config(8, 1_234, 500));
        assertThat(otherSeed.asList()).isNotEqualTo(prefix.asList());
        assertThat(NexmarkGenerator.event(SMALL, 777)).isEqualTo(small.get(777));
    }

    @Test
    void everyFiftyEventsAreOnePersonThreeAuctionsAndFortySixBids() {
        NexmarkEvents ev = NexmarkGenerator.generate(NexmarkGenerator.Config.of(3, 10_037));
        for (int i = 0; i < ev.size(); i++) {
            int offset = i % 50;
            Class<?> expected = offset == 0 ? Person.class : offset <= 3 ? Auction.class : Bid.class;
            assertThat(ev.get(i)).as("event %d", i).isInstanceOf(expected);
        }
        // 200 full blocks and 37 events: 1 person, 3 auctions, 33 bids
        assertThat(ev.persons()).isEqualTo(201);
        assertThat(ev.auctions()).isEqualTo(603);
        assertThat(ev.bids()).isEqualTo(200 * 46 + 33);
        assertThat(small.persons() * 46L).isEqualTo(small.bids());
        assertThat(small.persons() * 3L).isEqualTo(small.auctions());
    }

    @Test
    void idsAdvanceWithTheEventNumberAndEveryReferenceExists() {
        Set<Long> people = new HashSet<>();
        Set<Long> auctions = new HashSet<>();
        long nextPerson = NexmarkGenerator.FIRST_PERSON_ID;
        long nextAuction = NexmarkGenerator.FIRST_AUCTION_ID;
        for (int i = 0; i < small.size(); i++) {
            NexmarkEvent e = small.get(i);
            assertThat(e.dateTime()).as("event %d time", i).isEqualTo(T + i * 1000L / SMALL.eventsPerSecond());
            if (e instanceof Person p) {
                assertThat(p.id()).isEqualTo(nextPerson++);
                assertThat(p.creditCard()).matches("\\d{4} \\d{4} \\d{4} \\d{4}");
                assertThat(p.emailAddress()).matches("[a-z]+@[a-z]+\\.com");
                assertThat(p.name()).contains(" ");
                assertThat(p.city()).isNotBlank();
                assertThat(p.state()).hasSize(2);
                people.add(p.id());
            } else if (e instanceof Auction a) {
                assertThat(a.id()).isEqualTo(nextAuction++);
                assertThat(people).as("seller of auction %d", a.id()).contains(a.seller());
                assertThat(a.category()).isBetween(10L, 14L);
                assertThat(a.initialBid()).isBetween(100L, 100_000_000L);
                assertThat(a.reserve()).isGreaterThan(a.initialBid());
                assertThat(a.expires()).isGreaterThan(a.dateTime());
                assertThat(a.itemName()).isNotEmpty();
                auctions.add(a.id());
            } else {
                Bid b = (Bid) e;
                assertThat(auctions).as("auction of bid %d", i).contains(b.auction());
                assertThat(people).as("bidder of bid %d", i).contains(b.bidder());
                assertThat(b.price()).isBetween(100L, 100_000_000L);
                assertThat(b.url()).startsWith("https://");
                assertThat(b.channel()).isNotEmpty();
            }
        }
    }

    @Test
    void mostBidsGoToHotAuctionsAndComeFromHotBidders() {
        long hotAuction = 0;
        long hotBidder = 0;
        long recentAuction = 0;
        long recentBidder = 0;
        long lastAuction = 0;
        long lastPerson = 0;
        for (NexmarkEvent e : small.asList()) {
            if (e instanceof Person p) {
                lastPerson = p.id();
            } else if (e instanceof Auction a) {
                lastAuction = a.id();
            } else if (e instanceof Bid b) {
                hotAuction += (b.auction() - 1000) % 100 == 0 ? 1 : 0;
                hotBidder += (b.bidder() - 1000) % 100 == 1 ? 1 : 0;
                recentAuction += lastAuction - b.auction() < 100 ? 1 : 0;
                recentBidder += lastPerson - b.bidder() < 1000 ? 1 : 0;
            }
        }
        double bids = small.bids();
        // half of the bids on the hot auction (+ 1 % of the others), three in four by the hot bidder
        assertThat(hotAuction / bids).isBetween(0.47, 0.54);
        assertThat(hotBidder / bids).isBetween(0.72, 0.78);
        // all on one of the 100 latest auctions, by one of the 1,000 latest people
        assertThat(recentAuction).isEqualTo(small.bids());
        assertThat(recentBidder).isEqualTo(small.bids());
    }

    @Test
    void handMadeEventsMustBeInTimeOrder() {
        assertThatThrownBy(() -> NexmarkEvents.of(List.of(bid(1000, 1000, 1, 5), bid(1000, 1000, 1, 4))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("event-time order");
    }

    @Test
    void q1ConvertsWithIntegerArithmetic() {
        assertThat(NexmarkQuery.toEuros(999)).isEqualTo(907);
        assertThat(NexmarkQuery.toEuros(1)).isZero();
        assertThat(NexmarkQuery.toEuros(100_000_000)).isEqualTo(90_800_000);
    }

    @Test
    void flinkSerializesTheEventsAndIntermediatesAsPojos() {
        for (Class<?> c : List.of(Person.class, Auction.class, Bid.class, AuctionCount.class, WindowBid.class,
                BidderSession.class, MaxWithTies.class, SellerAuction.class, ClosedAuction.class,
                CategoryCloses.class, NewUser.class)) {
            assertThat(TypeInformation.of(c)).as(c.getSimpleName()).isInstanceOf(PojoTypeInfo.class);
        }
    }

    @Test
    void everyQueryHasADescription() {
        for (NexmarkQuery q : NexmarkQuery.values()) {
            assertThat(q.description()).isNotBlank().doesNotContain("\n");
        }
    }

    // ------------------------------------------------------------------ queries, generated events

    @ParameterizedTest
    @EnumSource(NexmarkQuery.class)
    void streamFlowAndFlinkMatchTheReference(NexmarkQuery q) {
        Checksum reference = NexmarkReference.checksum(q, small.asList());
        assertThat(reference.results()).as("%s rows", q).isGreaterThan(switch (q) {
            case Q0, Q1 -> small.bids() - 1L;
            case Q2 -> 10L;
            case Q3 -> 20L;
            case Q4 -> 1_000L;
            case Q8 -> 1_000L;
            case Q5 -> 43L;  // at least one row per sliding window
            case Q7 -> 7L;   // at least one row per tumbling window
            case Q11 -> 1_000L;
        });
        assertThat(NexmarkStreamFlow.run(q, small).checksum()).as("StreamFlow %s", q).isEqualTo(reference);
        assertThat(NexmarkFlink.run(q, small, 1).checksum()).as("Flink p1 %s", q).isEqualTo(reference);
    }

    @Test
    void theJoinQueriesSelectANonTrivialPartOfTheGeneratedEvents() {
        // Q3: sellers from each of the three states
        Set<Long> states = new HashSet<>();
        for (long[] row : NexmarkReference.rows(NexmarkQuery.Q3, small.asList())) {
            states.add(row[2]);
        }
        assertThat(states).containsExactlyInAnyOrder(text("OR"), text("ID"), text("CA"));
        // Q4: the last row of each category counts its auctions that closed with a price: most, not all
        Map<Long, Long> closed = new HashMap<>();
        for (long[] row : NexmarkReference.rows(NexmarkQuery.Q4, small.asList())) {
            closed.merge(row[0], row[2], Math::max);
        }
        assertThat(closed).hasSize(NexmarkGenerator.CATEGORIES);
        long total = closed.values().stream().mapToLong(Long::longValue).sum();
        assertThat(total).isBetween(small.auctions() / 2L, small.auctions() - 1L);
        // Q8: not every auction is by a person who registered in its window
        assertThat(NexmarkReference.rows(NexmarkQuery.Q8, small.asList()).size())
                .isBetween(small.auctions() / 2, small.auctions() - 1);
    }

    @ParameterizedTest
    @EnumSource(value = NexmarkQuery.class, names = {"Q3", "Q4", "Q5", "Q7", "Q8", "Q11"})
    void flinkWithTwoInstancesMatchesTheReference(NexmarkQuery q) {
        Checksum reference = NexmarkReference.checksum(q, small.asList());
        assertThat(NexmarkFlink.run(q, small, 2).checksum()).as("Flink p2 %s", q).isEqualTo(reference);
    }

    @ParameterizedTest
    @EnumSource(value = NexmarkQuery.class, names = {"Q3", "Q4", "Q5", "Q7", "Q8", "Q11"})
    void streamFlowMatchesTheReferenceAtTheDefaultRate(NexmarkQuery q) {
        // 50,000 events at 10,000 events/s: 5 s of event time, hot auctions and bidders dominate
        NexmarkEvents dense = NexmarkGenerator.generate(NexmarkGenerator.Config.of(11, 50_000));
        assertThat(NexmarkStreamFlow.run(q, dense).checksum()).as("StreamFlow %s", q)
                .isEqualTo(NexmarkReference.checksum(q, dense.asList()));
    }

    // ------------------------------------------------------------------ queries, hand-made events

    /**
     * Three people and three auctions at T, then nine bids (auction, bidder, price, time):
     * <pre>
     *  1  T+0      a1000 p1000 500
     *  2  T+1000   a1001 p1001 900
     *  3  T+1999   a1000 p1002 900      ties with 2 for the highest bid of [T, T+10s)
     *  4  T+2000   a1001 p1000 300
     *  5  T+9999   a1002 p1001 100      last millisecond of [T, T+10s)
     *  6  T+10000  a1002 p1001 100      first millisecond of [T+10s, T+20s)
     *  7  T+20000  a1000 p1001 700      10 s after 6: p1001's session goes on (windows touch)
     *  8  T+20000  a1001 p1002 700      ties with 7
     *  9  T+30001  a1001 p1001  50      10.001 s after 7: a new session
     * </pre>
     */
    private static NexmarkEvents handMade() {
        List<NexmarkEvent> ev = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ev.add(new Person(1000 + i, "P " + i, "p@x.com", "0000 0000 0000 0000", "Reno", "NV", T));
        }
        for (int i = 0; i < 3; i++) {
            ev.add(new Auction(1000 + i, "item", "desc", 100, 200, T, T + 60_000, 1000, 10));
        }
        ev.add(bid(1000, 1000, 500, T));
        ev.add(bid(1001, 1001, 900, T + 1000));
        ev.add(bid(1000, 1002, 900, T + 1999));
        ev.add(bid(1001, 1000, 300, T + 2000));
        ev.add(bid(1002, 1001, 100, T + 9999));
        ev.add(bid(1002, 1001, 100, T + 10_000));
        ev.add(bid(1000, 1001, 700, T + 20_000));
        ev.add(bid(1001, 1002, 700, T + 20_000));
        ev.add(bid(1001, 1001, 50, T + 30_001));
        return NexmarkEvents.of(ev);
    }

    private static Bid bid(long auction, long bidder, long price, long time) {
        return new Bid(auction, bidder, price, "Google", "https://www.nexmark.com/a/b/item.htm?query=1", time);
    }

    private static List<long[]> expectedRows(NexmarkQuery q) {
        List<long[]> rows = new ArrayList<>();
        switch (q) {
            case Q5 -> {
                // (start, end, auction, count); windows [s, s + 10 s), s every 2 s
                rows.add(new long[] {T - 8000, T + 2000, 1000, 2});
                for (long s = T - 6000; s <= T; s += 2000) {   // 1000 and 1001 tie with 2 bids
                    rows.add(new long[] {s, s + 10_000, 1000, 2});
                    rows.add(new long[] {s, s + 10_000, 1001, 2});
                }
                for (long s = T + 2000; s <= T + 8000; s += 2000) {
                    rows.add(new long[] {s, s + 10_000, 1002, 2});
                }
                rows.add(new long[] {T + 10_000, T + 20_000, 1002, 1});
                for (long s = T + 12_000; s <= T + 20_000; s += 2000) {   // bids 7 and 8 tie
                    rows.add(new long[] {s, s + 10_000, 1000, 1});
                    rows.add(new long[] {s, s + 10_000, 1001, 1});
                }
                for (long s = T + 22_000; s <= T + 30_000; s += 2000) {
                    rows.add(new long[] {s, s + 10_000, 1001, 1});
                }
            }
            case Q7 -> {
                // (auction, bidder, price, window end)
                rows.add(new long[] {1001, 1001, 900, T + 10_000});
                rows.add(new long[] {1000, 1002, 900, T + 10_000});
                rows.add(new long[] {1002, 1001, 100, T + 20_000});
                rows.add(new long[] {1000, 1001, 700, T + 30_000});
                rows.add(new long[] {1001, 1002, 700, T + 30_000});
                rows.add(new long[] {1001, 1001, 50, T + 40_000});
            }
            case Q11 -> {
                // (bidder, count, start, end)
                rows.add(new long[] {1000, 2, T, T + 12_000});
                rows.add(new long[] {1001, 4, T + 1000, T + 30_000});
                rows.add(new long[] {1001, 1, T + 30_001, T + 40_001});
                rows.add(new long[] {1002, 1, T + 1999, T + 11_999});
                rows.add(new long[] {1002, 1, T + 20_000, T + 30_000});
            }
            default -> throw new IllegalArgumentException(q.toString());
        }
        return rows;
    }

    @ParameterizedTest
    @EnumSource(value = NexmarkQuery.class, names = {"Q5", "Q7", "Q11"})
    void windowEdgesTiesAndTouchingSessions(NexmarkQuery q) {
        NexmarkEvents ev = handMade();
        List<long[]> expected = expectedRows(q);
        assertThat(NexmarkReference.rows(q, ev.asList())).as("reference %s", q)
                .containsExactlyInAnyOrderElementsOf(expected);
        Checksum checksum = new Checksum();
        expected.forEach(checksum::addRow);
        assertThat(NexmarkStreamFlow.run(q, ev).checksum()).as("StreamFlow %s", q).isEqualTo(checksum);
        assertThat(NexmarkFlink.run(q, ev, 1).checksum()).as("Flink %s", q).isEqualTo(checksum);
    }

    // ------------------------------------------------------------------ join queries, hand-made events

    /**
     * People, auctions and bids around the joins' edges, in time order (T = a multiple of 10 s):
     * <pre>
     *  T+0      person 2000 Ann Lee, Boise ID;  person 2001 Bo Park, Reno NV
     *  T+1000   auction 3000 by 2000, category 10, reserve 111, expires T+5000;  bid 3000: 100 (at its creation)
     *  T+2000   auction 3001 by 2000, category 11, reserve 222, expires T+5000
     *  T+2500   bid 3001: 50
     *  T+2999   bid 3002: 1000        before auction 3002 exists: not valid
     *  T+3000   auction 3002 by 2001 (NV), category 10, reserve 333, expires T+8000
     *  T+5000   bid 3000: 300         at expires: valid, closes 3000 at 300
     *  T+5001   bid 3000: 900         after expires: not valid
     *  T+6000   bid 3999: 10          no such auction
     *  T+8000   bid 3002: 70          closes 3002 at 70
     *  T+9000   person 2002 Cy Diaz, Salem OR
     *  T+9999   bid 3003: 400 (before its auction, same millisecond: valid);  auction 3003 by 2003, category
     *           10, reserve 444, expires T+20000;  person 2003 Di Wu, Fresno CA (after its auction, same
     *           millisecond: its seller for Q3)
     *  T+10000  auction 3004 by 2002, category 10, reserve 555, expires T+15000 (its seller registered in
     *           the previous window: no Q8 pair)
     *  T+11000  auction 3005 by 2004, category 10, reserve 666, expires T+15000
     *  T+12000  person 2004 Ed Kim, Eugene OR (after auction 3005: no Q3 row, but the same window: a Q8
     *           pair);  auction 3006 by 2000, category 12, reserve 777, expires T+14000 (no bid)
     *  T+14000  bid 3004: 200
     *  T+15000  bid 3005: 600         3004 and 3005 (category 10) close together at T+15000
     *  T+20001  bid 3003: 5000        after expires: not valid
     * </pre>
     */
    private static NexmarkEvents handMadeJoins() {
        List<NexmarkEvent> ev = new ArrayList<>();
        ev.add(person(2000, "Ann Lee", "Boise", "ID", T));
        ev.add(person(2001, "Bo Park", "Reno", "NV", T));
        ev.add(auction(3000, T + 1000, T + 5000, 2000, 10, 111));
        ev.add(bid(3000, 2001, 100, T + 1000));
        ev.add(auction(3001, T + 2000, T + 5000, 2000, 11, 222));
        ev.add(bid(3001, 2000, 50, T + 2500));
        ev.add(bid(3002, 2000, 1000, T + 2999));
        ev.add(auction(3002, T + 3000, T + 8000, 2001, 10, 333));
        ev.add(bid(3000, 2001, 300, T + 5000));
        ev.add(bid(3000, 2001, 900, T + 5001));
        ev.add(bid(3999, 2001, 10, T + 6000));
        ev.add(bid(3002, 2000, 70, T + 8000));
        ev.add(person(2002, "Cy Diaz", "Salem", "OR", T + 9000));
        ev.add(bid(3003, 2000, 400, T + 9999));
        ev.add(auction(3003, T + 9999, T + 20_000, 2003, 10, 444));
        ev.add(person(2003, "Di Wu", "Fresno", "CA", T + 9999));
        ev.add(auction(3004, T + 10_000, T + 15_000, 2002, 10, 555));
        ev.add(auction(3005, T + 11_000, T + 15_000, 2004, 10, 666));
        ev.add(person(2004, "Ed Kim", "Eugene", "OR", T + 12_000));
        ev.add(auction(3006, T + 12_000, T + 14_000, 2000, 12, 777));
        ev.add(bid(3004, 2002, 200, T + 14_000));
        ev.add(bid(3005, 2002, 600, T + 15_000));
        ev.add(bid(3003, 2002, 5000, T + 20_001));
        return NexmarkEvents.of(ev);
    }

    private static Person person(long id, String name, String city, String state, long time) {
        return new Person(id, name, "p@x.com", "0000 0000 0000 0000", city, state, time);
    }

    private static Auction auction(long id, long time, long expires, long seller, long category, long reserve) {
        return new Auction(id, "item", "desc", 10, reserve, time, expires, seller, category);
    }

    private static List<long[]> expectedJoinRows(NexmarkQuery q) {
        List<long[]> rows = new ArrayList<>();
        switch (q) {
            case Q3 -> {
                // (name, city, state, auction): 3002's seller is in NV, 3005's registers later, 3001 and
                // 3006 are in other categories
                rows.add(new long[] {text("Ann Lee"), text("Boise"), text("ID"), 3000});
                rows.add(new long[] {text("Di Wu"), text("Fresno"), text("CA"), 3003});
                rows.add(new long[] {text("Cy Diaz"), text("Salem"), text("OR"), 3004});
            }
            case Q4 -> {
                // (category, close time, closed auctions, sum, average); 3006 had no bid
                rows.add(new long[] {10, T + 5000, 1, 300, 300});
                rows.add(new long[] {10, T + 8000, 2, 370, 185});
                rows.add(new long[] {10, T + 15_000, 4, 1170, 292});
                rows.add(new long[] {10, T + 20_000, 5, 1570, 314});
                rows.add(new long[] {11, T + 5000, 1, 50, 50});
            }
            case Q8 -> {
                // (person, name, reserve, window start)
                rows.add(new long[] {2000, text("Ann Lee"), 111, T});
                rows.add(new long[] {2000, text("Ann Lee"), 222, T});
                rows.add(new long[] {2001, text("Bo Park"), 333, T});
                rows.add(new long[] {2003, text("Di Wu"), 444, T});
                rows.add(new long[] {2004, text("Ed Kim"), 666, T + 10_000});
            }
            default -> throw new IllegalArgumentException(q.toString());
        }
        return rows;
    }

    private static long text(String s) {
        return NexmarkQuery.fingerprint(s);
    }

    @ParameterizedTest
    @EnumSource(value = NexmarkQuery.class, names = {"Q3", "Q4", "Q8"})
    void joinEdgesValidBidsAndSameMillisecondMatches(NexmarkQuery q) {
        NexmarkEvents ev = handMadeJoins();
        List<long[]> expected = expectedJoinRows(q);
        assertThat(NexmarkReference.rows(q, ev.asList())).as("reference %s", q)
                .containsExactlyInAnyOrderElementsOf(expected);
        Checksum checksum = new Checksum();
        expected.forEach(checksum::addRow);
        assertThat(NexmarkStreamFlow.run(q, ev).checksum()).as("StreamFlow %s", q).isEqualTo(checksum);
        assertThat(NexmarkFlink.run(q, ev, 1).checksum()).as("Flink %s", q).isEqualTo(checksum);
    }

    @Test
    void theFingerprintIsFnv1a() {
        assertThat(NexmarkQuery.fingerprint("")).isEqualTo(0xcbf29ce484222325L);
        assertThat(NexmarkQuery.fingerprint("a")).isEqualTo(0xaf63dc4c8601ec8cL);
        assertThat(NexmarkQuery.fingerprint("OR")).isNotEqualTo(NexmarkQuery.fingerprint("RO"));
    }

    @Test
    void theChecksumSeesAChangedRow() {
        // the comparison above can fail: one field of one row changes the digest
        List<long[]> rows = expectedRows(NexmarkQuery.Q11);
        Checksum a = new Checksum();
        rows.forEach(a::addRow);
        rows.get(2)[3]--;
        Checksum b = new Checksum();
        rows.forEach(b::addRow);
        assertThat(b).isNotEqualTo(a);
    }
}
