package io.streamflow.benchmarks.nexmark;

import io.streamflow.benchmarks.Checksum;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The queries computed directly from the list of events, with no streaming at all: the batch
 * reference both systems must agree with. Each query gives its rows, with the fields in the
 * order {@link NexmarkQuery} documents (and the systems digest). The joins are nested loops or
 * hash lookups over the whole input, with no notion of arrival order or watermarks.
 */
final class NexmarkReference {

    private NexmarkReference() {
    }

    static Checksum checksum(NexmarkQuery query, List<NexmarkEvent> events) {
        Checksum c = new Checksum();
        for (long[] row : rows(query, events)) {
            c.addRow(row);
        }
        return c;
    }

    static List<long[]> rows(NexmarkQuery query, List<NexmarkEvent> events) {
        List<Bid> bids = new ArrayList<>();
        for (NexmarkEvent e : events) {
            if (e instanceof Bid b) {
                bids.add(b);
            }
        }
        List<Person> persons = new ArrayList<>();
        List<Auction> auctions = new ArrayList<>();
        for (NexmarkEvent e : events) {
            if (e instanceof Person p) {
                persons.add(p);
            } else if (e instanceof Auction a) {
                auctions.add(a);
            }
        }
        return switch (query) {
            case Q0 -> q0(bids);
            case Q1 -> q1(bids);
            case Q2 -> q2(bids);
            case Q3 -> q3(persons, auctions);
            case Q4 -> q4(auctions, bids);
            case Q5 -> q5(bids);
            case Q7 -> q7(bids);
            case Q8 -> q8(persons, auctions);
            case Q11 -> q11(bids);
        };
    }

    private static List<long[]> q0(List<Bid> bids) {
        List<long[]> rows = new ArrayList<>();
        for (Bid b : bids) {
            rows.add(new long[] {b.auction(), b.bidder(), b.price(), b.dateTime()});
        }
        return rows;
    }

    private static List<long[]> q1(List<Bid> bids) {
        List<long[]> rows = new ArrayList<>();
        for (Bid b : bids) {
            // 0.908 euros per dollar, integer arithmetic
            rows.add(new long[] {b.auction(), b.bidder(), b.price() * 908 / 1000, b.dateTime()});
        }
        return rows;
    }

    private static List<long[]> q2(List<Bid> bids) {
        List<long[]> rows = new ArrayList<>();
        for (Bid b : bids) {
            if (b.auction() % 123 == 0) {
                rows.add(new long[] {b.auction(), b.price()});
            }
        }
        return rows;
    }

    private static long text(String s) {
        return NexmarkQuery.fingerprint(s);
    }

    /**
     * Each auction of category 10 with the registration of its seller, among the persons in OR,
     * ID or CA, that is the latest at or before the auction's time.
     */
    private static List<long[]> q3(List<Person> persons, List<Auction> auctions) {
        Set<String> states = Set.of("OR", "ID", "CA");
        Map<Long, List<Person>> byId = new HashMap<>();
        for (Person p : persons) {
            if (states.contains(p.state())) {
                byId.computeIfAbsent(p.id(), k -> new ArrayList<>()).add(p);
            }
        }
        List<long[]> rows = new ArrayList<>();
        for (Auction a : auctions) {
            if (a.category() != 10) {
                continue;
            }
            Person seller = null;
            for (Person p : byId.getOrDefault(a.seller(), List.of())) {
                if (p.dateTime() <= a.dateTime() && (seller == null || p.dateTime() >= seller.dateTime())) {
                    seller = p;
                }
            }
            if (seller != null) {
                rows.add(new long[] {text(seller.name()), text(seller.city()), text(seller.state()), a.id()});
            }
        }
        return rows;
    }

