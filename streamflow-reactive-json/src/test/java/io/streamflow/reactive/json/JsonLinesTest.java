package io.streamflow.reactive.json;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.FileLinesOptions;
import io.streamflow.reactive.LineDecodingException;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * JSON lines in a pipeline: undecodable lines are dead letters with their coordinates, the line
 * and the error, and nothing is lost: lines = results' inputs + dead letters + late records.
 */
class JsonLinesTest {

    private static final Long SEED = Long.getLong("seed");
    private static final int LIMIT = 96;
    private static final long WINDOW = 1_000;
    private static final long BOUND = 100;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final JsonDecoder<Event> USERS = JsonDecoder.events().timestampField("ts").keyField("user");

    @TempDir
    Path dir;

    @Test
    void undecodableLinesAreDeadLettersWithTheirSourcePartitionOffsetLineAndError() throws IOException {
        Path file = Files.write(dir.resolve("users.jsonl"), bytes(
                "{\"user\":\"u1\",\"ts\":1000}\n",         // 0
                "{\"user\":\"u1\",\"ts\":\n",              // 24: truncated
                "{\"user\":\"u", 0xFF, "\",\"ts\":1}\r\n", // 43: not UTF-8 (the source's dead letter)
                "{\"user\":\"u2\"}\r\n",                   // 65: no timestamp
                "\n",                                      // 80: empty
                "{\"user\":\"u2\",\"ts\":2000}"));         // 81: last line, no newline

        List<StreamElement<Void, Event>> out = StreamSources.fileLines(file)
                .transform(USERS.decodeText())
                .collectList().block(TIMEOUT);

        assertThat(out).hasSize(6);
        assertThat(out.get(0)).isInstanceOfSatisfying(StreamRecord.class, r -> {
            assertThat(r.timestamp()).as("the record takes the event time").isEqualTo(1000);
            assertThat(r.origin()).isEqualTo(Origin.of("file:users.jsonl", 0, 0));
            assertThat(((Event) r.value()).key()).isEqualTo("u1");
        });
        assertDead(out.get(1), 24, "{\"user\":\"u1\",\"ts\":", "invalid JSON: Unexpected end-of-input");
        assertThat(out.get(2)).isInstanceOfSatisfying(DeadLetter.class, d -> {
            assertThat(d.operator()).isEqualTo("fileLines");
            assertThat(d.origin()).isEqualTo(Origin.of("file:users.jsonl", 0, 43));
            assertThat(d.error()).isInstanceOf(LineDecodingException.class);
        });
        assertDead(out.get(3), 65, "{\"user\":\"u2\"}", "field 'ts' is missing");
        assertDead(out.get(4), 80, "", "empty input; expected a JSON object");
        assertThat(out.get(5)).isInstanceOfSatisfying(StreamRecord.class, r -> {
            assertThat(r.timestamp()).isEqualTo(2000);
            assertThat(r.origin().position()).isEqualTo(81);
        });
    }

