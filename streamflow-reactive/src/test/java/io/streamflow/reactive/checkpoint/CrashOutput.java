package io.streamflow.reactive.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Input, reference model and output reader of {@link CrashPipeline}: the reference is computed
 * from the input lines alone, in one pass, independently of the pipeline's code.
 */
final class CrashOutput {

    static final int KEYS = 100;
    static final long STEP_MILLIS = 2;

    private CrashOutput() {
    }

    /**
     * Lines {@code "timestamp,key"}: event time advancing 2 ms per line, up to 150 ms out of order;
     * about one line in a thousand is 5 s behind (late for its window) and one in two thousand has
     * a poison key (a dead letter).
     */
    static List<String> input(SplittableRandom rnd, int n) {
        return input(rnd, n, true);
    }

    /** Like {@link #input(SplittableRandom, int)}, with poison keys only if {@code poison}. */
    static List<String> input(SplittableRandom rnd, int n, boolean poison) {
        List<String> lines = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long ts = 10_000 + i * STEP_MILLIS - rnd.nextInt(151);
            if (rnd.nextInt(1000) == 0) {
                ts -= 5_000; // far behind: late for its window
            }
            lines.add(ts + (rnd.nextInt(2000) == 0 && poison ? ",!poison" : ",k") + rnd.nextInt(KEYS));
        }
        return lines;
    }

    /** What the pipeline must deliver: counts per "key,windowStart", positions of late lines and of dead letters. */
    record Expected(Map<String, Long> counts, Set<Long> late, Set<Long> dead) {
    }

    /**
     * The reference model: a poison line is a dead letter (its timestamp still moves the watermark);
     * any other line is late when its 1 s window's last millisecond is at or before the watermark
     * of the lines before it (largest timestamp − 100 ms − 1), else counted in its window.
     */
    static Expected expected(List<String> lines) {
        Map<String, Long> counts = new HashMap<>();
        Set<Long> late = new TreeSet<>();
        Set<Long> dead = new TreeSet<>();
        long max = Long.MIN_VALUE;
        long offset = 0;
        for (String l : lines) {
            int c = l.indexOf(',');
            long ts = Long.parseLong(l.substring(0, c));
            String key = l.substring(c + 1);
            long start = Math.floorDiv(ts, CrashPipeline.WINDOW_MILLIS) * CrashPipeline.WINDOW_MILLIS;
            long watermark = max == Long.MIN_VALUE ? Long.MIN_VALUE : max - CrashPipeline.BOUND_MILLIS - 1;
            if (key.startsWith("!")) {
                dead.add(offset);
            } else if (start + CrashPipeline.WINDOW_MILLIS - 1 > watermark) {
                counts.merge(key + "," + start, 1L, Long::sum);
            } else {
                late.add(offset);
            }
            max = Math.max(max, ts);
            offset += l.getBytes(StandardCharsets.UTF_8).length + 1;
        }
        return new Expected(counts, late, dead);
    }

    /** What the part files of an output directory hold, with every line seen twice. */
    record Actual(Map<String, Long> counts, List<String> duplicated, Set<Long> late, Set<Long> dead,
                  List<String> duplicatedSide) {
    }

    static Actual read(Path output) throws IOException {
        Map<String, Long> counts = new HashMap<>();
        List<String> duplicated = new ArrayList<>();
        for (String l : lines(output.resolve("results"))) {
            int c = l.lastIndexOf(',');
            if (counts.put(l.substring(0, c), Long.parseLong(l.substring(c + 1))) != null) {
                duplicated.add(l);
            }
        }
        Set<Long> late = new HashSet<>();
        Set<Long> dead = new HashSet<>();
        List<String> duplicatedSide = new ArrayList<>();
        for (String l : lines(output.resolve("late"))) {
            if (!late.add(Long.parseLong(l.substring(0, l.indexOf(':'))))) {
                duplicatedSide.add("late " + l);
            }
        }
        for (String l : lines(output.resolve("dead"))) {
            if (!dead.add(Long.parseLong(l.substring(0, l.indexOf(':'))))) {
                duplicatedSide.add("dead " + l);
            }
        }
        return new Actual(counts, duplicated, late, dead, duplicatedSide);
    }

    /** The lines of the part files of {@code dir} in name order; any other file than parts and their records fails. */
    static List<String> lines(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.exists(dir)) {
            return out;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith("part-") && n.endsWith(".txt")) {
                    out.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
                } else {
                    assertThat(n).as("file in " + dir).startsWith(".part-").endsWith(".delivery");
                    // every delivery record says which input its output stands for
                    assertThat(Files.readString(f)).as(f.toString()).contains("\nposition 0 ");
                }
            }
        }
        return out;
    }

    /** Compares, returns a one-line summary, and fails on any difference. */
    static String check(String what, Expected expected, Actual actual) {
        List<String> missing = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Long> e : expected.counts().entrySet()) {
            Long a = actual.counts().get(e.getKey());
            if (a == null) {
                missing.add(e.getKey());
            } else if (!a.equals(e.getValue())) {
                wrong.add(e.getKey() + " expected " + e.getValue() + " got " + a);
            }
        }
        List<String> extra = actual.counts().keySet().stream().filter(k -> !expected.counts().containsKey(k)).toList();
        Set<Long> lateMissing = new TreeSet<>(expected.late());
        lateMissing.removeAll(actual.late());
        Set<Long> lateExtra = new TreeSet<>(actual.late());
        lateExtra.removeAll(expected.late());
        Set<Long> deadMissing = new TreeSet<>(expected.dead());
        deadMissing.removeAll(actual.dead());
        Set<Long> deadExtra = new TreeSet<>(actual.dead());
        deadExtra.removeAll(expected.dead());
        String summary = what + ": " + expected.counts().size() + " results, " + expected.late().size() + " late, "
                + expected.dead().size() + " dead letters expected; missing " + missing.size() + ", duplicated "
                + actual.duplicated().size() + ", wrong " + wrong.size() + ", unexpected " + extra.size()
                + "; late missing " + lateMissing.size() + ", dead missing " + deadMissing.size()
                + ", side outputs duplicated " + actual.duplicatedSide().size() + ", unexpected "
                + (lateExtra.size() + deadExtra.size());
        assertThat(missing).as(summary + " | missing results").isEmpty();
        assertThat(actual.duplicated()).as(summary + " | duplicated results").isEmpty();
        assertThat(wrong).as(summary + " | wrong results").isEmpty();
        assertThat(extra).as(summary + " | unexpected results").isEmpty();
        assertThat(lateMissing).as(summary + " | late records missing").isEmpty();
        assertThat(deadMissing).as(summary + " | dead letters missing").isEmpty();
        assertThat(actual.duplicatedSide()).as(summary + " | side outputs duplicated").isEmpty();
        assertThat(lateExtra).as(summary + " | unexpected late records").isEmpty();
        assertThat(deadExtra).as(summary + " | unexpected dead letters").isEmpty();
        return summary;
    }
}
