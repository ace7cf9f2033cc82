package io.streamflow.reactive.window;

import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.window.WindowReferenceModel.Expected;
import io.streamflow.reactive.window.WindowReferenceModel.Kind;
import io.streamflow.reactive.window.WindowReferenceModel.Spec;
import io.streamflow.reactive.window.WindowTestKit.In;
import io.streamflow.reactive.window.WindowTestKit.Outcome;
import io.streamflow.reactive.window.WindowTestKit.Pane;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded random inputs (keys, out-of-order timestamps, sometimes later than the watermark bound,
 * window kinds, allowed lateness and triggers), each run through the real operator and compared
 * with {@link WindowReferenceModel}: the multiset of panes (key, window, count, sum, timing, index,
 * final) and the late records must be equal, and the output stream must be well-formed.
 * <p>
 * Case {@code i} of a run uses seed {@code base + i}; the base seed is printed. Replay one case
 * with {@code -Dseed=N} (and run {@code M} consecutive seeds from {@code N} with {@code -Dcases=M}).
 * A failure is shrunk (records dropped one by one while it still fails) and reported with its seed
 * and the smallest failing input.
 */
class WindowReferenceModelTest {

    private static final Long SEED = Long.getLong("seed");
    private static final int CASES = Integer.getInteger("cases", SEED != null ? 1 : 20000);

    /**
     * A generated case; {@code prefetch} and {@code downstreamBatch} vary the demand the operator sees,
     * {@code partitions > 0} spreads the keys over that many source partitions (state shards);
     * {@code fused}: the source offers synchronous fusion, so the operators pull their inputs,
     * else it is hidden and they are pushed through their prefetch queues.
     */
    record Case(long seed, Spec spec, List<In> input, int prefetch, int downstreamBatch, int partitions,
                boolean fused) {
    }

    @Test
    void shouldAgreeWithTheReferenceModelOnThousandsOfRandomOutOfOrderInputs() {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        System.out.println("WindowReferenceModelTest: base seed " + base + ", " + CASES
                + " cases (replay one case with -Dseed=<seed>)");
        long t0 = System.nanoTime();
        Map<Kind, Integer> perKind = new EnumMap<>(Kind.class);
        Map<String, Integer> seen = new HashMap<>();
        long records = 0;
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            Case c = generate(seed);
            String problem = check(c, c.input(), seen);
            if (problem != null) {
                List<In> smallest = shrink(c);
                String detail = check(c, smallest, new HashMap<>());
                fail("operator disagrees with the reference model%n  seed: %d (replay: mvn -pl streamflow-reactive "
                                + "test -Dtest=WindowReferenceModelTest -Dseed=%d)%n  spec: %s%n"
                                + "  demand: prefetch %d, downstream batch %d, fused source %s; source partitions: %s%n  smallest failing input (%d of %d records):%s%n%s",
                        seed, seed, c.spec(), c.prefetch(), c.downstreamBatch(), c.fused(),
                        c.partitions() == 0 ? "one, watermarks from WatermarkStrategy" : c.partitions()
                                + ", watermarks inserted by the test", smallest.size(), c.input().size(), javaList(smallest),
                        Objects.requireNonNullElse(detail, "(shrunk input passes?!) original problem:\n" + problem));
            }
            perKind.merge(c.spec().kind(), 1, Integer::sum);
            records += c.input().size();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("WindowReferenceModelTest: " + CASES + " random cases (" + perKind + "), " + records
                + " records, in " + ms + " ms; outcomes seen: " + new java.util.TreeMap<>(seen));
        if (SEED == null && CASES >= 1000) {
            // the generator must really exercise what it claims to
            assertThat(seen).as("what the random cases exercised").containsKeys("late record", "EARLY pane",
                    "LATE pane", "ON_TIME pane", "final pane", "closing pane", "session merge", "discarding pane",
                    "sliced sliding window", "sliced sliding window (gcd slices)", "sliced tumbling window");
        }
    }

