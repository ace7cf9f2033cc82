package io.streamflow.reactive.http.internal.results;

import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Seeded window results as a windowed pipeline would emit them: later panes of tumbling and
 * sliding windows (which overlap but never supersede each other), or merging sessions.
 */
final class ResultInputs {

    private ResultInputs() {
    }

    static List<WindowResult<String, Long>> windows(long seed, int count) {
        Random rnd = new Random(seed);
        Map<String, Long> panes = new HashMap<>();
        Set<String> closed = new HashSet<>();
        List<WindowResult<String, Long>> out = new ArrayList<>(count);
        for (int attempts = 0; out.size() < count; attempts++) {
            if (attempts > 100 * count) {
                throw new IllegalStateException("every window is final after " + out.size() + " results");
            }
            String key = "k" + rnd.nextInt(8);
            long start = rnd.nextInt(60) * 1000L;
            long end = rnd.nextBoolean() ? start + 1000 : start + 2000; // tumbling 1 s, or sliding 2 s by 1 s
            String slot = ReferenceResults.slot(key, start, end);
            if (closed.contains(slot)) {
                continue;
            }
            long index = panes.merge(slot, 1L, Long::sum) - 1;
            boolean isFinal = index >= 2 && rnd.nextInt(8) == 0;
            if (isFinal) {
                closed.add(slot);
            }
            PaneInfo.Timing timing = index == 0 ? PaneInfo.Timing.EARLY
                    : index == 1 ? PaneInfo.Timing.ON_TIME : PaneInfo.Timing.LATE;
            out.add(new WindowResult<>(key, start, end, (long) rnd.nextInt(1000), new PaneInfo(timing, index, isFinal)));
        }
        return out;
    }

    static List<WindowResult<String, Long>> sessions(long seed, int count) {
        Random rnd = new Random(seed);
        long gap = 1000;
        Map<String, List<long[]>> sessions = new HashMap<>();
        Map<String, Long> panes = new HashMap<>();
        List<WindowResult<String, Long>> out = new ArrayList<>(count);
        while (out.size() < count) {
            String key = "k" + rnd.nextInt(6);
            long t = rnd.nextInt(60_000);
            long start = t;
            long end = t + gap;
            List<long[]> open = sessions.computeIfAbsent(key, k -> new ArrayList<>());
            boolean merged;
            do {
                merged = false;
                for (int i = 0; i < open.size(); i++) {
                    long[] s = open.get(i);
                    if (s[0] <= end && start <= s[1]) { // overlap or touch: one session
                        start = Math.min(start, s[0]);
                        end = Math.max(end, s[1]);
                        open.remove(i);
                        merged = true;
                        break;
                    }
                }
            } while (merged);
            open.add(new long[] {start, end});
            long index = panes.merge(ReferenceResults.slot(key, start, end), 1L, Long::sum) - 1;
            out.add(new WindowResult<>(key, start, end, (long) rnd.nextInt(1000),
                    new PaneInfo(index == 0 ? PaneInfo.Timing.EARLY : PaneInfo.Timing.LATE, index, false)));
        }
        return out;
    }
}
