package io.streamflow.reactive.window;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamFlowMeters;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.WatermarkStrategy;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Column mode of tumbling windows ({@link ColumnAggregate} accumulators in {@link ColumnTable}s)
 * against the object path on the same input: the object path is forced by wrapping the same
 * built-in aggregate in a plain delegating {@link AggregateFunction}. The two outputs must be equal
 * as multisets per watermark interval (results, late records, dead letters) with the same
 * watermarks in the same order, and the results must equal a small reference (per key and window:
 * count and sum of the records that were neither late nor dead-lettered).
 * <p>
 * Case {@code i} of a run uses seed {@code base + i}; the base seed is printed. Replay one case
 * with {@code -Dseed=N} ({@code -Dcases=M} for {@code M} consecutive seeds from {@code N}). A
 * failing input is shrunk before it is reported.
 */
class ColumnWindowsTest {

    private static final Long SEED = Long.getLong("seed");
    private static final int CASES = Integer.getInteger("cases", SEED != null ? 1 : 300);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String OP = "window";

    enum Agg { COUNT, SUM_LONG, COUNT_AND_SUM }

    /**
     * One input record. {@code failures}: how many times in a row the field function throws for it
     * (0 never, {@code Integer.MAX_VALUE} always); {@code partition}: its source partition.
     */
    record In(Object key, long ts, long value, int seq, int partition, int failures) {
        @Override
        public String toString() {
            return "{" + keyString(key) + ", ts=" + ts + ", v=" + value + ", p" + partition
                    + (failures == 0 ? "" : ", fails " + (failures == Integer.MAX_VALUE ? "always" : failures + "x"))
                    + ", #" + seq + "}";
        }
    }

    /** The record value as the operator sees it. */
    record Val(long value, int seq, int failures) {
    }

    /**
     * A generated case. {@code retries}: -1 for {@link ErrorPolicy#fail()}, 0 for
     * {@link ErrorPolicy#deadLetter()}, else {@link ErrorPolicy#retryThenDeadLetter(int)};
     * {@code strategy}: watermarks from {@link WatermarkStrategy#forBoundedOutOfOrderness} (one
     * partition only), else inserted by the test the same way.
     */
    record Case(long seed, long size, long offset, boolean asSliding, long outOfOrderness, int partitions,
                boolean shardByPartition, boolean strategy, Agg agg, int retries, int prefetch, int downstreamBatch,
                boolean fused, List<In> input) {

        ErrorPolicy policy() {
            return retries < 0 ? ErrorPolicy.fail() : retries == 0 ? ErrorPolicy.deadLetter()
                    : ErrorPolicy.retryThenDeadLetter(retries);
        }

        TimeWindowAssigner assigner() {
            return asSliding ? Windows.sliding(Duration.ofMillis(size), Duration.ofMillis(size), Duration.ofMillis(offset))
                    : Windows.tumbling(Duration.ofMillis(size), Duration.ofMillis(offset));
        }

        Case with(List<In> in) {
            return new Case(seed, size, offset, asSliding, outOfOrderness, partitions, shardByPartition, strategy, agg,
                    retries, prefetch, downstreamBatch, fused, in);
        }

        String describe() {
            return (asSliding ? "sliding(" + size + ", " + size : "tumbling(" + size) + ", offset " + offset + "), "
                    + agg + ", out-of-orderness " + outOfOrderness + " ms, " + partitions + " partition(s)"
                    + (shardByPartition ? "" : " (not sharded)") + ", watermarks "
                    + (strategy ? "from WatermarkStrategy" : "inserted") + ", " + policy() + ", prefetch " + prefetch
                    + ", downstream batch " + downstreamBatch + ", fused " + fused + ", " + input.size() + " records";
        }
    }

    /** What came out of one run. */
    record Outcome(List<Map<String, Integer>> segments, List<Long> watermarks, List<Double> gauge,
                   List<StreamElement<Object, ?>> raw, Throwable error) {
    }

    // ------------------------------------------------------------------ the random comparison

    @Test
    void columnModeShouldEqualTheObjectPathAndTheReferenceOnRandomInputs() {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        System.out.println("ColumnWindowsTest: base seed " + base + ", " + CASES
                + " cases (replay one case with -Dseed=<seed>)");
        long t0 = System.nanoTime();
        Map<String, Integer> seen = new TreeMap<>();
        long records = 0;
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            Case c = generate(seed);
            String problem = check(c, c.input(), seen);
            if (problem != null) {
                List<In> smallest = shrink(c);
                String detail = check(c, smallest, new HashMap<>());
                fail("column mode disagrees%n  seed: %d (replay: mvn -pl streamflow-reactive test "
                                + "-Dtest=ColumnWindowsTest -Dseed=%d)%n  case: %s%n  smallest failing input (%d of %d records):%s%n%s",
                        seed, seed, c.describe(), smallest.size(), c.input().size(), lines(smallest),
                        Objects.requireNonNullElse(detail, "(shrunk input passes?!) original problem:\n" + problem));
            }
            records += c.input().size();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("ColumnWindowsTest: " + CASES + " cases, " + records + " records, in " + ms
                + " ms; seen: " + seen);
        if (SEED == null && CASES >= 200) {
            assertThat(seen).as("what the random cases exercised").containsKeys("late record",
                    "dead letter of a key's first record in its window", "dead letter of a later record",
                    "retry that succeeded", "non-Long key mid-stream", "5000+ keys in one window", "key 0",
                    "key Long.MIN_VALUE", "key -1", "32768+ keys in one table, fused source (records read ahead)", "3 partitions", "not sharded", "COUNT", "SUM_LONG",
                    "COUNT_AND_SUM", "sliding(size, size)", "watermarks from WatermarkStrategy",
                    "limited downstream demand");
        }
    }

