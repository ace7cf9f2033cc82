package io.streamflow.reactive.join;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Timestamps the joins cannot use: {@code Long.MIN_VALUE}, {@code Long.MAX_VALUE}, and timestamps
 * whose window (window join) or join range (interval join) would not fit in a {@code long}. Each
 * goes to the dead-letter output with its origin and the reason and is counted, and the join goes
 * on with correct results, also for records right at the edges of what fits; under the fail policy
 * the pipeline fails with the same message.
 */
class JoinTimestampBoundsTest {

    private static final long MIN = Long.MIN_VALUE;
    private static final long MAX = Long.MAX_VALUE;
    private static final BiFunction<String, String, String> JOIN = (l, r) -> l + "|" + r;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private OperatorSettings settings(String name, ErrorPolicy policy) {
        return OperatorSettings.named(name).withPipeline("p").withMeterRegistry(registry).withErrorPolicy(policy);
    }

    private double deadLetters(String operator) {
        Counter c = registry.find("streamflow.records.dead.letter").tag("operator", operator).tag("pipeline", "p")
                .counter();
        return c == null ? 0 : c.count();
    }

    private static int position;

    private static StreamRecord<String, String> rec(String key, String value, long ts) {
        return StreamRecord.of(key, value, ts, Origin.of("src", 0, ++position));
    }

    /** Both inputs driven from the test thread, in the order of the calls; everything collected. */
    private static final class Run {
        final TestPublisher<StreamElement<String, String>> left = TestPublisher.create();
        final TestPublisher<StreamElement<String, String>> right = TestPublisher.create();
        final List<StreamElement<String, String>> out = new ArrayList<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final AtomicBoolean completed = new AtomicBoolean();
        private final Disposable subscription;

        Run(Function<Flux<StreamElement<String, String>>, Function<Flux<StreamElement<String, String>>,
                Flux<StreamElement<String, String>>>> join) {
            subscription = left.flux().transform(join.apply(right.flux())).subscribe(out::add, error::set,
                    () -> completed.set(true));
        }

        Run left(StreamRecord<String, String> r) {
            left.next(r);
            return this;
        }

        Run right(StreamRecord<String, String> r) {
            right.next(r);
            return this;
        }

        Run end() {
            left.complete();
            right.complete();
            subscription.dispose();
            return this;
        }

        List<String> results() {
            List<String> l = new ArrayList<>();
            for (StreamElement<String, String> e : out) {
                if (e instanceof StreamRecord<String, String> r) {
                    l.add(r.key() + " " + r.value() + " @" + r.timestamp());
                }
            }
            return l;
        }

        List<DeadLetter<?, ?>> deadLetters() {
            return out.stream().filter(e -> e instanceof DeadLetter).<DeadLetter<?, ?>>map(e -> (DeadLetter<?, ?>) e).toList();
        }
    }

