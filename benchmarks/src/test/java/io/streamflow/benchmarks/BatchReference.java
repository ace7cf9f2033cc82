package io.streamflow.benchmarks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A deliberately simple batch computation of the window results: the reference for the harness's systems. */
final class BatchReference {

    private BatchReference() {
    }

    static Checksum run(BenchEvents ev, WindowWorkload w) {
        Checksum out = new Checksum();
        if (w == WindowWorkload.SESSION) {
            // sessions in arrival order: a session closes (fires and is purged) once the watermark
            // reaches its last millisecond, so a later record that merely touches it starts a new one
            Map<Long, List<long[]>> open = new HashMap<>(); // key -> sessions {start, end, count, sum}
            long maxTs = Long.MIN_VALUE;
            for (int i = 0; i < ev.size(); i++) {
                long t = ev.timestamps[i];
                long[] merged = {t, t + w.gap, 1, ev.values[i]};
                List<long[]> sessions = open.computeIfAbsent(ev.keys[i], k -> new ArrayList<>());
                for (java.util.Iterator<long[]> it = sessions.iterator(); it.hasNext(); ) {
                    long[] s = it.next();
                    if (s[0] <= merged[1] && s[1] >= merged[0]) {
                        merged[0] = Math.min(merged[0], s[0]);
                        merged[1] = Math.max(merged[1], s[1]);
                        merged[2] += s[2];
                        merged[3] += s[3];
                        it.remove();
                    }
                }
                sessions.add(merged);
                if (t > maxTs) {
                    maxTs = t;
                    long wm = t - ev.spec.disorderMillis() - 1;
                    for (Map.Entry<Long, List<long[]>> e : open.entrySet()) {
                        for (java.util.Iterator<long[]> it = e.getValue().iterator(); it.hasNext(); ) {
                            long[] s = it.next();
                            if (s[1] - 1 <= wm) {
                                out.add(e.getKey(), s[0], s[1], s[2], s[3]);
                                it.remove();
                            }
                        }
                    }
                }
            }
            open.forEach((k, list) -> list.forEach(s -> out.add(k, s[0], s[1], s[2], s[3])));
            return out;
        }
        Map<List<Long>, long[]> acc = new HashMap<>();
        for (int i = 0; i < ev.size(); i++) {
            long t = ev.timestamps[i];
            long lastStart = t - Math.floorMod(t, w.slide);
            for (long s = lastStart; s > t - w.size; s -= w.slide) {
                long[] a = acc.computeIfAbsent(List.of(ev.keys[i], s), k -> new long[2]);
                a[0]++;
                a[1] += ev.values[i];
            }
        }
        acc.forEach((k, a) -> out.add(k.get(0), k.get(1), k.get(1) + w.size, a[0], a[1]));
        return out;
    }
}
