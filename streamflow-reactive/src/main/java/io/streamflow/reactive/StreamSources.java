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
     * with 0 they come as fast as they are requested. When the factory gives record {@code n} the
     * position {@code n} in its {@link Origin}, a restarted generator can resume from a stored
     * position with {@link #generator(long, long, double, LongFunction, Scheduler)}.
     * <p>
     * A factory that throws or returns {@code null} ends the flux with that error. Cancelling stops
     * the generator; there is nothing buffered to discard.
     *
     * @param <K>           key type
     * @param <V>           value type
     * @param count         how many records, or a negative number for an unbounded generator
     * @param ratePerSecond records per second of processing time, or 0 for as fast as requested
     * @param factory       record {@code n} from {@code n}; called lazily as records are requested,
     *                      one call at a time
     * @param scheduler     the timer of a rate-limited generator (unused with rate 0)
     * @return a cold flux: each subscription starts again at record 0
     * @throws NullPointerException     if {@code factory} or {@code scheduler} is {@code null}
     * @throws IllegalArgumentException if {@code ratePerSecond} is negative or NaN
     */
    public static <K, V> Flux<StreamRecord<K, V>> generator(long count, double ratePerSecond,
                                                            LongFunction<StreamRecord<K, V>> factory,
                                                            Scheduler scheduler) {
        return generator(0, count, ratePerSecond, factory, scheduler);
    }

    /**
     * As {@link #generator(long, double, LongFunction, Scheduler)}, starting at record {@code from}:
     * record {@code n} is {@code factory.apply(n)} for {@code n = from .. from + count - 1}.
     * {@link Checkpointing#resumeGenerator} uses it to go on after the last checkpointed position.
     *
     * @param <K>           key type
     * @param <V>           value type
     * @param from          the first sequence number, {@code >= 0}
     * @param count         how many records from there, or a negative number for an unbounded generator
     * @param ratePerSecond records per second of processing time, or 0 for as fast as requested
     * @param factory       record {@code n} from {@code n}
     * @param scheduler     the timer of a rate-limited generator (unused with rate 0)
     * @return a cold flux: each subscription starts again at record {@code from}
     * @throws NullPointerException     if {@code factory} or {@code scheduler} is {@code null}
     * @throws IllegalArgumentException if {@code ratePerSecond} is negative or NaN, or {@code from} is
     *                                  negative
     */
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
     * is reproducible. Records come from source {@code "generator"}, partition 0, at position
     * {@code n}.
     *
     * @param count             how many readings, or a negative number for an unbounded stream
     * @param ratePerSecond     readings per second of processing time, or 0 for as fast as requested
     * @param keys              how many distinct keys, {@code >= 1}
     * @param eventsPerSecond   readings per second of event time, {@code >= 1}
     * @param maxDisorderMillis the largest random delay subtracted from a reading's event time, in
     *                          milliseconds, {@code >= 0}; 0 gives timestamps in order
     * @param seed              the random seed; the same seed gives the same readings
     * @param startMillis       event time of reading 0, in epoch milliseconds
     * @param scheduler         the timer of a rate-limited stream (unused with rate 0)
     * @return a cold flux of the readings
     * @throws IllegalArgumentException if {@code keys} or {@code eventsPerSecond} is below 1, or
     *                                  {@code ratePerSecond} is negative or NaN
     * @throws NullPointerException     if {@code scheduler} is {@code null}
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
     * <p>
     * The source is named {@code "file:"} followed by the file name, with a single partition 0. The
     * file is opened on subscription and closed on completion, error or cancel. A file that cannot
     * be opened, is shorter than {@code fromOffset} or fails to read ends the flux with an
     * {@link java.io.UncheckedIOException}.
     *
     * @param file       the file to read, LF or CRLF line ends (the last line may lack one)
     * @param fromOffset byte offset to start at, {@code >= 0}; it must be the start of a line
     * @return a cold flux of the lines, and of dead letters for the lines that could not be read
     * @throws NullPointerException     if {@code file} is {@code null}
     * @throws IllegalArgumentException if {@code fromOffset} is negative
     */
    public static Flux<StreamElement<Void, String>> fileLines(Path file, long fromOffset) {
        return fileLines(file, fromOffset, FileLinesOptions.defaults());
    }

    /**
     * As {@link #fileLines(Path, long)}, with the line limit and decoding of {@code options}. A dead
     * letter's {@link DeadLetter#input() input} is the line's bytes ({@code byte[]}, without its
     * terminator) when they are not valid UTF-8, and {@code null} for a line that was too long to be
     * kept.
     *
     * @param file       the file to read, LF or CRLF line ends (the last line may lack one)
     * @param fromOffset byte offset to start at, {@code >= 0}; it must be the start of a line
     * @param options    the line limit and decoding
     * @return a cold flux of the lines, and of dead letters for the lines that could not be read
     * @throws NullPointerException     if {@code file} or {@code options} is {@code null}
     * @throws IllegalArgumentException if {@code fromOffset} is negative
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

    /**
     * The whole file; see {@link #fileLines(Path, long)}.
     *
     * @param file the file to read
     * @return a cold flux of the lines, and of dead letters for the lines that could not be read
     * @throws NullPointerException if {@code file} is {@code null}
     */
    public static Flux<StreamElement<Void, String>> fileLines(Path file) {
        return fileLines(file, 0);
    }

    /**
     * The whole file with the line limit and decoding of {@code options}; see
     * {@link #fileLines(Path, long, FileLinesOptions)}.
     *
     * @param file    the file to read
     * @param options the line limit and decoding
     * @return a cold flux of the lines, and of dead letters for the lines that could not be read
     * @throws NullPointerException if {@code file} or {@code options} is {@code null}
     */
    public static Flux<StreamElement<Void, String>> fileLines(Path file, FileLinesOptions options) {
        return fileLines(file, 0, options);
    }
}
