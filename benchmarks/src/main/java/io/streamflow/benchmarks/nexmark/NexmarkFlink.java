package io.streamflow.benchmarks.nexmark;

import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.Measured;
import io.streamflow.benchmarks.flink.FlinkLocal;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.AuctionCount;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.BidderSession;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.MaxWithTies;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.WindowBid;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.TimestampAssignerSupplier;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.io.Serializable;
import java.util.concurrent.TimeUnit;

/**
 * The Nexmark queries on Apache Flink's DataStream API, in a local MiniCluster in this JVM
 * ({@link FlinkLocal}: heap state backend, no checkpoints), with the semantics of
 * {@link NexmarkQuery} and the same logical plan as {@link NexmarkStreamFlow}.
 * <p>
 * Source: the event numbers {@code 0..n-1} from a {@link NumberSequenceSource} (split into
 * contiguous ranges, each read in order by one parallel instance); each number is looked up in
 * the pre-built {@link NexmarkEvents}, which stay in this JVM ({@linkplain FlinkLocal#share
 * shared} for the duration of the job, never serialized into it). Event timestamps are assigned
 * at the source from the event's {@code dateTime}, with the bounded out-of-orderness watermark
 * {@link NexmarkQuery#WATERMARK_BOUND} (Flink emits it periodically, every 200 ms of processing
 * time by default, and a final watermark at the end of the input). Then only the bids go on.
 * <p>
 * Results: the last operator digests each result row into its instance's checksum accumulator,
 * which Flink merges across instances; nothing is collected into lists. Object reuse is enabled (no
 * function keeps or mutates its input). The measured time is the job's net runtime
 * ({@link JobExecutionResult#getNetRuntime}), which leaves out starting the local cluster.
 */
public final class NexmarkFlink {

    /** Name of the checksum accumulator of the results. */
    static final String RESULTS = "nexmark-results";

    private NexmarkFlink() {
    }

