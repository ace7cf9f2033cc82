package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Nothing read from a file is lost or rewritten: every input line is counted in a window result,
 * or is a dead letter (not UTF-8, too long, no timestamp), or is late data; and the split is the
 * reference model's, so a line counted under a rewritten key is caught too.
 */
class HostileInputAccountingTest {

    private static final Long SEED = Long.getLong("seed");
    private static final int LIMIT = 64;
    private static final long WINDOW = 1_000;
    private static final long BOUND = 200;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** What the pipeline must produce for a file. */
    private record Expected(Map<String, Long> counts, long deadLetters, long late, long lines) {
    }

    /** The outcome of the pipeline. */
    private record Outcome(Map<String, Long> counts, long deadLetters, long late, double deadMeter,
                           double lateMeter) {
    }

    static Stream<Arguments> hostileFiles() {
        return Stream.of(
                Arguments.of("empty file", LineFile.bytesOf()),
                Arguments.of("only newlines", LineFile.bytesOf("\n\n\n\n")),
                Arguments.of("only CRLFs", LineFile.bytesOf("\r\n\r\n")),
                Arguments.of("one line without newline", LineFile.bytesOf("u1,5")),
                Arguments.of("CRLF lines", LineFile.bytesOf("u1,5\r\nu2,6\r\nu1,1500\r\n")),
                Arguments.of("last line without newline", LineFile.bytesOf("u1,5\nu2,1700\nu1,2500")),
                Arguments.of("invalid UTF-8", LineFile.bytesOf("u1,5\nu", 0xFF, ",6\n", 0xC0, 0x80, "\nu2,7\n")),
                Arguments.of("over-long lines", LineFile.bytesOf("u1,5\nu1," + "0".repeat(LIMIT) + "9\nu2,6\n",
                        "u3," + "1".repeat(5 * LIMIT), "\r\nu2,8")),
                Arguments.of("no timestamp", LineFile.bytesOf("u1,5\nu1,x\n\nu2\nu2,7\n")),
                Arguments.of("late lines", LineFile.bytesOf("u1,5\nu1,5000\nu2,10\nu1,4999\nu1,4700\n")),
                Arguments.of("everything", LineFile.bytesOf("u1,5\r\n", 0xF5, "\n", "u2," + "7".repeat(LIMIT * 3), "\n\n",
                        "u3,4000\nu1,100\nu2,x\r\nu9,4100")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileFiles")
    void everyLineOfAHostileFileIsAResultInputADeadLetterOrLate(String name, byte[] content) throws IOException {
        Path file = Files.write(dir.resolve("hostile.txt"), content);
        check(name, content, run(file));
    }

    /** Random hostile files (printed seed, replay with {@code -Dseed=}). */
    @Test
    void everyLineOfASeededRandomHostileFileIsAResultInputADeadLetterOrLate() throws IOException {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        int cases = SEED != null ? 1 : 25;
        System.out.println("HostileInputAccountingTest: base seed " + base + ", " + cases
                + " cases (replay one with -Dseed=<seed>)");
        for (int c = 0; c < cases; c++) {
            long seed = base + c;
            byte[] content = randomFile(new SplittableRandom(seed));
            Path file = Files.write(dir.resolve("random-" + c + ".txt"), content);
            check("seed " + seed + " (replay: -Dseed=" + seed + ")", content, run(file));
        }
    }

    private static void check(String what, byte[] content, Outcome outcome) {
        Expected expected = model(content);
        long inputs = outcome.counts().values().stream().mapToLong(Long::longValue).sum();
        assertThat(inputs + outcome.deadLetters() + outcome.late())
                .as("%s: lines = results' inputs + dead letters + late", what).isEqualTo(expected.lines());
        assertThat(outcome.deadLetters()).as("%s: dead letters", what).isEqualTo(expected.deadLetters());
        assertThat(outcome.late()).as("%s: late records", what).isEqualTo(expected.late());
        assertThat(outcome.counts()).as("%s: counts per key and window", what).isEqualTo(expected.counts());
        assertThat(outcome.deadMeter()).as("%s: streamflow.records.dead.letter", what)
                .isEqualTo((double) expected.deadLetters());
        assertThat(outcome.lateMeter()).as("%s: streamflow.records.late", what).isEqualTo((double) expected.late());
    }

    private static Outcome run(Path file) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicLong dead = new AtomicLong();
        AtomicLong late = new AtomicLong();
        Map<String, Long> counts = new HashMap<>();
        WatermarkStrategy<Void, String> strategy = WatermarkStrategy
                .<Void, String>forBoundedOutOfOrderness(Duration.ofMillis(BOUND))
                .withTimestampAssigner(r -> Long.parseLong(r.value().substring(r.value().indexOf(',') + 1)))
                .withErrorPolicy(ErrorPolicy.deadLetter())
                .withMetrics("hostile", "watermarks", registry);
        List<WindowResult<String, Long>> results = EventStream.from(
                        StreamSources.fileLines(file, FileLinesOptions.defaults().maxLineBytes(LIMIT)), strategy)
                .settings(OperatorSettings.named("hostile").withPipeline("hostile").withMeterRegistry(registry))
                .keyBy(line -> line.substring(0, line.indexOf(',')))
                .window(Windows.tumbling(Duration.ofMillis(WINDOW)))
                .aggregate(Aggregations.count())
                .onDeadLetter(d -> d.doOnNext(x -> dead.incrementAndGet()))
                .onLateData(l -> l.doOnNext(x -> late.incrementAndGet()))
                .values()
                .collectList()
                .block(TIMEOUT);
        for (WindowResult<String, Long> r : results) {
            Long before = counts.put(r.key() + "@" + r.start(), r.value());
            assertThat(before).as("one result per key and window: " + r).isNull();
        }
        double deadMeter = registry.find("streamflow.records.dead.letter").counters().stream()
                .mapToDouble(c -> c.count()).sum();
        double lateMeter = registry.find("streamflow.records.late").counters().stream()
                .mapToDouble(c -> c.count()).sum();
        return new Outcome(counts, dead.get(), late.get(), deadMeter, lateMeter);
    }

    /**
     * The reference model: splits the bytes into lines itself (LF, a CR before it dropped), decides
     * dead letters (not UTF-8, longer than the limit, no numeric timestamp) and lateness (the window's
     * last millisecond at or behind the watermark before the record), and counts the rest per key and
     * window.
     */
    private static Expected model(byte[] content) {
        Map<String, Long> counts = new HashMap<>();
        long dead = 0;
        long late = 0;
        long lines = 0;
        long maxTs = Long.MIN_VALUE;
        int start = 0;
        while (start < content.length) {
            int end = start;
            while (end < content.length && content[end] != '\n') {
                end++;
            }
            int stop = end > start && content[end - 1] == '\r' ? end - 1 : end;
            lines++;
            String line = decodeOrNull(content, start, stop - start);
            Long ts = line == null ? null : timestamp(line);
            if (ts == null) {
                dead++;
            } else {
                long watermark = maxTs == Long.MIN_VALUE ? Long.MIN_VALUE : maxTs - BOUND - 1;
                long windowStart = Math.floorDiv(ts, WINDOW) * WINDOW;
                if (windowStart + WINDOW - 1 <= watermark) {
                    late++;
                } else {
                    counts.merge(line.substring(0, line.indexOf(',')) + "@" + windowStart, 1L, Long::sum);
                }
                maxTs = Math.max(maxTs, ts);
            }
            start = end + 1;
        }
        return new Expected(counts, dead, late, lines);
    }

    private static String decodeOrNull(byte[] b, int from, int length) {
        if (length > LIMIT) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b, from, length)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    private static Long timestamp(String line) {
        try {
            return Long.parseLong(line.substring(line.indexOf(',') + 1));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Mostly good lines in slightly disordered time, some far behind, and every kind of bad line. */
    private static byte[] randomFile(SplittableRandom rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = rnd.nextInt(300);
        long t = rnd.nextLong(10_000);
        for (int i = 0; i < n; i++) {
            String user = "u" + rnd.nextInt(8);
            t += rnd.nextInt(60);
            int kind = rnd.nextInt(20);
            byte[] line = switch (kind) {
                case 0 -> LineFile.concat(LineFile.bytesOf(user), LineFile.INVALID[rnd.nextInt(LineFile.INVALID.length)],
                        LineFile.bytesOf("," + t));
                case 1 -> LineFile.bytesOf(user + "," + "0".repeat(LIMIT + rnd.nextInt(3 * LIMIT)) + t);
                case 2 -> LineFile.bytesOf(user + ",t" + t);
                case 3 -> LineFile.bytesOf();
                case 4 -> LineFile.bytesOf(user + "," + (t - rnd.nextLong(5_000)));
                default -> LineFile.bytesOf(user + "," + (t - rnd.nextInt((int) BOUND + 100)));
            };
            out.writeBytes(line);
            boolean last = i == n - 1;
            if (!last || line.length == 0 || rnd.nextBoolean()) {
                out.writeBytes(LineFile.bytesOf(rnd.nextInt(4) == 0 ? "\r\n" : "\n"));
            }
        }
        return out.toByteArray();
    }

}
