package io.streamflow.reactive;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.internal.Barriers;
import io.streamflow.reactive.internal.CheckpointSignal;
import io.streamflow.reactive.internal.SourceCheckpointing;
import io.streamflow.reactive.internal.store.CheckpointRecord;
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
 * the barrier and takes no more input until the checkpoint is committed. When the barrier
 * reaches the sink, the checkpoint is one store commit holding the state changes, the source
 * positions, the sink output since the previous barrier (the outbox), the checkpoint id and a
 * CRC; the store's pages carry CRCs of their contents too. Then the file is synced, and only then
 * is the outbox delivered to the {@link OutboxSink}. One checkpoint is in flight at a time.
 * <p>
 * State changes stay on the heap until a checkpoint writes them, so a checkpoint is also taken
 * early once they hold {@link Builder#maxUncommittedBytes} (a sixteenth of the heap by default):
 * state may be many times larger than the heap. After each checkpoint, chunks of the state file
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
    private CheckpointBarrier<?, ?> dueBarrier;
    private Disposable ticker;
    private final List<Waiter> waiters = new ArrayList<>();
    private final Map<Long, Map<Integer, Long>> positionsById = new ConcurrentHashMap<>();
    private volatile Map<Integer, Long> finalPositions;
    private final AtomicBoolean closed = new AtomicBoolean();

    private record Waiter(long id, Sinks.One<Long> sink) {
    }

    private Checkpointing(Builder b) {
        this.directory = b.directory;
        this.interval = b.interval;
        this.scheduler = b.scheduler;
        MeterRegistry registry = b.registry;
        Counter fallbacks = Counter.builder("streamflow.checkpoint.restore.fallbacks")
                .description("latest checkpoints that failed verification, so the previous one was restored")
                .tag("pipeline", b.pipeline).register(registry);
        this.store = CheckpointStore.open(directory, b.codecs, b.interval.toMillis(), problem -> {
            LOG.warn("checkpoint directory {}: {}", directory, problem);
            fallbacks.increment();
        });
        this.backend = new ClaimingBackend(store.backend());
        // pages moved by compaction are written by the next commit: keep them to a part of its budget
        this.compactBytes = (int) Math.min(CheckpointStore.COMPACT_WRITE_BYTES,
                b.maxUncommittedBytes == 0 ? Long.MAX_VALUE : Math.max(256 << 10, b.maxUncommittedBytes / 4));
        store.backend().onUncommitted(b.maxUncommittedBytes, () -> {
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
                .description("from the barrier reaching the sink until the commit fixed its version: stateful "
                        + "operators take no input meanwhile")
                .tag("pipeline", b.pipeline).register(registry);
        this.completed = Counter.builder("streamflow.checkpoints").tag("result", "completed")
                .tag("pipeline", b.pipeline).register(registry);
        this.failed = Counter.builder("streamflow.checkpoints").tag("result", "failed")
                .tag("pipeline", b.pipeline).register(registry);
        if (restored != null) {
            LOG.info("restored checkpoint {} of {}: positions {}", restored.id(), directory, restored.positions());
        }
    }

    /** @return a builder for the checkpoint directory {@code directory} (created if absent) */
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
     */
    public static Function<Map<Integer, Long>, Flux<StreamElement<Void, String>>> resumeFileLines(Path file) {
        return resumeFileLines(file, FileLinesOptions.defaults());
    }

    /** As {@link #resumeFileLines(Path)}, reading with {@code options} (line limit, decoding). */
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
     * sequence number.
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
     * it with {@code elements().as(...)}. Late records and dead letters that reach it were not
     * routed ({@link EventStream#onLateData}, {@link EventStream#onDeadLetter}) and are logged.
     */
    public <K, V, T> Function<Flux<StreamElement<K, V>>, Mono<Void>> sink(
            OutboxSink<T> sink, Function<? super StreamRecord<K, V>, ? extends T> format) {
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(format, "format");
        return elements -> Mono.defer(() -> {
            SinkRun<K, V, T> run = new SinkRun<>(sink, format);
            return Mono.fromRunnable(run::deliverCommitted)
                    .subscribeOn(Schedulers.boundedElastic())
                    .thenMany(elements.publishOn(Schedulers.boundedElastic(), 256).doOnNext(run::accept))
                    .then(Mono.fromRunnable(run::finish).subscribeOn(Schedulers.boundedElastic()))
                    .doFinally(s -> stopTicker())
                    .then();
        });
    }

    /**
     * Asks for a checkpoint now (after the one in flight, if any).
     *
     * @return the id of the checkpoint, once it is durable
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

    /** Lists the checkpoints recorded in {@code directory}, oldest first, without changing it. */
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
            if (inFlight || source == null || source.wake == null || source.ended) {
                return;
            }
            if (!periodic && waiters.isEmpty() && !pressureDue) {
                return;
            }
            pressureDue = false;
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
    }

    /** One subscription of the sink: runs on a worker that may block, one element at a time. */
    private final class SinkRun<K, V, T> {
        private final OutboxSink<T> sink;
        private final Function<? super StreamRecord<K, V>, ? extends T> format;
        private final AtomicBoolean warned = new AtomicBoolean();
        /** Id of the checkpoint the next outbox record belongs to. */
        private long epoch;
        private boolean namesChecked;

        SinkRun(OutboxSink<T> sink, Function<? super StreamRecord<K, V>, ? extends T> format) {
            this.sink = sink;
            this.format = format;
            CheckpointRecord latest = store.latest();
            this.epoch = latest == null ? 1 : latest.id() + 1;
        }

        /** Delivers the outbox of committed checkpoints whose delivery may not have finished. */
        void deliverCommitted() {
            for (Map.Entry<Long, List<Object>> e : store.outbox().entrySet()) {
                deliver(e.getKey(), e.getValue());
            }
        }

        @SuppressWarnings("unchecked")
        private void deliver(long id, List<Object> records) {
            try {
                sink.deliver(id, (List<T>) records);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot deliver the output of checkpoint " + id + " (it stays in the "
                        + "outbox of " + directory + " and is delivered again after a restart)", e);
            }
            store.removeOutbox(id);
        }

        @SuppressWarnings("unchecked")
        void accept(StreamElement<K, V> e) {
            if (e instanceof StreamRecord<K, V> r) {
                T value = format.apply(r);
                if (value == null) {
                    throw new NullPointerException("sink format returned null for " + r);
                }
                store.appendOutbox(epoch, value);
            } else if (e instanceof CheckpointBarrier<K, V> b) {
                Map<Integer, Long> positions = positionsById.remove(b.id());
                if (positions == null) {
                    throw new IllegalStateException("barrier " + b.id() + " reached the sink but no checkpointed "
                            + "source injected it: use Checkpointing.source(...) as the pipeline's source");
                }
                checkpoint(b.id(), positions, Barriers.signal(b));
            } else if (e instanceof LateRecord<?, ?> || e instanceof DeadLetter<?, ?>) {
                if (warned.compareAndSet(false, true)) {
                    LOG.warn("{} reached the checkpointed sink with no handler (route side outputs with onLateData/"
                            + "onDeadLetter); further ones are logged at debug", e);
                } else if (LOG.isDebugEnabled()) {
                    LOG.debug("unrouted side output at the checkpointed sink: {}", e);
                }
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
            long id;
            synchronized (lock) {
                id = Math.max(epoch, nextBarrierId);
                nextBarrierId = id + 1;
                inFlight = true;
            }
            checkpoint(id, positions, null);
        }

        private void checkpoint(long id, Map<Integer, Long> positions, CheckpointSignal signal) {
            long t0 = System.nanoTime();
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
                    // stateful operators go on as soon as the commit has fixed its version: what they
                    // change after that belongs to the next checkpoint. They are woken on another
                    // thread, so that their work does not run inside the commit.
                    store.commit(id, System.currentTimeMillis(), byName, () -> {
                        pauseTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                        if (signal != null) {
                            Schedulers.boundedElastic().schedule(signal::done);
                        }
                    });
                } finally {
                    commitTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                    if (signal != null) {
                        signal.done();
                    }
                }
                store.sync();
            } catch (RuntimeException ex) {
                failed.increment();
                checkpointDone(id, false);
                throw new CheckpointException("checkpoint " + id + " could not be written to " + directory + ": "
                        + ex.getMessage() + ". Nothing of it was acknowledged or delivered; a restart resumes from "
                        + "the previous checkpoint", ex);
            }
            epoch = id + 1;
            duration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            completed.increment();
            store.compact(compactBytes); // while the operators go on; the next checkpoint writes what it moved
            for (Map.Entry<Long, List<Object>> e : store.outbox().entrySet()) {
                deliver(e.getKey(), e.getValue());
            }
            checkpointDone(id, true);
        }
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
        public CheckpointException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Options of a {@link Checkpointing}. */
    public static final class Builder {
        private final Path directory;
        private Duration interval = DEFAULT_INTERVAL;
        private long maxUncommittedBytes = Runtime.getRuntime().maxMemory() / 16;
        private Scheduler scheduler = Schedulers.parallel();
        private MeterRegistry registry = new SimpleMeterRegistry();
        private String pipeline = "default";
        private final Map<Class<?>, StateCodec<?>> codecs = new LinkedHashMap<>();

        private Builder(Path directory) {
            this.directory = Objects.requireNonNull(directory, "directory");
        }

        /** Time between checkpoints (default 10 s); {@link Duration#ZERO} takes them only on demand. */
        public Builder interval(Duration newInterval) {
            Objects.requireNonNull(newInterval, "interval");
            if (newInterval.isNegative()) {
                throw new IllegalArgumentException("checkpoint interval must be >= 0, was " + newInterval);
            }
            this.interval = newInterval;
            return this;
        }

        /**
         * Takes a checkpoint before its interval is up once the state changes not yet committed
         * hold about this much memory (default: a sixteenth of the maximum heap; 0: never). Changes
         * stay on the heap until their checkpoint writes them, so this bounds the heap that state
         * needs however large the state is.
         */
        public Builder maxUncommittedBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxUncommittedBytes must be >= 0, was " + bytes);
            }
            this.maxUncommittedBytes = bytes;
            return this;
        }

        /** Scheduler of the interval timer (virtual time in tests). */
        public Builder scheduler(Scheduler newScheduler) {
            this.scheduler = Objects.requireNonNull(newScheduler, "scheduler");
            return this;
        }

        public Builder meterRegistry(MeterRegistry newRegistry) {
            this.registry = Objects.requireNonNull(newRegistry, "registry");
            return this;
        }

        public Builder pipeline(String name) {
            this.pipeline = Objects.requireNonNull(name, "pipeline");
            return this;
        }

        /** Serialises state values of {@code type} (neither a record, an enum nor a built-in type) with {@code codec}. */
        public <T> Builder codec(Class<T> type, StateCodec<T> codec) {
            codecs.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(codec, "codec"));
            return this;
        }

        /**
         * Opens the directory and restores its latest valid checkpoint. Blocking file I/O: call it
         * where blocking is allowed (a main thread, {@code Schedulers.boundedElastic()}).
         */
        public Checkpointing open() {
            return new Checkpointing(this);
        }
    }
}
