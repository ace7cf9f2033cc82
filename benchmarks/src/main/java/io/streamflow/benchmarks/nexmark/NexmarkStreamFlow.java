package io.streamflow.benchmarks.nexmark;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.Measured;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.AuctionBid;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.CategoryCloses;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.ClosedAuction;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.MaxWithTies;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.NewUser;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.SellerAuction;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.WindowBid;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamOperators;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.join.JoinType;
import io.streamflow.reactive.join.TableLookup;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * The Nexmark queries on StreamFlow, through the public API only ({@link EventStream}, window
 * operators, aggregate functions). Synchronous: the pre-built events are read with
 * {@code Flux.range}, and the whole pipeline runs on the calling thread until the end of input,
 * which fires every remaining window. Semantics of each query: {@link NexmarkQuery}.
 * <p>
 * Every query starts the same way: one record per event (person, auction or bid), event
 * timestamp = the event's {@code dateTime}, watermark = bounded out-of-orderness
 * {@link NexmarkQuery#WATERMARK_BOUND} emitted after each record that advances it, then only
 * the bids go on. The join queries split the one stream of events into two branches
 * ({@link StreamOperators#split}, read in lockstep) and join those with the join operators
 * ({@link EventStream#tableJoin}, {@link EventStream#windowJoin}).
 */
public final class NexmarkStreamFlow {

    private static final Origin ORIGIN = Origin.of("nexmark", 0, 0);

    private NexmarkStreamFlow() {
    }

    /** Runs {@code query} on {@code events}; the time is from subscription to the end of the results. */
    public static Measured run(NexmarkQuery query, NexmarkEvents events) {
        Checksum checksum = new Checksum();
        MeterRegistry registry = new SimpleMeterRegistry();
        Mono<Void> job = switch (query) {
            case Q0 -> q0(bids(events, registry), checksum);
            case Q1 -> q1(bids(events, registry), checksum);
            case Q2 -> q2(bids(events, registry), checksum);
            case Q3 -> q3(events, registry, checksum);
            case Q4 -> q4(events, registry, checksum);
            case Q5 -> q5(bids(events, registry), checksum);
            case Q7 -> q7(bids(events, registry), checksum);
            case Q8 -> q8(events, registry, checksum);
            case Q11 -> q11(bids(events, registry), checksum);
        };
        long t0 = System.nanoTime();
        job.block();
        return new Measured(checksum, System.nanoTime() - t0);
    }

    /** Every event as a record with watermarks, then the bids only. */
    static EventStream<Long, Bid> bids(NexmarkEvents events, MeterRegistry registry) {
        return events(events, registry)
                .filter(e -> e instanceof Bid)
                .map(e -> (Bid) e);
    }

    /** Every event as a record, with watermarks. */
    static EventStream<Long, NexmarkEvent> events(NexmarkEvents events, MeterRegistry registry) {
        Flux<StreamRecord<Long, NexmarkEvent>> source = Flux.range(0, events.size()).map(i -> {
            NexmarkEvent e = events.get(i);
            return StreamRecord.of((Long) null, e, e.dateTime(), ORIGIN);
        });
        return EventStream.from(source,
                        WatermarkStrategy.<Long, NexmarkEvent>forBoundedOutOfOrderness(NexmarkQuery.WATERMARK_BOUND)
                                .withMetrics("nexmark", "watermarks", registry))
                .settings(settings("nexmark", registry));
    }

    private static OperatorSettings settings(String pipeline, MeterRegistry registry) {
        return OperatorSettings.named("nexmark").withPipeline(pipeline).withMeterRegistry(registry);
    }

    /**
     * Splits the events into the events of type {@code a} and those of type {@code b} (two
     * branches of one pass over the events, each with every watermark) and runs {@code wiring} on
     * them; the other events are dropped.
     */
    static <A extends NexmarkEvent, B extends NexmarkEvent> Mono<Void> twoInputs(
            NexmarkEvents events, MeterRegistry registry, Class<A> a, Class<B> b,
            BiFunction<EventStream<Long, A>, EventStream<Long, B>, Publisher<?>> wiring) {
        String first = a.getSimpleName();
        String second = b.getSimpleName();
        LinkedHashMap<String, Predicate<? super StreamRecord<Long, NexmarkEvent>>> branches = new LinkedHashMap<>();
        branches.put(first, r -> a.isInstance(r.value()));
        branches.put(second, r -> b.isInstance(r.value()));
        return events(events, registry).elements()
                .transform(StreamOperators.<Long, NexmarkEvent, Void>split(branches, split -> Flux.from(wiring.apply(
                        EventStream.of(split.get(first)).settings(settings("nexmark-" + first, registry))
                                .map(a::cast),
                        EventStream.of(split.get(second)).settings(settings("nexmark-" + second, registry))
                                .map(b::cast))).then()))
                .then();
    }

    /**
     * Auctions of the category keyed by seller, joined with the table of the persons of the states
     * keyed by id, as of each auction's time.
     */
    static Mono<Void> q3(NexmarkEvents events, MeterRegistry registry, Checksum checksum) {
        return twoInputs(events, registry, Person.class, Auction.class, (people, auctions) -> {
            EventStream<Long, Person> sellers = people.filter(NexmarkQuery::q3Seller).keyBy(Person::id);
            return auctions.filter(NexmarkQuery::q3Auction)
                    .keyBy(Auction::seller)
                    .tableJoin(sellers, TableLookup.AS_OF_EVENT_TIME, JoinType.INNER,
                            (a, p) -> new SellerAuction(p.name(), p.city(), p.state(), a.id()))
                    .values()
                    .doOnNext(r -> checksum.addRow(NexmarkQuery.fingerprint(r.name()),
                            NexmarkQuery.fingerprint(r.city()), NexmarkQuery.fingerprint(r.state()), r.auction()));
        });
    }

    /**
     * The auctions are a changelog keyed by id (each auction is inserted at its {@code dateTime}
     * and deleted at {@code expires + 1}); each bid, keyed by its auction, is joined with it as of
     * the bid's time, so exactly the valid bids find their auction. Valid bids are re-timestamped
     * to their auction's {@code expires}, where a 1 ms tumbling window per auction takes the
     * highest; then per category a 1 ms window counts and sums the closing prices of each close
     * time, and a running aggregate per category accumulates those (they arrive in time order).
     */
    static Mono<Void> q4(NexmarkEvents events, MeterRegistry registry, Checksum checksum) {
        Duration ms = Duration.ofMillis(1);
        return twoInputs(events, registry, Auction.class, Bid.class, (auctions, bids) -> {
            EventStream<Long, Auction> openAuctions = auctions.keyBy(Auction::id)
                    .transform(NexmarkStreamFlow::insertAndDelete);
            return bids.keyBy(Bid::auction)
                    .tableJoin(openAuctions, TableLookup.AS_OF_EVENT_TIME, JoinType.INNER,
                            (b, a) -> new AuctionBid(a.id(), a.category(), a.expires(), b.price()))
                    .mapRecord(r -> r.withTimestamp(r.value().expires()))
                    .window(Windows.tumbling(ms))
                    .aggregate(new ClosingPrice())
                    .map(WindowResult::value)
                    .keyBy(ClosedAuction::category)
                    .window(Windows.tumbling(ms))
                    .aggregate(new CountAndSum())
                    .map(w -> new CategoryCloses(w.key(), w.start(), w.value()[0], w.value()[1]))
                    .runningAggregate(new RunningCloses(), null)
                    .values()
                    .doOnNext(c -> checksum.addRow(c.category(), c.time(), c.count(), c.sum(), c.average()));
        });
    }

    /** An auction's changelog: the auction at its {@code dateTime}, its delete at {@code expires + 1}. */
    private static Flux<StreamElement<Long, Auction>> insertAndDelete(Flux<StreamElement<Long, Auction>> auctions) {
        return auctions.concatMapIterable(e -> {
            if (e instanceof StreamRecord<Long, Auction> r) {
                return List.of(r, StreamRecord.of(r.key(), (Auction) null, r.value().expires() + 1, r.origin()));
            }
            return List.of(e);
        });
    }

    /** The highest price of an auction's valid bids (all in its one 1 ms window). */
    static final class ClosingPrice implements AggregateFunction<AuctionBid, long[], ClosedAuction> {
        @Override
        public long[] createAccumulator() {
            return new long[] {0, 0, 0, Long.MIN_VALUE}; // auction, category, expires, max price
        }

        @Override
        public long[] add(long[] acc, AuctionBid b) {
            if (b.price() > acc[3]) {
                acc[0] = b.auction();
                acc[1] = b.category();
                acc[2] = b.expires();
                acc[3] = b.price();
            }
            return acc;
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            return b[3] > a[3] ? b : a;
        }

        @Override
        public ClosedAuction result(long[] acc) {
            return new ClosedAuction(acc[0], acc[1], acc[3], acc[2]);
        }
    }

    /** Number and sum of closing prices. */
    static final class CountAndSum implements AggregateFunction<ClosedAuction, long[], long[]> {
        @Override
        public long[] createAccumulator() {
            return new long[2];
        }

        @Override
        public long[] add(long[] acc, ClosedAuction c) {
            acc[0]++;
            acc[1] += c.price();
            return acc;
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            a[0] += b[0];
            a[1] += b[1];
            return a;
        }

        @Override
        public long[] result(long[] acc) {
            return acc.clone();
        }
    }

    /** Totals of a category up to the latest close time added (added in time order). */
    static final class RunningCloses implements AggregateFunction<CategoryCloses, long[], CategoryCloses> {
        @Override
        public long[] createAccumulator() {
            return new long[4]; // category, latest time, count, sum
        }

        @Override
        public long[] add(long[] acc, CategoryCloses c) {
            acc[0] = c.category();
            acc[1] = c.time();
            acc[2] += c.count();
            acc[3] += c.sum();
            return acc;
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            throw new UnsupportedOperationException("a running aggregate does not merge");
        }

        @Override
        public CategoryCloses result(long[] acc) {
            return new CategoryCloses(acc[0], acc[1], acc[2], acc[3]);
        }
    }

    /**
     * Persons keyed by id and auctions keyed by seller, window-joined in tumbling windows; a
     * result carries its window's last millisecond.
     */
    static Mono<Void> q8(NexmarkEvents events, MeterRegistry registry, Checksum checksum) {
        long size = NexmarkQuery.Q8_SIZE.toMillis();
        return twoInputs(events, registry, Person.class, Auction.class, (people, auctions) -> people
                .keyBy(Person::id)
                .windowJoin(auctions.keyBy(Auction::seller), Windows.tumbling(NexmarkQuery.Q8_SIZE), JoinType.INNER,
                        (p, a) -> new NewUser(p.id(), p.name(), a.reserve(), Long.MIN_VALUE))
                .mapRecord(r -> r.withValue(new NewUser(r.value().person(), r.value().name(), r.value().reserve(),
                        r.timestamp() + 1 - size)))
                .values()
                .doOnNext(u -> checksum.addRow(u.person(), NexmarkQuery.fingerprint(u.name()), u.reserve(),
                        u.start())));
    }

    static Mono<Void> q0(EventStream<Long, Bid> bids, Checksum checksum) {
        return bids.values()
                .doOnNext(b -> checksum.addRow(b.auction(), b.bidder(), b.price(), b.dateTime()))
                .then();
    }

    static Mono<Void> q1(EventStream<Long, Bid> bids, Checksum checksum) {
        return bids.map(b -> new Bid(b.auction(), b.bidder(), NexmarkQuery.toEuros(b.price()), b.channel(), b.url(),
                        b.dateTime()))
                .values()
                .doOnNext(b -> checksum.addRow(b.auction(), b.bidder(), b.price(), b.dateTime()))
                .then();
    }

    static Mono<Void> q2(EventStream<Long, Bid> bids, Checksum checksum) {
        return bids.filter(b -> b.auction() % NexmarkQuery.Q2_AUCTION_MODULUS == 0)
                .values()
                .doOnNext(b -> checksum.addRow(b.auction(), b.price()))
                .then();
    }

    /**
     * Count per auction in sliding windows; the counts are records timestamped with their
     * window's last millisecond, so a second, tumbling window of one slide keyed by the sliding
     * window's end gathers exactly the counts of one sliding window and keeps the largest.
     */
    static Mono<Void> q5(EventStream<Long, Bid> bids, Checksum checksum) {
        long size = NexmarkQuery.Q5_SIZE.toMillis();
        return bids.keyBy(Bid::auction)
                .window(Windows.sliding(NexmarkQuery.Q5_SIZE, NexmarkQuery.Q5_SLIDE))
                .aggregate(Aggregations.count())
                .keyBy(WindowResult::end)
                .window(Windows.tumbling(NexmarkQuery.Q5_SLIDE))
                .aggregate(maxWithTies((WindowResult<Long, Long> c, MaxWithTies acc) -> acc.add(c.value(), c.key(), 0)))
                .values()
                .doOnNext(w -> {
                    MaxWithTies top = w.value();
                    long end = w.key();
                    for (int i = 0; i < top.size; i++) {
                        checksum.addRow(end - size, end, top.first[i], top.max);
                    }
                })
                .then();
    }

    /**
     * Top bids per tumbling window and {@code price % Q7_FANOUT}, flattened to candidates
     * timestamped with the window's last millisecond, then the top candidates per window.
     */
    static Mono<Void> q7(EventStream<Long, Bid> bids, Checksum checksum) {
        return bids.keyBy(b -> b.price() % NexmarkQuery.Q7_FANOUT)
                .window(Windows.tumbling(NexmarkQuery.Q7_SIZE))
                .aggregate(maxWithTies((Bid b, MaxWithTies acc) -> acc.add(b.price(), b.auction(), b.bidder())))
                .flatMap(NexmarkStreamFlow::candidates)
                .keyBy(WindowBid::end)
                .window(Windows.tumbling(NexmarkQuery.Q7_SIZE))
                .aggregate(maxWithTies((WindowBid c, MaxWithTies acc) -> acc.add(c.price(), c.auction(), c.bidder())))
                .values()
                .doOnNext(w -> {
                    MaxWithTies top = w.value();
                    for (int i = 0; i < top.size; i++) {
                        checksum.addRow(top.first[i], top.second[i], top.max, w.end());
                    }
                })
                .then();
    }

    private static List<WindowBid> candidates(WindowResult<Long, MaxWithTies> w) {
        MaxWithTies top = w.value();
        List<WindowBid> out = new ArrayList<>(top.size);
        for (int i = 0; i < top.size; i++) {
            out.add(new WindowBid(top.first[i], top.second[i], top.max, w.end()));
        }
        return out;
    }

    static Mono<Void> q11(EventStream<Long, Bid> bids, Checksum checksum) {
        return bids.keyBy(Bid::bidder)
                .window(Windows.session(NexmarkQuery.Q11_GAP))
                .aggregate(Aggregations.count())
                .values()
                .doOnNext(w -> checksum.addRow(w.key(), w.value(), w.start(), w.end()))
                .then();
    }

    /** How one value goes into the accumulator. */
    @FunctionalInterface
    interface Adder<V> {
        MaxWithTies add(V value, MaxWithTies acc);
    }

    /** The arg-max with ties as an aggregate function; each firing gets a copy. */
    static <V> AggregateFunction<V, MaxWithTies, MaxWithTies> maxWithTies(Adder<V> adder) {
        return new AggregateFunction<>() {
            @Override
            public MaxWithTies createAccumulator() {
                return new MaxWithTies();
            }

            @Override
            public MaxWithTies add(MaxWithTies acc, V value) {
                return adder.add(value, acc);
            }

            @Override
            public MaxWithTies merge(MaxWithTies a, MaxWithTies b) {
                return a.merge(b);
            }

            @Override
            public MaxWithTies result(MaxWithTies acc) {
                return acc.copy();
            }
        };
    }
}
