package io.streamflow.reactive.join;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.InputStatus;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.window.TimeWindowAssigner;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Focused behaviour of the joins ({@link Joins}): bounded state, late records, the join
 * watermark, idle inputs, the error policy, records without a key, configuration errors,
 * backpressure. The random comparison with a model is {@link JoinReferenceModelTest}.
 */
class JoinBehaviourTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final BiFunction<String, String, String> JOIN = (l, r) -> l + "|" + r;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private OperatorSettings settings(String name) {
        return OperatorSettings.named(name).withPipeline("p").withMeterRegistry(registry);
    }

    private double counter(String meter, String operator) {
        Counter c = registry.find(meter).tag("operator", operator).tag("pipeline", "p").counter();
        return c == null ? 0 : c.count();
    }

    private double stateEntriesGauge(String operator) {
        Gauge g = registry.find("streamflow.state.entries").tag("operator", operator).gauge();
        assertThat(g).as("streamflow.state.entries of %s", operator).isNotNull();
        return g.value();
    }

    private static StreamRecord<String, String> rec(String key, String value, long ts) {
        return StreamRecord.of(key, value, ts);
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    /** Both inputs driven from the test thread (so the operator sees exactly the order of the calls), outputs collected. */
    private static final class Run {
        final TestPublisher<StreamElement<String, String>> left = TestPublisher.create();
        final TestPublisher<StreamElement<String, String>> right = TestPublisher.create();
        private final List<StreamElement<String, String>> out = new ArrayList<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final AtomicBoolean completed = new AtomicBoolean();
        private final Disposable subscription;

        Run(BiFunction<Flux<StreamElement<String, String>>, Flux<StreamElement<String, String>>,
                Flux<StreamElement<String, String>>> join) {
            subscription = join.apply(left.flux(), right.flux()).subscribe(out::add, error::set,
                    () -> completed.set(true));
        }

        @SafeVarargs
        final Run left(StreamElement<String, String>... elements) {
            for (StreamElement<String, String> e : elements) {
                left.next(e);
            }
            return this;
        }

        @SafeVarargs
        final Run right(StreamElement<String, String>... elements) {
            for (StreamElement<String, String> e : elements) {
                right.next(e);
            }
            return this;
        }

        /** @return what came out since the last call */
        List<StreamElement<String, String>> take() {
            assertThat(error.get()).as("the join failed").isNull();
            List<StreamElement<String, String>> taken = new ArrayList<>(out);
            out.clear();
            return taken;
        }

        void completeBoth() {
            left.complete();
            right.complete();
            assertThat(completed).as("the join completed").isTrue();
            subscription.dispose();
        }
    }

    private static List<Object> records(List<StreamElement<String, String>> elements) {
        List<Object> out = new ArrayList<>();
        for (StreamElement<String, String> e : elements) {
            if (e instanceof StreamRecord<String, String> r) {
                out.add(r.key() + " " + r.value() + " @" + r.timestamp());
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ (a) bounded state

    @Test
    void windowJoinStateIsEmptyOnceEveryWindowHasFired() {
        StateBackend backend = StateBackend.heap();
        OperatorSettings settings = settings("wj").withStateBackend(backend);
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.FULL_OUTER, JOIN,
                settings)));
        KeyedState<?, ?, ?> left = backend.keyedState("wj", "left");
        KeyedState<?, ?, ?> right = backend.keyedState("wj", "right");

        run.left(rec("a", "l1", 1), rec("b", "l2", 5), rec("a", "l3", 15)).right(rec("a", "r1", 3), rec("c", "r2", 12));
        assertThat(left.size()).as("left: (a,[0,10)), (b,[0,10)), (a,[10,20))").isEqualTo(3);
        assertThat(right.size()).as("right: (a,[0,10)), (c,[10,20))").isEqualTo(2);

        run.left(Watermark.of(9)).right(Watermark.of(9));
        assertThat(records(run.take())).containsExactlyInAnyOrder("a l1|r1 @9", "b l2|null @9");
        assertThat(left.size()).isEqualTo(1);
        assertThat(right.size()).isEqualTo(1);
        assertThat(stateEntriesGauge("wj")).isEqualTo(2.0);

        run.left(Watermark.of(19)).right(Watermark.of(25));
        assertThat(records(run.take())).containsExactlyInAnyOrder("a l3|null @19", "c null|r2 @19");
        assertThat(left.size()).isZero();
        assertThat(right.size()).isZero();
        assertThat(stateEntriesGauge("wj")).isZero();
        run.completeBoth();
    }

    @Test
    void slidingWindowJoinStateIsEmptyOnceEveryWindowHasFired() {
        StateBackend backend = StateBackend.heap();
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.sliding(ms(30), ms(10)), JoinType.INNER, JOIN,
                settings("sj").withStateBackend(backend))));
        run.left(rec("a", "l1", 25)).right(rec("a", "r1", 27));
        assertThat(backend.keyedState("sj", "left").size()).as("[0,30), [10,40), [20,50)").isEqualTo(3);
        run.left(Watermark.of(39)).right(Watermark.of(39));
        assertThat(records(run.take())).containsExactlyInAnyOrder("a l1|r1 @29", "a l1|r1 @39");
        assertThat(backend.keyedState("sj", "left").size()).isEqualTo(1);
        run.left(Watermark.of(49)).right(Watermark.of(49));
        assertThat(records(run.take())).containsExactly("a l1|r1 @49");
        assertThat(backend.keyedState("sj", "left").size()).isZero();
        assertThat(backend.keyedState("sj", "right").size()).isZero();
        assertThat(stateEntriesGauge("sj")).isZero();
        run.completeBoth();
    }

    @Test
    void intervalJoinStateIsEmptyOnceNoMatchIsPossible() {
        StateBackend backend = StateBackend.heap();
        Run run = new Run((l, r) -> l.transform(Joins.interval(r, ms(-5), ms(10), JoinType.LEFT, JOIN,
                settings("ij").withStateBackend(backend))));
        KeyedState<?, ?, ?> left = backend.keyedState("ij", "left");
        KeyedState<?, ?, ?> right = backend.keyedState("ij", "right");
        run.left(rec("a", "l1", 100), rec("b", "l2", 100)).right(rec("a", "r1", 104), rec("a", "r2", 300));
        assertThat(records(run.take())).containsExactly("a l1|r1 @104");
        assertThat(left.size() + right.size()).isPositive();

        // l2 can match nothing once W >= 110, r1 once W >= 109
        run.left(Watermark.of(150)).right(Watermark.of(150));
        assertThat(records(run.take())).containsExactly("b l2|null @110");
        assertThat(left.size()).isZero();
        assertThat(right.size()).as("r2 @300 can still match a left record in [290, 305]").isEqualTo(1);

        run.left(Watermark.of(1_000)).right(Watermark.of(1_000));
        assertThat(left.size()).isZero();
        assertThat(right.size()).isZero();
        assertThat(stateEntriesGauge("ij")).isZero();
        run.completeBoth();
    }

    @Test
    void asOfTableJoinKeepsOnlyTheVersionValidAtTheWatermarkPerLiveKey() {
        StateBackend backend = StateBackend.heap();
        Run run = new Run((l, r) -> l.transform(Joins.table(r, TableLookup.AS_OF_EVENT_TIME, JoinType.LEFT, JOIN,
                settings("tj").withStateBackend(backend))));
        KeyedState<String, String, Versions<String>> table = backend.keyedState("tj", "table");
        KeyedState<?, ?, ?> waiting = backend.keyedState("tj", "waiting");

        run.right(rec("k1", "v1", 10), rec("k1", "v2", 20), rec("k1", "v3", 30), rec("k2", "x", 5),
                rec("k2", null, 15), rec("k3", "y", 40));
        run.left(rec("k1", "s", 25), rec("k2", "s", 12), rec("k2", "s", 16));
        assertThat(waiting.size()).isEqualTo(3);
        assertThat(run.take()).as("stream records wait for the watermark").isEmpty();

        run.left(Watermark.of(35)).right(Watermark.of(35));
        assertThat(records(run.take())).containsExactlyInAnyOrder("k1 s|v2 @25", "k2 s|x @12", "k2 s|null @16");
        assertThat(waiting.size()).isZero();
        // the rows 'tj/table' ("rows" is the table join's namespace): k1 keeps v3 only, k2 (deleted) nothing,
        // k3 its future version
        assertThat(table.size()).isEqualTo(2);
        assertThat(table.get(0, "rows", "k1").size()).isEqualTo(1);
        assertThat(table.get(0, "rows", "k1").valueAt(35)).isEqualTo("v3");
        assertThat(table.get(0, "rows", "k2")).isNull();
        assertThat(table.get(0, "rows", "k3").size()).isEqualTo(1);
        assertThat(stateEntriesGauge("tj")).isEqualTo(2.0);

        run.right(rec("k1", "v4", 50), rec("k1", "v5", 60));
        run.left(Watermark.of(100)).right(Watermark.of(100));
        assertThat(table.get(0, "rows", "k1").size()).isEqualTo(1);
        assertThat(table.get(0, "rows", "k1").valueAt(100)).isEqualTo("v5");
        assertThat(table.size()).isEqualTo(2);
        run.completeBoth();
    }

    @Test
    void latestTableJoinKeepsOneEntryPerKeyNotPerChange() {
        StateBackend backend = StateBackend.heap();
        Run run = new Run((l, r) -> l.transform(Joins.table(r, TableLookup.LATEST, JoinType.INNER, JOIN,
                settings("lj").withStateBackend(backend))));
        run.right(rec("k1", "v1", 10), rec("k1", "v2", 20), rec("k1", "v3", 30), rec("k2", "x", 5),
                rec("k2", null, 15));
        // k1's row; k2 deleted (at most its tombstone)
        assertThat(backend.keyedState("lj", "table").size()).isBetween(1L, 2L);
        assertThat(backend.<String, String, Versions<String>>keyedState("lj", "table").get(0, "rows", "k1").size())
                .as("only the newest version of k1").isEqualTo(1);
        assertThat(backend.keyedState("lj", "waiting").size()).isZero();
        run.left(rec("k1", "s", 1), rec("k2", "s", 1));
        assertThat(records(run.take())).containsExactly("k1 s|v3 @1");
        assertThat(counter("streamflow.records.unmatched", "lj")).isEqualTo(1.0);
        run.completeBoth();
    }

    // ------------------------------------------------------------------ (b) late records

    @Test
    void aWindowJoinRecordWhoseWindowsHaveAllFiredGoesToTheLateOutputAndIsCounted() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.LEFT, JOIN,
                settings("wj"))));
        run.left(Watermark.of(100)).right(Watermark.of(100));
        assertThat(run.take()).containsExactly(Watermark.of(100));

        StreamRecord<String, String> lateLeft = StreamRecord.of("a", "x", 50, Origin.of("src", 0, 7));
        StreamRecord<String, String> lateRight = rec("a", "y", 99);
        StreamRecord<String, String> onTime = rec("a", "z", 101);
        run.left(lateLeft).right(lateRight, onTime);
        List<StreamElement<String, String>> out = run.take();
        assertThat(out).hasSize(2).allMatch(e -> e instanceof LateRecord<?, ?>);
        LateRecord<?, ?> l = (LateRecord<?, ?>) out.get(0);
        assertThat(l.record()).isEqualTo(lateLeft);
        assertThat(l.operator()).isEqualTo("wj");
        assertThat(l.watermark()).isEqualTo(100);
        assertThat(l.windowStart()).isEqualTo(50);
        assertThat(l.windowEnd()).isEqualTo(60);
        LateRecord<?, ?> r = (LateRecord<?, ?>) out.get(1);
        assertThat(r.record()).as("its window [90,100) fired at 99 <= 100").isEqualTo(lateRight);
        assertThat(r.windowStart()).isEqualTo(90);
        assertThat(counter("streamflow.records.late", "wj")).isEqualTo(2.0);

        run.left(rec("a", "w", 105));
        run.completeBoth();
        assertThat(records(run.take())).as("the late records joined nothing").containsExactly("a w|z @109");
    }

    @Test
    void aSlidingRecordThatStillFitsSomeOpenWindowsJoinsInThoseOnlyAndIsNotLate() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.sliding(ms(30), ms(10)), JoinType.INNER, JOIN,
                settings("sw"))));
        run.left(Watermark.of(35)).right(Watermark.of(35));
        run.take();
        // windows of 20 and 22: [0,30) (fired: 29 <= 35), [10,40), [20,50)
        run.left(rec("k", "l", 20)).right(rec("k", "r", 22));
        assertThat(run.take()).isEmpty();
        run.completeBoth();
        assertThat(records(run.take())).containsExactlyInAnyOrder("k l|r @39", "k l|r @49");
        assertThat(counter("streamflow.records.late", "sw")).isZero();
    }

    @Test
    void intervalJoinRecordsAtOrBehindTheWatermarkAreLate() {
        Run run = new Run((l, r) -> l.transform(Joins.interval(r, ms(0), ms(10), JoinType.INNER, JOIN,
                settings("ij"))));
        run.left(rec("k", "l1", 95)).left(Watermark.of(100)).right(Watermark.of(100));
        run.take();
        // r @100 would match l1 (95 + [0, 10]) but it is at the watermark: late, not joined
        StreamRecord<String, String> r = rec("k", "r", 100);
        StreamRecord<String, String> l = rec("k", "l2", 90);
        run.right(r).left(l).right(rec("k", "r2", 101));
        List<StreamElement<String, String>> out = run.take();
        assertThat(out).hasSize(3);
        assertThat(((LateRecord<?, ?>) out.get(0)).record()).isEqualTo(r);
        assertThat(((LateRecord<?, ?>) out.get(0)).watermark()).isEqualTo(100);
        assertThat(((LateRecord<?, ?>) out.get(1)).record()).isEqualTo(l);
        assertThat(records(out)).containsExactly("k l1|r2 @101");
        assertThat(counter("streamflow.records.late", "ij")).isEqualTo(2.0);
        run.completeBoth();
    }

    @Test
    void asOfTableJoinStreamRecordsAndChangesAtOrBehindTheWatermarkAreLate() {
        Run run = new Run((l, r) -> l.transform(Joins.table(r, TableLookup.AS_OF_EVENT_TIME, JoinType.LEFT, JOIN,
                settings("tj"))));
        run.right(rec("k", "v1", 10)).left(Watermark.of(50)).right(Watermark.of(50));
        run.take();
        StreamRecord<String, String> lateChange = rec("k", "v0", 50);
        StreamRecord<String, String> lateStream = rec("k", "s", 40);
        run.right(lateChange).left(lateStream).left(rec("k", "t", 55));
        List<StreamElement<String, String>> out = run.take();
        assertThat(out).hasSize(2);
        assertThat(((LateRecord<?, ?>) out.get(0)).record()).isEqualTo(lateChange);
        assertThat(((LateRecord<?, ?>) out.get(1)).record()).isEqualTo(lateStream);
        assertThat(counter("streamflow.records.late", "tj")).isEqualTo(2.0);
        run.completeBoth();
        assertThat(records(run.take())).as("the late change did not replace v1").containsExactly("k t|v1 @55");
    }

    @Test
    void latestTableJoinAChangeOlderThanTheRowIsLateButAStreamRecordNeverIs() {
        Run run = new Run((l, r) -> l.transform(Joins.table(r, TableLookup.LATEST, JoinType.LEFT, JOIN,
                settings("lj"))));
        run.right(rec("k", "v2", 20)).left(Watermark.of(100)).right(Watermark.of(100));
        run.take();
        StreamRecord<String, String> older = rec("k", "v1", 10);
        run.right(older, rec("k", "v3", 20)).left(rec("k", "s", 5));
        List<StreamElement<String, String>> out = run.take();
        assertThat(out).hasSize(2);
        assertThat(((LateRecord<?, ?>) out.get(0)).record()).isEqualTo(older);
        assertThat(records(out)).as("same timestamp replaces; the stream record is joined at once, even behind the "
                + "watermark").containsExactly("k s|v3 @5");
        assertThat(counter("streamflow.records.late", "lj")).isEqualTo(1.0);
        run.completeBoth();
    }

    /**
     * The LATEST table keeps "each key's newest change (by timestamp)" and a delete is a change: a
     * change older than the delete, arriving after it, must not bring the row back.
     */
    @Test
    void latestLookupDoesNotResurrectADeletedRowWithAnOlderChange() {
        Run run = new Run((l, r) -> l.transform(Joins.table(r, TableLookup.LATEST, JoinType.LEFT, JOIN,
                settings("lj"))));
        run.right(rec("k", "v1", 10), rec("k", null, 20), rec("k", "stale", 15));
        run.left(rec("k", "s", 30));
        assertThat(records(run.take())).as("the newest change of k (by timestamp) is the delete @20")
                .containsExactly("k s|null @30");
        assertThat(counter("streamflow.records.late", "lj")).as("the change @15 is older than the delete @20")
                .isEqualTo(1.0);
        run.completeBoth();
    }

    // ------------------------------------------------------------------ (c) the join watermark

    @Test
    void theJoinWatermarkIsTheMinimumOfBothInputs() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.INNER, JOIN,
                settings("wj"))));
        run.left(rec("k", "l", 1)).right(rec("k", "r", 2));
        run.left(Watermark.of(100));
        assertThat(run.take()).as("the right input still holds the join back").isEmpty();

        run.right(Watermark.of(50));
        List<StreamElement<String, String>> out = run.take();
        assertThat(out).hasSize(2);
        assertThat(records(out)).containsExactly("k l|r @9");
        assertThat(out.get(1)).as("forwarded after the results it releases").isEqualTo(Watermark.of(50));

        run.right(Watermark.of(200));
        assertThat(run.take()).containsExactly(Watermark.of(100));
        run.left(Watermark.of(100), Watermark.of(150));
        assertThat(run.take()).containsExactly(Watermark.of(150));
        run.completeBoth();
        assertThat(run.take()).as("left completes first: J = min(END, 200), then END")
                .containsExactly(Watermark.of(200), Watermark.end());
    }

    @Test
    void whenOneInputCompletesTheJoinWatermarkIsTheOthers() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.INNER, JOIN,
                settings("wj"))));
        run.left(rec("k", "l1", 1), rec("k", "l2", 31)).right(rec("k", "r1", 2), rec("k", "r2", 32), Watermark.of(20));
        run.left.complete();
        List<StreamElement<String, String>> out = run.take();
        assertThat(records(out)).containsExactly("k l1|r1 @9");
        assertThat(out).hasSize(2).last().isEqualTo(Watermark.of(20));
        run.right.complete();
        out = run.take();
        assertThat(records(out)).containsExactly("k l2|r2 @39");
        assertThat(out).hasSize(2).last().isEqualTo(Watermark.end());
        assertThat(run.completed).isTrue();
    }

    @Test
    void aGlobalWindowJoinFiresAtTheEndOfInput() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.global(), JoinType.LEFT, JOIN,
                settings("gj"))));
        run.left(rec("k", "l1", 1), rec("k", "l2", 1_000_000), rec("x", "l3", 5)).right(rec("k", "r", -7));
        run.left(Watermark.of(Long.MAX_VALUE - 2)).right(Watermark.of(Long.MAX_VALUE - 2));
        assertThat(records(run.take())).isEmpty();
        run.completeBoth();
        long maxTs = Long.MAX_VALUE - 1;
        assertThat(records(run.take())).containsExactlyInAnyOrder("k l1|r @" + maxTs, "k l2|r @" + maxTs,
                "x l3|null @" + maxTs);
    }

    @Test
    void aCalendarDayWindowJoinUsesTheRealLengthOfTheDay() {
        ZoneId berlin = ZoneId.of("Europe/Berlin");
        long dayStart = LocalDate.of(2024, 3, 31).atStartOfDay(berlin).toInstant().toEpochMilli(); // 23 hours
        long nextDay = LocalDate.of(2024, 4, 1).atStartOfDay(berlin).toInstant().toEpochMilli();
        assertThat(nextDay - dayStart).isEqualTo(23 * 3_600_000L);
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.calendarDays(berlin), JoinType.INNER, JOIN,
                settings("cj"))));
        run.left(rec("k", "l", dayStart)).right(rec("k", "r", nextDay - 1), rec("k", "next", nextDay));
        run.left(Watermark.of(nextDay - 1)).right(Watermark.of(nextDay - 1));
        assertThat(records(run.take())).containsExactly("k l|r @" + (nextDay - 1));
        run.completeBoth();
    }

    /**
     * The calendar assigner caches the current day in mutable fields; the window operator gives each
     * subscription its own copy ({@code WindowOperator.aggregate}), so must the window join. Two
     * joins sharing one {@code Windows.calendarDays(...)} and running on two threads must each see
     * their own, consistent windows. (A race detector: on a broken build it fails with high
     * probability, never on a correct one.)
     */
    @Test
    void concurrentJoinsSharingACalendarAssignerEachGetTheirOwnWindows() throws Exception {
        TimeWindowAssigner days = Windows.calendarDays(ZoneOffset.UTC);
        long day = 86_400_000L;
        int n = 20_000;
        Callable<String> job = () -> {
            List<StreamElement<Integer, Integer>> l = new ArrayList<>();
            List<StreamElement<Integer, Integer>> r = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long ts = (i % 2 == 0 ? 0 : 40 * day) + (i % 1000); // every record in another day than the last
                l.add(StreamRecord.of(i, i, ts));
                r.add(StreamRecord.of(i, i, ts));
            }
            List<StreamElement<Integer, String>> out = Flux.fromIterable(l)
                    .transform(Joins.<Integer, Integer, Integer, String>window(Flux.fromIterable(r), days,
                            JoinType.FULL_OUTER, (a, b) -> a == null || b == null ? "unmatched" : "pair",
                            OperatorSettings.named("race").withMeterRegistry(new SimpleMeterRegistry())))
                    .collectList().block(TIMEOUT);
            long pairs = out.stream().filter(e -> e instanceof StreamRecord<?, ?> x && x.value().equals("pair")).count();
            long unmatched = out.stream().filter(e -> e instanceof StreamRecord<?, ?> x && !x.value().equals("pair"))
                    .count();
            return pairs + " pairs, " + unmatched + " unmatched";
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 8; round++) {
                Future<String> a = pool.submit(job);
                Future<String> b = pool.submit(job);
                for (Future<String> f : List.of(a, b)) {
                    String result;
                    try {
                        result = f.get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        result = "failed: " + e.getCause();
                    }
                    assertThat(result).as("round %d", round).isEqualTo(n + " pairs, 0 unmatched");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ (d) idle inputs

    @Test
    void anIdleInputDoesNotHoldBackTheWatermark() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.LEFT, JOIN,
                settings("wj"))));
        run.left(rec("k", "l", 1), Watermark.of(100));
        assertThat(run.take()).isEmpty();
        run.right(InputStatus.idle());
        List<StreamElement<String, String>> out = run.take();
        assertThat(records(out)).containsExactly("k l|null @9");
        assertThat(out).hasSize(2).last().isEqualTo(Watermark.of(100));

        run.left(InputStatus.idle());
        assertThat(run.take()).as("both inputs idle: the join is idle").containsExactly(InputStatus.idle());
        run.right(InputStatus.active(), Watermark.of(120));
        assertThat(run.take()).containsExactly(InputStatus.active(), Watermark.of(120));
        run.completeBoth();
    }

    // ------------------------------------------------------------------ (e) the join function fails

    @Test
    void aThrowingJoinFunctionSendsThePairToTheDeadLetterOutputAndTheJoinContinues() {
        IllegalStateException boom = new IllegalStateException("boom");
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.INNER,
                (String a, String b) -> {
                    if (a.equals("bad")) {
                        throw boom;
                    }
                    return a + "|" + b;
                }, settings("wj").withErrorPolicy(ErrorPolicy.deadLetter()))));
        run.left(rec("k", "good", 1), rec("k", "bad", 2)).right(rec("k", "r", 3));
        run.left(Watermark.of(9)).right(Watermark.of(9));
        List<StreamElement<String, String>> out = run.take();
        assertThat(records(out)).containsExactly("k good|r @9");
        List<DeadLetter<?, ?>> dead = out.stream().filter(e -> e instanceof DeadLetter<?, ?>)
                .<DeadLetter<?, ?>>map(e -> (DeadLetter<?, ?>) e).toList();
        assertThat(dead).hasSize(1);
        assertThat(dead.get(0).error()).isSameAs(boom);
        assertThat(dead.get(0).operator()).isEqualTo("wj");
        assertThat(String.valueOf(dead.get(0).input())).as("names the pair that failed").contains("bad");
        assertThat(out.get(out.size() - 1)).isEqualTo(Watermark.of(9));
        assertThat(counter("streamflow.records.dead.letter", "wj")).isEqualTo(1.0);

        run.left(rec("k", "next", 11)).right(rec("k", "r2", 12));
        run.completeBoth();
        assertThat(records(run.take())).containsExactly("k next|r2 @19");
    }

    @Test
    void aJoinFunctionReturningNullIsAnErrorToo() {
        Run run = new Run((l, r) -> l.transform(Joins.interval(r, ms(0), ms(5), JoinType.INNER,
                (String a, String b) -> a.equals("nil") ? null : a + "|" + b,
                settings("ij").withErrorPolicy(ErrorPolicy.deadLetter()))));
        StreamRecord<String, String> trigger = StreamRecord.of("k", "r", 3, Origin.of("right", 1, 42));
        run.left(StreamRecord.of("k", "nil", 1, Origin.of("left", 1, 1)),
                StreamRecord.of("k", "ok", 2, Origin.of("left", 1, 2))).right(trigger);
        List<StreamElement<String, String>> out = run.take();
        assertThat(records(out)).containsExactly("k ok|r @3");
        DeadLetter<?, ?> dead = (DeadLetter<?, ?>) out.stream().filter(e -> e instanceof DeadLetter<?, ?>)
                .findFirst().orElseThrow();
        assertThat(dead.input()).as("the record whose arrival made the pair").isEqualTo(trigger);
        assertThat(dead.origin()).isEqualTo(trigger.origin());
        assertThat(dead.error()).isInstanceOf(NullPointerException.class).hasMessageContaining("returned null");
        assertThat(counter("streamflow.records.dead.letter", "ij")).isEqualTo(1.0);
        run.completeBoth();
    }

    @Test
    void withTheFailPolicyAThrowingJoinFunctionFailsThePipelineAndCancelsBothInputs() {
        TestPublisher<StreamElement<String, String>> left = TestPublisher.create();
        TestPublisher<StreamElement<String, String>> right = TestPublisher.create();
        StepVerifier.create(left.flux().transform(Joins.table(right.flux(), TableLookup.LATEST, JoinType.INNER,
                        (String a, String b) -> {
                            throw new IllegalArgumentException("no " + a);
                        }, settings("tj"))))
                .then(() -> right.next(rec("k", "v", 1)))
                .then(() -> left.next(rec("k", "s", 2)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("no s"))
                .verify(TIMEOUT);
        left.assertCancelled();
        right.assertCancelled();
    }

    @Test
    void retryThenDeadLetterCallsTheJoinFunctionAgain() {
        AtomicInteger calls = new AtomicInteger();
        Run run = new Run((l, r) -> l.transform(Joins.table(r, TableLookup.LATEST, JoinType.INNER,
                (String a, String b) -> {
                    if (calls.incrementAndGet() < 3) {
                        throw new IllegalStateException("flaky");
                    }
                    return a + "|" + b;
                }, settings("tj").withErrorPolicy(ErrorPolicy.retryThenDeadLetter(2)))));
        run.right(rec("k", "v", 1)).left(rec("k", "s", 2));
        assertThat(records(run.take())).containsExactly("k s|v @2");
        assertThat(calls).hasValue(3);
        assertThat(counter("streamflow.records.dead.letter", "tj")).isZero();
        run.completeBoth();
    }

    // ------------------------------------------------------------------ (f) records without a key

    @Test
    void aRecordWithoutAKeyGoesToTheDeadLetterOutput() {
        Run run = new Run((l, r) -> l.transform(Joins.interval(r, ms(-10), ms(10), JoinType.INNER, JOIN,
                settings("ij"))));
        StreamRecord<String, String> noKeyLeft = rec(null, "l0", 1);
        StreamRecord<String, String> noKeyRight = rec(null, "r0", 1);
        run.left(noKeyLeft).right(noKeyRight).left(rec("k", "l", 1)).right(rec("k", "r", 2));
        List<StreamElement<String, String>> out = run.take();
        assertThat(out).hasSize(3);
        DeadLetter<?, ?> l = (DeadLetter<?, ?>) out.get(0);
        DeadLetter<?, ?> r = (DeadLetter<?, ?>) out.get(1);
        assertThat(l.input()).isEqualTo(noKeyLeft);
        assertThat(l.error()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no key")
                .hasMessageContaining("left");
        assertThat(r.input()).isEqualTo(noKeyRight);
        assertThat(r.error()).hasMessageContaining("right");
        assertThat(records(out)).containsExactly("k l|r @2");
        assertThat(counter("streamflow.records.dead.letter", "ij")).isEqualTo(2.0);
        run.completeBoth();
    }

    // ------------------------------------------------------------------ (g) configuration errors

    @Test
    void configurationErrorsAreRejectedWhenTheJoinIsBuilt() {
        Flux<StreamElement<String, String>> right = Flux.empty();
        OperatorSettings s = settings("bad");
        assertThatThrownBy(() -> Joins.window(right, Windows.session(ms(10)), JoinType.INNER, JOIN, s))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fixed time windows").hasMessageContaining("interval join");
        assertThatThrownBy(() -> Joins.window(right, Windows.count(3), JoinType.INNER, JOIN, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fixed time windows");
        assertThatThrownBy(() -> Joins.interval(right, ms(5), ms(4), JoinType.INNER, JOIN, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lower <= upper")
                .hasMessageContaining("PT0.005S").hasMessageContaining("PT0.004S");
        assertThatThrownBy(() -> Joins.interval(right, ms(0), ms(4), JoinType.FULL_OUTER, JOIN, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FULL_OUTER");
        assertThatThrownBy(() -> Joins.table(right, TableLookup.LATEST, JoinType.FULL_OUTER, JOIN, s))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FULL_OUTER");
        assertThatThrownBy(() -> Joins.interval(right, null, ms(4), JoinType.INNER, JOIN, s))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("lower");
        assertThatThrownBy(() -> Joins.table(right, null, JoinType.INNER, JOIN, s))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("lookup");
        // negative bounds and a single point are valid
        assertThat(Joins.interval(right, ms(-5), ms(-5), JoinType.LEFT, JOIN, s)).isNotNull();
    }

    @Test
    void aKeyFromDifferentPartitionsOfTheTwoInputsIsReported() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.INNER, JOIN,
                settings("wj"))));
        run.left(StreamRecord.of("k", "l", 1, Origin.of("a", 0, 0)));
        run.right(StreamRecord.of("k", "r", 2, Origin.of("b", 1, 0)));
        assertThat(run.error.get()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("co-partitioned").hasMessageContaining("'k'");

        Run unsharded = new Run((l, r) -> l.transform(Joins.window(r, Windows.tumbling(ms(10)), JoinType.INNER, JOIN,
                settings("wj2").withShardBySourcePartition(false))));
        unsharded.left(StreamRecord.of("k", "l", 1, Origin.of("a", 0, 0)));
        unsharded.right(StreamRecord.of("k", "r", 2, Origin.of("b", 1, 0)));
        unsharded.completeBoth();
        assertThat(records(unsharded.take())).containsExactly("k l|r @9");
    }

    @Test
    void controlElementsAndSideOutputsOfUpstreamOperatorsPassThrough() {
        Run run = new Run((l, r) -> l.transform(Joins.interval(r, ms(0), ms(0), JoinType.INNER, JOIN,
                settings("ij"))));
        CheckpointBarrier<String, String> barrier = CheckpointBarrier.of(7);
        LateRecord<String, String> upstreamLate = new LateRecord<>(rec("k", "x", 1), "upstream", 0, 10, 20);
        run.left(barrier).right(upstreamLate);
        // the barrier is aligned: forwarded once it has passed both inputs
        assertThat(run.take()).containsExactly(upstreamLate);
        run.right(CheckpointBarrier.of(7));
        assertThat(run.take()).containsExactly(barrier);
        assertThat(counter("streamflow.records.late", "ij")).as("not this operator's late record").isZero();
        run.completeBoth();
    }

    // ------------------------------------------------------------------ (h) backpressure

    private static Flux<StreamElement<String, String>> tenByTen(boolean left) {
        List<StreamElement<String, String>> in = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            in.add(rec("k", (left ? "l" : "r") + i, i));
        }
        in.add(Watermark.of(100));
        return Flux.fromIterable(in);
    }

    @Test
    void theJoinDeliversNoMoreThanRequested() {
        // one window firing releases 100 pairs; StepVerifier fails on anything beyond the requested amount
        Flux<StreamElement<String, String>> joined = tenByTen(true).transform(Joins.window(tenByTen(false),
                Windows.tumbling(ms(50)), JoinType.INNER, JOIN, settings("bp").withPrefetch(4)));
        StepVerifier.create(joined, 0)
                .expectSubscription()
                .thenRequest(3)
                .expectNextCount(3)
                .thenRequest(1)
                .expectNextCount(1)
                .thenRequest(96)
                .expectNextCount(96)
                .thenRequest(1)
                .expectNext(Watermark.of(100))
                .thenRequest(1)
                .expectNext(Watermark.end())
                .verifyComplete();
    }

    @Test
    void nothingIsDeliveredBeyondDemandBetweenRequests() {
        Flux<StreamElement<String, String>> joined = tenByTen(true).transform(Joins.interval(tenByTen(false),
                ms(-100), ms(100), JoinType.INNER, JOIN, settings("bp2").withPrefetch(2)));
        List<StreamElement<String, String>> got = new ArrayList<>();
        AtomicReference<Subscription> subscription = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean();
        joined.subscribe(new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                subscription.set(s); // requests nothing yet
            }

            @Override
            protected void hookOnNext(StreamElement<String, String> value) {
                got.add(value);
            }

            @Override
            protected void hookOnComplete() {
                done.set(true);
            }
        });
        // the sources are synchronous: whatever a request allows arrives before request() returns
        assertThat(got).isEmpty();
        subscription.get().request(5);
        assertThat(got).hasSize(5);
        subscription.get().request(20);
        assertThat(got).hasSize(25);
        assertThat(done).isFalse();
        subscription.get().request(Long.MAX_VALUE);
        assertThat(records(got)).hasSize(100);
        assertThat(got.get(got.size() - 1)).isEqualTo(Watermark.end());
        assertThat(done).isTrue();
    }

    // ------------------------------------------------------------------ unmatched counter

    /**
     * "Records an inner join finds no partner for are counted in streamflow.records.unmatched": a
     * sliding window record is one record, however many windows it is in.
     */
    @Test
    void theUnmatchedCounterOfAWindowJoinCountsRecordWindowPairs() {
        Run run = new Run((l, r) -> l.transform(Joins.window(r, Windows.sliding(ms(30), ms(10)), JoinType.INNER, JOIN,
                settings("uw"))));
        // l1 is in 3 windows and matches nothing; l2 @25 is in [0,30), [10,40), [20,50) and matches r @45 in [20,50)
        run.left(rec("a", "l1", 5), rec("b", "l2", 25)).right(rec("b", "r", 45));
        run.completeBoth();
        assertThat(records(run.take())).containsExactly("b l2|r @49");
        // per record and window (as documented): l1 in its 3 windows, l2 in [0,30) and [10,40), r in [30,60) and [40,70)
        assertThat(counter("streamflow.records.unmatched", "uw")).isEqualTo(7.0);
    }

    @Test
    void innerJoinsCountTheRecordsTheyFindNoPartnerFor() {
        Run interval = new Run((l, r) -> l.transform(Joins.interval(r, ms(0), ms(5), JoinType.INNER, JOIN,
                settings("ui"))));
        interval.left(rec("a", "l1", 1), rec("a", "l2", 100)).right(rec("a", "r1", 3), rec("a", "r2", 50));
        interval.completeBoth();
        assertThat(records(interval.take())).containsExactly("a l1|r1 @3");
        assertThat(counter("streamflow.records.unmatched", "ui")).as("l2 and r2").isEqualTo(2.0);

        Run table = new Run((l, r) -> l.transform(Joins.table(r, TableLookup.AS_OF_EVENT_TIME, JoinType.INNER, JOIN,
                settings("ut"))));
        table.right(rec("a", "v", 10)).left(rec("a", "s1", 5), rec("a", "s2", 10), rec("b", "s3", 10));
        table.completeBoth();
        assertThat(records(table.take())).containsExactly("a s2|v @10");
        assertThat(counter("streamflow.records.unmatched", "ut")).as("s1 (before the first version) and s3")
                .isEqualTo(2.0);
    }
}
