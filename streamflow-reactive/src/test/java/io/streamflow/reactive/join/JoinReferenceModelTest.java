package io.streamflow.reactive.join;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.publisher.TestPublisher;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded random inputs for every join ({@link Joins#window} INNER / LEFT / FULL_OUTER over tumbling
 * and sliding windows, {@link Joins#interval} INNER / LEFT with positive, negative, zero and mixed
 * bounds, {@link Joins#table} AS_OF_EVENT_TIME / LATEST with INNER / LEFT), each run through the
 * real operator and compared with {@link Model}, a deliberately simple batch model of the
 * {@link Joins} javadoc.
 * <p>
 * An input is one interleaving of the two inputs: records (a few keys, bounded disorder, sometimes
 * far behind the watermark, equal timestamps, timestamps on window edges and interval bounds),
 * per-input watermarks (bounded out-of-orderness from a shared clock, so they are consistent with
 * the input's own in-bound records) and sometimes idle / active markers. Both inputs are
 * {@link TestPublisher}s driven from the test thread, so the operator sees exactly that
 * interleaving (a publisher that is not allowed to emit fails the case loudly). After the
 * interleaving one input completes, then the other.
 * <p>
 * Compared per case: the forwarded watermarks and idle markers; the results (key, value, timestamp) and late records
 * between each two forwarded watermarks (so both the multiset and the moment of release); the late
 * and unmatched counters; and the state left in the backend just before the inputs complete.
 * <p>
 * Case {@code i} of a join configuration uses seed {@code base + i}; the base seed is printed.
 * Replay one case with {@code -Djoin=<CONFIG> -Dseed=<seed>} ({@code -Dcases=M} runs M consecutive
 * seeds). A failure is shrunk (input elements dropped one by one while it still fails).
 * <p>
 * The comparison was tried against deliberately broken operators: {@code t < watermark} for
 * {@code t <= watermark} (interval join, window join), keeping deletes in {@code Versions.compact},
 * the earlier of two same-timestamp versions winning, {@code t + upper} as the timestamp of an
 * unmatched left record, purging interval-join right rows too early, ignoring idleness, an extra
 * forwarded watermark: each fails within a few hundred cases, shrunk to one to three elements.
 */
class JoinReferenceModelTest {

    private static final Long SEED = Long.getLong("seed");
    private static final String ONLY = System.getProperty("join");
    private static final int CASES = Integer.getInteger("cases", SEED != null ? 1 : 1000);
    static final String NAME = "join";
    private static final long END = Watermark.END;

    enum Kind { WINDOW, INTERVAL, TABLE }

    /** Every join the library offers. */
    enum Config {
        WINDOW_TUMBLING_INNER(Kind.WINDOW, false, JoinType.INNER, null),
        WINDOW_TUMBLING_LEFT(Kind.WINDOW, false, JoinType.LEFT, null),
        WINDOW_TUMBLING_FULL_OUTER(Kind.WINDOW, false, JoinType.FULL_OUTER, null),
        WINDOW_SLIDING_INNER(Kind.WINDOW, true, JoinType.INNER, null),
        WINDOW_SLIDING_LEFT(Kind.WINDOW, true, JoinType.LEFT, null),
        WINDOW_SLIDING_FULL_OUTER(Kind.WINDOW, true, JoinType.FULL_OUTER, null),
        INTERVAL_INNER(Kind.INTERVAL, false, JoinType.INNER, null),
        INTERVAL_LEFT(Kind.INTERVAL, false, JoinType.LEFT, null),
        TABLE_AS_OF_INNER(Kind.TABLE, false, JoinType.INNER, TableLookup.AS_OF_EVENT_TIME),
        TABLE_AS_OF_LEFT(Kind.TABLE, false, JoinType.LEFT, TableLookup.AS_OF_EVENT_TIME),
        TABLE_LATEST_INNER(Kind.TABLE, false, JoinType.INNER, TableLookup.LATEST),
        TABLE_LATEST_LEFT(Kind.TABLE, false, JoinType.LEFT, TableLookup.LATEST);

        final Kind kind;
        final boolean sliding;
        final JoinType type;
        final TableLookup lookup;

        Config(Kind kind, boolean sliding, JoinType type, TableLookup lookup) {
            this.kind = kind;
            this.sliding = sliding;
            this.type = type;
            this.lookup = lookup;
        }

        boolean asOf() {
            return lookup == TableLookup.AS_OF_EVENT_TIME;
        }
    }

    /** The join's parameters: window size / slide / offset, or interval bounds (ms). */
    record Spec(Config config, long size, long slide, long offset, long lower, long upper) {
        @Override
        public String toString() {
            return switch (config.kind) {
                case WINDOW -> config + (config.sliding ? " size=" + size + " slide=" + slide
                        : " size=" + size) + " offset=" + offset;
                case INTERVAL -> config + " [" + lower + ", " + upper + "]";
                case TABLE -> config.toString();
            };
        }
    }

    enum What { RECORD, WATERMARK, IDLE, ACTIVE }

    /**
     * One element fed to the join by one input: a record (its value is its {@code seq}; {@code null} =
     * a delete, table changelog only), a watermark, or an idle / active marker. {@code seq} is unique
     * per case and travels in the record's origin position, so late records can be identified.
     */
    record Ev(boolean left, What what, String key, long ts, Integer value, int seq) {
        static Ev rec(boolean left, String key, long ts, Integer value, int seq) {
            return new Ev(left, What.RECORD, key, ts, value, seq);
        }

        static Ev wm(boolean left, long ts) {
            return new Ev(left, What.WATERMARK, null, ts, null, -1);
        }

        static Ev status(boolean left, boolean idle) {
            return new Ev(left, idle ? What.IDLE : What.ACTIVE, null, 0, null, -1);
        }

        boolean isRecord() {
            return what == What.RECORD;
        }

        String side() {
            return left ? "L" : "R";
        }

        @Override
        public String toString() {
            return switch (what) {
                case RECORD -> side() + "#" + seq + " " + key + "@" + ts + (value == null ? " (delete)" : "");
                case WATERMARK -> side() + " watermark " + ts;
                default -> side() + " " + what;
            };
        }
    }

    /**
     * A generated case: the interleaving, which input completes first, the operator's prefetch, the
     * downstream batch size ({@code 0}: unbounded) and into how many source partitions (state shards)
     * the keys are spread.
     */
    record Case(long seed, Spec spec, List<Ev> events, boolean leftCompletesFirst, int prefetch,
                int downstreamBatch, int partitions) {
    }

    /** One output element, flattened: a result, or a late record ({@code value} starts with "late"). */
    record Out(String key, String value, long ts) implements Comparable<Out> {
        @Override
        public int compareTo(Out o) {
            int c = Long.compare(ts, o.ts);
            if (c == 0) {
                c = key.compareTo(o.key);
            }
            return c != 0 ? c : value.compareTo(o.value);
        }

        @Override
        public String toString() {
            return key + " " + value + " @" + ts;
        }
    }

    /** The join function of every case: names the two records it joins ("-" for a missing side). */
    static String joined(Integer l, Integer r) {
        return (l == null ? "-" : "L" + l) + "|" + (r == null ? "-" : "R" + r);
    }

    // ------------------------------------------------------------------ the test

    @ParameterizedTest
    @EnumSource(Config.class)
    void shouldAgreeWithTheReferenceModelOnRandomInterleavings(Config config) {
        Assumptions.assumeTrue(ONLY == null || ONLY.equals(config.name()), "-Djoin=" + ONLY);
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        System.out.println("JoinReferenceModelTest[" + config + "]: base seed " + base + ", " + CASES
                + " cases (replay one case with -Djoin=" + config + " -Dseed=<seed>)");
        long t0 = System.nanoTime();
        Map<String, Integer> seen = new TreeMap<>();
        long elements = 0;
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            Case c = generate(config, seed);
            String problem = check(c, c.events(), seen);
            if (problem != null) {
                List<Ev> smallest = shrink(c.events(), candidate -> check(c, candidate, new HashMap<>()) != null);
                String detail = check(c, smallest, new HashMap<>());
                fail("join disagrees with the reference model%n  seed: %d (replay: mvn -pl streamflow-reactive test "
                                + "-Dtest=JoinReferenceModelTest -Djoin=%s -Dseed=%d)%n  join: %s; %s completes "
                                + "first; prefetch %d, downstream batch %d, %d source partition(s)%n"
                                + "  smallest failing input (%d of %d elements, in arrival order):%s%n%s",
                        seed, config, seed, c.spec(), c.leftCompletesFirst() ? "left" : "right", c.prefetch(),
                        c.downstreamBatch(), c.partitions(), smallest.size(), c.events().size(), lines(smallest),
                        Objects.requireNonNullElse(detail, "(the shrunk input passes?!) original problem:\n"
                                + problem));
            }
            elements += c.events().size();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("JoinReferenceModelTest[" + config + "]: " + CASES + " cases, " + elements
                + " input elements, in " + ms + " ms; exercised: " + seen);
        if (SEED == null && CASES >= 300) {
            // the generator must really produce what the comparison claims to cover
            List<String> wanted = new ArrayList<>(List.of("late right record", "result", "case without late records"));
            if (config.lookup != TableLookup.LATEST) {
                wanted.add("late left record"); // a LATEST lookup has no late stream records
            }
            switch (config.kind) {
                case WINDOW -> {
                    wanted.addAll(List.of("pair", "idle input"));
                    if (config.type != JoinType.INNER) {
                        wanted.add("unmatched left emitted");
                    }
                    if (config.type == JoinType.FULL_OUTER) {
                        wanted.add("unmatched right emitted");
                    }
                    if (config.sliding) {
                        wanted.add("record accepted by only some of its windows");
                    }
                }
                case INTERVAL -> {
                    wanted.addAll(List.of("pair", "positive bounds", "negative bounds", "zero bounds",
                            "mixed bounds", "pair on a bound"));
                    if (config.type == JoinType.LEFT) {
                        wanted.addAll(List.of("unmatched left emitted", "unmatched left emitted on arrival"));
                    }
                }
                case TABLE -> {
                    wanted.addAll(List.of("value found", "no value", "delete"));
                    if (config.asOf()) {
                        wanted.add("older version used");
                    }
                }
            }
            assertThat(seen).as("what the random cases of %s exercised", config).containsKeys(wanted.toArray(String[]::new));
        }
    }

    @Test
    void shouldShrinkAFailingInputToTheElementsThatMatter() {
        List<Ev> input = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            input.add(Ev.rec(i % 2 == 0, "k", i, i, i));
        }
        List<Ev> smallest = shrink(input, in -> in.stream().anyMatch(e -> e.seq() == 3)
                && in.stream().anyMatch(e -> e.seq() == 8));
        assertThat(smallest).extracting(Ev::seq).containsExactly(3, 8);
    }

    @Test
    void theModelItselfJoinsAHandWrittenExample() {
        // guards the oracle: tumbling 10 ms, left join; k@3 (L) and k@7 (R) pair in [0,10), released by J = 12;
        // L k@5 then arrives behind J (late), L k@25 is alone in [20,30) and is emitted unmatched at the end
        Spec spec = new Spec(Config.WINDOW_TUMBLING_LEFT, 10, 0, 0, 0, 0);
        List<Ev> events = List.of(Ev.rec(true, "k", 3, 0, 0), Ev.rec(false, "k", 7, 1, 1), Ev.wm(true, 19),
                Ev.wm(false, 12), Ev.rec(true, "k", 5, 2, 2), Ev.rec(true, "k", 25, 3, 3));
        Model.Expected e = Model.expected(new Case(0, spec, events, true, 256, 0, 1), events);
        assertThat(e.watermarks()).containsExactly(12L, END);
        assertThat(e.segments().get(0)).containsExactly(new Out("k", "L0|R1", 9));
        assertThat(e.segments().get(1)).containsExactlyInAnyOrder(new Out("k", "late L#2 v=2 wm=12 [0,10)", 5),
                new Out("k", "L3|-", 29));
        assertThat(e.segments().get(2)).isEmpty();
        assertThat(e.lateCount()).isEqualTo(1);
    }

    @Test
    void theModelsWatermarkIgnoresIdleInputs() {
        Spec spec = new Spec(Config.INTERVAL_INNER, 0, 0, 0, 0, 0);
        List<Ev> events = List.of(Ev.wm(true, 5), Ev.status(false, true), Ev.wm(true, 9), Ev.status(true, true),
                Ev.wm(false, 20), Ev.status(false, false), Ev.wm(false, 30), Ev.status(true, false));
        Model.Expected e = Model.expected(new Case(0, spec, events, false, 256, 0, 1), events);
        // J ignores the idle right input (W 5, W 9); both idle: one IDLE; right active again: J = 20 at once
        assertThat(e.control()).containsExactly("W 5", "W 9", "IDLE", "ACTIVE", "W 20", "W 30", "W END");
    }

    // ------------------------------------------------------------------ generation

    static Case generate(Config config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long size = 0;
        long slide = 0;
        long offset = 0;
        long lower = 0;
        long upper = 0;
        long scale;
        switch (config.kind) {
            case WINDOW -> {
                if (config.sliding) {
                    slide = pick(rnd, 1, 2, 5, 10, 25);
                    size = slide * (1 + rnd.nextInt(4));
                    if (slide > 1 && rnd.nextBoolean()) {
                        size += rnd.nextLong(1, slide); // size not a multiple of slide
                    }
                    offset = rnd.nextBoolean() ? 0 : rnd.nextLong(slide);
                } else {
                    size = pick(rnd, 1, 3, 10, 25, 50, 100);
                    offset = rnd.nextBoolean() ? 0 : rnd.nextLong(size);
                }
                scale = size;
            }
            case INTERVAL -> {
                switch (rnd.nextInt(5)) {
                    case 0 -> { // positive: right after left
                        lower = rnd.nextInt(4) == 0 ? 0 : rnd.nextLong(1, 20);
                        upper = lower + rnd.nextLong(0, 30);
                    }
                    case 1 -> { // negative: right before left
                        upper = rnd.nextInt(4) == 0 ? 0 : -rnd.nextLong(1, 20);
                        lower = upper - rnd.nextLong(0, 30);
                    }
                    case 2 -> { // zero: same timestamp only
                        lower = 0;
                        upper = 0;
                    }
                    case 3 -> { // mixed
                        lower = -rnd.nextLong(1, 25);
                        upper = rnd.nextLong(1, 25);
                    }
                    default -> { // a single point away from zero
                        lower = pick(rnd, -7, 5, 13, -1);
                        upper = lower;
                    }
                }
                scale = Math.max(1, Math.max(upper - lower, Math.max(Math.abs(lower), Math.abs(upper))));
            }
            default -> scale = pick(rnd, 3, 10, 40, 100);
        }
        Spec spec = new Spec(config, size, slide, offset, lower, upper);

        int keys = 1 + rnd.nextInt(4);
        long clock = pick(rnd, 0, 1_700_000_000_000L, -5_000, rnd.nextLong(-1_000_000, 1_000_000));
        long step = pick(rnd, 0, 1, 2, 5, scale / 4 + 1, scale);
        long[] bound = new long[2];    // bounded out-of-orderness of the watermarks, per input (0 = left)
        long[] disorder = new long[2]; // how far behind the clock records really are
        long[] lag = new long[2];      // how far one input trails the shared clock
        double[] watermarkChance = new double[2];
        double[] idleChance = new double[2];
        for (int s = 0; s < 2; s++) {
            bound[s] = pick(rnd, 0, 1, 5, scale / 2, scale, 3 * scale);
            disorder[s] = rnd.nextInt(4) == 0 ? bound[s] + pick(rnd, 1, scale, 3 * scale + 20) : bound[s];
            lag[s] = rnd.nextInt(3) != 0 ? 0 : pick(rnd, 1, scale, 2 * scale + 10);
            watermarkChance[s] = pick(rnd, 1, 3, 6, 10) / 10.0;
            idleChance[s] = pick(rnd, 0, 0, 0, 3, 10) / 100.0;
        }
        boolean[] idle = new boolean[2];
        double rightChance = config.kind == Kind.TABLE ? pick(rnd, 2, 4, 5) / 10.0 : pick(rnd, 3, 5, 7) / 10.0;
        double deleteChance = config.kind == Kind.TABLE ? pick(rnd, 0, 1, 3) / 10.0 : 0;
        int steps = 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 120 : 50);
        List<Ev> events = new ArrayList<>();
        List<List<Ev>> bySide = List.of(new ArrayList<>(), new ArrayList<>());
        long[] lastWatermark = {Long.MIN_VALUE, Long.MIN_VALUE};
        int seq = 0;
        for (int i = 0; i < steps; i++) {
            clock += rnd.nextLong(step + 1);
            if (rnd.nextInt(25) == 0) {
                clock += rnd.nextLong(1, 4 * scale + 50); // a jump: the watermark overtakes open state
            }
            boolean left = rnd.nextDouble() >= rightChance;
            int s = left ? 0 : 1;
            if (idle[s]) {
                // like a watermark assigner: active again before the input's next element
                idle[s] = false;
                events.add(Ev.status(left, false));
            } else if (rnd.nextDouble() < idleChance[s]) {
                idle[s] = true;
                events.add(Ev.status(left, true));
                continue;
            }
            if (rnd.nextInt(5) != 0) {
                long ts = clock - lag[s] - rnd.nextLong(disorder[s] + 1);
                if (rnd.nextInt(30) == 0) {
                    ts = clock - lag[s] - rnd.nextLong(1, 5 * scale + 100); // far behind: usually late
                }
                List<Ev> others = bySide.get(1 - s);
                List<Ev> own = bySide.get(s);
                if (!others.isEmpty() && rnd.nextInt(6) == 0) {
                    long t = others.get(rnd.nextInt(others.size())).ts();
                    ts = switch (config.kind) {
                        case INTERVAL -> {
                            long d = pick(rnd, lower, upper, lower - 1, upper + 1);
                            yield left ? t - d : t + d; // exactly on (or just off) a bound
                        }
                        case WINDOW -> rnd.nextBoolean() ? t : windowEdge(spec, t, rnd);
                        case TABLE -> t + pick(rnd, 0, 0, -1, 1);
                    };
                } else if (!own.isEmpty() && rnd.nextInt(8) == 0) {
                    ts = own.get(rnd.nextInt(own.size())).ts(); // equal timestamps
                }
                String key = "k" + rnd.nextInt(keys);
                Integer value = !left && rnd.nextDouble() < deleteChance ? null : seq;
                Ev e = Ev.rec(left, key, ts, value, seq++);
                events.add(e);
                own.add(e);
                if (rnd.nextDouble() >= watermarkChance[s]) {
                    continue;
                }
            }
            long w = clock - lag[s] - bound[s] - 1;
            if (w > lastWatermark[s] || (w == lastWatermark[s] && rnd.nextInt(4) == 0)) {
                lastWatermark[s] = w;
                events.add(Ev.wm(left, w));
            }
        }
        boolean leftFirst = rnd.nextBoolean();
        int prefetch = (int) pick(rnd, 256, 256, 1, 2, 7);
        int downstreamBatch = (int) pick(rnd, 0, 0, 1, 3);
        int partitions = (int) pick(rnd, 1, 1, 2, 3);
        return new Case(seed, spec, events, leftFirst, prefetch, downstreamBatch, partitions);
    }

    /** A timestamp on the edge of a window of {@code t}: a start, or a max timestamp. */
    private static long windowEdge(Spec spec, long t, SplittableRandom rnd) {
        long period = spec.config().sliding ? spec.slide() : spec.size();
        long start = t - Math.floorMod(t - spec.offset(), period);
        return rnd.nextBoolean() ? start : start + spec.size() - 1;
    }

    private static long pick(SplittableRandom rnd, long... choices) {
        return choices[rnd.nextInt(choices.length)];
    }

    // ------------------------------------------------------------------ running the real operator

    /** What came out of the operator. */
    record Actual(List<StreamElement<String, String>> output, Throwable error, boolean completed,
                  double lateCounter, double unmatchedCounter, Map<String, Long> stateSizes,
                  Map<String, Integer> versionsPerKey) {
    }

    static int partition(String key, int partitions) {
        return Math.floorMod(key.hashCode(), partitions);
    }

    static Function<Flux<StreamElement<String, Integer>>, Flux<StreamElement<String, String>>> operator(
            Spec spec, Flux<StreamElement<String, Integer>> right, OperatorSettings settings) {
        Config config = spec.config();
        BiFunction<Integer, Integer, String> joiner = JoinReferenceModelTest::joined;
        return switch (config.kind) {
            case WINDOW -> Joins.window(right, config.sliding
                            ? Windows.sliding(Duration.ofMillis(spec.size()), Duration.ofMillis(spec.slide()),
                            Duration.ofMillis(spec.offset()))
                            : Windows.tumbling(Duration.ofMillis(spec.size()), Duration.ofMillis(spec.offset())),
                    config.type, joiner, settings);
            case INTERVAL -> Joins.interval(right, Duration.ofMillis(spec.lower()), Duration.ofMillis(spec.upper()),
                    config.type, joiner, settings);
            case TABLE -> Joins.table(right, config.lookup, config.type, joiner, settings);
        };
    }

    static StreamElement<String, Integer> element(Ev e, int partitions) {
        switch (e.what()) {
            case WATERMARK:
                return Watermark.of(e.ts());
            case IDLE:
                return InputStatus.idle();
            case ACTIVE:
                return InputStatus.active();
            default:
                break;
        }
        return StreamRecord.of(e.key(), e.value(), e.ts(),
                Origin.of(e.left() ? "L" : "R", partition(e.key(), partitions), e.seq()));
    }

    static Actual run(Case c, List<Ev> events) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StateBackend backend = StateBackend.heap();
        OperatorSettings settings = OperatorSettings.named(NAME).withPipeline("p").withMeterRegistry(registry)
                .withStateBackend(backend).withPrefetch(c.prefetch());
        TestPublisher<StreamElement<String, Integer>> left = TestPublisher.create();
        TestPublisher<StreamElement<String, Integer>> right = TestPublisher.create();
        Flux<StreamElement<String, String>> joined = left.flux().transform(operator(c.spec(), right.flux(), settings));
        if (c.downstreamBatch() > 0) {
            joined = joined.limitRate(c.downstreamBatch());
        }
        List<StreamElement<String, String>> out = new ArrayList<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        AtomicBoolean completed = new AtomicBoolean();
        Disposable subscription = joined.subscribe(out::add, error::set, () -> completed.set(true));
        try {
            for (Ev e : events) {
                if (error.get() != null) {
                    break;
                }
                (e.left() ? left : right).next(element(e, c.partitions()));
            }
            Map<String, Long> sizes = new LinkedHashMap<>();
            Map<String, Integer> versions = new TreeMap<>();
            for (String state : stateNames(c.spec().config())) {
                sizes.put(state, backend.keyedState(NAME, state).size());
            }
            if (c.spec().config().kind == Kind.TABLE) {
                KeyedState<String, String, Versions<Integer>> table = backend.keyedState(NAME, "table");
                for (Ev e : events) {
                    if (e.isRecord() && !e.left()) {
                        // "rows": the table join's one namespace (TableJoinSubscriber.ROWS)
                        Versions<Integer> v = table.get(partition(e.key(), c.partitions()), "rows", e.key());
                        versions.put(e.key(), v == null ? 0 : v.size());
                    }
                }
            }
            if (error.get() == null) {
                if (c.leftCompletesFirst()) {
                    left.complete();
                    right.complete();
                } else {
                    right.complete();
                    left.complete();
                }
            }
            Counter late = registry.find("streamflow.records.late").tag("operator", NAME).counter();
            Counter unmatched = registry.find("streamflow.records.unmatched").tag("operator", NAME).counter();
            return new Actual(out, error.get(), completed.get(), late == null ? -1 : late.count(),
                    unmatched == null ? -1 : unmatched.count(), sizes, versions);
        } finally {
            subscription.dispose();
        }
    }

    static List<String> stateNames(Config config) {
        return config.kind == Kind.TABLE ? List.of("table", "waiting") : List.of("left", "right");
    }

    // ------------------------------------------------------------------ comparison

    /** @return {@code null} when the operator agrees with the model, else what differs */
    static String check(Case c, List<Ev> events, Map<String, Integer> seen) {
        Model.Expected expected = Model.expected(c, events);
        Actual actual;
        try {
            actual = run(c, events);
        } catch (Throwable t) {
            return "  running the join threw: " + stackTrace(t);
        }
        StringBuilder problems = new StringBuilder();
        if (actual.error() != null) {
            problems.append("  the join failed: ").append(stackTrace(actual.error()));
        } else if (!actual.completed()) {
            problems.append("  the join did not complete after both inputs completed\n");
        }

        // split the output at the forwarded watermarks
        List<Long> watermarks = new ArrayList<>();
        List<String> control = new ArrayList<>();
        List<List<Out>> segments = new ArrayList<>();
        segments.add(new ArrayList<>());
        int lates = 0;
        for (StreamElement<String, String> e : actual.output()) {
            if (e instanceof Watermark<?, ?> w) {
                watermarks.add(w.timestamp());
                control.add("W " + show(List.of(w.timestamp())));
                segments.add(new ArrayList<>());
            } else if (e instanceof InputStatus<?, ?> st) {
                control.add(st.isIdle() ? "IDLE" : "ACTIVE");
            } else if (e instanceof StreamRecord<String, String> r) {
                segments.get(segments.size() - 1).add(new Out(r.key(), r.value(), r.timestamp()));
            } else if (e instanceof LateRecord<?, ?> l) {
                lates++;
                segments.get(segments.size() - 1).add(lateOut(c.spec(), l));
            } else {
                problems.append("  unexpected element: ").append(e instanceof DeadLetter<?, ?> d
                        ? d + "\n" + stackTrace(d.error()) : e + "\n");
            }
        }
        if (!control.equals(expected.control())) {
            problems.append("  forwarded watermarks and idle markers: expected ").append(expected.control())
                    .append(", got ").append(control).append('\n');
        }
        List<Out> all = flatten(segments);
        List<Out> allExpected = flatten(expected.segments());
        List<Out> missing = minus(allExpected, all);
        List<Out> unexpected = minus(all, allExpected);
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            problems.append("  expected but not emitted:").append(lines(missing))
                    .append("\n  emitted but not expected:").append(lines(unexpected)).append('\n');
        } else if (watermarks.equals(expected.watermarks())) {
            // same outputs: are they released at the right moment (between the right two watermarks)?
            for (int i = 0; i < expected.segments().size(); i++) {
                List<Out> exp = expected.segments().get(i);
                List<Out> got = segments.get(i);
                if (!minus(exp, got).isEmpty() || !minus(got, exp).isEmpty()) {
                    problems.append("  released at the wrong moment: ")
                            .append(i == 0 ? "before the first watermark" : "after watermark "
                                    + show(List.of(watermarks.get(i - 1))))
                            .append(i < watermarks.size() ? " (before " + show(List.of(watermarks.get(i))) + ")" : "")
                            .append(" expected:").append(lines(sorted(exp))).append("\n    got:")
                            .append(lines(sorted(got))).append('\n');
                }
            }
        }
        if (actual.lateCounter() != lates || lates != expected.lateCount()) {
            problems.append("  streamflow.records.late is ").append(actual.lateCounter()).append(", ").append(lates)
                    .append(" late records were emitted, ").append(expected.lateCount()).append(" expected\n");
        }
        if (expected.unmatched() >= 0 && actual.unmatchedCounter() != expected.unmatched()) {
            problems.append("  streamflow.records.unmatched is ").append(actual.unmatchedCounter())
                    .append(", expected ").append(expected.unmatched()).append('\n');
        }
        for (Map.Entry<String, long[]> s : expected.state().entrySet()) {
            long size = actual.stateSizes().get(s.getKey());
            long[] range = s.getValue();
            if (size < range[0] || size > range[1]) {
                problems.append("  state '").append(s.getKey()).append("' holds ").append(size)
                        .append(" entries before the inputs complete, expected ")
                        .append(range[0] == range[1] ? "" + range[0] : "[" + range[0] + ", " + range[1] + "]")
                        .append(" (join watermark then: ").append(show(List.of(expected.watermarkBeforeEnd())))
                        .append(")\n");
            }
        }
        if (expected.versionsPerKey() != null && !expected.versionsPerKey().equals(actual.versionsPerKey())) {
            problems.append("  table versions per key before the inputs complete: expected ")
                    .append(expected.versionsPerKey()).append(", got ").append(actual.versionsPerKey())
                    .append(" (join watermark then: ").append(show(List.of(expected.watermarkBeforeEnd())))
                    .append(")\n");
        }
        if (problems.length() > 0) {
            return problems.toString();
        }
        expected.exercised().forEach(what -> seen.merge(what, 1, Integer::sum));
        if (expected.lateCount() == 0) {
            seen.merge("case without late records", 1, Integer::sum);
        }
        return null;
    }

    /** A late record as the model describes it: which input record, the watermark, for window joins the window. */
    static Out lateOut(Spec spec, LateRecord<?, ?> l) {
        StreamRecord<?, ?> r = l.record();
        String what = "late " + r.origin().source() + "#" + r.origin().position() + " v=" + r.value() + " wm="
                + show(List.of(l.watermark()))
                + (spec.config().kind == Kind.WINDOW ? " [" + l.windowStart() + "," + l.windowEnd() + ")" : "")
                + (NAME.equals(l.operator()) ? "" : " operator=" + l.operator());
        return new Out(String.valueOf(r.key()), what, r.timestamp());
    }

    private static List<Out> flatten(List<List<Out>> segments) {
        List<Out> all = new ArrayList<>();
        segments.forEach(all::addAll);
        return all;
    }

    /** Multiset difference {@code a - b}, sorted. */
    static List<Out> minus(List<Out> a, List<Out> b) {
        Map<Out, Integer> counts = new HashMap<>();
        b.forEach(o -> counts.merge(o, 1, Integer::sum));
        List<Out> rest = new ArrayList<>();
        for (Out o : a) {
            Integer n = counts.get(o);
            if (n == null || n == 0) {
                rest.add(o);
            } else {
                counts.put(o, n - 1);
            }
        }
        Collections.sort(rest);
        return rest;
    }

    private static List<Out> sorted(List<Out> l) {
        List<Out> s = new ArrayList<>(l);
        Collections.sort(s);
        return s;
    }

    static String show(List<Long> watermarks) {
        List<String> s = new ArrayList<>();
        for (long w : watermarks) {
            s.add(w == END ? "END" : w == Long.MIN_VALUE ? "MIN" : Long.toString(w));
        }
        return s.size() == 1 ? s.get(0) : s.toString();
    }

    static String lines(List<?> items) {
        StringBuilder sb = new StringBuilder();
        for (Object o : items) {
            sb.append("\n    ").append(o);
        }
        return sb.toString();
    }

    private static String stackTrace(Throwable t) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        return sw.toString();
    }

    // ------------------------------------------------------------------ shrinking

    /** Drops elements one at a time as long as the input still fails; stops when no single element can go. */
    static List<Ev> shrink(List<Ev> input, Predicate<List<Ev>> fails) {
        return io.streamflow.reactive.Shrink.smallest(input, fails);
    }

    // ------------------------------------------------------------------ the reference model

    /**
     * The join contract of the {@link Joins} javadoc as a batch computation that knows the whole
     * input. It shares no code with the operators (not even the window assignment) and keeps no
     * purged state: it replays the interleaving only to know the join watermark
     * {@code J = min(left W, right W)} at each record's arrival (so which records are late) and the
     * forwarded watermarks; every result is then computed from the complete lists of accepted records.
     * <ul>
     *   <li>Watermarks: each input's watermark is the largest it sent; when it completes it is END.
     *   {@code J} is forwarded each time it increases, after the results it releases.</li>
     *   <li>Window join: a record joins those of its windows with {@code end - 1 > J}; with none it is
     *   late. Per key and window: all (left, right) pairs; LEFT adds each left record of a window
     *   with no right record, FULL_OUTER also each right record of a window with no left record;
     *   timestamp {@code end - 1}, released at the first forwarded watermark {@code >= end - 1}.</li>
     *   <li>Interval join: a record at or behind {@code J} is late. Left {@code t} and right
     *   {@code s} of a key pair when {@code t + lower <= s <= t + upper}, with timestamp
     *   {@code max(t, s)}, released when the second of them arrives. LEFT: an accepted left record
     *   with no accepted partner is emitted with {@code null} at {@code t + max(upper, 0)}, released
     *   at the first forwarded watermark {@code >= t + upper} (at once if {@code J} is already there).</li>
     *   <li>Table join, AS_OF_EVENT_TIME: stream records and changes at or behind {@code J} are late.
     *   A stream record at {@code t} gets the value of the latest accepted change of its key with a
     *   timestamp {@code <= t} (of two at the same timestamp the later arrival), none if that is a
     *   delete; released at the first forwarded watermark {@code >= t}.</li>
     *   <li>Table join, LATEST, in arrival order: the table holds each key's newest change by
     *   timestamp, a delete being a change like any other; a change older than the key's newest
     *   change is late, and so is a change at or behind {@code J} for a key without a live row; a stream record is joined at once with the newest change's value (none if it
     *   is a delete or there is none).</li>
     *   <li>INNER table joins drop (and count as unmatched) a stream record without a value; LEFT
     *   emits it with {@code null}.</li>
     * </ul>
     */
    static final class Model {

        private Model() {
        }

        /**
         * @param segments           outputs between forwarded watermarks: [0] before the first, [i] after
         *                           the i-th
         * @param unmatched          expected {@code streamflow.records.unmatched}, {@code -1} when not checked
         * @param state              per state name, the range of entries it may hold just before the inputs
         *                           complete
         * @param versionsPerKey     table joins: versions each key of the changelog holds then (0: no entry)
         */
        record Expected(List<String> control, List<Long> watermarks, List<List<Out>> segments, int lateCount, long unmatched,
                        Map<String, long[]> state, Map<String, Integer> versionsPerKey, long watermarkBeforeEnd,
                        Set<String> exercised) {
        }

        /** An accepted record: arrival index, segment (forwarded watermarks before it) and J at its arrival. */
        record Acc(Ev ev, int arrival, int segment, long watermark, List<long[]> windows) {
        }

        static Expected expected(Case c, List<Ev> events) {
            Spec spec = c.spec();
            Config config = spec.config();
            Set<String> exercised = new HashSet<>();
            Clock clock = new Clock();
            List<Long> wms = clock.forwarded;
            List<Object[]> outs = new ArrayList<>(); // {Out, segment}
            List<Acc> lefts = new ArrayList<>();
            List<Acc> rights = new ArrayList<>();
            Map<String, Ev> newest = new HashMap<>(); // LATEST: each key's newest change
            int lateCount = 0;
            long unmatched = 0;
            for (int i = 0; i < events.size(); i++) {
                Ev e = events.get(i);
                if (!e.isRecord()) {
                    clock.on(e);
                    if (e.what() == What.IDLE) {
                        exercised.add("idle input");
                    }
                    continue;
                }
                long j = clock.j;
                int segment = wms.size();
                List<long[]> windows = null;
                boolean late;
                String lateRange = "";
                switch (config.kind) {
                    case WINDOW -> {
                        List<long[]> all = windowsOf(spec, e.ts());
                        windows = new ArrayList<>();
                        for (long[] w : all) {
                            if (w[1] - 1 > j) {
                                windows.add(w);
                            }
                        }
                        late = windows.isEmpty();
                        if (!late && windows.size() < all.size()) {
                            exercised.add("record accepted by only some of its windows");
                        }
                        long[] latest = all.get(all.size() - 1);
                        lateRange = " [" + latest[0] + "," + latest[1] + ")";
                    }
                    case INTERVAL -> late = e.ts() <= j;
                    default -> {
                        if (config.asOf()) {
                            late = e.ts() <= j;
                        } else if (e.left()) {
                            late = false;
                            Ev row = newest.get(e.key());
                            Integer value = row == null ? null : row.value();
                            if (value == null && config.type == JoinType.INNER) {
                                unmatched++;
                                exercised.add("no value");
                            } else {
                                outs.add(new Object[] {new Out(e.key(), joined(e.value(), value), e.ts()), segment});
                                exercised.add(value == null ? "no value" : "value found");
                                exercised.add("result");
                            }
                        } else {
                            Ev row = newest.get(e.key());
                            boolean live = row != null && row.value() != null;
                            // older than the key's newest change, or behind J without a live row (a
                            // tombstone is only kept until the watermark passes it)
                            late = row != null && e.ts() < row.ts() || !live && e.ts() <= j;
                            if (!late) {
                                newest.put(e.key(), e);
                                if (e.value() == null) {
                                    exercised.add("delete");
                                }
                            }
                        }
                    }
                }
                if (late) {
                    lateCount++;
                    exercised.add(e.left() ? "late left record" : "late right record");
                    outs.add(new Object[] {new Out(e.key(), "late " + e.side() + "#" + e.seq() + " v=" + e.value()
                            + " wm=" + show(List.of(j)) + lateRange, e.ts()), segment});
                } else {
                    (e.left() ? lefts : rights).add(new Acc(e, i, segment, j, windows));
                }
            }
            long beforeEnd = clock.j;
            clock.on(Ev.wm(c.leftCompletesFirst(), END)); // a completed input's watermark is END
            clock.on(Ev.wm(!c.leftCompletesFirst(), END));

            Map<String, long[]> state = new LinkedHashMap<>();
            Map<String, Integer> versionsPerKey = null;
            switch (config.kind) {
                case WINDOW -> unmatched = windowJoin(spec, lefts, rights, wms, outs, state, beforeEnd, exercised);
                case INTERVAL -> unmatched = intervalJoin(spec, lefts, rights, wms, outs, state, beforeEnd, exercised);
                case TABLE -> {
                    versionsPerKey = new TreeMap<>();
                    for (Ev e : events) {
                        if (e.isRecord() && !e.left()) {
                            versionsPerKey.put(e.key(), 0);
                        }
                    }
                    if (config.asOf()) {
                        unmatched = asOfJoin(spec, lefts, rights, wms, outs, state, versionsPerKey, beforeEnd,
                                exercised);
                    } else {
                        // one row per key whose newest change is not a delete; a deleted key may keep a
                        // tombstone (its delete's timestamp) or not
                        long live = newest.values().stream().filter(row -> row.value() != null).count();
                        state.put("table", new long[] {live, newest.size()});
                        state.put("waiting", exact(0));
                        versionsPerKey = null;
                    }
                    if (config.type == JoinType.LEFT) {
                        unmatched = -1; // LEFT emits what INNER counts
                    }
                }
            }
            if (!lefts.isEmpty() && !rights.isEmpty()) {
                exercised.add("both inputs accepted records");
            }

            List<List<Out>> segments = new ArrayList<>();
            for (int i = 0; i <= wms.size(); i++) {
                segments.add(new ArrayList<>());
            }
            for (Object[] o : outs) {
                segments.get((Integer) o[1]).add((Out) o[0]);
            }
            return new Expected(clock.control, wms, segments, lateCount, unmatched, state, versionsPerKey, beforeEnd,
                    exercised);
        }

        /**
         * The join watermark {@code J}: each input's watermark is the largest it sent (END once it
         * completed); {@code J} is their minimum over the inputs that are not idle, never goes back,
         * and is forwarded whenever it increases. An input is idle from its idle marker to its next
         * active marker (or END). When both are idle, the join forwards one idle marker, and an active
         * marker when one of them is active again.
         */
        static final class Clock {
            final long[] input = {Long.MIN_VALUE, Long.MIN_VALUE};
            final boolean[] idle = new boolean[2];
            boolean idleForwarded;
            long j = Long.MIN_VALUE;
            final List<Long> forwarded = new ArrayList<>();
            /** Forwarded watermarks and markers, in order. */
            final List<String> control = new ArrayList<>();

            void on(Ev e) {
                int s = e.left() ? 0 : 1;
                switch (e.what()) {
                    case WATERMARK -> {
                        input[s] = Math.max(input[s], e.ts());
                        if (e.ts() == END) {
                            idle[s] = false;
                        }
                    }
                    case IDLE -> idle[s] = true;
                    case ACTIVE -> idle[s] = false;
                    default -> throw new IllegalArgumentException(e.toString());
                }
                if (idle[0] && idle[1]) {
                    if (!idleForwarded) {
                        idleForwarded = true;
                        control.add("IDLE");
                    }
                    return;
                }
                if (idleForwarded) {
                    idleForwarded = false;
                    control.add("ACTIVE");
                }
                long m = idle[0] ? input[1] : idle[1] ? input[0] : Math.min(input[0], input[1]);
                if (m > j) {
                    j = m;
                    forwarded.add(j);
                    control.add("W " + show(List.of(j)));
                }
            }
        }

        /** Windows of {@code ts} as {start, end}, ascending. */
        static List<long[]> windowsOf(Spec spec, long ts) {
            List<long[]> out = new ArrayList<>();
            if (!spec.config().sliding) {
                long start = ts - Math.floorMod(ts - spec.offset(), spec.size());
                out.add(new long[] {start, start + spec.size()});
                return out;
            }
            // every start = offset (mod slide) with start <= ts < start + size
            long first = ts - spec.size() + 1;
            long start = first + Math.floorMod(spec.offset() - first, spec.slide());
            for (; start <= ts; start += spec.slide()) {
                out.add(new long[] {start, start + spec.size()});
            }
            return out;
        }

        /** Index of the first forwarded watermark {@code >= t} (the segment of what it releases). */
        static int releasedBy(List<Long> wms, long t) {
            for (int i = 0; i < wms.size(); i++) {
                if (wms.get(i) >= t) {
                    return i;
                }
            }
            throw new AssertionError("no watermark reaches " + t + ": " + wms);
        }

        private static long windowJoin(Spec spec, List<Acc> lefts, List<Acc> rights, List<Long> wms,
                                       List<Object[]> outs, Map<String, long[]> state, long beforeEnd,
                                       Set<String> exercised) {
            JoinType type = spec.config().type;
            // (key, start, end) -> records of each side
            Map<List<Object>, List<Acc>> l = new LinkedHashMap<>();
            Map<List<Object>, List<Acc>> r = new LinkedHashMap<>();
            for (Acc a : lefts) {
                for (long[] w : a.windows()) {
                    l.computeIfAbsent(List.of(a.ev().key(), w[0], w[1]), x -> new ArrayList<>()).add(a);
                }
            }
            for (Acc a : rights) {
                for (long[] w : a.windows()) {
                    r.computeIfAbsent(List.of(a.ev().key(), w[0], w[1]), x -> new ArrayList<>()).add(a);
                }
            }
            Set<List<Object>> all = new java.util.LinkedHashSet<>(l.keySet());
            all.addAll(r.keySet());
            long unmatched = 0;
            for (List<Object> kw : all) {
                String key = (String) kw.get(0);
                long maxTs = (Long) kw.get(2) - 1;
                int segment = releasedBy(wms, maxTs);
                List<Acc> ls = l.getOrDefault(kw, List.of());
                List<Acc> rs = r.getOrDefault(kw, List.of());
                if (!ls.isEmpty() && !rs.isEmpty()) {
                    for (Acc a : ls) {
                        for (Acc b : rs) {
                            outs.add(new Object[] {new Out(key, joined(a.ev().value(), b.ev().value()), maxTs),
                                    segment});
                            exercised.add("pair");
                        }
                    }
                } else if (!ls.isEmpty()) {
                    if (type == JoinType.INNER) {
                        unmatched += ls.size();
                    } else {
                        for (Acc a : ls) {
                            outs.add(new Object[] {new Out(key, joined(a.ev().value(), null), maxTs), segment});
                            exercised.add("unmatched left emitted");
                        }
                    }
                } else {
                    if (type == JoinType.FULL_OUTER) {
                        for (Acc b : rs) {
                            outs.add(new Object[] {new Out(key, joined(null, b.ev().value()), maxTs), segment});
                            exercised.add("unmatched right emitted");
                        }
                    } else {
                        unmatched += rs.size();
                    }
                }
            }
            if (!outs.isEmpty()) {
                exercised.add("result");
            }
            // state: one entry per (input, window, key) of a window that has not fired yet
            state.put("left", exact(l.keySet().stream().filter(kw -> (Long) kw.get(2) - 1 > beforeEnd).count()));
            state.put("right", exact(r.keySet().stream().filter(kw -> (Long) kw.get(2) - 1 > beforeEnd).count()));
            // a sliding record is in several windows: "records without a match" is only clear for tumbling ones
            return type == JoinType.INNER && !spec.config().sliding ? unmatched : -1;
        }

        private static long intervalJoin(Spec spec, List<Acc> lefts, List<Acc> rights, List<Long> wms,
                                         List<Object[]> outs, Map<String, long[]> state, long beforeEnd,
                                         Set<String> exercised) {
            long lower = spec.lower();
            long upper = spec.upper();
            exercised.add(lower == 0 && upper == 0 ? "zero bounds" : lower >= 0 ? "positive bounds"
                    : upper <= 0 ? "negative bounds" : "mixed bounds");
            Set<Acc> matchedRight = new HashSet<>();
            long unmatched = 0;
            List<Acc> storedLefts = new ArrayList<>();
            for (Acc a : lefts) {
                long t = a.ev().ts();
                boolean matched = false;
                for (Acc b : rights) {
                    long s = b.ev().ts();
                    if (b.ev().key().equals(a.ev().key()) && s >= t + lower && s <= t + upper) {
                        matched = true;
                        matchedRight.add(b);
                        outs.add(new Object[] {new Out(a.ev().key(), joined(a.ev().value(), b.ev().value()),
                                Math.max(t, s)), Math.max(a.segment(), b.segment())});
                        exercised.add("pair");
                        if (s == t + lower || s == t + upper) {
                            exercised.add("pair on a bound");
                        }
                    }
                }
                boolean emittedOnArrival = false;
                if (!matched) {
                    if (spec.config().type == JoinType.LEFT) {
                        int segment = Math.max(a.segment(), releasedBy(wms, t + upper));
                        emittedOnArrival = t + upper <= a.watermark();
                        outs.add(new Object[] {new Out(a.ev().key(), joined(a.ev().value(), null),
                                t + Math.max(upper, 0)), segment});
                        exercised.add(emittedOnArrival ? "unmatched left emitted on arrival" : "unmatched left emitted");
                    } else {
                        unmatched++;
                    }
                }
                if (!emittedOnArrival) {
                    storedLefts.add(a);
                }
            }
            for (Acc b : rights) {
                if (!matchedRight.contains(b)) {
                    unmatched++;
                }
            }
            if (!outs.isEmpty()) {
                exercised.add("result");
            }
            // state: (input, time bucket, key) entries, buckets upper - lower + 1 wide (IntervalJoinSubscriber);
            // at least the buckets of rows that can still match, at most those of buckets not yet expired
            // (plus rows that arrived after the last watermark step, which have not been checked since)
            long width = upper - lower + 1;
            state.put("left", bucketRange(storedLefts, width, upper, beforeEnd, wms));
            state.put("right", bucketRange(rights, width, -lower, beforeEnd, wms));
            return spec.config().type == JoinType.INNER ? unmatched : -1;
        }

        /** Entries of the rows of one interval-join input; a row at {@code ts} can match while {@code ts + reach > W}. */
        private static long[] bucketRange(List<Acc> rows, long width, long reach, long beforeEnd, List<Long> wms) {
            Set<List<Object>> alive = new HashSet<>();
            Set<List<Object>> possible = new HashSet<>();
            int steps = (int) wms.stream().filter(w -> w <= beforeEnd).count();
            for (Acc a : rows) {
                long b = Math.floorDiv(a.ev().ts(), width);
                List<Object> id = List.of(a.ev().key(), b);
                if (a.ev().ts() + reach > beforeEnd) {
                    alive.add(id);
                }
                if ((b + 1) * width - 1 + reach > beforeEnd || a.segment() == steps) {
                    possible.add(id);
                }
            }
            return new long[] {alive.size(), possible.size()};
        }

        private static long asOfJoin(Spec spec, List<Acc> lefts, List<Acc> rights, List<Long> wms,
                                     List<Object[]> outs, Map<String, long[]> state,
                                     Map<String, Integer> versionsPerKey, long beforeEnd, Set<String> exercised) {
            long unmatched = 0;
            for (Acc a : lefts) {
                long t = a.ev().ts();
                Acc version = null;
                for (Acc b : rights) {
                    if (b.ev().key().equals(a.ev().key()) && b.ev().ts() <= t
                            && (version == null || b.ev().ts() > version.ev().ts()
                            || (b.ev().ts() == version.ev().ts() && b.arrival() > version.arrival()))) {
                        version = b;
                    }
                }
                Integer value = version == null ? null : version.ev().value();
                long versionTs = version == null ? Long.MIN_VALUE : version.ev().ts();
                if (value != null && rights.stream().anyMatch(b -> b.ev().key().equals(a.ev().key())
                        && b.ev().ts() > versionTs)) {
                    exercised.add("older version used");
                }
                int segment = Math.max(a.segment(), releasedBy(wms, t));
                if (value == null && spec.config().type == JoinType.INNER) {
                    unmatched++;
                    exercised.add("no value");
                    continue;
                }
                exercised.add(value == null ? "no value" : "value found");
                exercised.add("result");
                outs.add(new Object[] {new Out(a.ev().key(), joined(a.ev().value(), value), t), segment});
            }
            for (Acc b : rights) {
                if (b.ev().value() == null) {
                    exercised.add("delete");
                }
            }
            // waiting: one entry per (timestamp, key) of stream records the watermark has not reached
            Set<List<Object>> waiting = new HashSet<>();
            for (Acc a : lefts) {
                if (a.ev().ts() > beforeEnd) {
                    waiting.add(List.of(a.ev().key(), a.ev().ts()));
                }
            }
            state.put("waiting", exact(waiting.size()));
            // table: per key, the versions after the watermark, plus the one valid at it unless that is a delete
            long rows = 0;
            Map<String, List<Acc>> byKey = new TreeMap<>();
            for (Acc b : rights) {
                byKey.computeIfAbsent(b.ev().key(), x -> new ArrayList<>()).add(b);
            }
            for (Map.Entry<String, List<Acc>> e : byKey.entrySet()) {
                Set<Long> later = new HashSet<>();
                Acc valid = null;
                for (Acc b : e.getValue()) {
                    long ts = b.ev().ts();
                    if (ts > beforeEnd) {
                        later.add(ts);
                    } else if (valid == null || ts > valid.ev().ts()
                            || (ts == valid.ev().ts() && b.arrival() > valid.arrival())) {
                        valid = b;
                    }
                }
                int versions = later.size() + (valid != null && valid.ev().value() != null ? 1 : 0);
                versionsPerKey.put(e.getKey(), versions);
                rows += versions > 0 ? 1 : 0;
            }
            state.put("table", exact(rows));
            return unmatched;
        }

        private static long[] exact(long n) {
            return new long[] {n, n};
        }
    }
}
