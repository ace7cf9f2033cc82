package io.streamflow.benchmarks.nexmark;

import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.AuctionCount;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.BidderSession;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.MaxWithTies;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.WindowBid;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
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
        for (Class<?> c : List.of(Bid.class, AuctionCount.class, WindowBid.class, BidderSession.class,
                MaxWithTies.class)) {
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
            case Q5 -> 43L;  // at least one row per sliding window
            case Q7 -> 7L;   // at least one row per tumbling window
            case Q11 -> 1_000L;
        });
        assertThat(NexmarkStreamFlow.run(q, small).checksum()).as("StreamFlow %s", q).isEqualTo(reference);
        assertThat(NexmarkFlink.run(q, small, 1).checksum()).as("Flink p1 %s", q).isEqualTo(reference);
    }

    @ParameterizedTest
    @EnumSource(value = NexmarkQuery.class, names = {"Q5", "Q7", "Q11"})
    void flinkWithTwoInstancesMatchesTheReference(NexmarkQuery q) {
        Checksum reference = NexmarkReference.checksum(q, small.asList());
        assertThat(NexmarkFlink.run(q, small, 2).checksum()).as("Flink p2 %s", q).isEqualTo(reference);
    }

    @ParameterizedTest
    @EnumSource(value = NexmarkQuery.class, names = {"Q5", "Q7", "Q11"})
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