    /** Checks the dead letters: their records (by value), origins, operator and reasons. */
    private static void assertDeadLetters(Run run, String operator, List<StreamRecord<String, String>> records,
                                          List<String> reasons) {
        List<DeadLetter<?, ?>> dead = run.deadLetters();
        assertThat(dead).hasSize(records.size());
        for (int i = 0; i < dead.size(); i++) {
            DeadLetter<?, ?> d = dead.get(i);
            StreamRecord<String, String> r = records.get(i);
            assertThat(d.input()).isEqualTo(r);
            assertThat(d.origin()).isEqualTo(r.origin());
            assertThat(d.operator()).isEqualTo(operator);
            assertThat(d.error()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("timestamp " + r.timestamp() + " of " + r + " cannot be used in operator '"
                            + operator + "': ")
                    .hasMessageContaining(reasons.get(i));
        }
    }

    private static final String END = "Long.MAX_VALUE is the end-of-input watermark";
    private static final String NO_TIMESTAMP = "Long.MIN_VALUE is StreamRecord.NO_TIMESTAMP";

    // ------------------------------------------------------------------ interval join

    /** lower = -5 ms, upper = 10 ms: left t needs [t - 5, t + 10] to fit, right s needs [s - 10, s + 5]. */
    private Function<Flux<StreamElement<String, String>>, Function<Flux<StreamElement<String, String>>,
            Flux<StreamElement<String, String>>>> interval(JoinType type, ErrorPolicy policy) {
        return right -> Joins.interval(right, Duration.ofMillis(-5), Duration.ofMillis(10), type, JOIN,
                settings("ij", policy));
    }

    @Test
    void anIntervalJoinDeadLettersRecordsWhoseJoinRangeWouldNotFitAndJoinsTheOthers() {
        StreamRecord<String, String> leftTooLate = rec("a", "l-max-10", MAX - 10);
        StreamRecord<String, String> leftEnd = rec("a", "l-max", MAX);
        StreamRecord<String, String> leftTooEarly = rec("a", "l-min+5", MIN + 5);
        StreamRecord<String, String> rightTooEarly = rec("a", "r-min+10", MIN + 10);
        StreamRecord<String, String> rightTooLate = rec("a", "r-max-5", MAX - 5);
        StreamRecord<String, String> rightNone = rec("a", "r-min", MIN);

        Run run = new Run(interval(JoinType.LEFT, ErrorPolicy.deadLetter()))
                .left(rec("b", "l-first", MIN + 6)).right(rec("b", "r-first", MIN + 11))
                .left(rec("a", "l1", 1_000)).right(rec("a", "r1", 1_005))
                .left(leftTooLate).left(leftEnd).left(leftTooEarly)
                .right(rightTooEarly).right(rightTooLate).right(rightNone)
                .left(rec("c", "l-last", MAX - 11)).right(rec("c", "r-last", MAX - 6))
                .left(rec("d", "l-alone", MAX - 11))
                .end();

        assertThat(run.error.get()).isNull();
        assertThat(run.completed).isTrue();
        assertThat(run.results()).containsExactly(
                "b l-first|r-first @" + (MIN + 11),
                "a l1|r1 @1005",
                "c l-last|r-last @" + (MAX - 6),
                "d l-alone|null @" + (MAX - 1)); // unmatched: t + upper, the latest time a match could have had
        assertThat(run.out).noneMatch(e -> e instanceof LateRecord);
        String leftRange = "this join takes left timestamps in [" + (MIN + 6) + ", " + (MAX - 11) + "]";
        String rightRange = "this join takes right timestamps in [" + (MIN + 11) + ", " + (MAX - 6) + "]";
        assertDeadLetters(run, "ij",
                List.of(leftTooLate, leftEnd, leftTooEarly, rightTooEarly, rightTooLate, rightNone),
                List.of(leftRange, END, leftRange, rightRange, rightRange, NO_TIMESTAMP));
        assertThat(run.deadLetters().get(0).error()).hasMessageContaining(
                "the range of right timestamps it joins, [t - 5, t + 10], would not fit in the range of a long");
        assertThat(deadLetters("ij")).isEqualTo(6.0);
    }

    @Test
    void underTheFailPolicyAnIntervalJoinFailsWithTheMessageOfTheDeadLetter() {
        StreamRecord<String, String> bad = rec("a", "l-max-10", MAX - 10);
        Run dead = new Run(interval(JoinType.INNER, ErrorPolicy.deadLetter())).left(rec("a", "l1", 1_000)).left(bad)
                .end();
        String message = dead.deadLetters().get(0).error().getMessage();

        Run failed = new Run(interval(JoinType.INNER, ErrorPolicy.fail())).left(rec("a", "l1", 1_000)).left(bad);

        assertThat(failed.error.get()).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
        failed.left.assertCancelled();
    }

    // ------------------------------------------------------------------ window join

    private Function<Flux<StreamElement<String, String>>, Function<Flux<StreamElement<String, String>>,
            Flux<StreamElement<String, String>>>> window(ErrorPolicy policy) {
        return right -> Joins.window(right, Windows.tumbling(Duration.ofMillis(10)), JoinType.INNER, JOIN,
                settings("wj", policy));
    }

    @Test
    void aWindowJoinDeadLettersRecordsWhoseWindowWouldNotFitAndJoinsTheOthers() {
        // 10 ms windows: the last that ends by MAX is [MAX - 17, MAX - 7); the first at or after MIN starts at MIN + 8
        StreamRecord<String, String> noWindow = rec("a", "l-max-7", MAX - 7);
        StreamRecord<String, String> beforeFirst = rec("a", "r-min+7", MIN + 7);
        StreamRecord<String, String> end = rec("a", "l-max", MAX);
        StreamRecord<String, String> none = rec("a", "r-min", MIN);

        Run run = new Run(window(ErrorPolicy.deadLetter()))
                .left(rec("b", "l-first", MIN + 8)).right(rec("b", "r-first", MIN + 17))
                .left(rec("a", "l1", 1_000)).right(rec("a", "r1", 1_005))
                .left(noWindow).right(beforeFirst).left(end).right(none)
                .left(rec("c", "l-last", MAX - 8)).right(rec("c", "r-last", MAX - 17))
                .end();

        assertThat(run.error.get()).isNull();
        assertThat(run.results()).containsExactly(
                "b l-first|r-first @" + (MIN + 17), "a l1|r1 @1009", "c l-last|r-last @" + (MAX - 8));
        String noFit = "its window would not fit in the range of a long; TumblingWindows{size=10ms} places timestamps in ["
                + (MIN + 8) + ", " + (MAX - 8) + "]";
        assertDeadLetters(run, "wj", List.of(noWindow, beforeFirst, end, none), List.of(noFit, noFit, END, NO_TIMESTAMP));
        assertThat(deadLetters("wj")).isEqualTo(4.0);

        Run failed = new Run(window(ErrorPolicy.fail())).left(rec("a", "l1", 1_000)).left(noWindow);
        assertThat(failed.error.get()).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(run.deadLetters().get(0).error().getMessage());
    }

    // ------------------------------------------------------------------ table join

    @Test
    void aTableJoinDeadLettersStreamRecordsAndChangesThatAreNotAtAnEventTime() {
        for (TableLookup lookup : TableLookup.values()) {
            String name = "tj-" + lookup;
            StreamRecord<String, String> streamEnd = rec("a", "s-max", MAX);
            StreamRecord<String, String> changeNone = rec("a", "v-min", MIN);
            StreamRecord<String, String> streamNone = rec("a", "s-min", MIN);

            Run run = new Run(right -> Joins.table(right, lookup, JoinType.LEFT, JOIN,
                    settings(name, ErrorPolicy.deadLetter())))
                    .right(rec("a", "v1", 900))
                    .left(rec("a", "s1", 1_000))
                    .left(streamEnd).right(changeNone).left(streamNone)
                    .left(rec("a", "s2", MAX - 1))
                    .end();

            assertThat(run.error.get()).as("%s", lookup).isNull();
            assertThat(run.results()).as("%s", lookup).containsExactly("a s1|v1 @1000", "a s2|v1 @" + (MAX - 1));
            assertDeadLetters(run, name, List.of(streamEnd, changeNone, streamNone), List.of(END, NO_TIMESTAMP,
                    NO_TIMESTAMP));

            Run failed = new Run(right -> Joins.table(right, lookup, JoinType.LEFT, JOIN,
                    settings(name + "-fail", ErrorPolicy.fail()))).left(streamEnd);
            assertThat(failed.error.get()).as("%s", lookup).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(run.deadLetters().get(0).error().getMessage().replace("'" + name + "'",
                            "'" + name + "-fail'"));
        }
    }
}
