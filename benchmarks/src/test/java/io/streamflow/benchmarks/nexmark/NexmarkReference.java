package io.streamflow.benchmarks.nexmark;

import io.streamflow.benchmarks.Checksum;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The queries computed directly from the list of events, with no streaming at all: the batch
 * reference both systems must agree with. Each query gives its rows, with the fields in the
 * order {@link NexmarkQuery} documents (and the systems digest).
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
        return switch (query) {
            case Q0 -> q0(bids);
            case Q1 -> q1(bids);
            case Q2 -> q2(bids);
            case Q5 -> q5(bids);
            case Q7 -> q7(bids);
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
