package io.streamflow.reactive;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.LongFunction;

/**
 * Built-in sources. Every source honours demand: it produces only what downstream requested.
 */
public final class StreamSources {

    private StreamSources() {
    }

    /**
     * A generator: record {@code n} is {@code factory.apply(n)}, for {@code n = 0 .. count - 1}
     * ({@code count < 0}: unbounded). With {@code ratePerSecond > 0} records are spaced
     * {@code 1 / rate} apart in processing time on {@code scheduler} (virtual time in tests);
     * with 0 they come as fast as they are requested. The record's position is {@code n}, so a
     * restarted generator can resume from a stored position with {@link #generator(long, long, double,
     * LongFunction, Scheduler)}.
     */
    public static <K, V> Flux<StreamRecord<K, V>> generator(long count, double ratePerSecond,
                                                            LongFunction<StreamRecord<K, V>> factory,
                                                            Scheduler scheduler) {
        return generator(0, count, ratePerSecond, factory, scheduler);
    }

    public static <K, V> Flux<StreamRecord<K, V>> generator(long from, long count, double ratePerSecond,
                                                            LongFunction<StreamRecord<K, V>> factory,
                                                            Scheduler scheduler) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(scheduler, "scheduler");
        if (ratePerSecond < 0 || Double.isNaN(ratePerSecond)) {
            throw new IllegalArgumentException("rate must be >= 0 records per second (0 = as fast as requested), was "
                    + ratePerSecond);
        }
        if (from < 0) {
            throw new IllegalArgumentException("start position must be >= 0, was " + from);
        }
        long end = count < 0 ? Long.MAX_VALUE : from + count;
        Flux<StreamRecord<K, V>> records = new io.streamflow.reactive.internal.GeneratorFlux<>(from, end, factory);
        if (ratePerSecond == 0) {
            return records;
        }
        long periodNanos = Math.max(1, (long) (1_000_000_000L / ratePerSecond));
        return records.delayElements(Duration.ofNanos(periodNanos), scheduler);
    }

    /**
     * Synthetic keyed readings, deterministic for a seed: record {@code n} has key
     * {@code "key-" + (random % keys)}, a value in {@code [0, 100)}, and event time
     * {@code startMillis + n * 1000 / eventsPerSecond} minus a random delay in
     * {@code [0, maxDisorderMillis]}. Event time follows the sequence, not the wall clock, so a run
     * is reproducible.
     */
    public static Flux<StreamRecord<String, Long>> syntheticReadings(long count, double ratePerSecond, int keys,
                                                                     long eventsPerSecond, long maxDisorderMillis,
                                                                     long seed, long startMillis,
                                                                     Scheduler scheduler) {
        if (keys < 1) {
            throw new IllegalArgumentException("keys must be >= 1, was " + keys);
        }
        if (eventsPerSecond < 1) {
            throw new IllegalArgumentException("eventsPerSecond must be >= 1, was " + eventsPerSecond);
        }
        String[] names = new String[keys];
        for (int i = 0; i < keys; i++) {
            names[i] = "key-" + i;
        }
        return generator(count, ratePerSecond, n -> {
            SplittableRandom rnd = new SplittableRandom(seed ^ (n * 0x9E3779B97F4A7C15L));
            long ts = startMillis + n * 1000 / eventsPerSecond
                    - (maxDisorderMillis == 0 ? 0 : rnd.nextLong(maxDisorderMillis + 1));
            return StreamRecord.of(names[rnd.nextInt(keys)], (long) rnd.nextInt(100), ts,
                    Origin.of("generator", 0, n));
        }, scheduler);
    }

    /**
     * The lines of a UTF-8 text file as records with a {@code null} key, the line as value,
     * timestamp 0 (assign event time with {@link WatermarkStrategy#withTimestampAssigner}) and the
     * line's byte offset as position. Reading is blocking, so it runs on
     * {@code Schedulers.boundedElastic()}, and requests are served there too; it reads only as many
     * lines as were requested. {@code fromOffset} resumes at a byte offset.
     */
    public static Flux<StreamRecord<Void, String>> fileLines(Path file, long fromOffset) {
        Objects.requireNonNull(file, "file");
        String name = "file:" + file.getFileName();
        return Flux.<StreamRecord<Void, String>, LineReader>generate(() -> new LineReader(file, fromOffset),
                        (reader, sink) -> {
                            try {
                                long offset = reader.offset;
                                String line = reader.readLine();
                                if (line == null) {
                                    sink.complete();
                                } else {
                                    sink.next(StreamRecord.of(null, line, StreamRecord.NO_TIMESTAMP, Origin.of(name, 0, offset)));
                                }
                            } catch (IOException e) {
                                sink.error(new UncheckedIOException("cannot read " + file + " at byte "
                                        + reader.offset, e));
                            }
                            return reader;
                        }, LineReader::close)
                .subscribeOn(Schedulers.boundedElastic(), true);
    }

    public static Flux<StreamRecord<Void, String>> fileLines(Path file) {
        return fileLines(file, 0);
    }

    /** Reads UTF-8 lines (LF or CRLF) while tracking the byte offset of each. */
    static final class LineReader {
        private final InputStream in;
        long offset;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream(256);

        LineReader(Path file, long from) {
            try {
                InputStream raw = Files.newInputStream(file);
                long skipped = raw.skip(from);
                if (skipped != from) {
                    raw.close();
                    throw new IOException("file is shorter (" + skipped + " bytes) than the offset " + from);
                }
                in = new BufferedInputStream(raw, 64 * 1024);
                offset = from;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open " + file, e);
            }
        }

        String readLine() throws IOException {
            buf.reset();
            int b;
            boolean any = false;
            while ((b = in.read()) != -1) {
                any = true;
                offset++;
                if (b == '\n') {
                    break;
                }
                buf.write(b);
            }
            if (!any) {
                return null;
            }
            byte[] bytes = buf.toByteArray();
            int len = bytes.length;
            if (len > 0 && bytes[len - 1] == '\r') {
                len--;
            }
            return new String(bytes, 0, len, StandardCharsets.UTF_8);
        }

        void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing was written; closing a reader cannot lose data
            }
        }
    }
}