    private static void assertDead(StreamElement<Void, Event> e, long offset, String line, String error) {
        assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
            assertThat(d.operator()).isEqualTo(JsonDecoder.OPERATOR);
            assertThat(d.origin()).isEqualTo(Origin.of("file:users.jsonl", 0, offset));
            assertThat(d.input()).isInstanceOfSatisfying(StreamRecord.class,
                    r -> assertThat(r.value()).as("the line").isEqualTo(line));
            assertThat(d.error()).isInstanceOf(JsonDecodingException.class).hasMessageContaining(error);
        });
    }

    @Test
    void byteValuesOfAPartitionedSourceAreDecodedAndTheOthersPassThrough() {
        Origin good = Origin.of("orders", 3, 41);
        Origin bad = Origin.of("orders", 3, 42);
        Flux<StreamElement<String, byte[]>> records = Flux.just(
                StreamRecord.of("k1", bytes("{\"timestamp\":5,\"amount\":12}"), 99L, good),
                StreamRecord.of("k2", bytes("{\"timestamp\":"), 99L, bad),
                Watermark.of(3));

        StepVerifier.create(records.transform(JsonDecoder.events().decodeBytes()))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(StreamRecord.class, r -> {
                    assertThat(r.key()).as("the record keeps its key").isEqualTo("k1");
                    assertThat(r.timestamp()).isEqualTo(5);
                    assertThat(r.origin()).isEqualTo(good);
                    assertThat(((Event) r.value()).field("amount")).isEqualTo(12);
                }))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
                    assertThat(d.origin()).isEqualTo(bad);
                    assertThat(d.input()).isInstanceOf(StreamRecord.class);
                    assertThat(d.error()).hasMessageContaining("invalid JSON");
                }))
                .expectNext(Watermark.of(3))
                .expectComplete()
                .verify(TIMEOUT);

        StepVerifier.create(Flux.<StreamElement<String, byte[]>>just(
                                StreamRecord.of("k1", bytes("{\"timestamp\":5}"), 99L, good))
                        .transform(JsonDecoder.events().withoutTimestampField().decodeBytes()))
                .assertNext(e -> assertThat(((StreamRecord<?, ?>) e).timestamp())
                        .as("without a timestamp field the record keeps its time").isEqualTo(99))
                .expectComplete()
                .verify(TIMEOUT);
    }

    // ------------------------------------------------------------------ accounting

    /** A line of a test file, with what the pipeline must make of it (known by construction). */
    private record Line(byte[] content, String terminator, String user, long ts) {
        boolean good() {
            return user != null;
        }
    }

    private static Line good(String user, long ts, String terminator) {
        return new Line(bytes("{\"user\":\"" + user + "\",\"ts\":" + ts + ",\"v\":1}"), terminator, user, ts);
    }

    private static Line bad(byte[] content, String terminator) {
        return new Line(content, terminator, null, 0);
    }

    /** Lines the JSON decoder or the file source must refuse. */
    private static byte[] badContent(SplittableRandom rnd) {
        return switch (rnd.nextInt(11)) {
            case 0 -> bytes("{\"user\":\"u1\",\"ts\":");                       // truncated
            case 1 -> bytes("{\"user\" \"u1\",\"ts\":5}");                       // missing colon
            case 2 -> bytes("not json");
            case 3 -> bytes("{\"user\":\"u1\",\"ts\":5} {\"ts\":6}");           // two values
            case 4 -> bytes("{\"user\":\"u1\"}");                                // no timestamp
            case 5 -> bytes("{\"user\":\"u1\",\"ts\":\"5\"}");                   // timestamp not a number
            case 6 -> bytes("{\"ts\":5}");                                       // no key
            case 7 -> bytes("{\"user\":\"u", 0xC3, 0x28, "\",\"ts\":5}");        // not UTF-8
            case 8 -> bytes("{\"user\":\"u1\",\"ts\":5,\"pad\":\"" + "x".repeat(LIMIT) + "\"}"); // too long
            case 9 -> bytes("   ");
            default -> bytes("[{\"user\":\"u1\",\"ts\":5}]");                    // not an object
        };
    }

    static Stream<Arguments> hostileFiles() {
        SplittableRandom r = new SplittableRandom(7);
        return Stream.of(
                Arguments.of("empty file", List.of()),
                Arguments.of("only newlines", List.of(bad(bytes(), "\n"), bad(bytes(), "\n"), bad(bytes(), "\n"))),
                Arguments.of("CRLF", List.of(good("u1", 5, "\r\n"), good("u2", 1500, "\r\n"), good("u1", 7, "\r\n"))),
                Arguments.of("last line without newline", List.of(good("u1", 5, "\n"), good("u1", 2500, ""))),
                Arguments.of("invalid JSON", List.of(good("u1", 5, "\n"), bad(bytes("{\"user\":"), "\n"),
                        bad(bytes("{}}"), "\n"), good("u1", 6, "\n"))),
                Arguments.of("invalid UTF-8", List.of(bad(bytes("{\"user\":\"", 0xFF, "\",\"ts\":5}"), "\n"),
                        good("u1", 6, "\n"))),
                Arguments.of("over-long lines", List.of(good("u1", 5, "\n"),
                        bad(bytes("{\"user\":\"u1\",\"ts\":5,\"pad\":\"" + "y".repeat(10 * LIMIT) + "\"}"), "\r\n"),
                        good("u2", 6, ""))),
                Arguments.of("late lines", List.of(good("u1", 5, "\n"), good("u1", 5_000, "\n"), good("u1", 10, "\n"),
                        good("u2", 4_950, "\n"))),
                Arguments.of("everything", List.of(good("u1", 5, "\r\n"), bad(badContent(r), "\n"),
                        bad(badContent(r), "\r\n"), bad(bytes(), "\n"), good("u2", 3_000, "\n"), good("u3", 1, "\n"),
                        bad(badContent(r), ""))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileFiles")
    void everyLineOfAHostileJsonFileIsAResultInputADeadLetterOrLate(String name, List<Line> lines)
            throws IOException {
        check(name, lines);
    }

    /** Random JSON-lines files with every kind of bad line (printed seed, replay with {@code -Dseed=}). */
    @Test
    void everyLineOfASeededRandomJsonFileIsAResultInputADeadLetterOrLate() throws IOException {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        int cases = SEED != null ? 1 : 20;
        System.out.println("JsonLinesTest: base seed " + base + ", " + cases + " cases (replay one with -Dseed=<seed>)");
        for (int c = 0; c < cases; c++) {
            long seed = base + c;
            SplittableRandom rnd = new SplittableRandom(seed);
            List<Line> lines = new ArrayList<>();
            int n = rnd.nextInt(300);
            long t = rnd.nextLong(100_000);
            for (int i = 0; i < n; i++) {
                String terminator = i == n - 1 && rnd.nextBoolean() ? "" : rnd.nextInt(4) == 0 ? "\r\n" : "\n";
                t += rnd.nextInt(50);
                int kind = rnd.nextInt(10);
                if (kind < 3) {
                    byte[] content = badContent(rnd);
                    lines.add(bad(content, content.length == 0 && terminator.isEmpty() ? "\n" : terminator));
                } else {
                    long ts = kind == 3 ? t - rnd.nextLong(3_000) : t - rnd.nextInt((int) BOUND + 50);
                    lines.add(good("u" + rnd.nextInt(6), ts, terminator));
                }
            }
            check("seed " + seed + " (replay: -Dseed=" + seed + ")", lines);
        }
    }

    private void check(String what, List<Line> lines) throws IOException {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (Line l : lines) {
            content.writeBytes(l.content());
            content.writeBytes(bytes(l.terminator()));
        }
        Path file = Files.write(dir.resolve("lines.jsonl"), content.toByteArray());

        // the model: lateness against the watermark before each good line, counts per key and window
        Map<String, Long> expected = new HashMap<>();
        long expectedDead = 0;
        long expectedLate = 0;
        long maxTs = Long.MIN_VALUE;
        for (Line l : lines) {
            if (!l.good()) {
                expectedDead++;
                continue;
            }
            long watermark = maxTs == Long.MIN_VALUE ? Long.MIN_VALUE : maxTs - BOUND - 1;
            long start = Math.floorDiv(l.ts(), WINDOW) * WINDOW;
            if (start + WINDOW - 1 <= watermark) {
                expectedLate++;
            } else {
                expected.merge(l.user() + "@" + start, 1L, Long::sum);
            }
            maxTs = Math.max(maxTs, l.ts());
        }

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicLong dead = new AtomicLong();
        AtomicLong late = new AtomicLong();
        List<WindowResult<String, Long>> results = EventStream.from(
                        StreamSources.fileLines(file, FileLinesOptions.defaults().maxLineBytes(LIMIT))
                                .transform(USERS.decodeText()),
                        WatermarkStrategy.<Void, Event>forBoundedOutOfOrderness(Duration.ofMillis(BOUND))
                                .withMetrics("json", "watermarks", registry))
                .settings(OperatorSettings.named("json").withPipeline("json").withMeterRegistry(registry))
                .keyBy(Event::key)
                .window(Windows.tumbling(Duration.ofMillis(WINDOW)))
                .aggregate(Aggregations.count())
                .onDeadLetter(d -> d.doOnNext(x -> dead.incrementAndGet()))
                .onLateData(l -> l.doOnNext(x -> late.incrementAndGet()))
                .values()
                .collectList()
                .block(TIMEOUT);
        Map<String, Long> counts = new HashMap<>();
        for (WindowResult<String, Long> r : results) {
            counts.merge(r.key() + "@" + r.start(), r.value(), Long::sum);
        }
        long inputs = counts.values().stream().mapToLong(Long::longValue).sum();

        assertThat(inputs + dead.get() + late.get()).as("%s: lines = results' inputs + dead letters + late", what)
                .isEqualTo(lines.size());
        assertThat(dead.get()).as("%s: dead letters", what).isEqualTo(expectedDead);
        assertThat(late.get()).as("%s: late", what).isEqualTo(expectedLate);
        assertThat(counts).as("%s: counts per key and window", what).isEqualTo(expected);
        assertThat(registry.find("streamflow.records.dead.letter").counters().stream().mapToDouble(c -> c.count())
                .sum()).as("%s: dead letters counted", what).isEqualTo((double) expectedDead);
    }

    // ------------------------------------------------------------------ checkpoints

    @Test
    void aRestartAfterACheckpointWhoseLastLineWasUndecodableReadsOnlyTheLinesAfterIt() throws IOException {
        Path file = Files.write(dir.resolve("in.jsonl"), bytes("{\"user\":\"u1\",\"ts\":1}\n{\"user\":\"u1\",\"ts\":\n"));
        Path checkpoints = dir.resolve("checkpoints");
        Path output = dir.resolve("out");

        assertThat(runCheckpointed(file, checkpoints, output)).singleElement()
                .satisfies(d -> assertThat(d.origin().position()).isEqualTo(21));
        Files.write(file, bytes("{\"user\":\"u2\",\"ts\":2}\n"), StandardOpenOption.APPEND);

        assertThat(runCheckpointed(file, checkpoints, output)).as("the undecodable line is not read again").isEmpty();
        List<String> delivered = new ArrayList<>();
        try (Stream<Path> parts = Files.list(output)) {
            for (Path p : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                delivered.addAll(Files.readAllLines(p));
            }
        }
        assertThat(delivered).containsExactly("u1@1", "u2@2");
    }

    private static List<DeadLetter<?, ?>> runCheckpointed(Path file, Path checkpoints, Path output) {
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        var lines = Checkpointing.resumeFileLines(file);
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).open()) {
            EventStream.of(cp.source("input", positions -> lines.apply(positions).transform(USERS.decodeText()),
                            WatermarkStrategy.<Void, Event>forMonotonousTimestamps()))
                    .onDeadLetter(d -> d.doOnNext(dead::add))
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output),
                            (StreamRecord<Void, Event> r) -> r.value().key() + "@" + r.timestamp()))
                    .block(TIMEOUT);
        }
        return new ArrayList<>(dead);
    }

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object p : parts) {
            if (p instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else {
                out.write((Integer) p);
            }
        }
        return out.toByteArray();
    }
}
