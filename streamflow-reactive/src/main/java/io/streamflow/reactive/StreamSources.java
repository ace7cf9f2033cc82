package io.streamflow.reactive;

import io.streamflow.reactive.internal.LineReader;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.io.UncheckedIOException;
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
     * timestamp {@link StreamRecord#NO_TIMESTAMP} (assign event time with
     * {@link WatermarkStrategy#withTimestampAssigner}; windows refuse records without it) and the
     * line's byte offset as position. Reading is blocking, so it runs on
     * {@code Schedulers.boundedElastic()}, and requests are served there too; it reads only as many
     * lines as were requested. {@code fromOffset} resumes at a byte offset.
     * <p>
     * Decoding is strict ({@link FileLinesOptions#defaults()}): a line that is not valid UTF-8, or
     * is longer than 1 MiB, is emitted in its place as a {@link DeadLetter} (operator
     * {@code "fileLines"}, error {@link LineDecodingException}) whose position is the line's byte
     * offset too, so nothing is rewritten or dropped silently and a resume after it skips it once.
     * {@link EventStream#from} and {@link Checkpointing#source} take such a stream as it is.
     */
    public static Flux<StreamElement<Void, String>> fileLines(Path file, long fromOffset) {
        return fileLines(file, fromOffset, FileLinesOptions.defaults());
    }

    /**
     * As {@link #fileLines(Path, long)}, with the line limit and decoding of {@code options}. A dead
     * letter's {@link DeadLetter#input() input} is the line's bytes ({@code byte[]}, without its
     * terminator) when they are not valid UTF-8, and {@code null} for a line that was too long to be
     * kept.
     */
    public static Flux<StreamElement<Void, String>> fileLines(Path file, long fromOffset, FileLinesOptions options) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        if (fromOffset < 0) {
            throw new IllegalArgumentException("fromOffset must be >= 0, was " + fromOffset);
        }
        String name = "file:" + file.getFileName();
        return Flux.<StreamElement<Void, String>, LineReader>generate(() -> new LineReader(file, fromOffset,
                                options.maxLineBytes(), options.isLenientDecoding()),
                        (reader, sink) -> {
                            try {
                                long offset = reader.offset();
                                String line = reader.readLine();
                                if (line == null) {
                                    sink.complete();
                                } else {
                                    sink.next(StreamRecord.of(null, line, StreamRecord.NO_TIMESTAMP, Origin.of(name, 0, offset)));
                                }
                            } catch (LineDecodingException bad) {
                                sink.next(new DeadLetter<>(reader.badLine(), Origin.of(name, 0, bad.lineOffset()),
                                        "fileLines", bad));
                            } catch (IOException e) {
                                sink.error(new UncheckedIOException("cannot read " + file + " at byte "
                                        + reader.offset(), e));
                            }
                            return reader;
                        }, LineReader::close)
                .subscribeOn(Schedulers.boundedElastic(), true);
    }

    /** The whole file; see {@link #fileLines(Path, long)}. */
    public static Flux<StreamElement<Void, String>> fileLines(Path file) {
        return fileLines(file, 0);
    }

    /**
     * The whole file with the line limit and decoding of {@code options}; see
     * {@link #fileLines(Path, long, FileLinesOptions)}.
     */
    public static Flux<StreamElement<Void, String>> fileLines(Path file, FileLinesOptions options) {
        return fileLines(file, 0, options);
    }
}