    /** Runs {@code query} on {@code events} with {@code parallelism} parallel instances per operator. */
    public static Measured run(NexmarkQuery query, NexmarkEvents events, int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
        }
        if (events.size() == 0) {
            return new Measured(new Checksum(), 0);
        }
        long id = FlinkLocal.share(events);
        try {
            Configuration conf = FlinkLocal.configuration(parallelism);
            conf.set(PipelineOptions.OBJECT_REUSE, true);
            StreamExecutionEnvironment env = FlinkLocal.environment(parallelism, conf);
            DataStream<Bid> bids = bids(env, events.size(), id);
            switch (query) {
                case Q0 -> digest(bids, (b, c) -> c.addRow(b.auction(), b.bidder(), b.price(), b.dateTime()));
                case Q1 -> digest(q1(bids), (b, c) -> c.addRow(b.auction(), b.bidder(), b.price(), b.dateTime()));
                case Q2 -> digest(q2(bids), (b, c) -> c.addRow(b.auction(), b.price()));
                case Q5 -> digest(q5(bids), (r, c) -> c.addRow(r.start(), r.end(), r.auction(), r.count()));
                case Q7 -> digest(q7(bids), (r, c) -> c.addRow(r.auction(), r.bidder(), r.price(), r.end()));
                case Q11 -> digest(q11(bids), (r, c) -> c.addRow(r.bidder(), r.count(), r.start(), r.end()));
            }
            JobExecutionResult result = FlinkLocal.execute(env, "nexmark " + query + ", " + events);
            return new Measured(FlinkLocal.checksum(result, RESULTS), result.getNetRuntime(TimeUnit.NANOSECONDS));
        } finally {
            FlinkLocal.release(id);
        }
    }

    /** Every event number with its event time and watermarks, then the bids only. */
    static DataStream<Bid> bids(StreamExecutionEnvironment env, int size, long eventsId) {
        WatermarkStrategy<Long> watermarks = WatermarkStrategy
                .<Long>forBoundedOutOfOrderness(NexmarkQuery.WATERMARK_BOUND)
                .withTimestampAssigner(new EventTime(eventsId));
        return env.fromSource(new NumberSequenceSource(0, size - 1L), watermarks, "nexmark-events")
                .flatMap(new BidsOnly(eventsId))
                .returns(TypeInformation.of(Bid.class))
                .name("bids");
    }

    static DataStream<Bid> q1(DataStream<Bid> bids) {
        return bids.map(b -> new Bid(b.auction(), b.bidder(), NexmarkQuery.toEuros(b.price()), b.channel(), b.url(),
                        b.dateTime()))
                .returns(TypeInformation.of(Bid.class))
                .name("q1-euros");
    }

    static DataStream<Bid> q2(DataStream<Bid> bids) {
        return bids.filter(b -> b.auction() % NexmarkQuery.Q2_AUCTION_MODULUS == 0).name("q2-selection");
    }

    /** Count per auction in sliding windows, then the largest counts per sliding window (keyed by its end). */
    static DataStream<AuctionCount> q5(DataStream<Bid> bids) {
        TypeInformation<AuctionCount> countType = TypeInformation.of(AuctionCount.class);
        TypeInformation<MaxWithTies> topType = TypeInformation.of(MaxWithTies.class);
        return bids.keyBy(Bid::auction, Types.LONG)
                .window(SlidingEventTimeWindows.of(NexmarkQuery.Q5_SIZE, NexmarkQuery.Q5_SLIDE))
                .aggregate(new CountBids<>(), new ToAuctionCount(), Types.LONG, Types.LONG, countType)
                .name("q5-count")
                .keyBy(AuctionCount::end, Types.LONG)
                .window(TumblingEventTimeWindows.of(NexmarkQuery.Q5_SLIDE))
                .aggregate(new TopAuctions(), new HottestAuctions(), topType, topType, countType)
                .name("q5-hottest");
    }

    /** Top bids per tumbling window and {@code price % fanout}, then the top of those per window. */
    static DataStream<WindowBid> q7(DataStream<Bid> bids) {
        TypeInformation<WindowBid> bidType = TypeInformation.of(WindowBid.class);
        TypeInformation<MaxWithTies> topType = TypeInformation.of(MaxWithTies.class);
        return bids.keyBy(b -> b.price() % NexmarkQuery.Q7_FANOUT, Types.LONG)
                .window(TumblingEventTimeWindows.of(NexmarkQuery.Q7_SIZE))
                .aggregate(new TopBids(), new Candidates<>(), topType, topType, bidType)
                .name("q7-partial-max")
                .keyBy(WindowBid::end, Types.LONG)
                .window(TumblingEventTimeWindows.of(NexmarkQuery.Q7_SIZE))
                .aggregate(new TopCandidates(), new Candidates<>(), topType, topType, bidType)
                .name("q7-max");
    }

    static DataStream<BidderSession> q11(DataStream<Bid> bids) {
        return bids.keyBy(Bid::bidder, Types.LONG)
                .window(EventTimeSessionWindows.withGap(NexmarkQuery.Q11_GAP))
                .aggregate(new CountBids<>(), new ToSession(), Types.LONG, Types.LONG,
                        TypeInformation.of(BidderSession.class))
                .name("q11-sessions");
    }

    /** Digests every element of {@code results} into the job's checksum accumulators. */
    static <T> void digest(DataStream<T> results, RowWriter<T> writer) {
        results.flatMap(new Digest<>(writer)).returns(Types.VOID).name("checksum")
                .sinkTo(new DiscardingSink<>()).name("discard");
    }

    /** Writes one result as a checksum row. */
    @FunctionalInterface
    interface RowWriter<T> extends Serializable {
        void write(T result, Checksum checksum);
    }

    // ---------------------------------------------------------------- functions

    /** Event time of an event number: looked up once per instance, then a plain array read. */
    static final class EventTime implements TimestampAssignerSupplier<Long> {
        private static final long serialVersionUID = 1L;
        private final long eventsId;

        EventTime(long eventsId) {
            this.eventsId = eventsId;
        }

        @Override
        public TimestampAssigner<Long> createTimestampAssigner(Context context) {
            NexmarkEvents events = FlinkLocal.shared(eventsId);
            return (n, previous) -> events.get((int) (long) n).dateTime();
        }
    }

    /** Event number to bid; people and auctions are dropped. */
    static final class BidsOnly extends RichFlatMapFunction<Long, Bid> {
        private static final long serialVersionUID = 1L;
        private final long eventsId;
        private transient NexmarkEvents events;

        BidsOnly(long eventsId) {
            this.eventsId = eventsId;
        }

        @Override
        public void open(OpenContext openContext) {
            events = FlinkLocal.shared(eventsId);
        }

        @Override
        public void flatMap(Long n, Collector<Bid> out) {
            if (events.get((int) (long) n) instanceof Bid b) {
                out.collect(b);
            }
        }
    }

    /** Digests results into this instance's checksum accumulator (Flink merges the instances'). */
    static final class Digest<T> extends RichFlatMapFunction<T, Void> {
        private static final long serialVersionUID = 1L;
        private final RowWriter<T> writer;
        private transient Checksum checksum;

        Digest(RowWriter<T> writer) {
            this.writer = writer;
        }

        @Override
        public void open(OpenContext openContext) {
            checksum = FlinkLocal.checksumAccumulator(getRuntimeContext(), RESULTS).checksum();
        }

        @Override
        public void flatMap(T value, Collector<Void> out) {
            writer.write(value, checksum);
        }
    }

    /** Number of elements; merges for session windows. */
    static final class CountBids<T> implements AggregateFunction<T, Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(T value, Long acc) {
            return acc + 1;
        }

        @Override
        public Long getResult(Long acc) {
            return acc;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    static final class ToAuctionCount extends ProcessWindowFunction<Long, AuctionCount, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long auction, Context context, Iterable<Long> counts, Collector<AuctionCount> out) {
            TimeWindow w = context.window();
            for (Long count : counts) {
                out.collect(new AuctionCount(auction, w.getStart(), w.getEnd(), count));
            }
        }
    }

    /** Largest count per sliding window: item = (auction, window start). */
    static final class TopAuctions extends MaxAggregate<AuctionCount> {
        private static final long serialVersionUID = 1L;

        @Override
        public MaxWithTies add(AuctionCount c, MaxWithTies acc) {
            return acc.add(c.count(), c.auction(), c.start());
        }
    }

    static final class HottestAuctions extends ProcessWindowFunction<MaxWithTies, AuctionCount, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long end, Context context, Iterable<MaxWithTies> tops, Collector<AuctionCount> out) {
            for (MaxWithTies top : tops) {
                for (int i = 0; i < top.size; i++) {
                    out.collect(new AuctionCount(top.first[i], top.second[i], end, top.max));
                }
            }
        }
    }

    /** Highest price: item = (auction, bidder). */
    static final class TopBids extends MaxAggregate<Bid> {
        private static final long serialVersionUID = 1L;

        @Override
        public MaxWithTies add(Bid b, MaxWithTies acc) {
            return acc.add(b.price(), b.auction(), b.bidder());
        }
    }

    static final class TopCandidates extends MaxAggregate<WindowBid> {
        private static final long serialVersionUID = 1L;

        @Override
        public MaxWithTies add(WindowBid b, MaxWithTies acc) {
            return acc.add(b.price(), b.auction(), b.bidder());
        }
    }

    /** The top bids of a window as candidates carrying the window end. */
    static final class Candidates<K> extends ProcessWindowFunction<MaxWithTies, WindowBid, K, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(K key, Context context, Iterable<MaxWithTies> tops, Collector<WindowBid> out) {
            long end = context.window().getEnd();
            for (MaxWithTies top : tops) {
                for (int i = 0; i < top.size; i++) {
                    out.collect(new WindowBid(top.first[i], top.second[i], top.max, end));
                }
            }
        }
    }

    static final class ToSession extends ProcessWindowFunction<Long, BidderSession, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long bidder, Context context, Iterable<Long> counts, Collector<BidderSession> out) {
            TimeWindow w = context.window();
            for (Long count : counts) {
                out.collect(new BidderSession(bidder, count, w.getStart(), w.getEnd()));
            }
        }
    }

    /** The arg-max with ties as a Flink aggregate; the result is a copy of the accumulator. */
    abstract static class MaxAggregate<T> implements AggregateFunction<T, MaxWithTies, MaxWithTies> {
        private static final long serialVersionUID = 1L;

        @Override
        public MaxWithTies createAccumulator() {
            return new MaxWithTies();
        }

        @Override
        public MaxWithTies getResult(MaxWithTies acc) {
            return acc.copy();
        }

        @Override
        public MaxWithTies merge(MaxWithTies a, MaxWithTies b) {
            return a.merge(b);
        }
    }
}
