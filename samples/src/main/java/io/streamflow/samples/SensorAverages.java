package io.streamflow.samples;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.StreamSources;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.json.JsonDecoder;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JSON lines in, JSON lines out: the average temperature per sensor in 5-minute tumbling
 * event-time windows.
 * <p>
 * Input: one JSON object per line, {@code {"sensor":"s1","ts":1700000000000,"temp":21.5}} ({@code ts}
 * in epoch millis; other fields are ignored), decoded into a {@link Reading} by {@link JsonDecoder}.
 * Blank lines are skipped. A line that is not such an object (not UTF-8, bad JSON, missing or
 * mistyped field) goes, with its file offset and the error, to the dead-letter file
 * {@link #deadLetterFile(Path) <output>.dlq.jsonl} and is counted; the others go on. A reading more
 * than {@link #MAX_OUT_OF_ORDERNESS} behind the newest one, whose window has already been written,
 * is reported on standard error and counted.
 * <p>
 * Output: one line per sensor and window, in the order the windows close:
 * {@code {"sensor":"s1","start":1700000100000,"end":1700000400000,"avg":21.75,"count":2}}.
 * <p>
 * Arguments: input file and output file. Without arguments it copies the bundled
 * {@code sensors.jsonl} (which has one malformed line) to a temporary directory and writes there.
 */
public final class SensorAverages {

    public static final Duration WINDOW = Duration.ofMinutes(5);
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofMinutes(1);

    /**
     * Input lines. The decoder turns a line that is not one {@link Reading} (bad JSON, trailing
     * garbage, no integer {@code ts}, a missing or mistyped field) into a dead letter with the line's
     * offset, the line and the error; the record of a good line carries {@code ts} as its event time.
     */
    private static final JsonDecoder<Reading> READINGS = JsonDecoder.of(Reading.class).timestampField("ts");
    /** Output lines. */
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    /**
     * What a run did.
     *
     * @param lines       input lines read (blank ones included)
     * @param results     result lines written
     * @param deadLetters lines written to the dead-letter file
     * @param late        readings that arrived after their window was written (reported on stderr)
     */
    public record Summary(long lines, long results, long deadLetters, long late) {
    }

    /** Count and mean of one window. */
    public record Stats(long count, double avg) {
    }

    /** One input line; other fields of the line are ignored. */
    public record Reading(String sensor, long ts, double temp) {
        public Reading {
            if (sensor == null || sensor.isBlank()) {
                throw new IllegalArgumentException("field 'sensor' must be a non-empty string, was "
                        + (sensor == null ? "missing" : "\"" + sensor + "\""));
            }
        }
    }

    private SensorAverages() {
    }

    public static void main(String[] args) throws IOException {
        Path input;
        Path output;
        if (args.length >= 2) {
            input = Path.of(args[0]);
            output = Path.of(args[1]);
        } else if (args.length == 0) {
            Path dir = Files.createTempDirectory("sensor-averages");
            input = dir.resolve("sensors.jsonl");
            try (InputStream in = SensorAverages.class.getResourceAsStream("/sensors.jsonl")) {
                if (in == null) {
                    throw new IllegalStateException("bundled example sensors.jsonl is missing from the classpath");
                }
                Files.copy(in, input, StandardCopyOption.REPLACE_EXISTING);
            }
            output = dir.resolve("averages.jsonl");
        } else {
            throw new IllegalArgumentException("usage: SensorAverages [<input.jsonl> <output.jsonl>]");
        }
        Summary summary = run(input, output).block();
        System.out.println("input:        " + input);
        System.out.println("output:       " + output + " (" + summary.results() + " windows)");
        System.out.println("dead letters: " + deadLetterFile(output) + " (" + summary.deadLetters() + " lines)");
        System.out.println("late:         " + summary.late());
        System.out.println("-- " + output.getFileName());
        Files.readAllLines(output).forEach(System.out::println);
        System.out.println("-- " + deadLetterFile(output).getFileName());
        Files.readAllLines(deadLetterFile(output)).forEach(System.out::println);
    }

    /** {@code averages.jsonl} -> {@code averages.dlq.jsonl}; any other name gets {@code .dlq.jsonl} appended. */
    public static Path deadLetterFile(Path output) {
        String name = output.getFileName().toString();
        String base = name.endsWith(".jsonl") ? name.substring(0, name.length() - ".jsonl".length()) : name;
        return output.resolveSibling(base + ".dlq.jsonl");
    }

    /**
     * Reads {@code input}, writes the averages to {@code output} and the dead letters to
     * {@link #deadLetterFile(Path)}. Each run computes everything again from the whole input, so it
     * replaces both files ({@link StreamSinks.IfExists#REPLACE}); a pipeline that resumes after a
     * restart would append instead. Nothing happens until the result is subscribed; each subscription
     * is a new run.
     */
    public static Mono<Summary> run(Path input, Path output) {
        Path deadLetterFile = deadLetterFile(output);
        AtomicLong lines = new AtomicLong();
        AtomicLong results = new AtomicLong();
        AtomicLong deadLetters = new AtomicLong();
        AtomicLong late = new AtomicLong();

        Flux<StreamElement<Void, Reading>> readings = StreamSources.fileLines(input)
                .doOnNext(line -> lines.incrementAndGet())
                .filter(e -> !(e instanceof StreamRecord<Void, String> r && r.value().isBlank()))
                .transform(READINGS.decodeText()); // an undecodable line becomes a dead letter in its place

        return EventStream.from(readings,
                        WatermarkStrategy.<Void, Reading>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS))
                .onDeadLetter(dead -> StreamSinks.<DeadLetter<?, ?>>textLines(deadLetterFile,
                                SensorAverages::deadLetterJson, StreamSinks.IfExists.REPLACE)
                        .apply(dead.doOnNext(d -> deadLetters.incrementAndGet())))
                .keyBy(Reading::sensor)
                .window(Windows.tumbling(WINDOW))
                .aggregate(temperatureStats())
                .onLateData(lateRecords -> StreamSinks.<Void, String>printStream(System.err, StreamRecord::value)
                        .apply(lateRecords.doOnNext(l -> late.incrementAndGet())
                                .map(l -> StreamRecord.of(null, lateJson(l), 0L))))
                .sink(windows -> StreamSinks.<String, WindowResult<String, Stats>>fileLines(output,
                                r -> resultJson(r.value()), StreamSinks.IfExists.REPLACE)
                        .apply(windows.doOnNext(r -> results.incrementAndGet())))
                .then(Mono.fromSupplier(() -> new Summary(lines.get(), results.get(), deadLetters.get(),
                        late.get())));
    }

    /** Count and average of the {@code temp} field. */
    public static AggregateFunction<Reading, double[], Stats> temperatureStats() {
        return new AggregateFunction<>() {
            @Override
            public double[] createAccumulator() {
                return new double[2]; // count, sum
            }

            @Override
            public double[] add(double[] acc, Reading r) {
                acc[0]++;
                acc[1] += r.temp();
                return acc;
            }

            @Override
            public double[] merge(double[] a, double[] b) {
                a[0] += b[0];
                a[1] += b[1];
                return a;
            }

            @Override
            public Stats result(double[] acc) {
                return new Stats((long) acc[0], acc[1] / acc[0]);
            }
        };
    }

    /** {@code {"sensor":..,"start":..,"end":..,"avg":..,"count":..}}. */
    public static String resultJson(WindowResult<String, Stats> r) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sensor", r.key());
        out.put("start", r.start());
        out.put("end", r.end());
        out.put("avg", r.value().avg());
        out.put("count", r.value().count());
        return JSON.writeValueAsString(out);
    }

    /** {@code {"source":"file:x.jsonl","offset":123,"operator":..,"error":..,"line":..}}. */
    static String deadLetterJson(DeadLetter<?, ?> d) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("source", d.origin().source());
        out.put("offset", d.origin().position());
        out.put("operator", d.operator());
        out.put("error", String.valueOf(d.error().getMessage()));
        Object input = d.input();
        // a line that is not UTF-8 comes as its bytes (shown here with U+FFFD; the error names the bad byte's
        // offset), a line over the length limit as nothing
        out.put("line", input instanceof StreamRecord<?, ?> r ? r.value()
                : input instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : input);
        return JSON.writeValueAsString(out);
    }

    static String lateJson(LateRecord<?, ?> l) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("late", true);
        out.put("sensor", l.record().key());
        out.put("ts", l.record().timestamp());
        out.put("windowStart", l.windowStart());
        out.put("windowEnd", l.windowEnd());
        out.put("watermark", l.watermark());
        out.put("offset", l.record().origin().position());
        return JSON.writeValueAsString(out);
    }
}
