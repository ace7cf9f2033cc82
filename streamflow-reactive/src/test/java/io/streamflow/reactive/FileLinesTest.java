package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The file source reads strictly: invalid UTF-8 and over-long lines are dead letters with their
 * byte offsets, in the place of the line, and nothing is rewritten or dropped silently.
 */
class FileLinesTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Long SEED = Long.getLong("seed");

    @TempDir
    Path dir;


    private Path file(byte[] content) throws IOException {
        return Files.write(dir.resolve("input.txt"), content);
    }

    private static List<StreamElement<Void, String>> read(Path file, FileLinesOptions options) {
        return StreamSources.fileLines(file, options).collectList().block(TIMEOUT);
    }

    @Test
    void invalidUtf8InAKeyIsADeadLetterWithItsByteOffsetsAndIsNotCountedUnderAReplacedKey() throws IOException {
        // "user-a\n" "user-\xff\xfe\n" "user-a\n": the middle line starts at byte 7, its first bad byte is at 12
        Path input = file(LineFile.bytesOf("user-a\n", "user-", 0xFF, 0xFE, "\n", "user-a\n"));
        List<DeadLetter<?, ?>> dead = new CopyOnWriteArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        List<WindowResult<String, Long>> counts = EventStream.from(StreamSources.fileLines(input),
                        WatermarkStrategy.<Void, String>forMonotonousTimestamps()
                                .withTimestampAssigner(r -> 0L) // every line at event time 0: one window
                                .withMetrics("users", "lines", registry))
                .keyBy(line -> line)
                .window(Windows.tumbling(Duration.ofMinutes(1)))
                .aggregate(Aggregations.count())
                .onDeadLetter(d -> d.doOnNext(dead::add))
                .values()
                .collectList()
                .block(TIMEOUT);

        assertThat(counts).extracting(WindowResult::key, WindowResult::value)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("user-a", 2L));
        assertThat(dead).singleElement().satisfies(d -> {
            assertThat(d.origin()).isEqualTo(Origin.of("file:input.txt", 0, 7));
            assertThat(d.operator()).isEqualTo("fileLines");
            assertThat(d.input()).isEqualTo(LineFile.bytesOf("user-", 0xFF, 0xFE));
            assertThat(d.error()).isInstanceOfSatisfying(LineDecodingException.class, e -> {
                assertThat(e.reason()).isEqualTo(LineDecodingException.Reason.MALFORMED_UTF8);
                assertThat(e.lineOffset()).isEqualTo(7);
                assertThat(e.lineLength()).isEqualTo(7);
                assertThat(e.errorOffset()).isEqualTo(12);
                assertThat(e.getMessage()).contains("byte 7", "not valid UTF-8", "0xFF", "byte 12");
            });
        });
        assertThat(registry.get("streamflow.records.dead.letter").tag("operator", "lines").counter().count())
                .as("the dead letter is counted by the first operator").isEqualTo(1.0);
    }

    @Test
    void lenientDecodingKeepsTheReplacingBehaviourAndStillDeadLettersOverLongLines() throws IOException {
        Path input = file(LineFile.bytesOf("user-", 0xFF, 0xFE, "\r\n", "x".repeat(40), "\n", "ok"));
        FileLinesOptions lenient = FileLinesOptions.defaults().maxLineBytes(32).lenientDecoding();

        List<String> seen = LineFile.describe(read(input, lenient));

        assertThat(seen).containsExactly(
                "record@0 user-\uFFFD\uFFFD",
                "dead@9 TOO_LONG length=40 error@41 input=null",
                "record@50 ok");
        assertThat(LineFile.describe(read(input, lenient.strictDecoding())).get(0))
                .isEqualTo("dead@0 MALFORMED_UTF8 length=7 error@5 input=75736572" + "2dfffe");
    }

    @Test
    void aLineLongerThanTheLimitIsADeadLetterWithItsLengthAndOffsetAndReadingGoesOnAtTheNextLine()
            throws IOException {
        int limit = 1000;
        Path input = file(LineFile.bytesOf("first\n", "y".repeat(3_000_000), "\r\n", "z".repeat(limit), "\r\n",
                "z".repeat(limit + 1), "\n", "last"));
        List<String> seen = LineFile.describe(read(input, FileLinesOptions.defaults().maxLineBytes(limit)));

        assertThat(seen).containsExactly(
                "record@0 first",
                "dead@6 TOO_LONG length=3000000 error@1006 input=null",
                "record@3000008 " + "z".repeat(limit),
                "dead@3001010 TOO_LONG length=1001 error@3002010 input=null",
                "record@3002012 last");
    }

    @Test
    void theDefaultLimitIsOneMebibyte() throws IOException {
        int mib = 1 << 20;
        Path input = file(LineFile.bytesOf("a".repeat(mib), "\n", "b".repeat(mib + 1), "\n"));

        List<String> seen = LineFile.describe(StreamSources.fileLines(input).collectList().block(TIMEOUT));

        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).startsWith("record@0 aaaa").hasSize("record@0 ".length() + mib);
        assertThat(seen.get(1)).isEqualTo("dead@" + (mib + 1) + " TOO_LONG length=" + (mib + 1) + " error@"
                + (2L * mib + 1) + " input=null");
    }

    @Test
    void edgeCasesOfLineEndingsAreReadAsLines() throws IOException {
        FileLinesOptions options = FileLinesOptions.defaults();
        assertThat(LineFile.describe(read(file(new byte[0]), options))).as("empty file").isEmpty();
        assertThat(LineFile.describe(read(file(LineFile.bytesOf("\n\n\n")), options))).as("only newlines")
                .containsExactly("record@0 ", "record@1 ", "record@2 ");
        assertThat(LineFile.describe(read(file(LineFile.bytesOf("\r\n\r\n")), options))).as("only CRLFs")
                .containsExactly("record@0 ", "record@2 ");
        assertThat(LineFile.describe(read(file(LineFile.bytesOf("a\r\nb\nc")), options))).as("CRLF, LF, no last newline")
                .containsExactly("record@0 a", "record@3 b", "record@5 c");
        assertThat(LineFile.describe(read(file(LineFile.bytesOf("a\rb\r")), options))).as("a CR inside stays, one at the end goes")
                .containsExactly("record@0 a\rb");
        assertThat(LineFile.describe(read(file(LineFile.bytesOf("x", 0xC3)), options))).as("truncated last character")
                .containsExactly("dead@0 MALFORMED_UTF8 length=2 error@1 input=78c3");
        assertThat(LineFile.describe(read(file(LineFile.bytesOf("\u20ac\r\n", 0xE2, 0x82, "\r\n")), options)))
                .as("truncated sequence before CRLF")
                .containsExactly("record@0 \u20ac", "dead@5 MALFORMED_UTF8 length=2 error@5 input=e282");
    }

    /**
     * Random files (printed seed, replay with {@code -Dseed=}) against {@link LineFile}'s model:
     * every record's value and offset, every dead letter's offsets, length and bytes, strict and
     * lenient, and resuming at any line's offset gives the rest of the file.
     */
    @Test
    void offsetsValuesAndErrorsMatchTheModelOnSeededRandomFiles() throws IOException {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        int cases = SEED != null ? 1 : 40;
        System.out.println("FileLinesTest: base seed " + base + ", " + cases + " cases (replay one with -Dseed=<seed>)");
        for (int c = 0; c < cases; c++) {
            long seed = base + c;
            SplittableRandom rnd = new SplittableRandom(seed);
            int limit = 16 + rnd.nextInt(rnd.nextBoolean() ? 200 : 3000);
            LineFile model = LineFile.random(rnd, 1 + rnd.nextInt(400), limit);
            Path input = model.write(dir.resolve("random-" + c + ".txt"));
            FileLinesOptions strict = FileLinesOptions.defaults().maxLineBytes(limit);

            check(seed, "strict", model.expected(0, false), read(input, strict));
            check(seed, "lenient", model.expected(0, true), read(input, strict.lenientDecoding()));
            for (int k = 0; k < 5; k++) {
                int from = rnd.nextInt(model.lines().size());
                long offset = model.lines().get(from).offset();
                check(seed, "resumed at byte " + offset, model.expected(from, false),
                        StreamSources.fileLines(input, offset, strict).collectList().block(TIMEOUT));
            }
        }
    }

    private static void check(long seed, String what, List<String> expected, List<StreamElement<Void, String>> actual) {
        List<String> seen = LineFile.describe(actual);
        for (int i = 0; i < Math.max(seen.size(), expected.size()); i++) {
            String e = i < expected.size() ? expected.get(i) : "<end>";
            String a = i < seen.size() ? seen.get(i) : "<end>";
            if (!e.equals(a)) {
                fail("seed %d (%s): element %d differs%n  expected: %s%n  actual:   %s%n  replay: -Dseed=%d",
                        seed, what, i, abbreviate(e), abbreviate(a), seed);
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "... (" + s.length() + " chars)";
    }

    @Test
    void theSourceReadsOnlyWhatIsRequestedOnABlockingThread() throws IOException {
        Path input = file(LineFile.bytesOf("a\n", 0xFF, "\n", "c\n", "d\n"));
        StepVerifier.create(StreamSources.fileLines(input), 0)
                .expectSubscription()
                .thenRequest(2)
                .assertNext(e -> assertThat(e).isInstanceOf(StreamRecord.class))
                .assertNext(e -> {
                    assertThat(e).isInstanceOf(DeadLetter.class);
                    assertThat(Thread.currentThread().getName()).startsWith("boundedElastic");
                })
                .expectNoEvent(Duration.ofMillis(50))
                .thenRequest(5)
                .expectNextCount(2)
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void aSourceElementThatIsNeitherARecordNorADeadLetterIsAClearError() {
        Flux<StreamElement<String, Long>> withWatermark = Flux.just(StreamRecord.of("k", 1L, 1L), Watermark.of(5));
        StepVerifier.create(EventStream.from(withWatermark, WatermarkStrategy.<String, Long>forMonotonousTimestamps())
                        .elements())
                .expectNextCount(2)
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("got Watermark")
                        .hasMessageContaining("EventStream.of"))
                .verify(TIMEOUT);
    }

    @Test
    void optionsAreImmutableAndValidated() {
        FileLinesOptions d = FileLinesOptions.defaults();
        FileLinesOptions small = d.maxLineBytes(10);
        FileLinesOptions lenient = small.lenientDecoding();

        assertThat(d.maxLineBytes()).isEqualTo(FileLinesOptions.DEFAULT_MAX_LINE_BYTES).isEqualTo(1 << 20);
        assertThat(d.isLenientDecoding()).isFalse();
        assertThat(small.maxLineBytes()).isEqualTo(10);
        assertThat(small.isLenientDecoding()).isFalse();
        assertThat(lenient.isLenientDecoding()).isTrue();
        assertThat(lenient.maxLineBytes()).isEqualTo(10);
        assertThat(lenient.strictDecoding()).isEqualTo(small).hasSameHashCodeAs(small);
        assertThat(lenient).hasToString("FileLinesOptions{maxLineBytes=10, decoding=lenient}");
        assertThatThrownBy(() -> d.maxLineBytes(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxLineBytes must be between 1");
        assertThatThrownBy(() -> StreamSources.fileLines(Path.of("x"), -1, d))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fromOffset must be >= 0");
    }

    @Test
    void aLineThatIsNotValidUtf8NeverReachesAUserFunction() throws IOException {
        Path input = file(LineFile.bytesOf("user-a\n", "user-", 0xFF, 0xFE, "\n"));
        Map<String, Integer> seen = new HashMap<>();
        EventStream.fromRecords(StreamSources.fileLines(input))
                .map(v -> {
                    seen.merge(v, 1, Integer::sum);
                    return v;
                })
                .elements().then().block(TIMEOUT);
        assertThat(seen).containsOnlyKeys("user-a");
    }
}
