package io.streamflow.reactive;

import io.streamflow.reactive.internal.FatalErrors;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.function.Function;

/**
 * Built-in sinks, for {@link EventStream#sink(Function)}. They request records as they write them
 * (demand reaches the source), and do their blocking I/O on {@code Schedulers.boundedElastic()}.
 * They are at-least-once: records written before a crash may be written again after a restart,
 * except {@link #exactlyOnceFiles}, which is exactly-once behind {@link Checkpointing#sink}.
 * <p>
 * A format function that throws fails the sink, and with it the pipeline. So does a JVM-fatal error
 * ({@link OutOfMemoryError}, {@link StackOverflowError}), which Reactor would otherwise throw on the
 * sink's worker thread, leaving the pipeline waiting forever: the sink fails with an exception whose
 * cause is that error.
 * <p>
 * Each sink is a function from the records to a {@code Mono<Void>} that completes once everything
 * was written and flushed, and fails with the first write error or format error. Nothing happens
 * until the {@code Mono} is subscribed. Records are written in order by one worker at a time; up to
 * 256 requested records may wait for it. On cancel or error the records still waiting are dropped,
 * and a file sink closes its file (flushing what was written).
 */
public final class StreamSinks {

    /**
     * What a file sink ({@link #fileLines(Path, Function, IfExists)}, {@link #textLines(Path, Function,
     * IfExists)}) does with a file that exists and is not empty when the sink starts. A missing or
     * empty file is simply written, whatever the choice.
     */
    public enum IfExists {
        /**
         * Fail the sink before writing anything (the default), so that the output of an earlier run
         * is never lost silently.
         */
        FAIL,
        /**
         * Add the lines after the existing ones. Across restarts this is at-least-once: a pipeline
         * restarted after a crash writes again what it wrote after its last checkpoint, so lines may
         * repeat.
         */
        APPEND,
        /** Truncate the file and write it anew: the earlier content is lost. */
        REPLACE
    }

    private StreamSinks() {
    }

    /**
     * Prints {@code format(record)} per record on standard output, flushed at the end.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param format the line to print for a record (without a line terminator)
     * @return the sink
     * @throws NullPointerException if {@code format} is {@code null}
     */
    public static <K, V> Function<Flux<StreamRecord<K, V>>, Mono<Void>> stdout(
            Function<? super StreamRecord<K, V>, String> format) {
        return printStream(System.out, format);
    }

    /**
     * Prints each record's value ({@code String.valueOf}) on standard output, flushed at the end.
     *
     * @param <K> key type
     * @param <V> value type
     * @return the sink
     */
    public static <K, V> Function<Flux<StreamRecord<K, V>>, Mono<Void>> stdout() {
        return stdout(r -> String.valueOf(r.value()));
    }

    /**
     * Prints {@code format(record)} per record to a {@link PrintStream} (for tests and tools),
     * flushed at the end; the stream is not closed. A {@code PrintStream} swallows I/O errors, so
     * this sink fails only when {@code format} throws.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param out    where to print
     * @param format the line to print for a record (without a line terminator)
     * @return the sink
     * @throws NullPointerException if {@code out} or {@code format} is {@code null}
     */
    public static <K, V> Function<Flux<StreamRecord<K, V>>, Mono<Void>> printStream(
            PrintStream out, Function<? super StreamRecord<K, V>, String> format) {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(format, "format");
        String where = "StreamSinks.printStream";
        return records -> records.publishOn(Schedulers.boundedElastic(), 256)
                .doOnNext(FatalErrors.guard(r -> out.println(format.apply(r)), where))
                .then(Mono.fromRunnable(FatalErrors.guard(out::flush, where))
                        .subscribeOn(Schedulers.boundedElastic()).then());
    }

    /**
     * Writes one line per record to {@code file}, flushed and closed at the end; fails if the file
     * exists and is not empty (see {@link #fileLines(Path, Function, IfExists)} to append or replace).
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param file   the file to write (UTF-8); created when missing
     * @param format the line to write for a record (without a line terminator)
     * @return the sink; its {@code Mono} fails with an {@link UncheckedIOException} when the file
     * holds data already or cannot be written
     * @throws NullPointerException if {@code file} or {@code format} is {@code null}
     */
    public static <K, V> Function<Flux<StreamRecord<K, V>>, Mono<Void>> fileLines(
            Path file, Function<? super StreamRecord<K, V>, String> format) {
        return textLines(file, format, IfExists.FAIL);
    }

    /**
     * Writes one line per record to {@code file}, flushed and closed at the end; {@code ifExists} says
     * what happens to a file that exists and is not empty. At-least-once across restarts: appending
     * after a crash may repeat lines. Exactly-once output goes through
     * {@code checkpointing.sink(StreamSinks.exactlyOnceFiles(directory), format)} (see
     * {@link Checkpointing#sink}).
     *
     * @param <K>      key type
     * @param <V>      value type
     * @param file     the file to write (UTF-8); created when missing
     * @param format   the line to write for a record (without a line terminator)
     * @param ifExists what to do with a file that is not empty
     * @return the sink; its {@code Mono} fails with an {@link UncheckedIOException} when the file
     * cannot be written, or holds data and {@code ifExists} is {@link IfExists#FAIL}
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <K, V> Function<Flux<StreamRecord<K, V>>, Mono<Void>> fileLines(
            Path file, Function<? super StreamRecord<K, V>, String> format, IfExists ifExists) {
        return textLines(file, format, ifExists);
    }

    /**
     * Writes one line per element of any type (for example {@link DeadLetter}s or {@link LateRecord}s
     * routed with {@link EventStream#onDeadLetter}) to {@code file}, flushed and closed at the end;
     * fails if the file exists and is not empty (see {@link #textLines(Path, Function, IfExists)} to
     * append or replace).
     *
     * @param <T>    element type
     * @param file   the file to write (UTF-8); created when missing
     * @param format the line to write for an element (without a line terminator)
     * @return the sink; its {@code Mono} fails with an {@link UncheckedIOException} when the file
     * holds data already or cannot be written
     * @throws NullPointerException if {@code file} or {@code format} is {@code null}
     */
    public static <T> Function<Flux<T>, Mono<Void>> textLines(Path file, Function<? super T, String> format) {
        return textLines(file, format, IfExists.FAIL);
    }