    /**
     * Closing price of an auction = highest price of its bids at times in [dateTime, expires];
     * per category, the running count and sum of closing prices at every close time.
     */
    private static List<long[]> q4(List<Auction> auctions, List<Bid> bids) {
        Map<Long, Auction> byId = new HashMap<>();
        for (Auction a : auctions) {
            byId.put(a.id(), a);
        }
        Map<Long, Long> closing = new HashMap<>();
        for (Bid b : bids) {
            Auction a = byId.get(b.auction());
            if (a != null && a.dateTime() <= b.dateTime() && b.dateTime() <= a.expires()) {
                closing.merge(a.id(), b.price(), Math::max);
            }
        }
        // category -> close time -> {count, sum} of the auctions closing then
        Map<Long, TreeMap<Long, long[]>> closes = new HashMap<>();
        closing.forEach((id, price) -> {
            Auction a = byId.get(id);
            long[] c = closes.computeIfAbsent(a.category(), k -> new TreeMap<>())
                    .computeIfAbsent(a.expires(), k -> new long[2]);
            c[0]++;
            c[1] += price;
        });
        List<long[]> rows = new ArrayList<>();
        closes.forEach((category, byTime) -> {
            long n = 0;
            long sum = 0;
            for (Map.Entry<Long, long[]> c : byTime.entrySet()) {
                n += c.getValue()[0];
                sum += c.getValue()[1];
                rows.add(new long[] {category, c.getKey(), n, sum, sum / n});
            }
        });
        return rows;
    }

    /** Every (person, auction) pair with seller == id and both times in the same 10 s window. */
    private static List<long[]> q8(List<Person> persons, List<Auction> auctions) {
        long size = 10_000;
        Map<List<Long>, List<Person>> byIdAndWindow = new HashMap<>();
        for (Person p : persons) {
            byIdAndWindow.computeIfAbsent(List.of(p.id(), Math.floorDiv(p.dateTime(), size)), k -> new ArrayList<>())
                    .add(p);
        }
        List<long[]> rows = new ArrayList<>();
        for (Auction a : auctions) {
            long window = Math.floorDiv(a.dateTime(), size);
            for (Person p : byIdAndWindow.getOrDefault(List.of(a.seller(), window), List.of())) {
                rows.add(new long[] {p.id(), text(p.name()), a.reserve(), window * size});
            }
        }
        return rows;
    }

    /** Every window [s, s + 10 s) with s a multiple of 2 s and s <= t < s + 10 s holds the bid at t. */
    private static List<long[]> q5(List<Bid> bids) {
        long size = 10_000;
        long slide = 2_000;
        TreeMap<Long, Map<Long, Long>> counts = new TreeMap<>();
        for (Bid b : bids) {
            long t = b.dateTime();
            long first = Math.floorDiv(t - size, slide) * slide + slide; // smallest multiple of slide > t - size
            for (long s = first; s <= t; s += slide) {
                counts.computeIfAbsent(s, k -> new HashMap<>()).merge(b.auction(), 1L, Long::sum);
            }
        }
        List<long[]> rows = new ArrayList<>();
        for (Map.Entry<Long, Map<Long, Long>> w : counts.entrySet()) {
            long max = w.getValue().values().stream().mapToLong(Long::longValue).max().orElseThrow();
            w.getValue().forEach((auction, count) -> {
                if (count == max) {
                    rows.add(new long[] {w.getKey(), w.getKey() + size, auction, count});
                }
            });
        }
        return rows;
    }

    private static List<long[]> q7(List<Bid> bids) {
        long size = 10_000;
        TreeMap<Long, List<Bid>> top = new TreeMap<>();
        for (Bid b : bids) {
            long start = Math.floorDiv(b.dateTime(), size) * size;
            List<Bid> best = top.computeIfAbsent(start, k -> new ArrayList<>());
            if (best.isEmpty() || b.price() == best.get(0).price()) {
                best.add(b);
            } else if (b.price() > best.get(0).price()) {
                best.clear();
                best.add(b);
            }
        }
        List<long[]> rows = new ArrayList<>();
        top.forEach((start, best) -> {
            for (Bid b : best) {
                rows.add(new long[] {b.auction(), b.bidder(), b.price(), start + size});
            }
        });
        return rows;
    }

    /** Bids of a bidder at most 10 s apart are one session (the input is in time order). */
    private static List<long[]> q11(List<Bid> bids) {
        long gap = 10_000;
        Map<Long, long[]> open = new HashMap<>(); // bidder -> {count, first, last}
        List<long[]> rows = new ArrayList<>();
        for (Bid b : bids) {
            long t = b.dateTime();
            long[] s = open.get(b.bidder());
            if (s != null && t - s[2] <= gap) {
                s[0]++;
                s[2] = t;
            } else {
                if (s != null) {
                    rows.add(new long[] {b.bidder(), s[0], s[1], s[2] + gap});
                }
                open.put(b.bidder(), new long[] {1, t, t});
            }
        }
        open.forEach((bidder, s) -> rows.add(new long[] {bidder, s[0], s[1], s[2] + gap}));
        return rows;
    }
}
