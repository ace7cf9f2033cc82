package io.streamflow.reactive.window;

import io.streamflow.reactive.window.WindowTestKit.In;
import io.streamflow.reactive.window.WindowTestKit.Pane;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A deliberately simple model of the window contract (DESIGN.md §3 and the {@link Trigger}
 * javadoc), used as the oracle of {@link WindowReferenceModelTest}. It knows the whole input up
 * front and computes the expected panes and late records in a batch; it shares no code with the
 * operator and keeps no accumulators: every pane's count and sum are recomputed from the list of
 * records the window holds at that moment.
 * <p>
 * The rules it implements:
 * <ul>
 *   <li>The watermark before record {@code i} is {@code W(i) = max over records < i of (ts - B - 1)}
 *   ({@code Long.MIN_VALUE} before the first record); after the last record it is END
 *   ({@code Long.MAX_VALUE}). A "watermark step" is each increase of that sequence, right after the
 *   record that caused it.</li>
 *   <li>A window {@code [start, end)} has {@code maxTs = end - 1} and is purged at the first
 *   watermark step reaching {@code maxTs + L}. A record is added to every window of its timestamp
 *   that is not purged by {@code W(i)}; it is late data when there is none.</li>
 *   <li>Sessions: a record at {@code t} opens {@code [t, t + gap)}, which merges with every live
 *   session of its key that it overlaps or touches; a session's bounds are
 *   {@code [min ts, max ts + gap)} of its records. A record that touches no live session and whose
 *   own session would already be purged is late. A merged session's next pane index is the
 *   largest of its parts'.</li>
 *   <li>Right after a record is added to a window: if the window's {@code maxTs <= W(i)} it fires a
 *   LATE pane (unless late firings are off); otherwise, with early firings every {@code N},
 *   it fires an EARLY pane when {@code N} records were added since its last pane.</li>
 *   <li>At the watermark step that moves the watermark from below {@code maxTs} to
 *   {@code >= maxTs}, a window that holds records fires its ON_TIME pane; when discarding, only
 *   if records arrived since its last pane. A window that only came to exist after that step
 *   never fires ON_TIME. The ON_TIME pane is final when the same step purges the window and
 *   there is no closing pane.</li>
 *   <li>At the step that purges a window, with a closing pane, it fires a final LATE pane (after
 *   the ON_TIME pane of the same step, if any).</li>
 *   <li>Accumulating panes hold every record of the window; discarding panes the records added
 *   since the previous pane. Pane indexes count 0, 1, 2, ... per key and window.</li>
 * </ul>
 */
final class WindowReferenceModel {

    private static final long END = Long.MAX_VALUE;

    enum Kind { TUMBLING, SLIDING, SESSION }

    /** One random configuration: windowing, watermark bound B, allowed lateness L and trigger. */
    record Spec(Kind kind, long size, long slide, long offset, long gap, long outOfOrderness, long lateness,
                long earlyCount, boolean lateFirings, boolean closingPane, boolean accumulating) {

        WindowAssigner assigner() {
            return switch (kind) {
                case TUMBLING -> Windows.tumbling(Duration.ofMillis(size), Duration.ofMillis(offset));
                case SLIDING -> Windows.sliding(Duration.ofMillis(size), Duration.ofMillis(slide),
                        Duration.ofMillis(offset));
                case SESSION -> Windows.session(Duration.ofMillis(gap));
            };
        }

        Trigger trigger() {
            Trigger t = Trigger.onWatermark();
            if (earlyCount > 0) {
                t = t.withEarlyFiringsEvery(earlyCount);
            }
            if (!lateFirings) {
                t = t.withoutLateFirings();
            }
            if (closingPane) {
                t = t.withClosingPane();
            }
            return accumulating ? t : t.discarding();
        }

        @Override
        public String toString() {
            String w = switch (kind) {
                case TUMBLING -> "tumbling(size=" + size + ", offset=" + offset + ")";
                case SLIDING -> "sliding(size=" + size + ", slide=" + slide + ", offset=" + offset + ")";
                case SESSION -> "session(gap=" + gap + ")";
            };
            return w + ", B=" + outOfOrderness + ", L=" + lateness + ", trigger[" + (earlyCount > 0 ? "early every "
                    + earlyCount + ", " : "") + (lateFirings ? "" : "no late firings, ")
                    + (closingPane ? "closing pane, " : "") + (accumulating ? "accumulating" : "discarding") + "]";
        }
    }

