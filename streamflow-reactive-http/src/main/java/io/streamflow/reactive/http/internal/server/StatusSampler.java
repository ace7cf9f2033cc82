package io.streamflow.reactive.http.internal.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.StreamFlowMeters;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.Logger;
import reactor.util.Loggers;
import tools.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Computes the status of the registered pipelines from their meters: a {@link StatusSnapshot} once
 * per tick (one second by default, on the given scheduler, so virtual time drives it in tests) for
 * the status page, and the health answer on demand.
 * <p>
 * A pipeline is DOWN when any of these holds, else UP:
 * <ul>
 *   <li>its run, given to the server to track, has ended: completed, failed or cancelled;</li>
 *   <li>a maximum watermark lag is set and its watermark lag (the highest of its operators) exceeds it;</li>
 *   <li>it has a {@code Checkpointing} and the last checkpoint result the server saw is a failure;</li>
 *   <li>it has a {@code Checkpointing}, a maximum checkpoint age is set and no checkpoint completed
 *       within it (counted from the last completed checkpoint seen, or from the server's start).</li>
 * </ul>
 */
public final class StatusSampler implements AutoCloseable {

    private static final Logger LOG = Loggers.getLogger(StatusSampler.class);
    private static final String PIPELINE = "pipeline";
    private static final String OPERATOR = "operator";

    private final MeterRegistry registry;
    private final List<MonitoredPipeline> pipelines;
    private final Scheduler scheduler;
    private final Duration tick;
    private final Duration maxWatermarkLag;
    private final Duration maxCheckpointAge;
    private final Sinks.Many<StatusSnapshot> snapshots = Sinks.many().replay().latest();
    private Disposable ticker;

    /**
     * @param registry         where the pipelines' meters are
     * @param pipelines        the registered pipelines
     * @param scheduler        the clock and the timer of the ticks
     * @param tick             time between snapshots
     * @param maxWatermarkLag  a pipeline whose lag exceeds it is down, or {@code null} for no limit
     * @param maxCheckpointAge a checkpointed pipeline without a checkpoint for longer is down, or
     *                         {@code null} for no limit
     */
    public StatusSampler(MeterRegistry registry, List<MonitoredPipeline> pipelines, Scheduler scheduler,
                         Duration tick, Duration maxWatermarkLag, Duration maxCheckpointAge) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.pipelines = List.copyOf(pipelines);
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.tick = Objects.requireNonNull(tick, "tick");
        this.maxWatermarkLag = maxWatermarkLag;
        this.maxCheckpointAge = maxCheckpointAge;
    }

    /** Takes a first snapshot now, then one per tick until {@link #close()}. */
    public synchronized void start() {
        if (ticker != null) {
            return;
        }
        publish();
        ticker = Flux.interval(tick, tick, scheduler).subscribe(i -> publish(),
                e -> LOG.error("the status ticker stopped: the status page shows no new figures", e));
    }

    private void publish() {
        StatusSnapshot s;
        try {
            s = sample();
        } catch (RuntimeException e) {
            // a meter that throws must not stop the page: log it and skip this sample
            LOG.warn("status sample failed, skipped: {}", e.toString());
            return;
        }
        snapshots.emitNext(s, Sinks.EmitFailureHandler.busyLooping(Duration.ofMillis(100)));
    }

    /**
     * @return the latest snapshot, then each new one; completes when the sampler closes. Each
     * subscriber that falls behind skips to the latest snapshot (snapshots supersede each other).
     */
    public Flux<StatusSnapshot> snapshots() {
        return snapshots.asFlux().onBackpressureLatest();
    }

    /** Stops the ticks and completes every {@link #snapshots()} subscriber. */
    @Override
    public synchronized void close() {
        if (ticker != null) {
            ticker.dispose();
        }
        snapshots.tryEmitComplete();
    }

    /**
     * Samples every pipeline now; rates are measured since the previous call.
     *
     * @return the snapshot
     */
    public StatusSnapshot sample() {
        long now = scheduler.now(TimeUnit.MILLISECONDS);
        List<StatusSnapshot.Pipeline> out = new ArrayList<>(pipelines.size());
        boolean up = true;
        for (MonitoredPipeline p : pipelines) {
            StatusSnapshot.Pipeline s = samplePipeline(p, now);
            up &= "UP".equals(s.status());
            out.add(s);
        }
        return new StatusSnapshot(now, up ? "UP" : "DOWN", out);
    }

    private StatusSnapshot.Pipeline samplePipeline(MonitoredPipeline p, long now) {
        Map<String, StatusSnapshot.Operator> operators = new TreeMap<>();
        for (String op : operatorNames(p.name())) {
            long in = count(StreamFlowMeters.RECORDS_IN, p.name(), op);
            long outCount = count(StreamFlowMeters.RECORDS_OUT, p.name(), op);
            Double[] rates = p.rates(op, in, outCount, now);
            operators.put(op, new StatusSnapshot.Operator(op, in, rates[0], outCount, rates[1],
                    count(StreamFlowMeters.RECORDS_LATE, p.name(), op),
                    count(StreamFlowMeters.RECORDS_DEAD_LETTER, p.name(), op),
                    gauge(StreamFlowMeters.WATERMARK, p.name(), op),
                    gauge(StreamFlowMeters.WATERMARK_LAG, p.name(), op)));
        }
        p.sampled(now);
        List<StatusSnapshot.Partition> partitions = partitions(p.name());
        List<String> entries = new ArrayList<>();
        partitions.forEach(part -> {
            if (!entries.contains(part.operator()) && operators.containsKey(part.operator())) {
                entries.add(part.operator());
            }
        });
        if (entries.isEmpty()) {
            operators.values().stream().max((a, b) -> Long.compare(a.recordsIn(), b.recordsIn()))
                    .ifPresent(o -> entries.add(o.name()));
        }
        long recordsIn = 0;
        Double inRate = null;
        for (String e : entries) {
            StatusSnapshot.Operator o = operators.get(e);
            recordsIn += o.recordsIn();
            if (o.inPerSecond() != null) {
                inRate = (inRate == null ? 0 : inRate) + o.inPerSecond();
            }
        }
        Long watermark = null;
        Long lag = null;
        long late = 0;
        long dead = 0;
        for (StatusSnapshot.Operator o : operators.values()) {
            if (o.watermark() != null) {
                watermark = watermark == null ? o.watermark() : Math.min(watermark, o.watermark());
            }
            if (o.watermarkLagMs() != null) {
                lag = lag == null ? o.watermarkLagMs() : Math.max(lag, o.watermarkLagMs());
            }
            late += o.late();
            dead += o.deadLetters();
        }
        StatusSnapshot.Checkpoints checkpoints = checkpoints(p, now);
        List<String> problems = problems(p, lag, now);
        return new StatusSnapshot.Pipeline(p.name(), problems.isEmpty() ? "UP" : "DOWN", problems, p.state(),
                p.error(), recordsIn, inRate, watermark, lag, late, dead, List.copyOf(operators.values()),
                partitions, checkpoints);
    }

    /**
     * The health answer: {@code {"status":"UP"|"DOWN","pipelines":{name:{...}}}}, the details only
     * when {@code details} is set.
     *
     * @param details whether to include per-pipeline details
     * @return the answer's body
     */
    public ObjectNode health(boolean details) {
        long now = scheduler.now(TimeUnit.MILLISECONDS);
        ObjectNode root = JsonErrors.JSON.createObjectNode();
        ObjectNode all = JsonErrors.JSON.createObjectNode();
        boolean up = true;
        for (MonitoredPipeline p : pipelines) {
            Long lag = null;
            for (String op : operatorNames(p.name())) {
                Long l = gauge(StreamFlowMeters.WATERMARK_LAG, p.name(), op);
                if (l != null) {
                    lag = lag == null ? l : Math.max(lag, l);
                }
            }
            StatusSnapshot.Checkpoints cps = checkpoints(p, now);
            List<String> problems = problems(p, lag, now);
            up &= problems.isEmpty();
            ObjectNode n = all.putObject(p.name());
            n.put("status", problems.isEmpty() ? "UP" : "DOWN");
            String state = p.state();
            n.put("state", state);
            if ("UNTRACKED".equals(state)) {
                n.putNull("running");
            } else {
                n.put("running", "RUNNING".equals(state));
            }
            if (p.error() != null) {
                n.put("error", p.error());
            }
            if (lag == null) {
                n.putNull("watermarkLagMs");
            } else {
                n.put("watermarkLagMs", lag);
            }
            if (cps != null) {
                if (cps.lastAgeMs() == null) {
                    n.putNull("lastCheckpointAgeMs");
                } else {
                    n.put("lastCheckpointAgeMs", cps.lastAgeMs());
                }
                n.put("checkpointsCompleted", cps.completed());
                n.put("checkpointsFailed", cps.failed());
            }
            n.putArray("problems").addAll(problems.stream().map(JsonErrors.JSON.getNodeFactory()::textNode).toList());
        }
        root.put("status", up ? "UP" : "DOWN");
        if (details) {
            root.set("pipelines", all);
        } else {
            root.put("details", "withheld: /health is open to unauthenticated probes and shows only the overall "
                    + "status; send the server's credentials for per-pipeline details");
        }
        return root;
    }

    private List<String> problems(MonitoredPipeline p, Long lag, long now) {
        List<String> problems = new ArrayList<>();
        String state = p.state();
        if (!"UNTRACKED".equals(state) && !"RUNNING".equals(state)) {
            problems.add("the pipeline is not running: " + state.toLowerCase(java.util.Locale.ROOT)
                    + (p.error() == null ? "" : " with " + p.error()));
        }
        if (maxWatermarkLag != null && lag != null && lag > maxWatermarkLag.toMillis()) {
            problems.add("watermark lag " + lag + " ms exceeds the maximum of " + maxWatermarkLag.toMillis() + " ms");
        }
        if (p.checkpointed()) {
            if (p.lastCheckpointFailed()) {
                problems.add("the last checkpoint failed");
            }
            if (maxCheckpointAge != null) {
                long last = p.lastCheckpointSeenAt();
                long since = last == Long.MIN_VALUE ? p.trackingSince() : last;
                if (since != Long.MIN_VALUE && now - since > maxCheckpointAge.toMillis()) {
                    problems.add((last == Long.MIN_VALUE ? "no checkpoint completed in the "
                            : "the last checkpoint completed ") + (now - since) + " ms"
                            + (last == Long.MIN_VALUE ? " since the server started" : " ago")
                            + ", more than the maximum age of " + maxCheckpointAge.toMillis() + " ms");
                }
            }
        }
        return problems;
    }

    private StatusSnapshot.Checkpoints checkpoints(MonitoredPipeline p, long now) {
        if (!p.checkpointed()) {
            return null;
        }
        long completed = 0;
        long failed = 0;
        for (Counter c : registry.find("streamflow.checkpoints").tag(PIPELINE, p.name()).counters()) {
            String result = c.getId().getTag("result");
            if ("completed".equals(result)) {
                completed += (long) c.count();
            } else if ("failed".equals(result)) {
                failed += (long) c.count();
            }
        }
        Timer duration = registry.find("streamflow.checkpoint.duration").tag(PIPELINE, p.name()).timer();
        double totalMs = duration == null ? 0 : duration.totalTime(TimeUnit.MILLISECONDS);
        p.observeCheckpoints(completed, failed, totalMs, now);
        long last = p.lastCheckpointSeenAt();
        Double mean = duration == null || duration.count() == 0 ? null : duration.mean(TimeUnit.MILLISECONDS);
        Double max = duration == null || duration.count() == 0 ? null : duration.max(TimeUnit.MILLISECONDS);
        Optional<CheckpointInfo> restored = p.restored();
        return new StatusSnapshot.Checkpoints(completed, failed, last == Long.MIN_VALUE ? null : now - last,
                mean, max, restored.map(CheckpointInfo::id).orElse(null),
                restored.map(r -> r.time().toEpochMilli()).orElse(null), p.history());
    }

    private Collection<String> operatorNames(String pipeline) {
        TreeMap<String, Boolean> names = new TreeMap<>();
        for (Counter c : registry.find(StreamFlowMeters.RECORDS_IN.meterName()).tag(PIPELINE, pipeline).counters()) {
            String op = c.getId().getTag(OPERATOR);
            if (op != null) {
                names.put(op, Boolean.TRUE);
            }
        }
        return names.keySet();
    }

    private List<StatusSnapshot.Partition> partitions(String pipeline) {
        Map<String, StatusSnapshot.Partition> out = new TreeMap<>();
        for (Gauge g : registry.find(StreamFlowMeters.PARTITION_WATERMARK.meterName()).tag(PIPELINE, pipeline)
                .gauges()) {
            String op = g.getId().getTag(OPERATOR);
            String part = g.getId().getTag("partition");
            Gauge lag = registry.find(StreamFlowMeters.PARTITION_WATERMARK_LAG.meterName()).tag(PIPELINE, pipeline)
                    .tag(OPERATOR, op).tag("partition", part).gauge();
            out.put(op + '\u0000' + String.format("%12s", part), new StatusSnapshot.Partition(op, part,
                    finite(g.value()), lag == null ? null : finite(lag.value())));
        }
        return List.copyOf(out.values());
    }

    private long count(StreamFlowMeters meter, String pipeline, String operator) {
        Counter c = registry.find(meter.meterName()).tag(PIPELINE, pipeline).tag(OPERATOR, operator).counter();
        return c == null ? 0 : (long) c.count();
    }

    private Long gauge(StreamFlowMeters meter, String pipeline, String operator) {
        Gauge g = registry.find(meter.meterName()).tag(PIPELINE, pipeline).tag(OPERATOR, operator).gauge();
        return g == null ? null : finite(g.value());
    }

    /** Watermark gauges are NaN (lag) or ±Long.MAX (watermark) before the first watermark and after the end. */
    private static Long finite(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v) || v <= Long.MIN_VALUE || v >= Long.MAX_VALUE) {
            return null;
        }
        return (long) v;
    }
}
