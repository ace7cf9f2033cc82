package io.streamflow.samples;

import io.streamflow.samples.SensorAverages.Summary;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class SensorAveragesTest {

    /** 2023-11-14T22:15:00Z, a multiple of 5 minutes. */
    private static final long T0 = 1_700_000_100_000L;
    private static final long MINUTE = 60_000;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private static String reading(String sensor, long ts, String temp) {
        return "{\"sensor\":\"" + sensor + "\",\"ts\":" + ts + ",\"temp\":" + temp + "}";
    }

    private static String result(String sensor, long startMinute, String avg, long count) {
        return "{\"sensor\":\"" + sensor + "\",\"start\":" + (T0 + startMinute * MINUTE) + ",\"end\":"
                + (T0 + (startMinute + 5) * MINUTE) + ",\"avg\":" + avg + ",\"count\":" + count + "}";
    }

    /** Byte offset of line {@code index} (0-based) in a file of ASCII lines ending in LF. */
    private static long offsetOf(List<String> lines, int index) {
        long offset = 0;
        for (int i = 0; i < index; i++) {
            offset += lines.get(i).length() + 1;
        }
        return offset;
    }

    private Path write(String name, List<String> lines) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, lines, StandardCharsets.UTF_8);
        return file;
    }

    private static List<String> ends(List<String> resultLines) {
        return resultLines.stream().map(l -> JSON.readTree(l).get("end").asString()).toList();
    }

    @Test
    void writes_the_average_per_sensor_and_five_minute_window_and_dead_letters_the_malformed_lines()
            throws IOException {
        List<String> lines = List.of(
                reading("s1", T0, "21.5"),
                reading("s2", T0 + MINUTE, "18.0"),
                reading("s1", T0 + 2 * MINUTE, "22.5"),
                "{\"sensor\":\"s2\",\"ts\":",                              // truncated JSON
                "",                                                        // blank: skipped
                "{\"sensor\":\"s1\",\"ts\":\"yesterday\",\"temp\":20}",    // ts is not a number
                reading("s2", T0 + 5 * MINUTE + 30_000, "19.25"),
                reading("s1", T0 + 4 * MINUTE + 50_000, "22.0"),           // 40 s out of order: still in time
                reading("s1", T0 + 10 * MINUTE, "24"));
        Path input = write("sensors.jsonl", lines);
        Path output = dir.resolve("averages.jsonl");

        Summary summary = SensorAverages.run(input, output).block();

        assertThat(summary).isEqualTo(new Summary(9, 4, 2, 0));
        List<String> out = Files.readAllLines(output);
        assertThat(out).containsExactlyInAnyOrder(
                result("s1", 0, "22.0", 3),
                result("s2", 0, "18.0", 1),
                result("s2", 5, "19.25", 1),
                result("s1", 10, "24.0", 1));
        assertThat(ends(out)).as("windows are written in the order they close").isSorted();

        Path dlq = dir.resolve("averages.dlq.jsonl");
        assertThat(SensorAverages.deadLetterFile(output)).isEqualTo(dlq);
        List<JsonNode> dead = Files.readAllLines(dlq).stream().map(JSON::readTree).toList();
        assertThat(dead).hasSize(2);
        assertThat(dead.get(0).get("line").asString()).isEqualTo(lines.get(3));
        assertThat(dead.get(0).get("offset").asLong()).isEqualTo(offsetOf(lines, 3));
        assertThat(dead.get(0).get("source").asString()).isEqualTo("file:sensors.jsonl");
        assertThat(dead.get(0).get("error").asString()).startsWith("invalid JSON: ");
        assertThat(dead.get(1).get("line").asString()).isEqualTo(lines.get(5));
        assertThat(dead.get(1).get("offset").asLong()).isEqualTo(offsetOf(lines, 5));
        assertThat(dead.get(1).get("error").asString())
                .isEqualTo("field 'ts' must be an integer (epoch millis), was \"yesterday\"");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "not json at all",
            "[1, 2, 3]",
            "null",
            "{\"ts\":1700000100000,\"temp\":21.5}",
            "{\"sensor\":\"\",\"ts\":1700000100000,\"temp\":21.5}",
            "{\"sensor\":\"s1\",\"ts\":1.7e12,\"temp\":21.5}",
            "{\"sensor\":\"s1\",\"ts\":1700000100000,\"temp\":\"warm\"}",
            "{\"sensor\":\"s1\",\"ts\":1700000100000,\"temp\":21.5} trailing"})
    void a_line_that_is_not_a_valid_reading_goes_to_the_dead_letter_file_and_the_rest_goes_on(String bad)
            throws IOException {
        Path input = write("in.jsonl", List.of(bad, reading("s1", T0, "21.5")));
        Path output = dir.resolve("out.jsonl");

        Summary summary = SensorAverages.run(input, output).block();

        assertThat(summary).isEqualTo(new Summary(2, 1, 1, 0));
        assertThat(Files.readAllLines(output)).containsExactly(result("s1", 0, "21.5", 1));
        assertThat(Files.readAllLines(dir.resolve("out.dlq.jsonl")))
                .singleElement()
                .satisfies(l -> assertThat(JSON.readTree(l).get("line").asString()).isEqualTo(bad));
    }

    @Test
    void a_line_that_is_not_utf8_goes_to_the_dead_letter_file_with_the_offset_of_the_bad_byte() throws IOException {
        String good = reading("s1", T0, "21.5");
        byte[] bad = "{\"sensor\":\"s\u00ff\",\"ts\":1700000100000,\"temp\":20}".getBytes(StandardCharsets.ISO_8859_1);
        Path input = dir.resolve("in.jsonl");
        Files.write(input, (good + "\n").getBytes(StandardCharsets.UTF_8));
        Files.write(input, bad, java.nio.file.StandardOpenOption.APPEND);
        Path output = dir.resolve("out.jsonl");

        Summary summary = SensorAverages.run(input, output).block();

        assertThat(summary).isEqualTo(new Summary(2, 1, 1, 0));
        assertThat(Files.readAllLines(output)).containsExactly(result("s1", 0, "21.5", 1));
        JsonNode dead = JSON.readTree(Files.readAllLines(dir.resolve("out.dlq.jsonl")).get(0));
        assertThat(dead.get("offset").asLong()).isEqualTo(good.length() + 1);
        assertThat(dead.get("operator").asString()).isEqualTo("fileLines");
        assertThat(dead.get("error").asString()).contains("not valid UTF-8", "0xFF",
                "at byte " + (good.length() + 1 + "{\"sensor\":\"s".length()));
    }

    @Test
    void a_malformed_first_line_reaches_the_dead_letter_file_on_every_run() throws IOException {
        // The first dead letter is produced as soon as the file is read; a handler that subscribed
        // late (on another thread) would miss it in some runs.
        Path input = write("in.jsonl", List.of("{oops", reading("s1", T0, "21.5"), "nope"));
        for (int run = 0; run < 50; run++) {
            Path output = dir.resolve("out-" + run + ".jsonl");

            Summary summary = SensorAverages.run(input, output).block();

            assertThat(summary).as("run %d", run).isEqualTo(new Summary(3, 1, 2, 0));
            assertThat(Files.readAllLines(SensorAverages.deadLetterFile(output))).as("run %d", run).hasSize(2);
        }
    }

    @Test
    void a_reading_whose_window_was_already_written_is_counted_as_late_and_not_averaged() throws IOException {
        Path input = write("in.jsonl", List.of(
                reading("s1", T0 + 30_000, "20.0"),
                reading("s1", T0 + 6 * MINUTE + 10_000, "21.0"),   // watermark 5:09.999: [0, 5) is written
                reading("s1", T0 + MINUTE, "30.0")));               // belongs to [0, 5): late
        Path output = dir.resolve("out.jsonl");

        Summary summary = SensorAverages.run(input, output).block();

        assertThat(summary).isEqualTo(new Summary(3, 2, 0, 1));
        assertThat(Files.readAllLines(output)).containsExactly(
                result("s1", 0, "20.0", 1),
                result("s1", 5, "21.0", 1));
        assertThat(Files.readAllLines(dir.resolve("out.dlq.jsonl"))).isEmpty();
    }

    @Test
    void the_bundled_example_file_gives_eight_windows_and_one_dead_letter() throws IOException {
        Path input = dir.resolve("sensors.jsonl");
        try (InputStream in = SensorAverages.class.getResourceAsStream("/sensors.jsonl")) {
            assertThat(in).isNotNull();
            Files.copy(in, input);
        }
        Path output = dir.resolve("averages.jsonl");

        Summary summary = SensorAverages.run(input, output).block();

        assertThat(summary).isEqualTo(new Summary(18, 8, 1, 0));
        assertThat(Files.readAllLines(output)).containsExactlyInAnyOrder(
                result("s1", 0, "22.5", 5),
                result("s2", 0, "18.25", 2),
                result("s3", 0, "30.5", 2),
                result("s1", 5, "24.25", 2),
                result("s2", 5, "19.75", 2),
                result("s3", 5, "31.25", 2),
                result("s1", 10, "25.0", 1),
                result("s2", 10, "20.5", 1));
        assertThat(Files.readAllLines(dir.resolve("averages.dlq.jsonl"))).singleElement()
                .satisfies(l -> assertThat(JSON.readTree(l).get("line").asString())
                        .isEqualTo("{\"sensor\":\"s2\",\"ts\":1700000380000,\"temp\":19.0"));
    }

    @Test
    void the_dead_letter_file_sits_next_to_the_output() {
        assertThat(SensorAverages.deadLetterFile(Path.of("out", "averages.jsonl")))
                .isEqualTo(Path.of("out", "averages.dlq.jsonl"));
        assertThat(SensorAverages.deadLetterFile(Path.of("averages.txt")))
                .isEqualTo(Path.of("averages.txt.dlq.jsonl"));
    }

    @Test
    void running_again_with_the_same_output_replaces_both_files() throws IOException {
        Path input = write("in.jsonl", List.of(reading("s1", T0, "21.5"), "{oops"));
        Path output = dir.resolve("out.jsonl");

        SensorAverages.run(input, output).block();
        Summary again = SensorAverages.run(input, output).block();

        assertThat(again).isEqualTo(new Summary(2, 1, 1, 0));
        assertThat(Files.readAllLines(output)).containsExactly(result("s1", 0, "21.5", 1));
        assertThat(Files.readAllLines(SensorAverages.deadLetterFile(output))).hasSize(1);
    }
}