    static Case generate(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        // huge (one seed in 100, so a default run has 3): enough keys in one table (one shard) for the
        // operator to read records ahead, all within a few milliseconds, so in one window
        boolean huge = Math.floorMod(seed, 100) == 0;
        boolean big = huge || rnd.nextInt(25) == 0;
        long size = huge ? pick(rnd, 60_000, 100_000) : big ? pick(rnd, 5000, 10000) : pick(rnd, 1, 5, 10, 50, 100, 1000);
        long offset = rnd.nextBoolean() ? 0 : rnd.nextLong(size);
        boolean asSliding = rnd.nextInt(6) == 0;
        long b = pick(rnd, 0, 1, 10, 50, 200);
        int partitions = 1 + rnd.nextInt(3);
        boolean shardBy = rnd.nextInt(5) != 0 && !(huge && partitions > 1);
        boolean strategy = partitions == 1 && rnd.nextBoolean();
        Agg agg = Agg.values()[rnd.nextInt(Agg.values().length)];
        int retries = (int) pick(rnd, -1, 0, 0, 1, 2, 3);
        double failRate = agg == Agg.COUNT || retries < 0 ? 0 : pick(rnd, 0, 1, 5, 20) / 100.0;
        int prefetch = big ? 256 : (int) pick(rnd, 256, 256, 1, 7);
        int downstreamBatch = big ? 0 : (int) pick(rnd, 0, 0, 1, 3);
        boolean fused = huge || rnd.nextBoolean();

        // keys: Long, with the special ones, each bound to one partition
        int nKeys = huge ? 40_000 + rnd.nextInt(5000) : big ? 5000 + rnd.nextInt(3000) : (int) pick(rnd, 1, 2, 5, 20, 200);
        java.util.LinkedHashSet<Object> keySet = new java.util.LinkedHashSet<>();
        for (long k : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 1}) {
            if (keySet.size() < nKeys && rnd.nextInt(3) != 0) {
                keySet.add(k);
            }
        }
        while (keySet.size() < nKeys) {
            keySet.add(switch (rnd.nextInt(3)) {
                case 0 -> rnd.nextLong(-50, 50);
                case 1 -> rnd.nextLong();
                default -> { // Long.hashCode 0, like key 0
                    long h = rnd.nextLong(1, 1L << 20);
                    yield (h << 32) | h;
                }
            });
        }
        List<Object> keys = new ArrayList<>(keySet);
        Map<Object, Integer> partitionOf = new HashMap<>();
        // a non-Long key from some point on (the operator leaves column mode there)
        int switchAt = -1;
        List<Object> others = new ArrayList<>();
        int n = big ? keys.size() + rnd.nextInt(keys.size()) : 1 + rnd.nextInt((int) pick(rnd, 10, 60, 300));
        if (rnd.nextInt(5) == 0) {
            switchAt = rnd.nextInt(n);
            others.add("s" + rnd.nextInt(3));
            others.add(rnd.nextBoolean() ? "0" : "x");
            if (rnd.nextBoolean()) {
                others.add(rnd.nextInt(3)); // an Integer key: not a Long either
            }
        }
        long clock = pick(rnd, 0, 1_700_000_000_000L, -5_000, rnd.nextLong(-1_000_000, 1_000_000));
        long step = huge ? 0 : big ? pick(rnd, 0, 1) : pick(rnd, 0, 1, 5, 20, 100);
        long disorder = huge ? pick(rnd, 0, 10) : pick(rnd, 0, b / 2, b, b + 1, 2 * b + 50, 3 * b + size);
        List<In> input = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            clock += rnd.nextLong(step + 1);
            if (!big && rnd.nextInt(20) == 0) {
                clock += rnd.nextLong(1, 2000); // the watermark overtakes windows
            }
            long ts = clock - rnd.nextLong(disorder + 1);
            if (i > 0 && rnd.nextInt(10) == 0) {
                ts = input.get(rnd.nextInt(i)).ts();
            }
            Object key;
            if (big && i < keys.size()) {
                key = keys.get(i); // every key at least once
            } else if (switchAt >= 0 && i >= switchAt && rnd.nextInt(3) == 0) {
                key = others.get(rnd.nextInt(others.size()));
            } else {
                key = keys.get(rnd.nextInt(keys.size()));
            }
            int partition = partitionOf.computeIfAbsent(key, k -> rnd.nextInt(partitions));
            long value = rnd.nextInt(50) == 0 ? (rnd.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE)
                    : rnd.nextLong(-1000, 1000);
            int failures = 0;
            if (failRate > 0 && rnd.nextDouble() < failRate) {
                failures = rnd.nextInt(3) == 0 ? Integer.MAX_VALUE : 1 + rnd.nextInt(4);
            }
            input.add(new In(key, ts, value, i, partition, failures));
        }
        return new Case(seed, size, offset, asSliding, b, partitions, shardBy, strategy, agg, retries, prefetch,
                downstreamBatch, fused, input);
    }

    private static long pick(SplittableRandom rnd, long... choices) {
        return choices[rnd.nextInt(choices.length)];
    }

    /** @return {@code null} when both paths agree with each other and the reference, else what differs */
    static String check(Case c, List<In> input, Map<String, Integer> seen) {
        Outcome columns;
        Outcome objects;
        try {
            columns = run(c, input, true);
            objects = run(c, input, false);
        } catch (Throwable t) {
            return "  a run threw: " + stackTrace(t);
        }
        StringBuilder problems = new StringBuilder();
        if (columns.error() != null || objects.error() != null) {
            problems.append("  column path failed: ").append(columns.error() == null ? "no" : stackTrace(columns.error()))
                    .append("\n  object path failed: ").append(objects.error() == null ? "no" : stackTrace(objects.error()))
                    .append('\n');
            return problems.toString();
        }
        compareSegments("column path", columns.segments(), "object path", objects.segments(), problems);
        if (!columns.watermarks().equals(objects.watermarks())) {
            problems.append("  watermarks differ: column path ").append(columns.watermarks()).append(", object path ")
                    .append(objects.watermarks()).append('\n');
        }
        Reference ref = reference(c, input);
        // The gauge is refreshed when a watermark fires or purges something. A key's first record in
        // a window that goes to the dead letters still makes the window live in column mode (not on
        // the object path), so that watermark refreshes the gauge on one path only: then only the
        // value after the run is compared.
        boolean deadLetters = ref.firstRecordDeadLetters() + ref.laterDeadLetters() > 0;
        List<Double> gc = deadLetters ? last(columns.gauge()) : columns.gauge();
        List<Double> go = deadLetters ? last(objects.gauge()) : objects.gauge();
        if (!gc.equals(go)) {
            problems.append("  ").append(StreamFlowMeters.STATE_ENTRIES.meterName())
                    .append(deadLetters ? " after the run" : " at each watermark and after the run")
                    .append(" differs: column path ").append(gc).append(", object path ").append(go).append('\n');
        }
        if (!ref.watermarks().equals(columns.watermarks())) {
            problems.append("  watermarks: expected ").append(ref.watermarks()).append(", column path ")
                    .append(columns.watermarks()).append('\n');
        }
        compareSegments("reference", ref.segments(), "column path", reduced(columns.raw()), problems);
        if (problems.length() > 0) {
            return problems.toString();
        }
        tally(c, input, ref, seen);
        return null;
    }

    // ------------------------------------------------------------------ failures

    @Test
    void aLongKeyFromTwoPartitionsInOneWindowFailsOnBothPaths() {
        long base = SEED != null ? SEED : 7;
        List<List<In>> inputs = new ArrayList<>();
        // the second record of key 7 comes from another partition, in the same window
        inputs.add(List.of(in(7L, 10, 1, 0, 0), in(7L, 20, 1, 1, 1)));
        // key 0 and Long.MIN_VALUE, after other keys of both partitions
        inputs.add(List.of(in(1L, 5, 1, 0, 0), in(2L, 6, 1, 1, 1), in(0L, 7, 1, 2, 1), in(0L, 8, 1, 3, 0)));
        inputs.add(List.of(in(Long.MIN_VALUE, 5, 1, 0, 2), in(3L, 6, 1, 1, 0), in(Long.MIN_VALUE, 99, 1, 2, 0)));
        // after a non-Long key moved everything to the object path
        inputs.add(List.of(in(7L, 10, 1, 0, 0), in("s", 11, 1, 1, 1), in(7L, 20, 1, 2, 1)));
        // after the table of the window grew
        List<In> many = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            many.add(in((long) i * 31, i % 100, i, i, i % 2 == 0 ? 0 : 1));
        }
        many.add(in(62L, 50, 1, 3000, 1)); // key 62 is partition 0's
        inputs.add(many);
        for (List<In> input : inputs) {
            Case c = handMade(base, Agg.COUNT_AND_SUM, 0, input);
            Outcome columns = run(c, input, true);
            Outcome objects = run(c, input, false);
            assertThat(columns.error()).as("column path, input %s", input.size() > 10 ? "of many keys" : input)
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("more than one source partition");
            assertThat(objects.error()).isInstanceOf(IllegalStateException.class);
            assertThat(columns.error().getMessage()).isEqualTo(objects.error().getMessage());
            assertThat(columns.segments()).isEqualTo(objects.segments());
        }
    }

    @Test
    void aKeyMayChangePartitionBetweenWindowsOrWhenItsFirstRecordWasDeadLettered() {
        List<List<In>> inputs = new ArrayList<>();
        // window [0,100) from partition 0, window [100,200) from partition 1
        inputs.add(List.of(in(7L, 10, 1, 0, 0), in(7L, 120, 2, 1, 1)));
        // the record from partition 1 went to the dead letters: its row stayed free
        inputs.add(List.of(new In(7L, 10, 1, 0, 1, Integer.MAX_VALUE), in(7L, 20, 2, 1, 0), in(7L, 30, 3, 2, 0)));
        inputs.add(List.of(new In(0L, 10, 1, 0, 1, Integer.MAX_VALUE), in(0L, 20, 2, 1, 0)));
        for (List<In> input : inputs) {
            for (Agg agg : new Agg[] {Agg.SUM_LONG, Agg.COUNT_AND_SUM}) {
                Case c = handMade(1, agg, 0, input);
                assertThat(check(c, input, new HashMap<>())).as("%s on %s", agg, input).isNull();
            }
        }
        // not sharded: one key from two partitions is one key
        List<In> twoPartitions = List.of(in(7L, 10, 1, 0, 0), in(7L, 20, 2, 1, 1), in(0L, 30, 3, 2, 1),
                in(0L, 31, 4, 3, 2));
        Case c = handMade(1, Agg.COUNT_AND_SUM, 0, twoPartitions);
        c = new Case(c.seed(), c.size(), c.offset(), c.asSliding(), c.outOfOrderness(), 3, false, false, c.agg(),
                c.retries(), c.prefetch(), c.downstreamBatch(), c.fused(), twoPartitions);
        assertThat(check(c, twoPartitions, new HashMap<>())).isNull();
        assertThat(run(c, twoPartitions, true).segments().get(4)).containsOnlyKeys(
                "result Long:7 [0,100) n=2 sum=3 ON_TIME#0(final) key=Long:7 ts=99 origin=window[0]@-1",
                "result Long:0 [0,100) n=2 sum=7 ON_TIME#0(final) key=Long:0 ts=99 origin=window[0]@-1");
    }

    @Test
    void aThrowingFieldUnderTheFailPolicyFailsBothPathsTheSameWay() {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        System.out.println("ColumnWindowsTest (fail policy): base seed " + base);
        int failed = 0;
        int firstOfKey = 0;
        int cases = SEED != null ? 1 : 60;
        for (int i = 0; i < cases; i++) {
            long seed = base + i;
            SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
            Case g = generate(seed);
            List<In> input = new ArrayList<>();
            for (In in : g.input()) {
                input.add(new In(in.key(), in.ts(), in.value(), in.seq(), in.partition(), 0));
            }
            int bad = rnd.nextInt(input.size());
            In b = input.get(bad);
            input.set(bad, new In(b.key(), b.ts(), b.value(), b.seq(), b.partition(), rnd.nextBoolean() ? 1 : Integer.MAX_VALUE));
            Agg agg = rnd.nextBoolean() ? Agg.SUM_LONG : Agg.COUNT_AND_SUM;
            Case c = new Case(seed, g.size(), g.offset(), g.asSliding(), g.outOfOrderness(), g.partitions(),
                    g.shardByPartition(), g.strategy(), agg, -1, g.prefetch(), g.downstreamBatch(), g.fused(), input);
            Outcome columns = run(c, input, true);
            Outcome objects = run(c, input, false);
            String where = "seed " + seed + " (replay with -Dseed=" + seed + "), " + c.describe() + ", failing record "
                    + input.get(bad);
            if (objects.error() == null) {
                assertThat(columns.error()).as(where).isNull(); // the failing record was late
            } else {
                failed++;
                long start = b.ts() - Math.floorMod(b.ts() - c.offset(), c.size());
                if (input.subList(0, bad).stream().noneMatch(r -> r.key().equals(b.key())
                        && r.ts() - Math.floorMod(r.ts() - c.offset(), c.size()) == start)) {
                    firstOfKey++;
                }
                assertThat(columns.error()).as(where).isNotNull();
                assertThat(columns.error().getClass()).as(where).isEqualTo(objects.error().getClass());
                assertThat(columns.error()).as(where).hasMessage("bad value #" + b.seq() + ", attempt 1")
                        .hasMessage(objects.error().getMessage());
            }
            assertThat(columns.segments()).as(where).isEqualTo(objects.segments());
            assertThat(columns.watermarks()).as(where).isEqualTo(objects.watermarks());
        }
        if (SEED == null) {
            assertThat(failed).as("cases that failed").isGreaterThan(cases / 3);
            assertThat(firstOfKey).as("cases where a key's first record in its window failed").isPositive();
        }
    }

    // ------------------------------------------------------------------ column mode is taken

    /** Delegates to a built-in column aggregate and counts the calls of each path. */
    static final class Spy<V, A, R> extends ColumnAggregate<V, A, R> {
        private final ColumnAggregate<V, A, R> d;
        int addTo;
        int resultOf;
        int accumulatorOf;
        int add;
        int result;

        @SuppressWarnings("unchecked")
        Spy(AggregateFunction<V, A, R> builtIn) {
            this((ColumnAggregate<V, A, R>) builtIn);
        }

        private Spy(ColumnAggregate<V, A, R> d) {
            super(d.width());
            this.d = d;
        }

        void addTo(long[] rows, int at, V value) {
            addTo++;
            d.addTo(rows, at, value);
        }

        R resultOf(long[] rows, int at) {
            resultOf++;
            return d.resultOf(rows, at);
        }

        A accumulatorOf(long[] rows, int at) {
            accumulatorOf++;
            return d.accumulatorOf(rows, at);
        }

        public A createAccumulator() {
            return d.createAccumulator();
        }

        public A add(A accumulator, V value) {
            add++;
            return d.add(accumulator, value);
        }

        public A merge(A a, A b) {
            return d.merge(a, b);
        }

        public R result(A accumulator) {
            result++;
            return d.result(accumulator);
        }
    }

    @Test
    void theBuiltInsAreColumnAggregatesAndTumblingWindowsOnTheHeapUseTheirColumns() {
        assertThat(Aggregations.count()).isInstanceOf(ColumnAggregate.class);
        assertThat(Aggregations.sumLong(Val::value)).isInstanceOf(ColumnAggregate.class);
        assertThat(Aggregations.countAndSum(Val::value)).isInstanceOf(ColumnAggregate.class);
        assertThat(delegating(Aggregations.count())).isNotInstanceOf(ColumnAggregate.class);

        List<In> input = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            input.add(in((long) (i % 7) - 3, 10L * i, i, i, (i % 7) % 2));
        }
        for (boolean sliding : new boolean[] {false, true}) {
            for (boolean sharded : new boolean[] {true, false}) {
                Case c = new Case(1, 100, 30, sliding, 0, 2, sharded, false, Agg.COUNT_AND_SUM, 0, 256, 0, true, input);
                Spy<Val, ?, ?> spy = new Spy<>(Aggregations.countAndSum(Val::value));
                Outcome out = run(c, input, spy);
                assertThat(out.error()).isNull();
                int results = out.segments().stream().mapToInt(m -> m.values().stream().mapToInt(Integer::intValue).sum()).sum();
                assertThat(spy.addTo).as("records added to columns, sliding form %s, sharded %s", sliding, sharded)
                        .isEqualTo(input.size());
                assertThat(spy.resultOf).as("results read from columns").isEqualTo(results).isPositive();
                assertThat(spy.add + spy.result + spy.accumulatorOf).as("object path calls").isZero();
            }
        }

        // a non-Long key: the rows move to the object path, which takes every later record
        List<In> mixed = new ArrayList<>(input.subList(0, 25));
        mixed.add(in("late-comer", 250, 1, 25, 0));
        mixed.addAll(input.subList(26, 40));
        Case c = new Case(1, 100, 30, false, 0, 2, true, false, Agg.COUNT_AND_SUM, 0, 256, 0, true, mixed);
        Spy<Val, ?, ?> spy = new Spy<>(Aggregations.countAndSum(Val::value));
        Outcome out = run(c, mixed, spy);
        assertThat(out.error()).isNull();
        assertThat(spy.addTo).isEqualTo(25);
        assertThat(spy.add).isEqualTo(15);
        assertThat(spy.accumulatorOf).as("rows moved: the keys of the open windows").isPositive();
        assertThat(check(c, mixed, new HashMap<>())).isNull();

        // not column mode: allowed lateness, or sliding windows with slices
        Spy<Val, ?, ?> objectSpy = new Spy<>(Aggregations.count());
        Case plain = new Case(1, 100, 0, false, 0, 2, true, false, Agg.COUNT, 0, 256, 0, true, input);
        for (WindowOperator<Object, Val> op : List.of(
                WindowOperator.<Object, Val>of(Windows.tumbling(Duration.ofMillis(100))).allowedLateness(Duration.ofMillis(1)),
                WindowOperator.<Object, Val>of(Windows.sliding(Duration.ofMillis(100), Duration.ofMillis(50))))) {
            source(plain, input)
                    .transform(op.settings(OperatorSettings.named(OP).withMeterRegistry(new SimpleMeterRegistry()))
                            .aggregate(objectSpy))
                    .blockLast(TIMEOUT);
        }
        assertThat(objectSpy.addTo).isZero();
        assertThat(objectSpy.add).isEqualTo(2 * input.size());
    }

    private static In in(Object key, long ts, long value, int seq, int partition) {
        return new In(key, ts, value, seq, partition, 0);
    }

    /** Tumbling windows of 100 ms, watermarks inserted, in-order bound 0, three partitions, sharded. */
    private static Case handMade(long seed, Agg agg, int retries, List<In> input) {
        return new Case(seed, 100, 0, false, 0, 3, true, false, agg, retries, 256, 0, true, input);
    }

    private static List<Double> last(List<Double> gauge) {
        return gauge.isEmpty() ? gauge : gauge.subList(gauge.size() - 1, gauge.size());
    }

    // ------------------------------------------------------------------ running the pipeline

    /** The built-in aggregate of the case, whose field function throws as each record's {@code failures} say. */
    static AggregateFunction<Val, ?, ?> builtIn(Agg agg, Map<Integer, Integer> attempts) {
        ToLongFunction<Val> field = v -> {
            if (v.failures() > 0) {
                int attempt = attempts.merge(v.seq(), 1, Integer::sum);
                if (attempt <= v.failures()) {
                    throw new IllegalArgumentException("bad value #" + v.seq() + ", attempt " + attempt);
                }
            }
            return v.value();
        };
        return switch (agg) {
            case COUNT -> Aggregations.count();
            case SUM_LONG -> Aggregations.sumLong(field);
            case COUNT_AND_SUM -> Aggregations.countAndSum(field);
        };
    }

    /** The same aggregate, but not a {@link ColumnAggregate}: the operator keeps it on the object path. */
    static <V, A, R> AggregateFunction<V, A, R> delegating(AggregateFunction<V, A, R> fn) {
        return new AggregateFunction<>() {
            public A createAccumulator() {
                return fn.createAccumulator();
            }

            public A add(A accumulator, V value) {
                return fn.add(accumulator, value);
            }

            public A merge(A a, A b) {
                return fn.merge(a, b);
            }

            public R result(A accumulator) {
                return fn.result(accumulator);
            }
        };
    }

    static Flux<StreamElement<Object, Val>> source(Case c, List<In> input) {
        List<StreamRecord<Object, Val>> elements = new ArrayList<>();
        for (In in : input) {
            elements.add(StreamRecord.of(in.key(), new Val(in.value(), in.seq(), in.failures()), in.ts(),
                    Origin.of("test", in.partition(), in.seq())));
        }
        if (c.strategy()) {
            return Flux.fromIterable(elements).transform(f -> c.fused() ? f : f.hide())
                    .transform(WatermarkStrategy.<Object, Val>forBoundedOutOfOrderness(
                            Duration.ofMillis(c.outOfOrderness())).assign());
        }
        List<StreamElement<Object, Val>> withWatermarks = new ArrayList<>();
        List<Long> wms = watermarksAfter(c, input);
        for (int i = 0; i < input.size(); i++) {
            withWatermarks.add(elements.get(i));
            if (wms.get(i) != null) {
                withWatermarks.add(Watermark.of(wms.get(i)));
            }
        }
        withWatermarks.add(Watermark.end());
        return Flux.fromIterable(withWatermarks).transform(f -> c.fused() ? f : f.hide());
    }

    /** The watermark emitted right after each record ({@code null} when it does not advance). */
    static List<Long> watermarksAfter(Case c, List<In> input) {
        List<Long> out = new ArrayList<>(input.size());
        long maxTs = Long.MIN_VALUE;
        long emitted = Long.MIN_VALUE;
        for (In in : input) {
            maxTs = Math.max(maxTs, in.ts());
            long w = maxTs - c.outOfOrderness() - 1;
            if (w > emitted) {
                emitted = w;
                out.add(w);
            } else {
                out.add(null);
            }
        }
        return out;
    }

    static Outcome run(Case c, List<In> input, boolean columns) {
        Map<Integer, Integer> attempts = new HashMap<>();
        return run(c, input, builtIn(c.agg(), attempts), columns);
    }

    private static <A, R> Outcome run(Case c, List<In> input, AggregateFunction<Val, A, R> builtIn, boolean columns) {
        return run(c, input, columns ? builtIn : delegating(builtIn));
    }

    static <A, R> Outcome run(Case c, List<In> input, AggregateFunction<Val, A, R> fn) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        OperatorSettings settings = OperatorSettings.named(OP).withMeterRegistry(registry).withErrorPolicy(c.policy())
                .withShardBySourcePartition(c.shardByPartition()).withPrefetch(c.prefetch());
        List<StreamElement<Object, ?>> raw = new ArrayList<>();
        List<Double> gauge = new ArrayList<>();
        Throwable[] error = new Throwable[1];
        source(c, input)
                .transform(WindowOperator.<Object, Val>of(c.assigner()).settings(settings).aggregate(fn))
                .transform(f -> c.downstreamBatch() > 0 ? f.limitRate(c.downstreamBatch()) : f)
                .doOnNext(e -> {
                    raw.add(e);
                    if (e instanceof Watermark<?, ?>) {
                        gauge.add(stateEntries(registry));
                    }
                })
                .doOnComplete(() -> gauge.add(stateEntries(registry)))
                .onErrorResume(t -> {
                    error[0] = t;
                    return Flux.empty();
                })
                .blockLast(TIMEOUT);
        List<Map<String, Integer>> segments = new ArrayList<>();
        List<Long> watermarks = new ArrayList<>();
        Map<String, Integer> current = new TreeMap<>();
        for (StreamElement<Object, ?> e : raw) {
            if (e instanceof Watermark<?, ?> w) {
                watermarks.add(w.timestamp());
                segments.add(current);
                current = new TreeMap<>();
            } else {
                current.merge(describe(e, true), 1, Integer::sum);
            }
        }
        segments.add(current);
        return new Outcome(segments, watermarks, gauge, raw, error[0]);
    }

    static double stateEntries(SimpleMeterRegistry registry) {
        Gauge g = registry.find(StreamFlowMeters.STATE_ENTRIES.meterName()).tag("operator", OP).gauge();
        return g == null ? -1 : g.value();
    }

    /**
     * An output element as a string; {@code full}: everything the two paths must agree on, else only
     * what the reference knows (a dead letter's seq, not its error).
     */
    static String describe(StreamElement<Object, ?> e, boolean full) {
        if (e instanceof StreamRecord<?, ?> r && r.value() instanceof WindowResult<?, ?> w) {
            Object v = w.value();
            String value = v instanceof Aggregations.CountAndSum cs ? "n=" + cs.count() + " sum=" + cs.sum()
                    : v.getClass().getSimpleName() + ":" + v;
            return "result " + keyString(w.key()) + " [" + w.start() + "," + w.end() + ") " + value + " " + w.pane()
                    + " key=" + keyString(r.key()) + " ts=" + r.timestamp() + " origin=" + r.origin();
        }
        if (e instanceof LateRecord<?, ?> l) {
            return "late #" + ((Val) l.record().value()).seq() + " " + keyString(l.record().key()) + " ts="
                    + l.record().timestamp() + " window=[" + l.windowStart() + "," + l.windowEnd() + ") wm="
                    + l.watermark() + " op=" + l.operator() + (full ? " origin=" + l.record().origin() : "");
        }
        if (e instanceof DeadLetter<?, ?> d) {
            StreamRecord<?, ?> r = (StreamRecord<?, ?>) d.input();
            String s = "dead letter #" + ((Val) r.value()).seq() + " " + keyString(r.key()) + " op=" + d.operator();
            if (full) {
                Throwable t = d.error();
                s += " origin=" + d.origin() + " record=" + r + " error=" + t + " suppressed="
                        + java.util.Arrays.toString(t.getSuppressed());
            }
            return s;
        }
        return "other " + e;
    }

    static String keyString(Object key) {
        return key == null ? "null" : key.getClass().getSimpleName() + ":" + key;
    }

    static List<Map<String, Integer>> reduced(List<StreamElement<Object, ?>> raw) {
        List<Map<String, Integer>> segments = new ArrayList<>();
        Map<String, Integer> current = new TreeMap<>();
        for (StreamElement<Object, ?> e : raw) {
            if (e instanceof Watermark<?, ?>) {
                segments.add(current);
                current = new TreeMap<>();
            } else {
                current.merge(describe(e, false), 1, Integer::sum);
            }
        }
        segments.add(current);
        return segments;
    }

    static void compareSegments(String aName, List<Map<String, Integer>> a, String bName, List<Map<String, Integer>> b,
                                StringBuilder problems) {
        if (a.size() != b.size()) {
            problems.append("  ").append(aName).append(" has ").append(a.size() - 1).append(" watermarks, ")
                    .append(bName).append(' ').append(b.size() - 1).append('\n');
        }
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            if (!a.get(i).equals(b.get(i))) {
                Map<String, Integer> onlyA = minus(a.get(i), b.get(i));
                Map<String, Integer> onlyB = minus(b.get(i), a.get(i));
                problems.append("  before watermark #").append(i).append(", ").append(aName).append(" only:")
                        .append(lines(onlyA)).append("\n  ").append(bName).append(" only:").append(lines(onlyB))
                        .append('\n');
                return;
            }
        }
    }

    private static Map<String, Integer> minus(Map<String, Integer> a, Map<String, Integer> b) {
        Map<String, Integer> m = new TreeMap<>();
        a.forEach((k, n) -> {
            int left = n - b.getOrDefault(k, 0);
            if (left > 0) {
                m.put(k, left);
            }
        });
        return m;
    }

    // ------------------------------------------------------------------ the reference

    /** Per key and window: count and sum of the records neither late nor dead-lettered; when each fires. */
    record Reference(List<Map<String, Integer>> segments, List<Long> watermarks, int lateCount,
                     int firstRecordDeadLetters, int laterDeadLetters, int retriedOk, int maxKeysInAWindow) {
    }

    static Reference reference(Case c, List<In> input) {
        List<Long> after = watermarksAfter(c, input);
        List<Long> watermarks = new ArrayList<>();
        for (Long w : after) {
            if (w != null) {
                watermarks.add(w);
            }
        }
        watermarks.add(Watermark.END);
        List<Map<String, Integer>> segments = new ArrayList<>();
        for (int i = 0; i <= watermarks.size(); i++) {
            segments.add(new TreeMap<>());
        }
        record Acc(Object key, long start, int shard, long[] countSum) {
        }
        // by key string and start: Long.hashCode folds a key's halves, so keys like (h << 32) | h all hash to 0
        Map<String, Acc> accs = new LinkedHashMap<>();
        Map<Long, Integer> keysPerWindow = new HashMap<>();
        int retries = Math.max(0, c.retries());
        boolean hasField = c.agg() != Agg.COUNT;
        long wm = Long.MIN_VALUE;
        int segment = 0;
        int late = 0;
        int firstDl = 0;
        int laterDl = 0;
        int retriedOk = 0;
        for (int i = 0; i < input.size(); i++) {
            In in = input.get(i);
            long start = in.ts() - Math.floorMod(in.ts() - c.offset(), c.size());
            long end = start + c.size();
            int shard = c.shardByPartition() ? in.partition() : 0;
            String id = keyString(in.key()) + "@" + start;
            if (end - 1 <= wm) {
                late++;
                segments.get(segment).merge("late #" + in.seq() + " " + keyString(in.key()) + " ts=" + in.ts()
                        + " window=[" + start + "," + end + ") wm=" + wm + " op=" + OP, 1, Integer::sum);
            } else if (hasField && in.failures() > retries) {
                if (accs.containsKey(id)) {
                    laterDl++;
                } else {
                    firstDl++;
                }
                segments.get(segment).merge("dead letter #" + in.seq() + " " + keyString(in.key()) + " op=" + OP,
                        1, Integer::sum);
            } else {
                if (hasField && in.failures() > 0) {
                    retriedOk++;
                }
                Acc acc = accs.computeIfAbsent(id, k -> {
                    keysPerWindow.merge(start, 1, Integer::sum);
                    return new Acc(in.key(), start, shard, new long[2]);
                });
                acc.countSum()[0]++;
                acc.countSum()[1] += in.value();
            }
            if (after.get(i) != null) {
                wm = after.get(i);
                segment++;
            }
        }
        for (Acc acc : accs.values()) {
            long end = acc.start() + c.size();
            int fires = java.util.Collections.binarySearch(watermarks, end - 1); // the first watermark >= end - 1
            fires = fires >= 0 ? fires : ~fires;
            long[] cs = acc.countSum();
            String value = switch (c.agg()) {
                case COUNT -> "Long:" + cs[0];
                case SUM_LONG -> "Long:" + cs[1];
                case COUNT_AND_SUM -> "n=" + cs[0] + " sum=" + cs[1];
            };
            segments.get(fires).merge("result " + keyString(acc.key()) + " [" + acc.start() + "," + end + ") " + value
                    + " " + new PaneInfo(PaneInfo.Timing.ON_TIME, 0, true) + " key=" + keyString(acc.key()) + " ts="
                    + (end - 1) + " origin=" + Origin.of(OP, acc.shard(), -1L), 1, Integer::sum);
        }
        int maxKeys = keysPerWindow.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        return new Reference(segments, watermarks, late, firstDl, laterDl, retriedOk, maxKeys);
    }

    private static void tally(Case c, List<In> input, Reference ref, Map<String, Integer> seen) {
        seen.merge(c.agg().name(), 1, Integer::sum);
        if (ref.lateCount() > 0) {
            seen.merge("late record", 1, Integer::sum);
        }
        if (ref.firstRecordDeadLetters() > 0) {
            seen.merge("dead letter of a key's first record in its window", 1, Integer::sum);
        }
        if (ref.laterDeadLetters() > 0) {
            seen.merge("dead letter of a later record", 1, Integer::sum);
        }
        if (ref.retriedOk() > 0) {
            seen.merge("retry that succeeded", 1, Integer::sum);
        }
        if (ref.maxKeysInAWindow() >= 5000) {
            seen.merge("5000+ keys in one window", 1, Integer::sum);
        }
        if (ref.maxKeysInAWindow() >= 1 << 15 && c.fused() && (c.partitions() == 1 || !c.shardByPartition())) {
            seen.merge("32768+ keys in one table, fused source (records read ahead)", 1, Integer::sum);
        }
        if (input.stream().anyMatch(in -> !(in.key() instanceof Long))) {
            seen.merge("non-Long key mid-stream", 1, Integer::sum);
        }
        for (long k : new long[] {0, -1, Long.MIN_VALUE}) {
            if (input.stream().anyMatch(in -> in.key() instanceof Long l && l == k)) {
                seen.merge(k == Long.MIN_VALUE ? "key Long.MIN_VALUE" : "key " + k, 1, Integer::sum);
            }
        }
        if (input.stream().mapToInt(In::partition).distinct().count() == 3) {
            seen.merge("3 partitions", 1, Integer::sum);
        }
        if (!c.shardByPartition()) {
            seen.merge("not sharded", 1, Integer::sum);
        }
        if (c.asSliding()) {
            seen.merge("sliding(size, size)", 1, Integer::sum);
        }
        if (c.strategy()) {
            seen.merge("watermarks from WatermarkStrategy", 1, Integer::sum);
        }
        if (c.downstreamBatch() > 0) {
            seen.merge("limited downstream demand", 1, Integer::sum);
        }
    }

    // ------------------------------------------------------------------ shrinking

    /** Drops chunks of records, then single records, while the case still fails. */
    static List<In> shrink(Case c) {
        List<In> current = c.input();
        long deadline = System.nanoTime() + 60_000_000_000L;
        int chunk = Math.max(1, current.size() / 2);
        while (chunk >= 1 && System.nanoTime() < deadline) {
            boolean removed = false;
            for (int from = 0; from < current.size() && System.nanoTime() < deadline; ) {
                List<In> candidate = new ArrayList<>(current.subList(0, from));
                candidate.addAll(current.subList(Math.min(current.size(), from + chunk), current.size()));
                if (!candidate.isEmpty() && check(c, candidate, new HashMap<>()) != null) {
                    current = candidate;
                    removed = true;
                } else {
                    from += chunk;
                }
            }
            if (!removed) {
                chunk /= 2;
            }
        }
        return current;
    }

    static String lines(Iterable<?> items) {
        StringBuilder sb = new StringBuilder();
        for (Object o : items) {
            sb.append("\n    ").append(o);
        }
        return sb.toString();
    }

    static String lines(Map<String, Integer> m) {
        StringBuilder sb = new StringBuilder();
        m.forEach((k, n) -> sb.append("\n    ").append(n == 1 ? "" : n + "x ").append(k));
        return sb.toString();
    }

    static String stackTrace(Throwable t) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        return sw.toString();
    }
}