    @Test
    void shouldShrinkAFailingInputToTheRecordsThatMatter() {
        // the shrinker itself, on a made-up property: "fails" while the input holds both seq 3 and seq 7
        List<In> input = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            input.add(new In("k" + (i % 3), 100L * i, i, i));
        }
        List<In> smallest = shrink(input, in -> in.stream().anyMatch(r -> r.seq() == 3)
                && in.stream().anyMatch(r -> r.seq() == 7));
        assertThat(smallest).extracting(In::seq).containsExactly(3, 7);
    }

    // ------------------------------------------------------------------ generation

    static Case generate(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Kind kind = Kind.values()[rnd.nextInt(Kind.values().length)];
        long b = pick(rnd, 0, 1, 10, 50, 100, 300);
        long lateness = rnd.nextInt(5) < 2 ? 0 : pick(rnd, 1, 20, 100, 300, 1000);
        long size = 0;
        long slide = 0;
        long offset = 0;
        long gap = 0;
        switch (kind) {
            case TUMBLING -> {
                size = pick(rnd, 1, 10, 50, 100, 250, 1000);
                offset = rnd.nextBoolean() ? 0 : rnd.nextLong(size);
            }
            case SLIDING -> {
                slide = pick(rnd, 1, 10, 25, 50, 100);
                size = slide * (1 + rnd.nextInt(4));
                if (slide > 1 && rnd.nextBoolean()) {
                    size += rnd.nextLong(1, slide); // size not a multiple of slide
                }
                offset = rnd.nextBoolean() ? 0 : rnd.nextLong(slide);
            }
            case SESSION -> gap = pick(rnd, 1, 10, 50, 100, 200);
        }
        long early = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(4) : 0;
        boolean lateFirings = rnd.nextInt(4) != 0;
        boolean closing = rnd.nextInt(3) == 0;
        boolean accumulating = rnd.nextInt(3) != 0;
        Spec spec = new Spec(kind, size, slide, offset, gap, b, lateness, early, lateFirings, closing, accumulating);

        int keys = 1 + rnd.nextInt(5);
        int n = 1 + rnd.nextInt(40);
        long scale = Math.max(size, gap);
        long clock = pick(rnd, 0, 1_700_000_000_000L, -2_000, rnd.nextLong(-1_000_000, 1_000_000));
        long step = pick(rnd, 0, 1, 5, 20, 100);
        long disorder = pick(rnd, 0, b / 2, b, b + 1, 2 * b + 50, 3 * b + scale, 1000);
        List<In> input = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            clock += rnd.nextLong(step + 1);
            if (rnd.nextInt(20) == 0) {
                clock += rnd.nextLong(1, 2000); // a jump: the watermark overtakes (and purges) windows
            }
            long ts = clock - rnd.nextLong(disorder + 1);
            if (i > 0 && rnd.nextInt(10) == 0) {
                ts = input.get(rnd.nextInt(i)).ts(); // equal timestamps
            }
            input.add(new In("k" + rnd.nextInt(keys), ts, rnd.nextLong(-100, 1000), i));
        }
        int prefetch = (int) pick(rnd, 256, 256, 1, 2, 7);
        int downstreamBatch = (int) pick(rnd, 0, 0, 1, 3);
        int partitions = (int) pick(rnd, 0, 0, 1, 2, 3);
        boolean fused = rnd.nextBoolean();
        return new Case(seed, spec, input, prefetch, downstreamBatch, partitions, fused);
    }

    private static long pick(SplittableRandom rnd, long... choices) {
        return choices[rnd.nextInt(choices.length)];
    }

    // ------------------------------------------------------------------ comparison

    /** @return {@code null} when the operator agrees with the model, else what differs */
    static String check(Case c, List<In> input, Map<String, Integer> seen) {
        Spec spec = c.spec();
        Expected expected = WindowReferenceModel.expected(spec, input);
        Outcome actual;
        try {
            actual = WindowTestKit.run(input, spec.outOfOrderness(),
                    WindowTestKit.operator(spec.assigner(), spec.lateness(), spec.trigger()), c.prefetch(),
                    c.downstreamBatch(), c.partitions(), c.fused());
        } catch (Throwable t) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            return "  the operator failed: " + sw;
        }
        StringBuilder problems = new StringBuilder();

        Map<Pane, Integer> missing = counts(expected.panes());
        Map<Pane, Integer> unexpected = counts(actual.panes());
        for (Pane p : new ArrayList<>(missing.keySet())) {
            int common = Math.min(missing.get(p), unexpected.getOrDefault(p, 0));
            subtract(missing, p, common);
            subtract(unexpected, p, common);
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            problems.append("  panes expected but not emitted:").append(WindowTestKit.lines(sorted(missing)))
                    .append("\n  panes emitted but not expected:").append(WindowTestKit.lines(sorted(unexpected)))
                    .append("\n  all expected panes:").append(WindowTestKit.lines(
                            expected.panes().stream().sorted(WindowTestKit.PANE_ORDER).toList()))
                    .append("\n  all emitted panes (in emission order):").append(WindowTestKit.lines(actual.panes()))
                    .append('\n');
        }
        if (!new TreeSet<>(expected.lateSeqs()).equals(new TreeSet<>(actual.lateSeqs()))
                || actual.lateSeqs().size() != new HashSet<>(actual.lateSeqs()).size()) {
            problems.append("  late records (seq): expected ").append(new TreeSet<>(expected.lateSeqs()))
                    .append(", emitted ").append(actual.lateSeqs()).append('\n');
        }
        if (actual.lateCounter() != actual.lateSeqs().size()) {
            problems.append("  streamflow.records.late is ").append(actual.lateCounter()).append(" but ")
                    .append(actual.lateSeqs().size()).append(" late records were emitted\n");
        }
        lateRecordsCarryTheirCoordinates(spec, input, actual.lateRecords(), problems);
        wellFormed(spec, actual.raw(), problems);
        if (problems.length() > 0) {
            return problems.toString();
        }
        tally(spec, input, expected, seen);
        return null;
    }

    /** Each late record names the watermark it arrived at and a window of its timestamp that was purged. */
    private static void lateRecordsCarryTheirCoordinates(Spec spec, List<In> input, List<LateRecord<?, ?>> lates,
                                                         StringBuilder problems) {
        long[] before = WindowReferenceModel.watermarksBefore(input, spec.outOfOrderness());
        for (LateRecord<?, ?> l : lates) {
            int seq = ((WindowTestKit.Val) l.record().value()).seq();
            int i = 0;
            while (i < input.size() && input.get(i).seq() != seq) {
                i++;
            }
            if (i == input.size()) {
                problems.append("  late record with unknown seq ").append(seq).append('\n');
                continue;
            }
            In r = input.get(i);
            long ts = l.record().timestamp();
            boolean ok = ts == r.ts() && r.key().equals(l.record().key()) && l.watermark() == before[i]
                    && l.windowStart() <= ts && ts < l.windowEnd()
                    && l.windowEnd() - 1 + spec.lateness() <= l.watermark()
                    && (spec.kind() != Kind.SESSION
                        || (l.windowStart() == ts && l.windowEnd() == ts + spec.gap()))
                    && (spec.kind() == Kind.SESSION
                        || (l.windowEnd() - l.windowStart() == spec.size()
                            && Math.floorMod(l.windowStart() - spec.offset(),
                                spec.kind() == Kind.TUMBLING ? spec.size() : spec.slide()) == 0));
            if (!ok) {
                problems.append("  late record ").append(l).append(" does not match input ").append(r)
                        .append(" at watermark ").append(before[i]).append('\n');
            }
        }
    }

    /** Stream-level properties that hold whatever the model says. */
    private static void wellFormed(Spec spec, List<StreamElement<String, ?>> out, StringBuilder problems) {
        if (out.isEmpty() || !(out.get(out.size() - 1) instanceof Watermark<?, ?> last) || last.timestamp() != Watermark.END) {
            problems.append("  the output does not end with the END watermark\n");
        }
        long wm = Long.MIN_VALUE;
        Map<String, Long> nextIndex = new HashMap<>();
        Map<String, Boolean> finished = new HashMap<>();
        for (StreamElement<String, ?> e : out) {
            if (e instanceof Watermark<?, ?> w) {
                if (w.timestamp() <= wm) {
                    problems.append("  watermark ").append(w.timestamp()).append(" forwarded after ").append(wm)
                            .append('\n');
                }
                wm = Math.max(wm, w.timestamp());
            } else if (e instanceof StreamRecord<?, ?> r && r.value() instanceof WindowResult<?, ?> res) {
                PaneInfo pane = res.pane();
                if (pane.timing() != PaneInfo.Timing.LATE && res.end() - 1 <= wm) {
                    problems.append("  ").append(pane.timing()).append(" pane ").append(res)
                            .append(" emitted after watermark ").append(wm).append(" had already passed its end\n");
                }
                String id = res.key() + "[" + res.start() + "," + res.end() + ")";
                if (finished.getOrDefault(id, false)) {
                    problems.append("  pane ").append(res).append(" emitted after a final pane of the same window\n");
                }
                finished.put(id, pane.isFinal());
                if (spec.kind() != Kind.SESSION) {
                    long expectedIndex = nextIndex.getOrDefault(id, 0L);
                    if (pane.index() != expectedIndex) {
                        problems.append("  pane ").append(res).append(" has index ").append(pane.index())
                                .append(", expected ").append(expectedIndex).append(" (emission order)\n");
                    }
                    nextIndex.put(id, pane.index() + 1);
                }
            }
        }
    }

    private static void tally(Spec spec, List<In> input, Expected expected, Map<String, Integer> seen) {
        if (!expected.lateSeqs().isEmpty()) {
            seen.merge("late record", 1, Integer::sum);
        }
        if (spec.kind() == Kind.TUMBLING && spec.lateness() == 0 && spec.earlyCount() == 0 && !spec.closingPane()
                && !expected.panes().isEmpty()) {
            seen.merge("sliced tumbling window", 1, Integer::sum);
        }
        if (spec.kind() == Kind.SLIDING && spec.lateness() == 0 && spec.earlyCount() == 0 && !spec.closingPane()
                && spec.size() > spec.slide() && !expected.panes().isEmpty()) {
            // the operator's sliced path (one accumulator per slice, merged at firing)
            seen.merge(spec.size() % spec.slide() == 0 ? "sliced sliding window" : "sliced sliding window (gcd slices)",
                    1, Integer::sum);
        }
        for (Pane p : expected.panes()) {
            seen.merge(p.timing() + " pane", 1, Integer::sum);
            if (p.isFinal()) {
                seen.merge("final pane", 1, Integer::sum);
            }
            if (p.isFinal() && p.timing() == PaneInfo.Timing.LATE) {
                seen.merge("closing pane", 1, Integer::sum);
            }
            if (!spec.accumulating() && p.index() > 0) {
                seen.merge("discarding pane", 1, Integer::sum);
            }
            if (spec.kind() == Kind.SESSION && p.count() > 0 && p.end() - p.start() > spec.gap()
                    && input.stream().filter(r -> r.key().equals(p.key()) && r.ts() >= p.start()
                    && r.ts() < p.end()).map(In::ts).distinct().count() > 1) {
                seen.merge("session merge", 1, Integer::sum);
            }
        }
    }

    private static Map<Pane, Integer> counts(List<Pane> panes) {
        Map<Pane, Integer> m = new HashMap<>();
        for (Pane p : panes) {
            m.merge(p, 1, Integer::sum);
        }
        return m;
    }

    private static void subtract(Map<Pane, Integer> m, Pane p, int n) {
        int left = m.getOrDefault(p, 0) - n;
        if (left <= 0) {
            m.remove(p);
        } else {
            m.put(p, left);
        }
    }

    private static List<Pane> sorted(Map<Pane, Integer> m) {
        List<Pane> l = new ArrayList<>();
        m.forEach((p, n) -> {
            for (int i = 0; i < n; i++) {
                l.add(p);
            }
        });
        l.sort(WindowTestKit.PANE_ORDER);
        return l;
    }

    // ------------------------------------------------------------------ shrinking

    static List<In> shrink(Case c) {
        return shrink(c.input(), candidate -> check(c, candidate, new HashMap<>()) != null);
    }

    /** Drops records one at a time as long as the input still fails; stops when no single record can go. */
    static List<In> shrink(List<In> input, java.util.function.Predicate<List<In>> fails) {
        return io.streamflow.reactive.Shrink.smallest(input, fails);
    }

    private static String javaList(List<In> input) {
        StringBuilder sb = new StringBuilder();
        for (In r : input) {
            sb.append("\n    new In(\"").append(r.key()).append("\", ").append(r.ts()).append("L, ").append(r.value())
                    .append(", ").append(r.seq()).append("),");
        }
        return sb.toString();
    }
}
