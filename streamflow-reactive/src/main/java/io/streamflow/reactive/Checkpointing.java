package io.streamflow.reactive;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.internal.Barriers;
import io.streamflow.reactive.internal.CheckpointSignal;
import io.streamflow.reactive.internal.FatalErrors;
import io.streamflow.reactive.internal.SourceCheckpointing;
import io.streamflow.reactive.internal.store.CheckpointRecord;
import io.streamflow.reactive.internal.store.CachedKeyedState;
import io.streamflow.reactive.internal.store.CachingStateBackend;
import io.streamflow.reactive.internal.store.CheckpointStore;
import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.state.StateCodec;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * Durable state and exactly-once checkpoints for one pipeline, kept in a checkpoint directory.
 * <p>
 * {@link Builder#open()} opens (or creates) the directory's state store with auto-commit off and
 * restores the latest valid checkpoint. A pipeline then takes its source from {@link #source},
 * gives every stateful operator {@link #stateBackend()} (through
 * {@link OperatorSettings#withStateBackend}) and ends in {@link #sink}:
 * <pre>{@code
 * try (Checkpointing cp = Checkpointing.builder(dir).interval(Duration.ofSeconds(10)).open()) {
 *     OperatorSettings settings = OperatorSettings.named("counts").withStateBackend(cp.stateBackend());
 *     EventStream.of(cp.source("input", Checkpointing.resumeFileLines(input), strategy))
 *             .settings(settings)
 *             .keyBy(...)
 *             .window(Windows.tumbling(Duration.ofMinutes(1))).aggregate(Aggregations.count())
 *             .elements()
 *             .as(cp.sink(StreamSinks.exactlyOnceFiles(out), r -> r.value().toString()))
 *             .block();
 * }
 * }</pre>
 * <h2>The protocol</h2>
 * Every {@code interval} (and on {@link #checkpointNow()}) the source's first operator injects a
 * barrier between two records and notes the source positions it stands for. Each stateful
 * operator writes what it keeps in memory into its state when the barrier reaches it, forwards
 * the barrier and takes no more input until the checkpoint's snapshot is taken. When the barrier
 * reaches the sink, the checkpoint is one store commit holding the state changes, the source
 * positions, the sink output since the previous barrier (the outbox), the checkpoint id and a
 * CRC; the store's pages carry CRCs of their contents too. Then the file is synced, and only then
 * is the outbox delivered to the {@link OutboxSink}. One checkpoint is in flight at a time.
 * <p>
 * State lives on the heap as the operators' working set, and each checkpoint writes what changed
 * since the previous one: the operators pause only while the checkpoint's snapshot is taken (in
 * constant time), then go on while the changes are encoded and committed. Changes stay on the heap
 * until a checkpoint writes them, so a checkpoint is also taken early once they hold
 * {@link Builder#maxUncommittedBytes} (a sixteenth of the heap by default), and entries unchanged
 * since a checkpoint are evicted past {@link Builder#stateCacheBytes}: state may be many times
 * larger than the heap. After each checkpoint, chunks of the state file
 * that are less than half full are rewritten a little at a time, so the file stays bounded when
 * the live state is.
 * <p>
 * On open, the latest checkpoint is verified (its record's CRC, the CRC of every page of the state,
 * its entry counts); if it fails, or the file is truncated or does not open, that is logged,
 * counted in {@code streamflow.checkpoint.restore.fallbacks} and the previous checkpoint is used.
 * Output of committed checkpoints whose delivery may not have finished is delivered again (an
 * {@link OutboxSink} is idempotent per checkpoint id).
 * <h2>What is exactly-once</h2>
 * State and the output delivered through {@link #sink} to an idempotent {@link OutboxSink}, such
 * as {@link StreamSinks#exactlyOnceFiles}: after any crash and restart, each result is delivered
 * exactly once. Sinks outside {@link #sink} (stdout, HTTP, {@link EventStream#onLateData} and
 * {@link EventStream#onDeadLetter} handlers) are at-least-once: what they wrote after the last
 * checkpoint is written again on replay.
 * <p>
 * Limits: one checkpointed source per pipeline; a checkpoint write that fails (disk full, I/O
 * error) fails the pipeline with a {@link CheckpointException}, after which nothing of that
 * checkpoint was acknowledged or delivered, and a restart resumes from the previous one.
 * Watermark generators restart after a restore; the source's restored watermarks keep the
 * watermark from going back.
 */
public final class Checkpointing implements AutoCloseable {

    private static final Logger LOG = Loggers.getLogger(Checkpointing.class);

    /** Default time between checkpoints. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    private final Path directory;
    private final Duration interval;
    private final Scheduler scheduler;
    private final CheckpointStore store;
    private final ClaimingBackend backend;
    private final CachingStateBackend cache;
    private final CheckpointInfo restored;

    private final Timer duration;
    private final Timer commitTime;
    private final Timer pauseTime;
    private final int compactBytes;
    private final Counter completed;
    private final Counter failed;

    private final Object lock = new Object();
    private SourceLink source;
    private long nextBarrierId;
    private boolean inFlight;
    private boolean triggerAgain;
    /** Uncommitted changes passed their limit: a checkpoint is due now (guarded by {@code lock}). */
    private boolean pressureDue;
    /** Minimum pause before a checkpoint for output ({@code null}: output waits for the interval). */
    private final Duration promptPause;
    /**
     * The sink took output that no barrier made since covers (guarded by {@code lock}): with
     * {@link Builder#commitOutputPromptly}, a checkpoint is due once the pause is over.
     */
    private boolean outputDue;
    /** A checkpoint for output is scheduled for the end of the pause (guarded by {@code lock}). */
    private boolean outputScheduled;
    /** Scheduler time in ns when the last checkpoint ended (guarded by {@code lock}). */
    private long lastEndedNanos = Long.MIN_VALUE / 2;
    private CheckpointBarrier<?, ?> dueBarrier;
    private Disposable ticker;
    private final List<Waiter> waiters = new ArrayList<>();
    private final Map<Long, Map<Integer, Long>> positionsById = new ConcurrentHashMap<>();
    private volatile Map<Integer, Long> finalPositions;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Every checkpoint once durable, to whoever listens ({@link #durable()}). */
    private final Sinks.Many<CheckpointInfo> durableSink = Sinks.many().multicast().directBestEffort();
    private final boolean acceptRedelivery;
    /**
     * After a fallback: positions at which the source injects a barrier while the pipeline replays
     * what a sink already holds (guarded by {@code lock}); no other checkpoint is taken meanwhile.
     */
    private List<Map<Integer, Long>> catchUpTargets = List.of();
    private boolean catchingUp;

    private record Waiter(long id, Sinks.One<Long> sink) {
    }

    private Checkpointing(Builder b) {
        this.directory = b.directory;
        this.interval = b.interval;
        this.scheduler = b.scheduler;
        this.acceptRedelivery = b.acceptRedelivery;
        this.promptPause = b.promptPause;
        MeterRegistry registry = b.registry;
        Counter fallbacks = Counter.builder("streamflow.checkpoint.restore.fallbacks")
                .description("latest checkpoints that failed verification, so the previous one was restored")
                .tag("pipeline", b.pipeline).register(registry);
        this.store = CheckpointStore.open(directory, b.codecs, b.interval.toMillis(), problem -> {
            LOG.warn("checkpoint directory {}: {}", directory, problem);
            fallbacks.increment();
        });
        this.cache = new CachingStateBackend(store.backend(), b.stateCacheBytes);
        this.backend = new ClaimingBackend(cache);
        // pages moved by compaction are written by the next commit: keep them to a part of its budget
        this.compactBytes = (int) Math.min(CheckpointStore.COMPACT_WRITE_BYTES,
                b.maxUncommittedBytes == 0 ? Long.MAX_VALUE : Math.max(256 << 10, b.maxUncommittedBytes / 4));
        cache.budget().onDirty(b.maxUncommittedBytes, () -> {
            synchronized (lock) {
                pressureDue = true;
            }
            tick(false);
        });
        CheckpointRecord latest = store.latest();
        this.restored = latest == null ? null : info(latest);
        this.nextBarrierId = latest == null ? 1 : latest.id() + 1;
        this.duration = Timer.builder("streamflow.checkpoint.duration")
                .description("from the barrier reaching the sink to the checkpoint being durable")
                .tag("pipeline", b.pipeline).register(registry);
        this.commitTime = Timer.builder("streamflow.checkpoint.commit")
                .description("store commit of a checkpoint (its pages written, not yet synced)")
                .tag("pipeline", b.pipeline).register(registry);
        this.pauseTime = Timer.builder("streamflow.checkpoint.pause")
                .description("from the barrier reaching the sink until the checkpoint's snapshot of the state "
                        + "is taken: stateful operators take no input meanwhile")
                .tag("pipeline", b.pipeline).register(registry);
        this.completed = Counter.builder("streamflow.checkpoints").tag("result", "completed")
                .tag("pipeline", b.pipeline).register(registry);
        this.failed = Counter.builder("streamflow.checkpoints").tag("result", "failed")
                .tag("pipeline", b.pipeline).register(registry);
        if (restored != null) {
            LOG.info("restored checkpoint {} of {}: positions {}", restored.id(), directory, restored.positions());
        }
    }

    /**
     * Starts the options of a pipeline's checkpoints; nothing is opened until {@link Builder#open()}.
     *
     * @param directory the checkpoint directory, created on open if absent; one pipeline per
     *                  directory
     * @return a builder for the checkpoint directory {@code directory} (created if absent)
     * @throws NullPointerException if {@code directory} is {@code null}
     */
    public static Builder builder(Path directory) {
        return new Builder(directory);
    }

    /** @return the checkpoint restored on open, empty for a new directory */
    public Optional<CheckpointInfo> restored() {
        return Optional.ofNullable(restored);
    }

    /**
     * @return the durable state backend of this pipeline. Operators find their state by their
     * names, so a changed pipeline keeps the state of the operators whose names did not change;
     * two operators with the same name are an error.
     */
    public StateBackend stateBackend() {
        return backend;
    }

    /**
     * The checkpointed source {@code name}: {@code resume} is given the restored positions
     * (partition → position of the last record already reflected in the state; empty on a first
     * start) and returns the records after them (and the source's dead letters, which keep their
     * place and their position, see {@link EventStream#from}). Watermarks are assigned by
     * {@code watermarks}, and barriers are injected here.
     * <p>
     * {@code resume} is called on each subscription to the returned flux. A pipeline has one
     * checkpointed source, and its name is stored with each checkpoint, so a restart must use the
     * same name.
     *
     * @param <K>        key type
     * @param <V>        value type
     * @param name       the source's name, kept in the checkpoints with its positions
     * @param resume     the source's records after the given positions, such as
     *                   {@link #resumeFileLines(Path)} or {@link #resumeGenerator(long, LongFunction)}
     * @param watermarks how the records get timestamps and watermarks
     * @return the source's elements with watermarks and checkpoint barriers
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalStateException    if this pipeline has a checkpointed source already, or the
     *                                  restored checkpoint holds positions of another source name
     * @throws IllegalArgumentException if {@code watermarks} is invalid (see {@link WatermarkStrategy#assign()})
     */
    public <K, V> Flux<StreamElement<K, V>> source(
            String name, Function<Map<Integer, Long>, ? extends Publisher<? extends StreamElement<K, V>>> resume,
            WatermarkStrategy<K, V> watermarks) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(resume, "resume");
        Objects.requireNonNull(watermarks, "watermarks");
        SourceLink link;
        synchronized (lock) {
            if (source != null) {
                throw new IllegalStateException("a checkpointed pipeline has one source; '" + source.name
                        + "' is already defined, cannot add '" + name + "'");
            }
            link = new SourceLink(name);
            source = link;
        }
        if (restored != null && !restored.positions().isEmpty() && !restored.positions().containsKey(name)) {
            throw new IllegalStateException("checkpoint " + restored.id() + " in " + directory + " has positions for "
                    + "source(s) " + restored.positions().keySet() + " but this pipeline's source is named '" + name
                    + "': use the same source name, or a new checkpoint directory");
        }
        Map<Integer, Long> positions = link.restoredPositions();
        return Flux.<StreamElement<K, V>>defer(() -> Flux.<StreamElement<K, V>>from(resume.apply(positions)))
                .transform(watermarks.assign(link));
    }

    /**
     * A resume function for {@link StreamSources#fileLines(Path, long)}: on a first start the whole
     * file, after a restore the lines after the last consumed one. A line's position is the byte
     * offset of its start whether it became a record or a dead letter, so a restore after a
     * dead-lettered line does not read it again.
     *
     * @param file the file to read (see {@link StreamSources#fileLines(Path, long)}), partition 0
     * @return the resume function, for {@link #source}
     * @throws NullPointerException if {@code file} is {@code null}
     */
    public static Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> resumeFileLines(Path file) {
        return resumeFileLines(file, FileLinesOptions.defaults());
    }

    /**
     * As {@link #resumeFileLines(Path)}, reading with {@code options} (line limit, decoding).
     *
     * @param file    the file to read, partition 0
     * @param options the line limit and decoding
     * @return the resume function, for {@link #source}
     * @throws NullPointerException if {@code file} or {@code options} is {@code null}
     */
    public static Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> resumeFileLines(
            Path file, FileLinesOptions options) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(options, "options");
        return positions -> {
            Long last = positions.get(0);
            return last == null || last < 0 ? StreamSources.fileLines(file, 0, options)
                    : StreamSources.fileLines(file, last, options).skip(1);
        };
    }

    /**
     * A resume function for a generator of {@code count} records whose record {@code n} is
     * {@code factory.apply(n)} with position {@code n}: after a restore it continues at the next
     * sequence number. The generator runs unthrottled, as fast as records are requested.
     *
     * @param <K>     key type
     * @param <V>     value type
     * @param count   how many records in all (counting those before the restored position), or a
     *                negative number for an unbounded generator
     * @param factory record {@code n} from {@code n}; it must give it position {@code n} in partition 0
     * @return the resume function, for {@link #source}
     * @throws NullPointerException if {@code factory} is {@code null}
     */
    public static <K, V> Function<Map<Integer, Long>, Flux<StreamRecord<K, V>>> resumeGenerator(
            long count, LongFunction<StreamRecord<K, V>> factory) {
        Objects.requireNonNull(factory, "factory");
        return positions -> {
            long from = positions.getOrDefault(0, -1L) + 1;
            long left = count < 0 ? -1 : Math.max(0, count - from);
            return StreamSources.generator(from, left, 0, factory, Schedulers.immediate());
        };
    }

    /**
     * The end of a checkpointed pipeline: records are formatted with {@code format} into the outbox
     * of the coming checkpoint and delivered to {@code sink} once it is durable; a barrier commits
     * the checkpoint; completion commits a last checkpoint with the final source positions. Apply
     * it with {@code elements().as(...)}; the {@code Mono} completes when the input completed and
     * its last checkpoint is durable and delivered.
     * <p>
     * Late records and dead letters that reach it are logged (they were counted where they were
     * produced); give them exactly-once sinks of their own with
     * {@link #sink(OutboxSink, Function, SideOutputs)}.
     * <p>
     * The sink works on {@code Schedulers.boundedElastic()}, where it blocks on the store and on
     * {@code sink}; up to 256 elements wait for it. The {@code Mono} fails with a
     * {@link CheckpointException} when a checkpoint cannot be written, with an
     * {@link UncheckedIOException} (or what else {@code sink} throws) when a delivery fails (those
     * records stay in the outbox for the next start), and with a
     * {@link NullPointerException} when {@code format} returns {@code null}. On cancel or failure
     * nothing after the last committed checkpoint is delivered; a restart replays it.
     *
     * @param <K>    key type
     * @param <V>    value type
     * @param <T>    what the outbox keeps per record; it must be storable by the state store
     * @param sink   where each committed checkpoint's output is delivered
     * @param format turns a record into what the outbox keeps; must not return {@code null}
     * @return the sink, to apply with {@code elements().as(...)}
     * @throws NullPointerException if {@code sink} or {@code format} is {@code null}
     */
    public <K, V, T> Function<Flux<StreamElement<K, V>>, Mono<Void>> sink(
            OutboxSink<T> sink, Function<? super StreamRecord<K, V>, ? extends T> format) {
        return sink(sink, format, sideOutputs());
    }

    /**
     * Like {@link #sink(OutboxSink, Function)}, with the late records and dead letters that reach
     * the end of the pipeline delivered, exactly-once like the records, to the sinks of
     * {@code sideOutputs}:
     * <pre>{@code
     * .as(cp.sink(StreamSinks.exactlyOnceFiles(results), r -> r.value().toString(),
     *         Checkpointing.sideOutputs()
     *                 .lateRecords(StreamSinks.exactlyOnceFiles(late), l -> l.record().toString())
     *                 .deadLetters(StreamSinks.exactlyOnceFiles(dead), d -> d.origin() + " " + d.error())))
     * }</pre>
     * Side outputs routed earlier with {@link EventStream#onLateData} or
     * {@link EventStream#onDeadLetter} do not reach it; those handlers are at-least-once.
     *
     * @param <K>         key type
     * @param <V>         value type
     * @param <T>         what the outbox keeps per record
     * @param sink        where each committed checkpoint's records are delivered
     * @param format      turns a record into what the outbox keeps; must not return {@code null}
     * @param sideOutputs the sinks of late records and dead letters; those without a sink are logged
     * @return the sink, to apply with {@code elements().as(...)}
     * @throws NullPointerException if an argument is {@code null}
     */
    public <K, V, T> Function<Flux<StreamElement<K, V>>, Mono<Void>> sink(
            OutboxSink<T> sink, Function<? super StreamRecord<K, V>, ? extends T> format, SideOutputs sideOutputs) {
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(sideOutputs, "sideOutputs");
        Channel<?>[] channels = {new Channel<>(CheckpointStore.MAIN, "records", sink, format), sideOutputs.late,
                sideOutputs.deadLetters};
        return elements -> run(elements, channels);
    }

    /** @return no side-output sinks, to add them to for {@link #sink(OutboxSink, Function, SideOutputs)} */
    public static SideOutputs sideOutputs() {
        return SideOutputs.NONE;
    }

    /**
     * The exactly-once sinks of a checkpointed pipeline's late records and dead letters (see
     * {@link #sink(OutboxSink, Function, SideOutputs)}): an immutable value, each method returns a
     * copy. Each gets its own outbox in every checkpoint, delivered after the records' when the
     * checkpoint is durable, and is caught up on its own after a fallback.
     */
    public static final class SideOutputs {
        static final SideOutputs NONE = new SideOutputs(null, null);

        private final Channel<?> late;
        private final Channel<?> deadLetters;

        private SideOutputs(Channel<?> late, Channel<?> deadLetters) {
            this.late = late;
            this.deadLetters = deadLetters;
        }

        /**
         * @param <T>    what the outbox keeps per late record
         * @param sink   where each committed checkpoint's late records are delivered
         * @param format turns a late record into what the outbox keeps; must not return {@code null}
         * @return these side outputs with late records formatted by {@code format} and delivered to {@code sink}
         * @throws NullPointerException if {@code sink} or {@code format} is {@code null}
         */
        public <T> SideOutputs lateRecords(OutboxSink<T> sink, Function<? super LateRecord<?, ?>, ? extends T> format) {
            Objects.requireNonNull(sink, "sink");
            Objects.requireNonNull(format, "format");
            return new SideOutputs(new Channel<>(CheckpointStore.LATE, "late records", sink, format), deadLetters);
        }

        /**
         * @param <T>    what the outbox keeps per dead letter
         * @param sink   where each committed checkpoint's dead letters are delivered
         * @param format turns a dead letter into what the outbox keeps; must not return {@code null}
         * @return these side outputs with dead letters formatted by {@code format} and delivered to {@code sink}
         * @throws NullPointerException if {@code sink} or {@code format} is {@code null}
         */
        public <T> SideOutputs deadLetters(OutboxSink<T> sink, Function<? super DeadLetter<?, ?>, ? extends T> format) {
            Objects.requireNonNull(sink, "sink");
            Objects.requireNonNull(format, "format");
            return new SideOutputs(late, new Channel<>(CheckpointStore.DEAD_LETTERS, "dead letters", sink, format));
        }

        @Override
        public String toString() {
            return "SideOutputs{late records: " + (late == null ? "logged" : late.sink()) + ", dead letters: "
                    + (deadLetters == null ? "logged" : deadLetters.sink()) + "}";
        }
    }

    /** One output of a checkpointed sink: its outbox channel, sink and format. */
    private record Channel<T>(int index, String what, OutboxSink<T> sink, Function<?, ? extends T> format) {

        @SuppressWarnings("unchecked")
        T format(Object element) {
            T value = ((Function<Object, ? extends T>) format).apply(element);
            if (value == null) {
                throw new NullPointerException("the format of the checkpointed sink's " + what + " returned null for "
                        + element);
            }
            return value;
        }
    }

    private <K, V> Mono<Void> run(Flux<StreamElement<K, V>> elements, Channel<?>[] channels) {
        return Mono.defer(() -> {
            SinkRun<K, V> run = new SinkRun<>(channels);
            // a JVM-fatal error (OutOfMemoryError in a format function, say) fails the pipeline
            // instead of escaping to the worker thread and leaving it waiting
            String where = "the checkpointed sink of " + directory;
            return Mono.fromRunnable(FatalErrors.guard(run::start, where))
                    .subscribeOn(Schedulers.boundedElastic())
                    .thenMany(elements.publishOn(Schedulers.boundedElastic(), 256)
                            .doOnNext(FatalErrors.guard(run::accept, where)))
                    .then(Mono.fromRunnable(FatalErrors.guard(run::finish, where))
                            .subscribeOn(Schedulers.boundedElastic()))
                    .doFinally(sig -> stopTicker())
                    .then();
        });
    }

    /**
     * Asks for a checkpoint now (after the one in flight, if any). Nothing happens until the
     * {@code Mono} is subscribed; a checkpoint asked for before the pipeline's source started is
     * taken once it does.
     *
     * @return the id of the checkpoint, once it is durable; fails with a {@link CheckpointException}
     * when that checkpoint fails
     */
    public Mono<Long> checkpointNow() {
        return Mono.defer(() -> {
            Sinks.One<Long> one = Sinks.one();
            synchronized (lock) {
                // the next barrier gets this id, whether it is made now or after the one in flight
                if (inFlight) {
                    triggerAgain = true;
                }
                waiters.add(new Waiter(nextBarrierId, one));
            }
            tick(false);
            return one.asMono();
        });
    }

    /**
     * Each checkpoint of this pipeline once it is durable (committed and synced, before its output is
     * delivered), with the source positions it holds: for a source that acknowledges its input
     * only once a checkpoint holds it (an HTTP request answered when its records are durable, say).
     * Hot: a subscriber sees the checkpoints taken after it subscribed; one that does not keep up
     * misses some (each holds the positions of the ones before it). Completes when this
     * {@code Checkpointing} is closed.
     *
     * @return the durable checkpoints from now on
     */
    public Flux<CheckpointInfo> durable() {
        return durableSink.asFlux();
    }

    /**
     * Lists the checkpoints recorded in {@code directory}, oldest first, without changing it. Opens
     * the state file read-only: blocking file I/O.
     *
     * @param directory a checkpoint directory
     * @return the checkpoints it holds; empty when it has no state file
     */
    public static List<CheckpointInfo> list(Path directory) {
        List<CheckpointInfo> out = new ArrayList<>();
        for (CheckpointRecord r : CheckpointStore.list(directory)) {
            out.add(info(r));
        }
        return out;
    }

    /** Closes the store without committing anything after the last checkpoint. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            stopTicker();
            store.close();
            durableSink.tryEmitComplete();
        }
    }

    // ------------------------------------------------------------------ coordinator

    private static CheckpointInfo info(CheckpointRecord r) {
        return new CheckpointInfo(r.id(), Instant.ofEpochMilli(r.timeMillis()), r.positions(), r.operators(),
                r.stateEntries(), r.outboxRecords(), r.fileBytes());
    }

    private void startTicker(Runnable wake) {
        synchronized (lock) {
            // the source's drain loop may run on the thread that wakes it, and stateful operators
            // downstream read the store (possibly from disk): never on the timer's non-blocking thread
            source.wake = () -> Schedulers.boundedElastic().schedule(wake);
            if (ticker == null && !interval.isZero()) {
                long ms = Math.max(1, interval.toMillis());
                ticker = scheduler.schedulePeriodically(() -> tick(true), ms, ms, TimeUnit.MILLISECONDS);
            }
        }
        tick(false); // a checkpoint asked for before the source started
    }

    private void stopTicker() {
        synchronized (lock) {
            if (ticker != null) {
                ticker.dispose();
                ticker = null;
            }
        }
    }

    /**
     * Makes a barrier due at the source, unless one is in flight: on the interval timer
     * ({@code periodic}), or when a checkpoint was asked for. Never blocks.
     */
    private void tick(boolean periodic) {
        Runnable wake;
        synchronized (lock) {
            if (inFlight || catchingUp || source == null || source.wake == null || source.ended) {
                return;
            }
            if (!periodic && waiters.isEmpty() && !pressureDue && !outputDue) {
                return;
            }
            pressureDue = false;
            outputDue = false; // the barrier follows the output to the sink
            long id = nextBarrierId++;
            inFlight = true;
            dueBarrier = Barriers.create(id, new CheckpointSignal(id));
            wake = source.wake;
        }
        wake.run();
    }

    private void checkpointDone(long id, boolean ok) {
        List<Waiter> done = new ArrayList<>();
        boolean again;
        synchronized (lock) {
            inFlight = false;
            lastEndedNanos = scheduler.now(TimeUnit.NANOSECONDS);
            again = triggerAgain || pressureDue;
            triggerAgain = false;
            waiters.removeIf(w -> {
                if (w.id <= id) {
                    done.add(w);
                    return true;
                }
                return false;
            });
        }
        for (Waiter w : done) {
            if (ok) {
                w.sink.tryEmitValue(id);
            } else {
                w.sink.tryEmitError(new CheckpointException("checkpoint " + id + " failed", null));
            }
        }
        if (again) {
            tick(false);
        } else {
            outputWaiting(false);
        }
    }

    /**
     * With {@link Builder#commitOutputPromptly}: the sink took output since the last barrier
     * ({@code noted}), or a checkpoint ended ({@code !noted}; output noted meanwhile is then due).
     * Makes a barrier due once the pause after the last checkpoint is over. Never blocks.
     */
    private void outputWaiting(boolean noted) {
        if (promptPause == null) {
            return;
        }
        long delay;
        synchronized (lock) {
            if (noted) {
                outputDue = true;
            }
            if (!outputDue || inFlight || outputScheduled) {
                return; // the end of the checkpoint in flight, or the scheduled one, sees it
            }
            delay = lastEndedNanos + promptPause.toNanos() - scheduler.now(TimeUnit.NANOSECONDS);
            outputScheduled = delay > 0;
        }
        if (delay > 0) {
            scheduler.schedule(() -> {
                synchronized (lock) {
                    outputScheduled = false;
                }
                tick(false);
            }, delay, TimeUnit.NANOSECONDS);
        } else {
            tick(false);
        }
    }

    /** The checkpointed source as its first operator sees the coordinator. */
    private final class SourceLink implements SourceCheckpointing {
        final String name;
        volatile Runnable wake;
        volatile boolean ended;

        SourceLink(String name) {
            this.name = name;
        }

        @Override
        public String sourceName() {
            return name;
        }

        @Override
        public StateBackend backend() {
            return backend;
        }

        @Override
        public Map<Integer, Long> restoredPositions() {
            if (restored == null) {
                return Map.of();
            }
            return Map.copyOf(restored.positions().getOrDefault(name, Map.of()));
        }

        @Override
        public void attach(Runnable w) {
            startTicker(w);
        }

        @Override
        public CheckpointBarrier<?, ?> takeDueBarrier() {
            synchronized (lock) {
                CheckpointBarrier<?, ?> b = dueBarrier;
                dueBarrier = null;
                return b;
            }
        }

        @Override
        public void positionsAt(long id, Map<Integer, Long> positions) {
            positionsById.put(id, Map.copyOf(positions));
        }

        @Override
        public void endOfInput(Map<Integer, Long> positions) {
            finalPositions = Map.copyOf(positions);
            ended = true;
        }

        @Override
        public List<Map<Integer, Long>> catchUpTargets() {
            synchronized (lock) {
                return catchUpTargets;
            }
        }

        @Override
        public CheckpointBarrier<?, ?> catchUpBarrier() {
            long id;
            synchronized (lock) {
                id = nextBarrierId++;
                inFlight = true;
            }
            return Barriers.create(id, new CheckpointSignal(id));
        }
    }

    /**
     * Output a channel does not deliver while the pipeline replays after a fallback: what its sink
     * already holds. The replay is checked at the positions of each delivery it holds, in order,
     * against the records and fingerprints delivered up to there, and a checkpoint is committed
     * there, so that a crash during the catch-up resumes from a checked point.
     */
    private static final class Suppressed {
        final java.util.ArrayDeque<Step> steps;
        /** Records and fingerprint produced by the replay so far. */
        long records;
        long fingerprint;

        Suppressed(java.util.ArrayDeque<Step> steps) {
            this.steps = steps;
        }
    }

    /** Positions of a delivery a sink holds and what it holds up to it (cumulative from the restored checkpoint). */
    private record Step(long checkpointId, Map<Integer, Long> target, boolean endOfInput, long records,
                        long fingerprint) {
    }

    /** One subscription of the sink: runs on a worker that may block, one element at a time. */
    private final class SinkRun<K, V> {
        private final Channel<?>[] channels;
        /** Per channel: whether its sink keeps {@link OutboxSink.Delivery} records. */
        private final boolean[] keeps = new boolean[CheckpointStore.CHANNELS];
        /** Per channel: output replayed but not delivered, while catching up after a fallback. */
        private final Suppressed[] suppressed = new Suppressed[CheckpointStore.CHANNELS];
        private final AtomicBoolean warned = new AtomicBoolean();
        /** Id of the checkpoint the next outbox record belongs to. */
        private long epoch;
        /** Output went into the outbox since the last barrier. */
        private boolean hasOutput;
        private boolean namesChecked;

        SinkRun(Channel<?>[] channels) {
            this.channels = channels;
        }

        /**
         * Before the input is subscribed: finds out what the sinks already hold beyond the restored
         * checkpoint (after a fallback), then delivers the outbox of committed checkpoints whose
         * delivery may not have finished.
         */
        void start() {
            CheckpointRecord latest = store.latest();
            long restoredId = latest == null ? 0 : latest.id();
            String sourceName = source == null ? null : source.name;
            Map<Integer, Long> from = latest == null || sourceName == null ? Map.of()
                    : latest.positions().getOrDefault(sourceName, Map.of());
            long maxId = Math.max(store.notedId(), restoredId);
            boolean fellBack = store.notedId() > restoredId;
            List<Map<Integer, Long>> targets = new ArrayList<>();
            boolean endTarget = false;
            for (Channel<?> c : channels) {
                if (c == null) {
                    continue;
                }
                Optional<List<OutboxSink.Delivery>> held;
                try {
                    held = c.sink().deliveries();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read what " + c.sink() + " already holds", e);
                }
                if (held.isEmpty()) {
                    if (fellBack && !acceptRedelivery) {
                        throw new IllegalStateException("checkpoint " + store.notedId() + " of " + directory
                                + " was completed, but its state file holds only " + describe(restoredId) + " (see "
                                + "the warnings above): the output of the lost checkpoints may already be in " + c.sink()
                                + ", which does not keep delivery records (OutboxSink.deliveries), so replaying from "
                                + describe(restoredId) + " could deliver those " + c.what() + " twice. Either restore "
                                + "the checkpoint directory from a copy, or remove that output from the sink and start "
                                + "again with Checkpointing.Builder.acceptRedeliveryAfterFallback(), or use a sink that "
                                + "keeps delivery records, such as StreamSinks.exactlyOnceFiles");
                    }
                    if (fellBack) {
                        LOG.warn("checkpoint directory {} fell back from checkpoint {} to {}: output of the lost "
                                + "checkpoints is delivered again to {} (acceptRedeliveryAfterFallback)", directory,
                                store.notedId(), describe(restoredId), c.sink());
                    }
                    continue;
                }
                keeps[c.index()] = true;
                List<OutboxSink.Delivery> beyond = new ArrayList<>();
                for (OutboxSink.Delivery d : held.get()) {
                    maxId = Math.max(maxId, d.checkpointId());
                    Map<Integer, Long> at = sourceName == null ? null : d.positions().get(sourceName);
                    if (at != null && isBeyond(at, from)) {
                        beyond.add(d);
                    }
                }
                if (beyond.isEmpty()) {
                    continue;
                }
                beyond.sort(java.util.Comparator.comparingLong(OutboxSink.Delivery::checkpointId));
                java.util.ArrayDeque<Step> steps = new java.util.ArrayDeque<>();
                long n = 0;
                long fp = 0;
                for (OutboxSink.Delivery d : beyond) {
                    Map<Integer, Long> at = new TreeMap<>(d.positions().get(sourceName));
                    Step previous = steps.peekLast();
                    if (previous != null && (isBeyond(previous.target(), at) || previous.endOfInput())) {
                        throw new IllegalStateException(c.sink() + " holds delivery " + d + " after a delivery of "
                                + "checkpoint " + previous.checkpointId() + " at positions " + previous.target()
                                + (previous.endOfInput() ? " (the end of the input)" : "") + ": its deliveries are not "
                                + "in input order, so they cannot be matched with a replay of this pipeline's input");
                    }
                    n += d.records();
                    fp += d.fingerprint();
                    if (previous != null && previous.target().equals(at) && previous.endOfInput() == d.endOfInput()) {
                        steps.pollLast(); // one check at these positions covers both
                    }
                    steps.add(new Step(d.checkpointId(), at, d.endOfInput(), n, fp));
                }
                suppressed[c.index()] = new Suppressed(steps);
                for (Step step : steps) {
                    if (step.endOfInput()) {
                        endTarget = true;
                    } else if (!targets.contains(step.target())) {
                        targets.add(step.target());
                    }
                }
                Step last = steps.peekLast();
                LOG.warn("checkpoint directory {} restored {}, but {} already holds {} {} up to checkpoint {} "
                        + "(positions {}): they are replayed without being delivered, checked against what it holds "
                        + "at the positions of each of its {} deliveries, and only then is anything new delivered",
                        directory, describe(restoredId), c.sink(), n, c.what(), last.checkpointId(), last.target(),
                        beyond.size());
            }
            // catch-up barriers in input order (the positions of later deliveries are at or after earlier ones)
            targets.sort((a, b) -> isBeyond(a, b) ? 1 : isBeyond(b, a) ? -1 : 0);
            synchronized (lock) {
                nextBarrierId = Math.max(nextBarrierId, maxId + 1);
                epoch = nextBarrierId;
                catchUpTargets = List.copyOf(targets);
                catchingUp = !targets.isEmpty() || endTarget;
            }
            deliverCommitted();
        }

        private String describe(long id) {
            return id == 0 ? "no checkpoint" : "checkpoint " + id;
        }

        /** Delivers the outbox of committed checkpoints whose delivery may not have finished. */
        private void deliverCommitted() {
            TreeMap<Long, List<List<Object>>> pending = new TreeMap<>();
            for (int c = 0; c < CheckpointStore.CHANNELS; c++) {
                for (Map.Entry<Long, List<Object>> e : store.outbox(c).entrySet()) {
                    if (channels[c] == null) {
                        throw new IllegalStateException("the outbox of checkpoint " + e.getKey() + " in " + directory
                                + " holds " + e.getValue().size() + " " + CHANNEL_NAMES[c] + " to deliver, but this "
                                + "pipeline's checkpointed sink has no sink for them: add it back (Checkpointing.sideOutputs()."
                                + (c == CheckpointStore.LATE ? "lateRecords" : "deadLetters") + ") so that they are "
                                + "not lost");
                    }
                    pending.computeIfAbsent(e.getKey(), k -> new ArrayList<>(java.util.Collections.nCopies(
                            CheckpointStore.CHANNELS, (List<Object>) null))).set(c, e.getValue());
                }
            }
            for (Map.Entry<Long, List<List<Object>>> e : pending.entrySet()) {
                long id = e.getKey();
                // the checkpoint that committed this output (the same id, or for output kept under an
                // id that never became a checkpoint, the next one)
                CheckpointRecord rec = store.recordAtOrAfter(id);
                Map<String, Map<Integer, Long>> positions = rec == null ? Map.of() : rec.positions();
                deliver(id, positions, store.isEndOfInput(rec == null ? id : rec.id()), e.getValue());
            }
        }

        /** Delivers checkpoint {@code id}'s outbox, channel by channel ({@code null}: none in that channel). */
        private void deliver(long id, Map<String, Map<Integer, Long>> positions, boolean endOfInput,
                             List<List<Object>> outputs) {
            for (int c = 0; c < CheckpointStore.CHANNELS; c++) {
                List<Object> records = outputs.get(c);
                if (records == null || channels[c] == null) {
                    continue;
                }
                deliverChannel(channels[c], id, positions, endOfInput, records);
                store.removeOutbox(c, id);
            }
        }

        @SuppressWarnings("unchecked")
        private <T> void deliverChannel(Channel<T> c, long id, Map<String, Map<Integer, Long>> positions,
                                        boolean endOfInput, List<Object> records) {
            long fp = 0;
            if (keeps[c.index()]) {
                for (Object r : records) {
                    fp += store.fingerprint(r);
                }
            }
            try {
                c.sink().deliver(new OutboxSink.Delivery(id, positions, records.size(), fp, endOfInput),
                        (List<T>) records);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot deliver the " + c.what() + " of checkpoint " + id + " to "
                        + c.sink() + " (they stay in the outbox of " + directory + " and are delivered again after a "
                        + "restart)", e);
            }
        }

        void accept(StreamElement<K, V> e) {
            if (e instanceof StreamRecord<K, V> r) {
                output(channels[CheckpointStore.MAIN], r);
            } else if (e instanceof CheckpointBarrier<K, V> b) {
                Map<Integer, Long> positions = positionsById.remove(b.id());
                if (positions == null) {
                    throw new IllegalStateException("barrier " + b.id() + " reached the sink but no checkpointed "
                            + "source injected it: use Checkpointing.source(...) as the pipeline's source");
                }
                Map<Integer, Long> at = new TreeMap<>(positions);
                for (int c = 0; c < CheckpointStore.CHANNELS; c++) {
                    Suppressed s = suppressed[c];
                    if (s != null && !s.steps.peekFirst().endOfInput() && s.steps.peekFirst().target().equals(at)) {
                        verify(c, s);
                    }
                }
                checkpoint(b.id(), positions, Barriers.signal(b), false);
                endCatchUpIfDone();
            } else if (e instanceof LateRecord<?, ?> || e instanceof DeadLetter<?, ?>) {
                int c = e instanceof LateRecord<?, ?> ? CheckpointStore.LATE : CheckpointStore.DEAD_LETTERS;
                if (channels[c] != null) {
                    output(channels[c], e);
                } else if (warned.compareAndSet(false, true)) {
                    LOG.warn("{} reached the checkpointed sink with no sink for it (give one with Checkpointing."
                            + "sideOutputs(), or route it with onLateData/onDeadLetter); further ones are "
                            + "logged at debug", e);
                } else if (LOG.isDebugEnabled()) {
                    LOG.debug("unrouted side output at the checkpointed sink: {}", e);
                }
            }
        }

        private void output(Channel<?> c, Object element) {
            Object value = c.format(element);
            Suppressed s = suppressed[c.index()];
            if (s != null) {
                s.records++;
                s.fingerprint += store.fingerprint(value);
                return;
            }
            store.appendOutbox(c.index(), epoch, value);
            if (!hasOutput) {
                hasOutput = true;
                outputWaiting(true);
            }
        }

        /** The replay reached the positions of the next delivery channel {@code c} holds: it must match. */
        private void verify(int c, Suppressed s) {
            Step step = s.steps.pollFirst();
            if (s.records == step.records() && s.fingerprint == step.fingerprint()) {
                if (s.steps.isEmpty()) {
                    suppressed[c] = null;
                    LOG.info("checkpoint directory {}: the replay up to checkpoint {} (positions {}) produced exactly "
                                    + "the {} {} that {} holds; delivering from here on", directory,
                            step.checkpointId(), step.target(), s.records, channels[c].what(), channels[c].sink());
                }
                return;
            }
            throw new IllegalStateException("after restoring " + describe(store.latest() == null ? 0
                    : store.latest().id()) + " of " + directory + " the pipeline replayed its input up to the positions "
                    + step.target() + " of checkpoint " + step.checkpointId() + ", whose " + channels[c].what() + " "
                    + channels[c].sink() + " already holds: the replay produced " + s.records + " " + channels[c].what()
                    + " (fingerprint " + Long.toHexString(s.fingerprint) + ") up to there, the sink holds "
                    + step.records() + " (fingerprint " + Long.toHexString(step.fingerprint()) + "). The output "
                    + "depends on more than the input (processing-time triggers, periodic watermarks or idleness "
                    + "timeouts), or the input or the pipeline changed, so going on would deliver results twice or "
                    + "lose them; nothing was delivered. Restore the checkpoint directory from a copy, or remove from "
                    + "the sink the output of the checkpoints after " + describe(store.latest() == null ? 0
                    : store.latest().id()) + " (for exactlyOnceFiles: the part-<id>.txt and .part-<id>.delivery "
                    + "files with higher ids) and start again");
        }

        private void endCatchUpIfDone() {
            for (Suppressed s : suppressed) {
                if (s != null) {
                    return;
                }
            }
            boolean wasCatchingUp;
            synchronized (lock) {
                wasCatchingUp = catchingUp;
                catchingUp = false;
            }
            if (wasCatchingUp) {
                tick(false); // checkpoints asked for meanwhile
            }
        }

        /** Upstream completed: a last checkpoint with the final positions. */
        void finish() {
            Map<Integer, Long> positions = finalPositions;
            if (positions == null && source != null) {
                // the sink's input ended before the source did (e.g. a take(n) cancelled it): the state
                // may reflect records past any known position, so it is not committed
                LOG.warn("checkpointed pipeline {} ended before its source did: no final checkpoint; output after "
                        + "the last checkpoint is delivered once a restarted pipeline commits one", directory);
                return;
            }
            if (positions == null) {
                positions = Map.of();
            }
            Map<Integer, Long> at = new TreeMap<>(positions);
            for (int c = 0; c < CheckpointStore.CHANNELS; c++) {
                Suppressed s = suppressed[c];
                if (s == null) {
                    continue;
                }
                Step next = s.steps.peekFirst();
                if (next.endOfInput() && next.target().equals(at)) {
                    verify(c, s);
                } else {
                    throw new IllegalStateException("after restoring " + describe(store.latest() == null ? 0
                            : store.latest().id()) + " of " + directory + " the input ended at positions " + positions
                            + ", not at the positions " + next.target() + " of checkpoint " + next.checkpointId()
                            + (next.endOfInput() ? " (the end of the input then)" : "") + ", whose "
                            + channels[c].what() + " " + channels[c].sink() + " already holds: the input changed since, "
                            + "so the output cannot be matched; nothing was delivered. Restore the input, or remove "
                            + "from the sink the output of the checkpoints after that one and start again");
                }
            }
            long id;
            synchronized (lock) {
                // the outbox holds this checkpoint's output under epoch: the final checkpoint takes that
                // id (a barrier asked for but never injected before the input ended leaves no trace)
                id = epoch;
                nextBarrierId = Math.max(nextBarrierId, id + 1);
                inFlight = true;
                catchingUp = false;
            }
            checkpoint(id, positions, null, true);
        }

        private void checkpoint(long id, Map<Integer, Long> positions, CheckpointSignal signal, boolean endOfInput) {
            long t0 = System.nanoTime();
            if (hasOutput) {
                hasOutput = false; // this checkpoint holds the output so far, what comes now is the next one's
                synchronized (lock) {
                    outputDue = false;
                }
            }
            if (!namesChecked) {
                namesChecked = true;
                backend.checkRestoredNames();
            }
            Map<String, Map<Integer, Long>> byName = new HashMap<>();
            if (source != null) {
                byName.put(source.name, new TreeMap<>(positions));
            }
            try {
                try {
                    // every stateful operator is paused: the snapshot ends their state's interval (in
                    // constant time), then they go on at once, woken on another thread so that their
                    // work does not run inside the checkpoint. What they change from here on belongs
                    // to the next checkpoint (an entry of this one is copied before it changes).
                    List<CachedKeyedState.Snapshot> snapshots = cache.snapshot();
                    pauseTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                    if (signal != null) {
                        Schedulers.boundedElastic().schedule(signal::done);
                    }
                    try {
                        cache.flush(snapshots);
                    } catch (RuntimeException | Error ex) {
                        CachingStateBackend.abandon(snapshots);
                        throw ex;
                    }
                    store.commit(id, scheduler.now(TimeUnit.MILLISECONDS), byName, endOfInput, () -> { });
                    cache.budget().committed();
                } finally {
                    commitTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                    if (signal != null) {
                        signal.done();
                    }
                }
                store.sync();
            } catch (RuntimeException | Error ex) {
                failed.increment();
                checkpointDone(id, false);
                throw new CheckpointException("checkpoint " + id + " could not be written to " + directory + ": "
                        + ex.getMessage() + ". Nothing of it was acknowledged or delivered; a restart resumes from "
                        + "the previous checkpoint", ex);
            }
            epoch = id + 1;
            duration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            completed.increment();
            CheckpointRecord committed = store.latest();
            if (committed != null && committed.id() == id) {
                durableSink.tryEmitNext(info(committed)); // a listener that cannot take it misses it
            }
            store.compact(compactBytes); // while the operators go on; the next checkpoint writes what it moved
            deliverCommitted();
            checkpointDone(id, true);
        }
    }

    private static final String[] CHANNEL_NAMES = {"records", "late records", "dead letters"};

    /** @return whether {@code a} is past {@code b} in some partition (a partition absent from {@code b}: -1) */
    private static boolean isBeyond(Map<Integer, Long> a, Map<Integer, Long> b) {
        for (Map.Entry<Integer, Long> e : a.entrySet()) {
            if (e.getValue() > b.getOrDefault(e.getKey(), -1L)) {
                return true;
            }
        }
        return false;
    }

    /** Hands out each operator's state once per run and checks restored state is claimed. */
    private final class ClaimingBackend implements StateBackend {
        private final StateBackend delegate;
        private final Set<String> claimed = ConcurrentHashMap.newKeySet();

        ClaimingBackend(StateBackend delegate) {
            this.delegate = delegate;
        }

        @Override
        public <K, N, S> KeyedState<K, N, S> keyedState(String operator, String name) {
            if (!claimed.add(operator + "/" + name)) {
                throw new IllegalStateException("two operators named '" + operator + "' keep state '" + name
                        + "' in checkpointed pipeline " + directory + ": give each stateful operator its own name "
                        + "(OperatorSettings.withName), names identify state across restarts");
            }
            return delegate.keyedState(operator, name);
        }

        @Override
        public boolean isDurable() {
            return true;
        }

        void checkRestoredNames() {
            if (restored == null) {
                return;
            }
            List<String> missing = new ArrayList<>();
            Set<String> ops = new java.util.HashSet<>();
            for (String c : claimed) {
                ops.add(c.substring(0, c.lastIndexOf('/')));
            }
            for (String op : restored.operators()) {
                if (!ops.contains(op)) {
                    missing.add(op);
                }
            }
            if (!missing.isEmpty()) {
                throw new IllegalStateException("checkpoint " + restored.id() + " in " + directory
                        + " has state of operator(s) " + missing + " that this pipeline does not have (its stateful "
                        + "operators: " + new java.util.TreeSet<>(ops) + "); operator names identify state across "
                        + "restarts: rename the operators back, or start from a new checkpoint directory");
            }
        }

        @Override
        public String toString() {
            return "StateBackend.checkpointed(" + directory + ")";
        }
    }

    /** A checkpoint that could not be written; nothing of it was acknowledged or delivered. */
    public static final class CheckpointException extends RuntimeException {
        /**
         * Creates the exception; the coordinator makes these.
         *
         * @param message which checkpoint failed, and why
         * @param cause   the store's error, or {@code null}
         */
        public CheckpointException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Options of a {@link Checkpointing}. */
    public static final class Builder {
        private final Path directory;
        private Duration interval = DEFAULT_INTERVAL;
        private long maxUncommittedBytes = Runtime.getRuntime().maxMemory() / 16;
        private long stateCacheBytes = CachingStateBackend.defaultCacheBytes();
        private Scheduler scheduler = Schedulers.parallel();
        private MeterRegistry registry = new SimpleMeterRegistry();
        private String pipeline = "default";
        private final Map<Class<?>, StateCodec<?>> codecs = new LinkedHashMap<>();
        private boolean acceptRedelivery;
        private Duration promptPause;

        private Builder(Path directory) {
            this.directory = Objects.requireNonNull(directory, "directory");
        }

        /**
         * Time between checkpoints (default 10 s); {@link Duration#ZERO} takes them only on demand
         * ({@link #checkpointNow()}, {@link #maxUncommittedBytes}, and the end of input).
         *
         * @param newInterval processing time between checkpoints, at millisecond precision, not negative
         * @return this builder
         * @throws NullPointerException     if {@code newInterval} is {@code null}
         * @throws IllegalArgumentException if {@code newInterval} is negative
         */
        public Builder interval(Duration newInterval) {
            Objects.requireNonNull(newInterval, "interval");
            if (newInterval.isNegative()) {
                throw new IllegalArgumentException("checkpoint interval must be >= 0, was " + newInterval);
            }
            this.interval = newInterval;
            return this;
        }

        /**
         * Also takes a checkpoint as soon as the sink has taken output since the last one, at least
         * {@code minPause} after the previous checkpoint ended, rather than waiting for the interval
         * (off by default). Output of {@link #sink} is delivered only when its checkpoint is
         * durable, so with the interval alone a result waits up to an interval for its barrier,
         * then the checkpoint's duration; with this it waits about one checkpoint's duration (two
         * when a checkpoint is in flight as it comes). The interval still applies, for the source
         * positions and state of a pipeline that has no output. Each burst of output costs a
         * checkpoint (a store commit and sync, and a transaction with a Kafka sink); output that
         * never stops makes one every {@code minPause} plus a checkpoint's duration.
         *
         * @param minPause processing time from the end of a checkpoint to a checkpoint for output,
         *                 not negative ({@link Duration#ZERO}: at once)
         * @return this builder
         * @throws NullPointerException     if {@code minPause} is {@code null}
         * @throws IllegalArgumentException if {@code minPause} is negative
         */
        public Builder commitOutputPromptly(Duration minPause) {
            Objects.requireNonNull(minPause, "minPause");
            if (minPause.isNegative()) {
                throw new IllegalArgumentException("minPause must be >= 0, was " + minPause);
            }
            this.promptPause = minPause;
            return this;
        }

        /**
         * Takes a checkpoint before its interval is up once the state changes not yet committed
         * hold about this much memory (default: a sixteenth of the maximum heap; 0: never). Changes
         * stay on the heap until their checkpoint writes them, so this bounds the heap that state
         * needs however large the state is.
         *
         * @param bytes the limit in bytes, {@code >= 0}; 0 turns it off
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder maxUncommittedBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxUncommittedBytes must be >= 0, was " + bytes);
            }
            this.maxUncommittedBytes = bytes;
            return this;
        }

        /**
         * Heap that the operators' state may keep as its working set (estimated; default an eighth of
         * the maximum heap; 0: no limit). State lives on the heap and each checkpoint writes what
         * changed since the previous one to the state file; past this limit, entries that have not
         * changed since a checkpoint wrote them are dropped from the heap and read back from the
         * file when next used, so state may be many times larger than the heap.
         *
         * @param bytes the limit in bytes, {@code >= 0}; 0 turns eviction off
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder stateCacheBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("stateCacheBytes must be >= 0, was " + bytes);
            }
            this.stateCacheBytes = bytes;
            return this;
        }

        /**
         * Scheduler of the interval timer (virtual time in tests); default {@code Schedulers.parallel()}.
         *
         * @param newScheduler runs the interval timer
         * @return this builder
         * @throws NullPointerException if {@code newScheduler} is {@code null}
         */
        public Builder scheduler(Scheduler newScheduler) {
            this.scheduler = Objects.requireNonNull(newScheduler, "scheduler");
            return this;
        }

        /**
         * Where the checkpoint meters go ({@code streamflow.checkpoints},
         * {@code streamflow.checkpoint.duration}, {@code .commit}, {@code .pause},
         * {@code .restore.fallbacks}). Default: a private {@code SimpleMeterRegistry}, so they are not
         * published unless a registry is given.
         *
         * @param newRegistry the registry
         * @return this builder
         * @throws NullPointerException if {@code newRegistry} is {@code null}
         */
        public Builder meterRegistry(MeterRegistry newRegistry) {
            this.registry = Objects.requireNonNull(newRegistry, "registry");
            return this;
        }

        /**
         * @param name the {@code pipeline} tag of the checkpoint meters (default {@code "default"})
         * @return this builder
         * @throws NullPointerException if {@code name} is {@code null}
         */
        public Builder pipeline(String name) {
            this.pipeline = Objects.requireNonNull(name, "pipeline");
            return this;
        }

        /**
         * Serialises state values of {@code type} (neither a record, an enum nor a built-in type) with
         * {@code codec}. A later call for the same type replaces the codec.
         *
         * @param <T>   the value class
         * @param type  the exact class of the values the codec stores
         * @param codec how values of {@code type} are written and read
         * @return this builder
         * @throws NullPointerException if {@code type} or {@code codec} is {@code null}
         */
        public <T> Builder codec(Class<T> type, StateCodec<T> codec) {
            codecs.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(codec, "codec"));
            return this;
        }

        /**
         * Lets a pipeline start after its store fell back to an older checkpoint (the latest ones
         * were damaged or lost) although a sink without delivery records
         * ({@link OutboxSink#deliveries()}) may already hold the output of the lost checkpoints,
         * which is then delivered again: at-least-once for that output. Without it such a pipeline
         * refuses to start. Sinks that keep delivery records stay exactly-once either way.
         *
         * @return this builder
         */
        public Builder acceptRedeliveryAfterFallback() {
            this.acceptRedelivery = true;
            return this;
        }

        /**
         * Opens the directory and restores its latest valid checkpoint. Blocking file I/O: call it
         * where blocking is allowed (a main thread, {@code Schedulers.boundedElastic()}).
         *
         * @return the open checkpointing of the directory; close it when the pipeline is done
         * @throws java.io.UncheckedIOException if the directory cannot be created
         * @throws IllegalStateException        if the state file cannot be created or opened, not even
         *                                      at an older checkpoint
         */
        public Checkpointing open() {
            return new Checkpointing(this);
        }
    }
}