    /**
     * Writes one line per element of any type to {@code file}, flushed and closed at the end;
     * {@code ifExists} says what happens to a file that exists and is not empty
     * ({@link IfExists#FAIL}: the sink fails before writing anything). At-least-once across restarts:
     * a restarted pipeline writes again what it wrote after its last checkpoint, so with
     * {@link IfExists#APPEND} lines may repeat. Exactly-once output goes through
     * {@code checkpointing.sink(StreamSinks.exactlyOnceFiles(directory), format)} (see
     * {@link Checkpointing#sink}).
     *
     * @param <T>      element type
     * @param file     the file to write (UTF-8); created when missing
     * @param format   the line to write for an element (without a line terminator)
     * @param ifExists what to do with a file that is not empty
     * @return the sink; its {@code Mono} fails with an {@link UncheckedIOException} when the file
     * cannot be written, or holds data and {@code ifExists} is {@link IfExists#FAIL}
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <T> Function<Flux<T>, Mono<Void>> textLines(Path file, Function<? super T, String> format,
                                                             IfExists ifExists) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(ifExists, "ifExists");
        String where = "StreamSinks.textLines(" + file + ")";
        return elements -> Flux.using(
                        () -> open(file, ifExists),
                        writer -> elements.publishOn(Schedulers.boundedElastic(), 256)
                                .doOnNext(FatalErrors.guard(e -> write(writer, format.apply(e), file), where))
                                .then(Mono.fromRunnable(FatalErrors.guard(() -> flush(writer, file), where))),
                        writer -> close(writer, file))
                .subscribeOn(Schedulers.boundedElastic())
                .then();
    }

    private static BufferedWriter open(Path file, IfExists ifExists) throws IOException {
        return switch (ifExists) {
            case APPEND -> Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            case REPLACE -> Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            case FAIL -> {
                // opened without truncating, then checked: a non-empty file is left as it was
                FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                long size;
                try {
                    size = ch.size();
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                if (size > 0) {
                    ch.close();
                    throw new UncheckedIOException("refusing to overwrite " + file + ": it already holds " + size
                            + " bytes (from an earlier run?). To add to it, pass StreamSinks.IfExists.APPEND "
                            + "(at-least-once: lines written before a crash may be written again); to replace it, "
                            + "pass IfExists.REPLACE or delete the file first. For exactly-once output across "
                            + "restarts, use checkpointing.sink(StreamSinks.exactlyOnceFiles(directory), format)",
                            new FileAlreadyExistsException(file.toString()));
                }
                yield new BufferedWriter(new OutputStreamWriter(Channels.newOutputStream(ch),
                        StandardCharsets.UTF_8));
            }
        };
    }

    /**
     * An exactly-once file sink for {@link Checkpointing#sink}: the lines of checkpoint {@code id}
     * go to {@code directory/part-<id>.txt} (id zero-padded to 20 digits, so names sort in output
     * order), written to a temporary file, forced to disk and atomically renamed when the
     * checkpoint is durable; then the directory is forced too. Delivering a checkpoint again after
     * a crash rewrites the same part with the same lines, so the concatenation of the parts in name
     * order holds every result exactly once. Checkpoints without output write no part.
     * <p>
     * Before each part, its {@link OutboxSink.Delivery} record (checkpoint id, source positions,
     * number of lines, fingerprint) is written the same way to {@code .part-<id>.delivery}: a part
     * counts as delivered when both are there. With them a pipeline whose checkpoint store fell
     * back to an older checkpoint (or lost its directory) stays exactly-once: it replays up to the
     * positions of the last part without writing, checks that the replay gave the same lines, and
     * goes on under new ids. Remove a part and its record together, if at all; output that is no
     * longer there is written again after such a fallback.
     * <p>
     * Lines are written in UTF-8, each ended by LF. The directory is created when the first part is
     * written. I/O errors are thrown from {@link OutboxSink#deliver}, which fails the pipeline; the
     * checkpoint's lines stay in its outbox and are delivered again after a restart. A part file in
     * the directory without its delivery record makes {@link OutboxSink#deliveries()} fail, and with
     * it the start of the pipeline.
     *
     * @param directory where the parts go, for the output of one pipeline only
     * @return the sink, to pass to {@link Checkpointing#sink}
     * @throws NullPointerException if {@code directory} is {@code null}
     */
    public static OutboxSink<String> exactlyOnceFiles(Path directory) {
        return new io.streamflow.reactive.internal.ExactlyOnceFileSink(directory);
    }

    private static void write(BufferedWriter w, String line, Path file) {
        try {
            w.write(line);
            w.newLine();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + file, e);
        }
    }

    private static void flush(BufferedWriter w, Path file) {
        try {
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot flush " + file, e);
        }
    }

    private static void close(BufferedWriter w, Path file) {
        try {
            w.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file, e);
        }
    }
}
