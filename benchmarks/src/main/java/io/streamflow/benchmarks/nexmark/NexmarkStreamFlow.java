package io.streamflow.benchmarks.nexmark;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.Measured;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.MaxWithTies;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.WindowBid;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.List;

/**
 * The Nexmark queries on StreamFlow, through the public API only ({@link EventStream}, window
 * operators, aggregate functions). Synchronous: the pre-built events are read with
 * {@code Flux.range}, and the whole pipeline runs on the calling thread until the end of input,
 * which fires every remaining window. Semantics of each query: {@link NexmarkQuery}.
 * <p>
 * Every query starts the same way: one record per event (person, auction or bid), event
 * timestamp = the event's {@code dateTime}, watermark = bounded out-of-orderness
 * {@link NexmarkQuery#WATERMARK_BOUND} emitted after each record that advances it, then only
 * the bids go on.
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
            case Q5 -> q5(bids(events, registry), checksum);
            case Q7 -> q7(bids(events, registry), checksum);
            case Q11 -> q11(bids(events, registry), checksum);
        };
        long t0 = System.nanoTime();
        job.block();
        return new Measured(checksum, System.nanoTime() - t0);
    }

    /** Every event as a record with watermarks, then the bids only. */
    static EventStream<Long, Bid> bids(NexmarkEvents events, MeterRegistry registry) {
        Flux<StreamRecord<Long, NexmarkEvent>> source = Flux.range(0, events.size()).map(i -> {
            NexmarkEvent e = events.get(i);
            return StreamRecord.of((Long) null, e, e.dateTime(), ORIGIN);
        });
        return EventStream.from(source,
                        WatermarkStrategy.<Long, NexmarkEvent>forBoundedOutOfOrderness(NexmarkQuery.WATERMARK_BOUND)
                                .withMetrics("nexmark", "watermarks", registry))
                .settings(OperatorSettings.named("nexmark").withPipeline("nexmark").withMeterRegistry(registry))
                .filter(e -> e instanceof Bid)
                .map(e -> (Bid) e);
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