    /** Expected output. */
    record Expected(List<Pane> panes, List<Integer> lateSeqs) {
    }

    private final Spec spec;
    private final List<In> input;
    /** {@code before[i]}: watermark before record i; {@code before[n]}: after the last record. */
    private final long[] before;
    private final List<Pane> panes = new ArrayList<>();
    private final List<Integer> late = new ArrayList<>();

    private WindowReferenceModel(Spec spec, List<In> input) {
        this.spec = spec;
        this.input = input;
        this.before = watermarksBefore(input, spec.outOfOrderness());
    }

    /** {@code [i]}: the watermark before record {@code i}; {@code [n]}: after the last record (before END). */
    static long[] watermarksBefore(List<In> input, long outOfOrderness) {
        int n = input.size();
        long[] before = new long[n + 1];
        before[0] = Long.MIN_VALUE;
        long maxTs = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            maxTs = Math.max(maxTs, input.get(i).ts());
            before[i + 1] = Math.max(before[i], maxTs - outOfOrderness - 1);
        }
        return before;
    }

    static Expected expected(Spec spec, List<In> input) {
        WindowReferenceModel m = new WindowReferenceModel(spec, input);
        if (spec.kind() == Kind.SESSION) {
            m.sessions();
        } else {
            m.fixedWindows();
        }
        return new Expected(m.panes, m.late);
    }

    // ------------------------------------------------------------------ one window's panes

    /** One key's window and the records it holds. */
    private final class Win {
        final String key;
        final List<In> all = new ArrayList<>();
        /** Records added since the last pane. */
        final List<In> sinceLastPane = new ArrayList<>();
        long nextIndex;

        Win(String key) {
            this.key = key;
        }

        /** Session bounds: {@code [min ts, max ts + gap)} of the records it holds. */
        long start() {
            return all.stream().mapToLong(In::ts).min().orElseThrow();
        }

        long end() {
            return all.stream().mapToLong(In::ts).max().orElseThrow() + spec.gap();
        }

        void fire(long start, long end, PaneInfo.Timing timing, boolean isFinal) {
            List<In> content = spec.accumulating() ? all : sinceLastPane;
            long sum = 0;
            for (In r : content) {
                sum += r.value();
            }
            panes.add(new Pane(key, start, end, content.size(), sum, timing, nextIndex++, isFinal));
            sinceLastPane.clear();
        }

        /** Right after a record was added, {@code w} being the watermark before that record. */
        void afterAdd(long start, long end, long w) {
            if (end - 1 <= w) {
                if (spec.lateFirings()) {
                    fire(start, end, PaneInfo.Timing.LATE, false);
                }
            } else if (spec.earlyCount() > 0 && sinceLastPane.size() >= spec.earlyCount()) {
                fire(start, end, PaneInfo.Timing.EARLY, false);
            }
        }

        /** The watermark moved from {@code from} to {@code to}. @return whether the window is purged now */
        boolean watermarkStep(long start, long end, long from, long to) {
            long maxTs = end - 1;
            boolean purge = plus(maxTs, spec.lateness()) <= to;
            if (from < maxTs && maxTs <= to && (spec.accumulating() || !sinceLastPane.isEmpty())) {
                fire(start, end, PaneInfo.Timing.ON_TIME, purge && !spec.closingPane());
            }
            if (purge && spec.closingPane()) {
                fire(start, end, PaneInfo.Timing.LATE, true);
            }
            return purge;
        }
    }

    private static long plus(long a, long b) {
        long r = a + b;
        return (b > 0 && r < a) ? Long.MAX_VALUE : r;
    }

    // ------------------------------------------------------------------ tumbling and sliding

    /** Every window {@code [start, start + size)} with {@code start = offset + k * slide} that contains t. */
    private List<long[]> windowsOf(long t) {
        long size = spec.size();
        long step = spec.kind() == Kind.TUMBLING ? spec.size() : spec.slide();
        List<long[]> ws = new ArrayList<>();
        long firstK = Math.floorDiv(t - size - spec.offset(), step) - 1;
        long lastK = Math.floorDiv(t - spec.offset(), step) + 1;
        for (long k = firstK; k <= lastK; k++) {
            long start = spec.offset() + k * step;
            if (start <= t && t < start + size) {
                ws.add(new long[] {start, start + size});
            }
        }
        return ws;
    }

    private record WinId(String key, long start, long end) {
    }

    private void fixedWindows() {
        int n = input.size();
        // which records each (key, window) accepts: every window of the record not purged by W(i)
        Map<WinId, List<Integer>> accepted = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            In r = input.get(i);
            boolean any = false;
            for (long[] w : windowsOf(r.ts())) {
                if (plus(w[1] - 1, spec.lateness()) > before[i]) {
                    accepted.computeIfAbsent(new WinId(r.key(), w[0], w[1]), id -> new ArrayList<>()).add(i);
                    any = true;
                }
            }
            if (!any) {
                late.add(r.seq());
            }
        }
        // then replay the timeline of each window on its own
        for (Map.Entry<WinId, List<Integer>> e : accepted.entrySet()) {
            WinId id = e.getKey();
            List<Integer> mine = e.getValue();
            Win win = new Win(id.key());
            boolean purged = false;
            for (int i = 0; i < n && !purged; i++) {
                if (mine.contains(i)) {
                    win.all.add(input.get(i));
                    win.sinceLastPane.add(input.get(i));
                    win.afterAdd(id.start(), id.end(), before[i]);
                }
                if (!win.all.isEmpty() && before[i + 1] > before[i]) {
                    purged = win.watermarkStep(id.start(), id.end(), before[i], before[i + 1]);
                }
            }
            if (!purged) {
                win.watermarkStep(id.start(), id.end(), before[n], END);
            }
        }
    }

    // ------------------------------------------------------------------ sessions

    private void sessions() {
        int n = input.size();
        Map<String, List<Win>> live = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            In r = input.get(i);
            long w = before[i];
            List<Win> mine = live.computeIfAbsent(r.key(), k -> new ArrayList<>());
            List<Win> touching = new ArrayList<>();
            for (Win s : mine) {
                if (s.start() <= r.ts() + spec.gap() && r.ts() <= s.end()) {
                    touching.add(s);
                }
            }
            Win target;
            if (touching.isEmpty()) {
                if (plus(r.ts() + spec.gap() - 1, spec.lateness()) <= w) {
                    late.add(r.seq());
                    step(live, w, before[i + 1]);
                    continue;
                }
                target = new Win(r.key());
            } else {
                target = new Win(r.key());
                for (Win s : touching) {
                    target.all.addAll(s.all);
                    target.sinceLastPane.addAll(s.sinceLastPane);
                    target.nextIndex = Math.max(target.nextIndex, s.nextIndex);
                }
                mine.removeAll(touching);
            }
            mine.add(target);
            target.all.add(r);
            target.sinceLastPane.add(r);
            target.afterAdd(target.start(), target.end(), w);
            step(live, w, before[i + 1]);
        }
        step(live, before[n], END);
    }

    private void step(Map<String, List<Win>> live, long from, long to) {
        if (to <= from) {
            return;
        }
        for (List<Win> sessions : live.values()) {
            sessions.removeIf(s -> s.watermarkStep(s.start(), s.end(), from, to));
        }
    }
}
