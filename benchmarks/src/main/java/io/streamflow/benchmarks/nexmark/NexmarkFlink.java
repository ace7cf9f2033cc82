package io.streamflow.benchmarks.nexmark;

import io.streamflow.benchmarks.Checksum;
import io.streamflow.benchmarks.Measured;
import io.streamflow.benchmarks.flink.FlinkLocal;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.AuctionCount;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.BidderSession;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.CategoryCloses;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.ClosedAuction;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.MaxWithTies;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.NewUser;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.SellerAuction;
import io.streamflow.benchmarks.nexmark.NexmarkRecords.WindowBid;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.TimestampAssignerSupplier;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.JoinFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * time by default, and a final watermark at the end of the input). Then only the bids go on, or, for
 * the join queries, two streams of the one source (persons and auctions, or auctions and bids) that
 * are keyed by the join key and joined: Q8 with Flink's window join ({@code join ... window}), Q3
 * and Q4 with a keyed co-process function, since the DataStream API has no temporal table join and
 * its interval join has fixed bounds. Those functions do what StreamFlow's stream-table join does
 * (a record waits for the watermark, event-time timers close auctions), so that the result does not
 * depend on how the two inputs interleave.
 * <p>
 * Results: the last operator digests each result row into its instance's checksum accumulator,
 * which Flink merges across instances; nothing is collected into lists. Object reuse is enabled (no
 * function mutates its input; the join functions keep events, immutable records, in state). The
 * measured time is the job's net runtime ({@link JobExecutionResult#getNetRuntime}), which leaves
 * out starting the local cluster.
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
            DataStream<Long> numbers = eventNumbers(env, events.size(), id);
            DataStream<Bid> bids = query == NexmarkQuery.Q3 || query == NexmarkQuery.Q8 ? null
                    : only(numbers, id, Bid.class);
            switch (query) {
                case Q0 -> digest(bids, (b, c) -> c.addRow(b.auction(), b.bidder(), b.price(), b.dateTime()));
                case Q1 -> digest(q1(bids), (b, c) -> c.addRow(b.auction(), b.bidder(), b.price(), b.dateTime()));
                case Q2 -> digest(q2(bids), (b, c) -> c.addRow(b.auction(), b.price()));
                case Q3 -> digest(q3(only(numbers, id, Person.class), only(numbers, id, Auction.class)),
                        (r, c) -> c.addRow(NexmarkQuery.fingerprint(r.name()), NexmarkQuery.fingerprint(r.city()),
                                NexmarkQuery.fingerprint(r.state()), r.auction()));
                case Q4 -> digest(q4(only(numbers, id, Auction.class), bids),
                        (r, c) -> c.addRow(r.category(), r.time(), r.count(), r.sum(), r.average()));
                case Q5 -> digest(q5(bids), (r, c) -> c.addRow(r.start(), r.end(), r.auction(), r.count()));
                case Q7 -> digest(q7(bids), (r, c) -> c.addRow(r.auction(), r.bidder(), r.price(), r.end()));
                case Q8 -> digest(q8(only(numbers, id, Person.class), only(numbers, id, Auction.class)),
                        (r, c) -> c.addRow(r.person(), NexmarkQuery.fingerprint(r.name()), r.reserve(), r.start()));
                case Q11 -> digest(q11(bids), (r, c) -> c.addRow(r.bidder(), r.count(), r.start(), r.end()));
                default -> throw new IllegalArgumentException("no Flink plan for " + query);
            }
            JobExecutionResult result = FlinkLocal.execute(env, "nexmark " + query + ", " + events);
            return new Measured(FlinkLocal.checksum(result, RESULTS), result.getNetRuntime(TimeUnit.NANOSECONDS));
        } finally {
            FlinkLocal.release(id);
        }
    }

    /** Every event number with its event time and watermarks. */
    static DataStream<Long> eventNumbers(StreamExecutionEnvironment env, int size, long eventsId) {
        WatermarkStrategy<Long> watermarks = WatermarkStrategy
                .<Long>forBoundedOutOfOrderness(NexmarkQuery.WATERMARK_BOUND)
                .withTimestampAssigner(new EventTime(eventsId));
        return env.fromSource(new NumberSequenceSource(0, size - 1L), watermarks, "nexmark-events");
    }

    /** The events of one type (persons, auctions or bids) among the event numbers. */
    static <T extends NexmarkEvent> DataStream<T> only(DataStream<Long> numbers, long eventsId, Class<T> type) {
        return numbers.flatMap(new Only<>(eventsId, type))
                .returns(TypeInformation.of(type))
                .name(type.getSimpleName().toLowerCase(Locale.ROOT) + "s");
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

    /** Auctions of the category keyed by seller, each joined with its seller as of its time. */
    static DataStream<SellerAuction> q3(DataStream<Person> persons, DataStream<Auction> auctions) {
        return persons.filter(NexmarkQuery::q3Seller).name("q3-sellers")
                .keyBy(Person::id, Types.LONG)
                .connect(auctions.filter(NexmarkQuery::q3Auction).name("q3-auctions")
                        .keyBy(Auction::seller, Types.LONG))
                .process(new SellerAsOf(), TypeInformation.of(SellerAuction.class))
                .name("q3-join");
    }

    /**
     * Closing prices (auctions and their bids, keyed by auction), then per category the closes of
     * each millisecond (1 ms tumbling window), then the running totals per category.
     */
    static DataStream<CategoryCloses> q4(DataStream<Auction> auctions, DataStream<Bid> bids) {
        TypeInformation<CategoryCloses> closesType = TypeInformation.of(CategoryCloses.class);
        return auctions.keyBy(Auction::id, Types.LONG)
                .connect(bids.keyBy(Bid::auction, Types.LONG))
                .process(new ClosingPrice(), TypeInformation.of(ClosedAuction.class))
                .name("q4-closing-price")
                .keyBy(ClosedAuction::category, Types.LONG)
                .window(TumblingEventTimeWindows.of(Duration.ofMillis(1)))
                .aggregate(new CountAndSum(), new ToCategoryCloses(), TypeInformation.of(long[].class),
                        TypeInformation.of(long[].class), closesType)
                .name("q4-closes")
                .keyBy(CategoryCloses::category, Types.LONG)
                .process(new RunningCloses(), closesType)
                .name("q4-average");
    }

    /** Persons by id and auctions by seller in the same tumbling window. */
    static DataStream<NewUser> q8(DataStream<Person> persons, DataStream<Auction> auctions) {
        return persons.join(auctions)
                .where(Person::id, Types.LONG)
                .equalTo(Auction::seller)
                .window(TumblingEventTimeWindows.of(NexmarkQuery.Q8_SIZE))
                .apply(new NewUsers(), TypeInformation.of(NewUser.class))
                .name("q8-join");
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

    /** Event number to event of one type; the others are dropped. */
    static final class Only<T extends NexmarkEvent> extends RichFlatMapFunction<Long, T> {
        private static final long serialVersionUID = 1L;
        private final long eventsId;
        private final Class<T> type;
        private transient NexmarkEvents events;

        Only(long eventsId, Class<T> type) {
            this.eventsId = eventsId;
            this.type = type;
        }

        @Override
        public void open(OpenContext openContext) {
            events = FlinkLocal.shared(eventsId);
        }

        @Override
        public void flatMap(Long n, Collector<T> out) {
            NexmarkEvent e = events.get((int) (long) n);
            if (type.isInstance(e)) {
                out.collect(type.cast(e));
            }
        }
    }

    /**
     * Q3 join, keyed by person id: persons are versions of a table row (by {@code dateTime}); an
     * auction waits for the watermark to reach its time (an event-time timer), then gets the version
     * valid then: the latest at or before it. An auction at or behind the watermark when it arrives
     * is late and dropped (StreamFlow sends it to the late output); in-order input has none.
     */
    static final class SellerAsOf extends KeyedCoProcessFunction<Long, Person, Auction, SellerAuction> {
        private static final long serialVersionUID = 1L;
        private transient MapState<Long, Person> versions;
        private transient ListState<Auction> waiting;

        @Override
        public void open(OpenContext openContext) {
            versions = getRuntimeContext().getMapState(new MapStateDescriptor<>("versions", Types.LONG,
                    TypeInformation.of(Person.class)));
            waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("waiting",
                    TypeInformation.of(Auction.class)));
        }

        @Override
        public void processElement1(Person p, Context ctx, Collector<SellerAuction> out) throws Exception {
            versions.put(p.dateTime(), p);
        }

        @Override
        public void processElement2(Auction a, Context ctx, Collector<SellerAuction> out) throws Exception {
            if (a.dateTime() <= ctx.timerService().currentWatermark()) {
                return;
            }
            waiting.add(a);
            ctx.timerService().registerEventTimeTimer(a.dateTime());
        }

        @Override
        public void onTimer(long time, OnTimerContext ctx, Collector<SellerAuction> out) throws Exception {
            List<Auction> later = new ArrayList<>();
            for (Auction a : waiting.get()) {
                if (a.dateTime() > time) {
                    later.add(a);
                    continue;
                }
                Person seller = null;
                long sellerTime = Long.MIN_VALUE;
                for (Map.Entry<Long, Person> v : versions.entries()) {
                    if (v.getKey() <= a.dateTime() && (seller == null || v.getKey() > sellerTime)) {
                        seller = v.getValue();
                        sellerTime = v.getKey();
                    }
                }
                if (seller != null) {
                    out.collect(new SellerAuction(seller.name(), seller.city(), seller.state(), a.id()));
                }
            }
            waiting.update(later);
        }
    }

    /**
     * Q4 closing price, keyed by auction id: the auction, the highest valid bid so far, and the bids
     * that arrived before their auction. A timer at {@code expires} closes the auction (emitting its
     * closing price, timestamped {@code expires}, if it has one) and clears it. A bid whose auction is
     * not there waits for it until the watermark passes the bid's time (by then an auction it is
     * valid for has arrived), then is dropped.
     */
    static final class ClosingPrice extends KeyedCoProcessFunction<Long, Auction, Bid, ClosedAuction> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Auction> auction;
        private transient ValueState<Long> max;
        private transient ListState<Bid> waiting;

        @Override
        public void open(OpenContext openContext) {
            auction = getRuntimeContext().getState(new ValueStateDescriptor<>("auction",
                    TypeInformation.of(Auction.class)));
            max = getRuntimeContext().getState(new ValueStateDescriptor<>("max", Types.LONG));
            waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("waiting",
                    TypeInformation.of(Bid.class)));
        }

        @Override
        public void processElement1(Auction a, Context ctx, Collector<ClosedAuction> out) throws Exception {
            auction.update(a);
            ctx.timerService().registerEventTimeTimer(a.expires());
            Iterable<Bid> early = waiting.get();
            if (early != null) {
                for (Bid b : early) {
                    bid(a, b);
                }
                waiting.clear();
            }
        }

        @Override
        public void processElement2(Bid b, Context ctx, Collector<ClosedAuction> out) throws Exception {
            Auction a = auction.value();
            if (a != null) {
                bid(a, b);
            } else if (b.dateTime() > ctx.timerService().currentWatermark()) {
                waiting.add(b);
                ctx.timerService().registerEventTimeTimer(b.dateTime());
            }
        }

        private void bid(Auction a, Bid b) throws Exception {
            if (NexmarkQuery.q4Valid(a, b)) {
                Long m = max.value();
                if (m == null || b.price() > m) {
                    max.update(b.price());
                }
            }
        }

        @Override
        public void onTimer(long time, OnTimerContext ctx, Collector<ClosedAuction> out) throws Exception {
            Auction a = auction.value();
            if (a == null) {
                // bids that found no auction by their time: drop those up to now
                List<Bid> later = new ArrayList<>();
                for (Bid b : waiting.get()) {
                    if (b.dateTime() > time) {
                        later.add(b);
                    }
                }
                waiting.update(later);
                return;
            }
            if (time == a.expires()) {
                Long m = max.value();
                if (m != null) {
                    out.collect(new ClosedAuction(a.id(), a.category(), m, a.expires()));
                }
                auction.clear();
                max.clear();
            }
        }
    }

    /** Number and sum of closing prices: {@code {count, sum}}. */
    static final class CountAndSum implements AggregateFunction<ClosedAuction, long[], long[]> {
        private static final long serialVersionUID = 1L;

        @Override
        public long[] createAccumulator() {
            return new long[2];
        }

        @Override
        public long[] add(ClosedAuction c, long[] acc) {
            acc[0]++;
            acc[1] += c.price();
            return acc;
        }

        @Override
        public long[] getResult(long[] acc) {
            return acc.clone();
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            a[0] += b[0];
            a[1] += b[1];
            return a;
        }
    }

    static final class ToCategoryCloses extends ProcessWindowFunction<long[], CategoryCloses, Long, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(Long category, Context context, Iterable<long[]> sums, Collector<CategoryCloses> out) {
            for (long[] s : sums) {
                out.collect(new CategoryCloses(category, context.window().getStart(), s[0], s[1]));
            }
        }
    }

    /** Running totals of a category; its closes arrive in time order (one upstream instance, in firing order). */
    static final class RunningCloses extends KeyedProcessFunction<Long, CategoryCloses, CategoryCloses> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<long[]> totals;

        @Override
        public void open(OpenContext openContext) {
            totals = getRuntimeContext().getState(new ValueStateDescriptor<>("totals",
                    TypeInformation.of(long[].class)));
        }

        @Override
        public void processElement(CategoryCloses c, Context ctx, Collector<CategoryCloses> out) throws Exception {
            long[] t = totals.value();
            if (t == null) {
                t = new long[2];
            }
            t[0] += c.count();
            t[1] += c.sum();
            totals.update(t);
            out.collect(new CategoryCloses(c.category(), c.time(), t[0], t[1]));
        }
    }

    /** A (person, auction) pair of one window; the window is the one of the person's time. */
    static final class NewUsers implements JoinFunction<Person, Auction, NewUser> {
        private static final long serialVersionUID = 1L;
        private static final long SIZE = NexmarkQuery.Q8_SIZE.toMillis();

        @Override
        public NewUser join(Person p, Auction a) {
            return new NewUser(p.id(), p.name(), a.reserve(), Math.floorDiv(p.dateTime(), SIZE) * SIZE);
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
