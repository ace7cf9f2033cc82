package io.streamflow.reactive.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.OutboxSink;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamFlowMeters;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.internal.results.DurableResults;
import io.streamflow.reactive.http.internal.results.RetainedLog;
import io.streamflow.reactive.http.internal.results.RetainedLog.Item;
import io.streamflow.reactive.window.PaneInfo;
import io.streamflow.reactive.window.WindowResult;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.Logger;
import reactor.util.Loggers;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The results of a pipeline as a retained, numbered log, served to many clients (over
 * server-sent events, or any {@code Flux} consumer) with exact resume.
 * <p>
 * <b>The log.</b> Every appended window result becomes a {@link ResultEvent.Type#RESULT} event with
 * the next id (1, 2, 3, ...; ids are monotonic, never timestamps). A result supersedes earlier live
 * results, which are first retracted by {@link ResultEvent.Type#RETRACT} events with ids of their
 * own: by default the live result of the same key and the same window {@code [start, end)} (a later
 * pane); with {@link Builder#sessionWindows()} every live result of the same key whose window
 * overlaps the new one (merged sessions). Sliding windows of one key overlap but are different
 * windows: by default they never retract each other. Keys are identified by
 * {@code String.valueOf(key)}. Window-less results ({@link #appendValue}, e.g. of a running
 * aggregate) are the current value of a key: each supersedes the key's previous value.
 * <p>
 * <b>Retention and the live view.</b> The log keeps the newest {@link Builder#retainCount(int)}
 * events, and none older than {@link Builder#retainAge(Duration)}: a client can resume from any
 * retained id. The <em>live view</em> is the latest non-retracted result of each (key, window),
 * final or not; it is what a snapshot and {@link #current(String)} show, and it outlives the events
 * (a window whose result event left the log stays live). It is bounded explicitly: a live result
 * older than the retention age, or the oldest one when there are more live windows than the retain
 * count, is retracted by a {@code retract} event with reason {@code expired}. So every client that
 * applies the events holds exactly the live view, and memory is bounded by the retain count, whatever
 * the number of keys and windows. Age is applied when a result is appended and when a client
 * connects ({@link #current(String)} leaves out expired results at once).
 * <p>
 * <b>Reading.</b> {@link #events(Long, boolean)} gives a client the events after the id it last
 * saw, exactly (none twice, none missing, no gap or overlap between replay and live events), then
 * live events. When that id is no longer retained or unknown to this log, the client gets a
 * {@link ResultEvent.Type#RESET}, the live view as {@link ResultEvent.Type#SNAPSHOT} events and a
 * {@link ResultEvent.Type#SNAPSHOT_END} carrying the head id, then live events. Heartbeats come
 * every {@link Builder#heartbeat(Duration)} when the client has demand left.
 * <p>
 * <b>Slow clients.</b> Each client reads the log from its own cursor on its own drain; the appender
 * never waits for a client. A client that has used up its demand while more than
 * {@link Builder#clientBuffer(int)} events behind the newest (or whose next event left retention)
 * is ended with a {@link SlowClientException}; the others go on.
 * <p>
 * <b>Bad input.</b> A result that cannot be written as JSON (the value writer or Jackson fails, or
 * it has no pane) is not logged: from {@link #append(Publisher)} it becomes a {@link DeadLetter}
 * with the record's origin, counted in {@code streamflow.records.dead.letter} (tags
 * {@code pipeline} and {@code operator} = the log's name, like every dead letter of a pipeline) and given to {@link Builder#deadLetters(Consumer)} (logged by
 * default); {@link #append(WindowResult)} throws instead.
 * <p>
 * <b>Durable retention.</b> With {@link Builder#durable(Path)} the log keeps its retained events, its
 * live view, its next id and the records of the checkpoints it was given in a file of its own
 * ({@code results-<name>.mv}, an MVStore) and restores them when it is built again on the same
 * directory: ids go on where they were, so a client that reconnects after a restart with its
 * {@code Last-Event-ID} gets exactly what it missed. Such a log is fed only by a checkpointed pipeline,
 * through {@link #outboxSink()}:
 * <pre>{@code
 * ResultLog<String, Long> log = ResultLog.<String, Long>builder("counts").durable(dir.resolve("results")).build();
 * ...aggregate(...).elements().as(cp.sink(log.outboxSink(), log.outboxFormat()))
 * }</pre>
 * Each committed checkpoint's results, with the retractions they cause and the checkpoint's delivery
 * record, are one commit of the file, synced, before any of them reaches a client: a crash never takes
 * back an event a client saw, and a checkpoint delivered again after a crash is skipped
 * (exactly-once into the log, also after the pipeline's store fell back, see
 * {@link OutboxSink#deliveries()}). In a durable log, age retention is applied when a checkpoint is
 * delivered (and {@link #current(String)} leaves out expired results at once); {@link #close()} closes
 * the file.
 *
 * @param <K> key type of the results
 * @param <R> value type of the results
 */
public final class ResultLog<K, R> implements AutoCloseable {

    private static final Logger LOG = Loggers.getLogger(ResultLog.class);

    private final RetainedLog log;
    private final Function<? super R, ?> valueWriter;
    private final JsonMapper json;
    private final Counter deadLetterCounter;
    private final Consumer<? super DeadLetter<K, WindowResult<K, R>>> deadLetters;
    /** the log's store when it is durable, else {@code null} */
    private final DurableResults store;

    private ResultLog(Builder<K, R> b) {
        this.log = new RetainedLog(b.name, b.retainCount, b.retainAge.toMillis(), b.clientBuffer,
                b.heartbeat.toMillis(), b.sessions, b.scheduler, Schedulers.parallel(), 1);
        if (b.directory != null) {
            try {
                this.store = DurableResults.open(b.directory, log);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            this.store = null;
        }
        this.valueWriter = b.valueWriter;
        this.json = JsonMapper.builder().build();
        this.deadLetterCounter = Counter.builder(StreamFlowMeters.RECORDS_DEAD_LETTER.meterName())
                .baseUnit(StreamFlowMeters.RECORDS_DEAD_LETTER.baseUnit())
                .description(StreamFlowMeters.RECORDS_DEAD_LETTER.description())
                .tag("pipeline", b.pipeline)
                .tag("operator", b.name)
                .register(b.registry);
        this.deadLetters = b.deadLetters;
    }

    /**
     * Starts the configuration of a log.
     *
     * @param <K>  key type of the results
     * @param <R>  value type of the results
     * @param name name of the log, used in messages and as the {@code operator} tag of its meters
     * @return a builder with the defaults: 10,000 events for 10 minutes, client buffer 1,000,
     * heartbeat 15 s, same-window retraction, values written as they are, the parallel scheduler's clock
     * @throws IllegalArgumentException if {@code name} is {@code null} or blank
     */
    public static <K, R> Builder<K, R> builder(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a result log needs a name (used in messages and meter tags), was "
                    + (name == null ? "null" : "blank"));
        }
        return new Builder<>(name);
    }

    /** @return the log's name */
    public String name() {
        return log.name();
    }

    /** @return the id of the newest event, {@code 0} before the first append */
    public long lastEventId() {
        return log.head();
    }

    /** @return the id of the oldest retained event; {@code lastEventId() + 1} when none is retained */
    public long oldestEventId() {
        return log.first();
    }

    /**
     * Appends one result: retractions of the live results it supersedes, then the result itself.
     * Works in memory only; it never blocks and never waits for a client.
     *
     * @param result the result
     * @return the id of its {@link ResultEvent.Type#RESULT} event
     * @throws NullPointerException     if {@code result} is {@code null}
     * @throws IllegalArgumentException if it has no pane, or its key or value cannot be written as
     *                                  JSON (the message says which and why)
     * @throws IllegalStateException    if the log is {@link Builder#durable(Path) durable}
     */
    public long append(WindowResult<K, R> result) {
        Objects.requireNonNull(result, "result");
        requireInMemory("append");
        Item item = item(result);
        return log.append(item.keyText(), item.keyJson(), item.start(), item.end(), item.bodyJson());
    }

    /**
     * Appends a window-less result: the current value of a key, e.g. of a
     * {@code runningAggregate}. It supersedes the key's previous window-less value, which is
     * retracted first (a {@code retract} event without {@code window}); the key's window results,
     * if any, are not touched. Its event is {@code {"id":..,"key":..,"value":..}}, without window
     * or pane. Works in memory only, like {@link #append(WindowResult)}.
     *
     * @param key   the key
     * @param value its current value
     * @return the id of its {@link ResultEvent.Type#RESULT} event
     * @throws IllegalArgumentException if the key or value cannot be written as JSON
     * @throws IllegalStateException    if the log is {@link Builder#durable(Path) durable} (use
     *                                  {@link #outboxValueFormat()})
     */
    public long appendValue(K key, R value) {
        requireInMemory("appendValue");
        Item item = valueItem(key, value);
        return log.append(item.keyText(), item.keyJson(), item.start(), item.end(), item.bodyJson());
    }

    private Item valueItem(K key, R value) {
        try {
            return new Item(String.valueOf(key), json.writeValueAsString(key), RetainedLog.NO_WINDOW_START,
                    RetainedLog.NO_WINDOW_END, "\"value\":" + json.writeValueAsString(valueWriter.apply(value)));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("result log '" + name() + "' cannot write the key or value of "
                    + key + "=" + value + " as JSON (the value writer gives what Jackson writes): " + e.getMessage(), e);
        }
    }

    private void requireInMemory(String what) {
        if (store != null) {
            throw new IllegalStateException("result log '" + name() + "' is durable: it takes results only from a "
                    + "checkpointed pipeline, through cp.sink(log.outboxSink(), log.outboxFormat()), so that no client "
                    + "sees a result a crash could take back; " + what + " is for logs kept in memory");
        }
    }

    private Item item(WindowResult<K, R> result) {
        String keyJson;
        String body;
        try {
            if (result.pane() == null) {
                throw new IllegalArgumentException("a window result needs its pane info, was null: " + result);
            }
            keyJson = json.writeValueAsString(result.key());
            body = "\"window\":{\"start\":" + result.start() + ",\"end\":" + result.end() + "},\"value\":"
                    + json.writeValueAsString(valueWriter.apply(result.value())) + "," + paneJson(result.pane());
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("result log '" + name() + "' cannot write the key or value of " + result
                    + " as JSON (the value writer gives what Jackson writes): " + e.getMessage(), e);
        }
        return new Item(String.valueOf(result.key()), keyJson, result.start(), result.end(), body);
    }

    private static String paneJson(PaneInfo pane) {
        return "\"pane\":{\"timing\":\"" + pane.timing() + "\",\"index\":" + pane.index() + ",\"final\":"
                + pane.isFinal() + "}";
    }

    /**
     * Appends the results of a pipeline: each {@link StreamRecord} (its value is the result) is
     * appended as by {@link #append(WindowResult)}; watermarks, barriers, late records and dead
     * letters of the stream are ignored (upstream counted the side outputs). Requests in batches of
     * 256, never blocks; a result that cannot be written becomes a dead letter and the stream goes on.
     *
     * @param results the pipeline's output
     * @return completes when {@code results} completes, fails when it fails; each subscription appends
     * @throws IllegalStateException if the log is {@link Builder#durable(Path) durable}
     */
    public Mono<Void> append(Publisher<? extends StreamElement<K, WindowResult<K, R>>> results) {
        Objects.requireNonNull(results, "results");
        requireInMemory("append(Publisher)");
        return Flux.from(results).limitRate(256).doOnNext(e -> {
            if (e instanceof StreamRecord<K, WindowResult<K, R>> r) {
                appendRecord(r);
            }
        }).then();
    }

    private void appendRecord(StreamRecord<K, WindowResult<K, R>> r) {
        try {
            append(r.value());
        } catch (IllegalArgumentException | NullPointerException e) {
            deadLetterCounter.increment();
            DeadLetter<K, WindowResult<K, R>> dl = new DeadLetter<>(r, r.origin(), "result-log " + name(), e);
            deadLetters.accept(dl);
        }
    }

    /**
     * The events a client gets, with exact resume. Events have ids and are replayed from the log
     * when the client comes back with the last id it saw:
     * <ul>
     * <li>{@code lastEventId} retained (or equal to the newest id): exactly the events after it, then
     * live ones;</li>
     * <li>{@code lastEventId} older than the oldest retained event, or unknown (negative, or larger
     * than the newest id: another run): {@code reset}, {@code snapshot} events of the live view,
     * {@code snapshot-end} with the head id, then live events after it;</li>
     * <li>no {@code lastEventId}: with {@code snapshot} the same sequence as for an unknown id
     * (reset, snapshot, snapshot-end, live), without it live events from now on.</li>
     * </ul>
     * Heartbeats ({@link ResultEvent#HEARTBEAT}) come every heartbeat interval when the subscriber
     * has demand left after the events; they are not kept for a subscriber without demand.
     * <p>
     * The flux honours demand and never ends by itself. It ends with a {@link SlowClientException}
     * when the subscriber falls more than the client buffer behind (or the events it has not read
     * leave retention); nothing is buffered for the subscriber beyond the log itself, so a cancel
     * discards nothing. Events are emitted on a {@code parallel} scheduler thread.
     *
     * @param lastEventId the id of the last event the client saw, or {@code null} when it has none
     * @param snapshot    for a client without id: whether to start with a snapshot of the live view
     * @return the client's events
     */
    public Flux<ResultEvent> events(Long lastEventId, boolean snapshot) {
        return new Flux<>() {
            @Override
            public void subscribe(reactor.core.CoreSubscriber<? super ResultEvent> actual) {
                log.subscribe(actual, lastEventId, snapshot, null);
            }
        };
    }

    /**
     * The events of one key: its current results as {@code snapshot} events (no reset before them),
     * {@code snapshot-end} with the head id, then its live {@code result} and {@code retract} events,
     * and heartbeats. Demand, heartbeats and slow-client cut-off as in {@link #events(Long, boolean)}
     * (a watcher falls behind by the events of all keys it has not got through).
     *
     * @param key the key, as {@code String.valueOf(key)}
     * @return the key's events
     * @throws NullPointerException if {@code key} is {@code null}
     */
    public Flux<ResultEvent> watch(String key) {
        Objects.requireNonNull(key, "key");
        return new Flux<>() {
            @Override
            public void subscribe(reactor.core.CoreSubscriber<? super ResultEvent> actual) {
                log.subscribe(actual, null, true, RetainedLog.keyFilter(key));
            }
        };
    }

    /**
     * The current results of a key: its latest non-retracted result of each window still retained
     * ({@link ResultEvent.Type#RESULT} events with their ids), by window start. Reads without
     * blocking or locking out the appender; during an append it may or may not reflect it.
     *
     * @param key the key, as {@code String.valueOf(key)}
     * @return the key's current results, empty when it has none
     * @throws NullPointerException if {@code key} is {@code null}
     */
    public List<ResultEvent> current(String key) {
        return log.current(Objects.requireNonNull(key, "key"));
    }

    /**
     * The sink of a checkpointed pipeline into this durable log, to use with {@link #outboxFormat()}:
     * {@code cp.sink(log.outboxSink(), log.outboxFormat())}. It appends each committed checkpoint's
     * results (and the retractions they cause) and the checkpoint's delivery record in one commit of
     * the log's file, synced, then publishes the events to clients; a checkpoint it already holds is
     * skipped. It keeps the delivery records of the last 1,000 checkpoints
     * ({@link OutboxSink#deliveries()}), so a pipeline whose store fell back goes on exactly-once. A
     * delivery that cannot be written fails the pipeline with an {@link IOException} and publishes
     * nothing of it; when the failure was in the commit itself, the log takes no more results until it
     * is built again (which restores what was committed). It blocks on the file, on the pipeline's
     * sink thread ({@code Schedulers.boundedElastic()}).
     *
     * @return the sink
     * @throws IllegalStateException if the log is not {@link Builder#durable(Path) durable}
     */
    public OutboxSink<String> outboxSink() {
        if (store == null) {
            throw new IllegalStateException("result log '" + name() + "' is kept in memory: outboxSink() needs a "
                    + "durable log (ResultLog.Builder.durable(directory)) so that its events and delivery records "
                    + "survive a restart; feed an in-memory log with append(...)");
        }
        return store;
    }

    /**
     * What the outbox of a checkpoint keeps for each result, for {@link #outboxSink()}: the result's
     * key and its JSON form as text. A result that cannot be written (no pane, or a key or value that
     * Jackson cannot write) makes the function throw an {@link IllegalArgumentException}, which fails
     * the pipeline.
     *
     * @return the format, for {@code cp.sink(log.outboxSink(), log.outboxFormat())}
     */
    public Function<StreamRecord<K, WindowResult<K, R>>, String> outboxFormat() {
        return r -> {
            Item i = item(r.value());
            return DurableResults.EntryCodec.encodeItem(i.keyText(), i.keyJson(), i.start(), i.end(), i.bodyJson());
        };
    }

    /**
     * Like {@link #outboxFormat()}, for window-less results: a running aggregate's records (key and
     * current value) into a durable log, each superseding the key's previous value as with
     * {@link #appendValue}: {@code cp.sink(log.outboxSink(), log.outboxValueFormat())}.
     *
     * @return the format, for {@code cp.sink(log.outboxSink(), log.outboxValueFormat())}
     */
    public Function<StreamRecord<K, R>, String> outboxValueFormat() {
        return r -> {
            Item i = valueItem(r.key(), r.value());
            return DurableResults.EntryCodec.encodeItem(i.keyText(), i.keyJson(), i.start(), i.end(), i.bodyJson());
        };
    }

    /** @return whether the log keeps its events in a file ({@link Builder#durable(Path)}) */
    public boolean isDurable() {
        return store != null;
    }

    /**
     * Closes the log's file when it is durable (everything delivered is committed already); blocks
     * while it does. Clients already reading go on with what is in memory. Does nothing for a log in
     * memory.
     */
    @Override
    public void close() {
        if (store != null) {
            store.close();
        }
    }

    /** @return the number of clients ({@link #events} and {@link #watch} subscribers) reading the log now */
    public int clientCount() {
        return log.clientCount();
    }

    /**
     * @return the retention as text, for messages: {@code "10000 events, PT10M"}
     */
    public String retention() {
        return log.retention();
    }

    @Override
    public String toString() {
        return "ResultLog{" + name() + ", events " + oldestEventId() + ".." + lastEventId() + ", " + clientCount()
                + " clients}";
    }

    /**
     * Configuration of a {@link ResultLog}. Each setter validates its argument at once; {@link #build()}
     * checks the combination and reports every problem in one message.
     *
     * @param <K> key type of the results
     * @param <R> value type of the results
     */
    public static final class Builder<K, R> {

        private final String name;
        private int retainCount = 10_000;
        private Duration retainAge = Duration.ofMinutes(10);
        private int clientBuffer = 1_000;
        private String pipeline = "default";
        private Duration heartbeat = Duration.ofSeconds(15);
        private boolean sessions;
        private Function<? super R, ?> valueWriter = Function.identity();
        private Scheduler scheduler = Schedulers.parallel();
        private MeterRegistry registry = Metrics.globalRegistry;
        private Path directory;
        private Consumer<? super DeadLetter<K, WindowResult<K, R>>> deadLetters =
                dl -> LOG.warn("result log dropped a result it cannot write: {}", dl);

        private Builder(String name) {
            this.name = name;
        }

        /**
         * @param events how many events the log keeps at most (results and retractions); default 10,000
         * @return this builder
         * @throws IllegalArgumentException if {@code events < 1}
         */
        public Builder<K, R> retainCount(int events) {
            if (events < 1) {
                throw new IllegalArgumentException("retainCount must be >= 1 event, was " + events);
            }
            this.retainCount = events;
            return this;
        }

        /**
         * @param age how long the log keeps an event, measured on the scheduler's clock; default 10 minutes
         * @return this builder
         * @throws IllegalArgumentException if {@code age} is {@code null}, zero or negative
         */
        public Builder<K, R> retainAge(Duration age) {
            if (age == null || age.isZero() || age.isNegative()) {
                throw new IllegalArgumentException("retainAge must be a positive duration, was " + age);
            }
            this.retainAge = age;
            return this;
        }

        /**
         * @param events how many events a client without demand left may fall behind before it is
         *               cut off with a {@link SlowClientException}; default 1,000; at most the retain
         *               count
         * @return this builder
         * @throws IllegalArgumentException if {@code events < 1}
         */
        public Builder<K, R> clientBuffer(int events) {
            if (events < 1) {
                throw new IllegalArgumentException("clientBuffer must be >= 1 event, was " + events);
            }
            this.clientBuffer = events;
            return this;
        }

        /**
         * @param interval how often clients get a heartbeat; default 15 s; {@link Duration#ZERO} for none
         * @return this builder
         * @throws IllegalArgumentException if {@code interval} is {@code null} or negative
         */
        public Builder<K, R> heartbeat(Duration interval) {
            if (interval == null || interval.isNegative()) {
                throw new IllegalArgumentException("heartbeat must be zero (none) or a positive duration, was "
                        + interval);
            }
            this.heartbeat = interval;
            return this;
        }

        /**
         * Results are of session windows: a new result of a key retracts every live earlier result of
         * that key whose window overlaps the new one (the sessions it merged). Without it, a new result
         * retracts only the live result of the same key and the same window.
         *
         * @return this builder
         */
        public Builder<K, R> sessionWindows() {
            this.sessions = true;
            return this;
        }

        /**
         * @param writer maps a result value to what Jackson writes as its {@code value}; default identity
         * @return this builder
         * @throws NullPointerException if {@code writer} is {@code null}
         */
        public Builder<K, R> valueWriter(Function<? super R, ?> writer) {
            this.valueWriter = Objects.requireNonNull(writer, "valueWriter");
            return this;
        }

        /**
         * @param clock the scheduler whose clock measures event age and whose timers send heartbeats
         *              (a {@code VirtualTimeScheduler} in tests); default {@code Schedulers.parallel()}
         * @return this builder
         * @throws NullPointerException if {@code clock} is {@code null}
         */
        public Builder<K, R> scheduler(Scheduler clock) {
            this.scheduler = Objects.requireNonNull(clock, "scheduler");
            return this;
        }

        /**
         * Keeps the log in a file of its own in {@code dir} ({@code results-<name>.mv}), restored when a
         * log of the same name is built again on it: retained events, live view, next id and the
         * delivery records of the checkpoints it was given. A durable log is fed by a checkpointed
         * pipeline through {@link ResultLog#outboxSink()}; {@link ResultLog#append} refuses results.
         * {@link #build()} opens (or creates) the file, blocking.
         *
         * @param dir the directory, created if needed; one file per log name, one open log per file
         * @return this builder
         * @throws NullPointerException if {@code dir} is {@code null}
         */
        public Builder<K, R> durable(Path dir) {
            this.directory = Objects.requireNonNull(dir, "directory");
            return this;
        }

        /**
         * @param name the {@code pipeline} tag (default {@code "default"}) of the log's dead-letter
         *             count in {@code streamflow.records.dead.letter}, whose {@code operator} tag is
         *             the log's name
         * @return this builder
         * @throws NullPointerException if {@code name} is {@code null}
         */
        public Builder<K, R> pipeline(String name) {
            this.pipeline = Objects.requireNonNull(name, "pipeline");
            return this;
        }

        /**
         * @param newRegistry where the log counts dead letters; default {@code Metrics.globalRegistry}
         * @return this builder
         * @throws NullPointerException if {@code newRegistry} is {@code null}
         */
        public Builder<K, R> meterRegistry(MeterRegistry newRegistry) {
            this.registry = Objects.requireNonNull(newRegistry, "meterRegistry");
            return this;
        }

        /**
         * @param handler receives each result of {@link ResultLog#append(Publisher)} that cannot be
         *                written, after it is counted; default: logged as a warning
         * @return this builder
         * @throws NullPointerException if {@code handler} is {@code null}
         */
        public Builder<K, R> deadLetters(Consumer<? super DeadLetter<K, WindowResult<K, R>>> handler) {
            this.deadLetters = Objects.requireNonNull(handler, "deadLetters");
            return this;
        }

        /**
         * @return the log
         * @throws IllegalArgumentException when the options do not fit together (all problems in one
         *                                  message): the client buffer exceeds the retain count
         * @throws UncheckedIOException     when the log is durable and its file cannot be opened or read
         */
        public ResultLog<K, R> build() {
            List<String> problems = new ArrayList<>();
            if (clientBuffer > retainCount) {
                problems.add("clientBuffer (" + clientBuffer + ") must not exceed retainCount (" + retainCount
                        + "): a client can only fall behind by events the log still holds");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("result log '" + name + "': " + String.join("; ", problems));
            }
            return new ResultLog<>(this);
        }
    }

}
