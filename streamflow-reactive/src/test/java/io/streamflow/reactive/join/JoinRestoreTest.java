package io.streamflow.reactive.join;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.CheckpointBarrier;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.RestoreHarness;
import io.streamflow.reactive.RestoreHarness.Run;
import io.streamflow.reactive.RestoreHarness.Split;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.internal.Barriers;
import io.streamflow.reactive.internal.CheckpointSignal;
import io.streamflow.reactive.join.JoinReferenceModelTest.Config;
import io.streamflow.reactive.join.JoinReferenceModelTest.Ev;
import io.streamflow.reactive.state.StateBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Operators;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Barrier alignment of the two-input operators, and restoring a join from its checkpointed state.
 * <p>
 * Restore: the random interleavings of {@link JoinReferenceModelTest} (out-of-order records,
 * watermarks, idleness, late records, deletes for table joins) with barriers 1..n inserted into
 * each input at random places. The uninterrupted join gets everything. The restored run cuts the
 * order in which the join processes the elements ({@link #processingOrder}: the elements an input
 * sends after a barrier wait until the other input brought it) right after the alignment of some
 * barriers: instance #1 gets the first part and is cancelled, instance #2 over the same durable
 * state gets the next part (beginning with the elements that waited), and so on. The outputs must be equal element by element, and the keys left in the
 * state must be those an uninterrupted run over a durable backend leaves (see {@link RestoreHarness}).
 * Replay a case with {@code -Djoin=CONFIG -Dseed=N}.
 */
class JoinRestoreTest {

    private static final int CASES = RestoreHarness.cases(300);
    private static final String ONLY = System.getProperty("join");

    /** One element offered to one input. */
    record Feed(boolean left, StreamElement<String, Integer> element) {
        @Override
        public String toString() {
            return (left ? "L " : "R ") + element;
        }
    }

    /**
     * A case: the model's interleaving with barriers in both inputs ({@code all}), and the parts the
     * restored instances get ({@code parts}: cut right after the alignment of some barriers).
     */
    record Case(long seed, JoinReferenceModelTest.Case model, List<Feed> all, List<List<Feed>> parts,
                boolean checkpointAfterEnd) {
        String describe() {
            StringBuilder sb = new StringBuilder("  input:").append(RestoreHarness.lines(all));
            for (int i = 0; i < parts.size(); i++) {
                sb.append("\n  instance #").append(i + 1).append(" gets:").append(RestoreHarness.lines(parts.get(i)));
            }
            return sb.toString();
        }
    }

    /**
     * The model's case with barriers 1..n (n from 1 to 3) inserted into each input at random places
     * (in id order per input), cut after the alignment of a random non-empty subset of them;
     * sometimes both inputs then send END and one more barrier.
     */
    static Case generate(Config config, long seed) {
        JoinReferenceModelTest.Case model = JoinReferenceModelTest.generate(config, seed);
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        List<Feed> all = new ArrayList<>();
        for (Ev e : model.events()) {
            all.add(new Feed(e.left(), JoinReferenceModelTest.element(e, model.partitions())));
        }
        int barriers = 1 + rnd.nextInt(3);
        for (boolean left : new boolean[] {true, false}) {
            int[] at = new int[barriers];
            for (int i = 0; i < barriers; i++) {
                at[i] = rnd.nextInt(all.size() + 1);
            }
            java.util.Arrays.sort(at);
            for (int i = 0; i < barriers; i++) {
                all.add(at[i] + i, new Feed(left, CheckpointBarrier.of(i + 1)));
            }
        }
        boolean checkpointAfterEnd = rnd.nextInt(3) == 0;
        if (checkpointAfterEnd) {
            // both inputs end, then a last checkpoint: it must not keep any index entry
            all.add(new Feed(true, Watermark.end()));
            all.add(new Feed(false, Watermark.end()));
            all.add(new Feed(true, CheckpointBarrier.of(barriers + 1)));
            all.add(new Feed(false, CheckpointBarrier.of(barriers + 1)));
        }
        Aligned aligned = processingOrder(all);
        List<Integer> cuts = new ArrayList<>();
        for (int index : aligned.barrierAt().subList(0, barriers)) {
            if (rnd.nextBoolean()) {
                cuts.add(index);
            }
        }
        if (cuts.isEmpty()) {
            cuts.add(aligned.barrierAt().get(rnd.nextInt(aligned.barrierAt().size())));
        }
        return new Case(seed, model, all, Split.cut(aligned.order(), cuts), checkpointAfterEnd);
    }

    /** The order in which the join processes {@code arrival}, and where in it each barrier is aligned. */
    record Aligned(List<Feed> order, List<Integer> barrierAt) {
    }

    /**
     * A model of barrier alignment (both inputs carry every barrier; they complete only at the
     * end): an input that passed a barrier the other has not yet passed has its elements held; once
     * the other passes it too, the held elements are processed, left ones first, until an input
     * waits again. Feeding this order to a join processes it unchanged (an input that waits gets
     * nothing until the other input's barrier), so the restored instances get parts of it.
     */
    static Aligned processingOrder(List<Feed> arrival) {
        List<Feed> order = new ArrayList<>();
        List<Integer> barrierAt = new ArrayList<>();
        java.util.ArrayDeque<Feed> heldLeft = new java.util.ArrayDeque<>();
        java.util.ArrayDeque<Feed> heldRight = new java.util.ArrayDeque<>();
        long[] passed = {0, 0}; // left, right
        long forwarded = 0;
        for (Feed f : arrival) {
            java.util.ArrayDeque<Feed> held = f.left() ? heldLeft : heldRight;
            if (!held.isEmpty() || passed[f.left() ? 0 : 1] > forwarded) {
                held.add(f);
                continue;
            }
            java.util.ArrayDeque<Feed> next = null;
            Feed current = f;
            do {
                if (next != null) {
                    current = next.poll();
                }
                order.add(current);
                if (current.element() instanceof CheckpointBarrier<?, ?> b) {
                    passed[current.left() ? 0 : 1] = b.id();
                    if (Math.min(passed[0], passed[1]) > forwarded) {
                        forwarded = Math.min(passed[0], passed[1]);
                        barrierAt.add(order.size() - 1);
                    }
                }
                next = !heldLeft.isEmpty() && passed[0] <= forwarded ? heldLeft
                        : !heldRight.isEmpty() && passed[1] <= forwarded ? heldRight : null;
            } while (next != null);
        }
        if (!heldLeft.isEmpty() || !heldRight.isEmpty()) {
            throw new AssertionError("every barrier is in both inputs, so nothing stays held");
        }
        return new Aligned(order, barrierAt);
    }

    /** Offers {@code feed} to the join over {@code backend}; completes both inputs at the end when {@code complete}. */
    static Run<StreamElement<String, String>> run(Case c, List<Feed> feed, StateBackend backend, boolean complete) {
        OperatorSettings settings = OperatorSettings.named(JoinReferenceModelTest.NAME)
                .withMeterRegistry(new SimpleMeterRegistry()).withPrefetch(c.model().prefetch()).withStateBackend(backend);
        TestPublisher<StreamElement<String, Integer>> left = TestPublisher.create();
        TestPublisher<StreamElement<String, Integer>> right = TestPublisher.create();
        List<StreamElement<String, String>> out = new ArrayList<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        AtomicBoolean completed = new AtomicBoolean();
        Disposable subscription = left.flux()
                .transform(JoinReferenceModelTest.operator(c.model().spec(), right.flux(), settings))
                .subscribe(out::add, error::set, () -> completed.set(true));
        try {
            for (Feed f : feed) {
                if (error.get() != null) {
                    break;
                }
                (f.left() ? left : right).next(f.element());
            }
            if (complete && error.get() == null) {
                if (c.model().leftCompletesFirst()) {
                    left.complete();
                    right.complete();
                } else {
                    right.complete();
                    left.complete();
                }
            }
        } finally {
            subscription.dispose(); // for instance #1: the "crash"
        }
        return new Run<>(out, error.get(), completed.get());
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void aRestoredJoinEmitsExactlyWhatAnUninterruptedOneDoes(Config config) {
        if (ONLY != null && !ONLY.equals(config.name())) {
            return;
        }
        long base = RestoreHarness.baseSeed("JoinRestoreTest " + config);
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            Case c = generate(config, seed);
            Run<StreamElement<String, String>> uninterrupted = run(c, c.all(), StateBackend.heap(), true);
            StateBackend durableUninterrupted = RestoreHarness.durableBackend();
            String problem = RestoreHarness.compare(uninterrupted, run(c, c.all(), durableUninterrupted, true));
            if (problem != null) {
                problem = "  over a durable backend (which sees only what is put) the uninterrupted run differs from "
                        + "the heap run:\n" + problem;
            } else {
                StateBackend durable = RestoreHarness.durableBackend();
                List<StreamElement<String, String>> outputs = new ArrayList<>();
                Run<StreamElement<String, String>> last = null;
                for (int p = 0; p < c.parts().size() && problem == null; p++) {
                    boolean isLast = p == c.parts().size() - 1;
                    last = run(c, c.parts().get(p), durable, isLast);
                    outputs.addAll(last.output());
                    if (!isLast && (last.error() != null || last.completed())) {
                        problem = "  instance #" + (p + 1) + " " + (last.error() != null ? "failed: "
                                + last.error() : "completed");
                    } else if (!isLast && (last.output().isEmpty()
                            || !(last.output().get(last.output().size() - 1) instanceof CheckpointBarrier<?, ?>))) {
                        problem = "  instance #" + (p + 1) + " emitted something after the barrier it was cut at:"
                                + RestoreHarness.lines(last.output());
                    }
                }
                if (problem == null) {
                    problem = RestoreHarness.compare(uninterrupted, new Run<>(outputs, last.error(), last.completed()));
                }
                if (problem == null) {
                    problem = RestoreHarness.compareState(durableUninterrupted, durable);
                }
                if (problem == null && c.checkpointAfterEnd()) {
                    problem = RestoreHarness.checkEmpty(durable, "due"); // the interval join's due index
                }
            }
            if (problem != null) {
                fail("restored join differs from the uninterrupted one%n  seed: %d (replay: -Dtest=JoinRestoreTest "
                                + "-Djoin=%s -Dseed=%d)%n  %s, prefetch %d, partitions %d%n%s%n%s", seed, config, seed,
                        c.model().spec(), c.model().prefetch(), c.model().partitions(), problem, c.describe());
            }
            RestoreHarness.tally(seen, "elements waited for an alignment", !c.all().equals(flatten(c.parts())));
            RestoreHarness.tally(seen, "restored twice", c.parts().size() > 2);
            RestoreHarness.tally(seen, "checkpoint after END", c.checkpointAfterEnd());
        }
        System.out.println("JoinRestoreTest " + config + ": " + CASES + " cases, " + RestoreHarness.summary(seen));
        if (RestoreHarness.SEED == null && CASES >= 100) {
            assertThat(seen).containsKeys("elements waited for an alignment", "restored twice",
                    "checkpoint after END");
        }
    }

    private static <T> List<T> flatten(List<List<T>> parts) {
        List<T> all = new ArrayList<>();
        parts.forEach(all::addAll);
        return all;
    }

    // ------------------------------------------------------------------ barrier alignment

    private static final class Pair {
        final TestPublisher<StreamElement<String, String>> left = TestPublisher.create();
        final TestPublisher<StreamElement<String, String>> right = TestPublisher.create();
        final List<StreamElement<String, String>> out = new ArrayList<>();
        final AtomicBoolean completed = new AtomicBoolean();
        final AtomicReference<Throwable> error = new AtomicReference<>();

        /** An interval join of equal timestamps: a left and a right record of a key at one time give "l|r". */
        Pair(String name) {
            left.flux().transform(Joins.interval(right.flux(), Duration.ZERO, Duration.ZERO, JoinType.INNER,
                            (String l, String r) -> l + "|" + r,
                            OperatorSettings.named(name).withMeterRegistry(new SimpleMeterRegistry())))
                    .subscribe(out::add, error::set, () -> completed.set(true));
        }

        List<StreamElement<String, String>> take() {
            assertThat(error.get()).as("the join failed").isNull();
            List<StreamElement<String, String>> taken = new ArrayList<>(out);
            out.clear();
            return taken;
        }
    }

    private static StreamRecord<String, String> rec(String value, long ts) {
        return StreamRecord.of("k", value, ts, Origin.of("src", 0, ts));
    }

    private static StreamRecord<String, String> joined(String value, long ts) {
        return StreamRecord.of("k", value, ts, Origin.of("aligned", 0, -1));
    }

    @Test
    void anInputWaitsAtABarrierUntilTheOtherInputBringsItAndTheBarrierIsForwardedOnce() {
        Pair join = new Pair("aligned");
        CheckpointBarrier<String, String> barrier = CheckpointBarrier.of(1);
        join.left.next(barrier, rec("l1", 5));
        join.right.next(rec("r1", 5)); // before the right barrier: joins only what the left sent before its barrier
        assertThat(join.take()).as("l1 waits behind the left barrier").isEmpty();
        join.right.next(CheckpointBarrier.of(1));
        assertThat(join.take()).as("aligned: the barrier once, then l1 is taken").containsExactly(barrier,
                joined("l1|r1", 5));
        join.left.next(rec("l2", 5));
        join.right.next(rec("r2", 5));
        assertThat(join.take()).containsExactly(joined("l2|r1", 5), joined("l1|r2", 5), joined("l2|r2", 5));
        join.left.complete();
        join.right.complete();
        assertThat(join.take()).containsExactly(Watermark.end());
        assertThat(join.completed).isTrue();
    }

    @Test
    void aCommittedCheckpointReleasesTheWaitingInputAndNothingIsProcessedBefore() {
        Pair join = new Pair("aligned");
        CheckpointSignal signal = new CheckpointSignal(2);
        CheckpointBarrier<String, String> barrier = Barriers.create(2, signal);
        join.right.next(rec("r1", 5), barrier, rec("r2", 5));
        join.left.next(rec("l1", 5));
        assertThat(join.take()).as("l1 came before the left barrier; r2 waits").containsExactly(joined("l1|r1", 5));
        join.left.next(barrier);
        assertThat(join.take()).containsExactly(barrier);
        join.left.next(rec("l2", 5), Watermark.of(10));
        join.right.next(Watermark.of(10));
        assertThat(join.take()).as("paused until the checkpoint is committed").isEmpty();
        signal.done();
        assertThat(join.take()).as("r2, then the rest in arrival order").containsExactly(joined("l1|r2", 5),
                joined("l2|r1", 5), joined("l2|r2", 5), Watermark.of(10));
        join.left.complete();
        join.right.complete();
        assertThat(join.take()).containsExactly(Watermark.end());
    }

    @Test
    void anInputThatCompletedHasPassedEveryBarrier() {
        Pair join = new Pair("aligned");
        CheckpointBarrier<String, String> barrier = CheckpointBarrier.of(3);
        join.left.next(rec("l1", 5));
        join.right.next(rec("r1", 5), Watermark.of(1), barrier, rec("r2", 5));
        assertThat(join.take()).containsExactly(joined("l1|r1", 5));
        join.left.complete(); // its END watermark first, then the barrier it has passed too
        assertThat(join.take()).containsExactly(Watermark.of(1), barrier, joined("l1|r2", 5));
        join.right.next(CheckpointBarrier.of(4));
        assertThat(join.take()).as("nothing to wait for").containsExactly(CheckpointBarrier.of(4));
        join.right.complete();
        assertThat(join.take()).containsExactly(Watermark.end());
    }

    @Test
    void heldElementsAreDiscardedOnCancel() {
        List<Object> discarded = new ArrayList<>();
        TestPublisher<StreamElement<String, String>> left = TestPublisher.create();
        TestPublisher<StreamElement<String, String>> right = TestPublisher.create();
        Disposable subscription = left.flux()
                .transform(Joins.interval(right.flux(), Duration.ZERO, Duration.ZERO, JoinType.INNER,
                        (String l, String r) -> l + "|" + r,
                        OperatorSettings.named("discard").withMeterRegistry(new SimpleMeterRegistry())))
                .contextWrite(ctx -> Operators.enableOnDiscard(ctx, discarded::add))
                .subscribe();
        left.next(CheckpointBarrier.of(1), rec("l1", 5));
        subscription.dispose();
        List<Object> held = new ArrayList<>();
        for (Object o : discarded) {
            if (o instanceof Side side) {
                held.add(side.element());
            }
        }
        assertThat(held).containsExactly(rec("l1", 5));
    }
}
