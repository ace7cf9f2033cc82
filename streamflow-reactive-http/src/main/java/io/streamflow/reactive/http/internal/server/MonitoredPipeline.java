package io.streamflow.reactive.http.internal.server;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import reactor.core.publisher.Mono;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A pipeline registered with the server: its name (the {@code pipeline} tag of its meters), its
 * {@link Checkpointing} if any, what the server knows of its lifecycle, and what the sampler
 * remembers between samples (counts for rates, checkpoints seen). Guarded by its own monitor:
 * the sampler's ticks and health requests touch it from different threads, briefly.
 */
public final class MonitoredPipeline {

    /** Checkpoints kept in the history shown by the status page. */
    static final int HISTORY = 30;

    private final String name;
    private final boolean checkpointed;
    private final Supplier<Optional<CheckpointInfo>> restored;

    private String state = "UNTRACKED";
    private String error;

    // sampler memory (guarded by this)
    private final Map<String, long[]> previousCounts = new HashMap<>();
    private long previousSampleTime = Long.MIN_VALUE;
    private long seenCompleted = -1;
    private long seenFailed = -1;
    private double seenDurationTotalMs;
    private long lastCheckpointSeenAt = Long.MIN_VALUE;
    private boolean lastCheckpointFailed;
    private long trackingSince = Long.MIN_VALUE;
    private final ArrayDeque<StatusSnapshot.CheckpointEvent> history = new ArrayDeque<>();

    /**
     * @param name          the pipeline's name
     * @param checkpointing its checkpointing, or {@code null}
     */
    public MonitoredPipeline(String name, Checkpointing checkpointing) {
        this(name, checkpointing != null, checkpointing == null ? Optional::empty : checkpointing::restored);
    }

    /**
     * @param name         the pipeline's name
     * @param checkpointed whether it has checkpoints (their meters are in the registry)
     * @param restored     the checkpoint restored when its checkpointing opened
     */
    MonitoredPipeline(String name, boolean checkpointed, Supplier<Optional<CheckpointInfo>> restored) {
        this.name = Objects.requireNonNull(name, "name");
        this.checkpointed = checkpointed;
        this.restored = Objects.requireNonNull(restored, "restored");
    }

    /** @return the pipeline's name */
    public String name() {
        return name;
    }

    /** @return whether it has checkpoints */
    boolean checkpointed() {
        return checkpointed;
    }

    /** @return the checkpoint restored when its checkpointing opened, if any */
    Optional<CheckpointInfo> restored() {
        return restored.get();
    }

    /**
     * Tracks a run of the pipeline: {@code RUNNING} from subscription, then {@code COMPLETED},
     * {@code FAILED} (with the error) or {@code CANCELLED}.
     *
     * @param <T> what the run emits
     * @param run the pipeline's run
     * @return {@code run}, tracked
     */
    public <T> Mono<T> track(Mono<T> run) {
        Objects.requireNonNull(run, "run");
        return run.doOnSubscribe(s -> state("RUNNING", null))
                .doOnSuccess(v -> state("COMPLETED", null))
                .doOnError(e -> state("FAILED", String.valueOf(e)))
                .doOnCancel(() -> state("CANCELLED", null));
    }

    private synchronized void state(String newState, String newError) {
        state = newState;
        error = newError;
    }

    /** @return its lifecycle state */
    synchronized String state() {
        return state;
    }

    /** @return the error it failed with, or {@code null} */
    synchronized String error() {
        return error;
    }

    /**
     * @param operator an operator
     * @param in       its records-in count now
     * @param out      its records-out count now
     * @param now      sample time in ms
     * @return rates {in, out} per second since the previous sample ({@code null}s on the first)
     */
    synchronized Double[] rates(String operator, long in, long out, long now) {
        long[] prev = previousCounts.put(operator, new long[]{in, out});
        if (prev == null || previousSampleTime == Long.MIN_VALUE || now <= previousSampleTime) {
            return new Double[]{null, null};
        }
        double seconds = (now - previousSampleTime) / 1000.0;
        return new Double[]{Math.max(0, in - prev[0]) / seconds, Math.max(0, out - prev[1]) / seconds};
    }

    /** @param now the time of the sample whose rates were just taken */
    synchronized void sampled(long now) {
        previousSampleTime = now;
    }

    /**
     * Notes the checkpoint counts seen now.
     *
     * @param completed       completed checkpoints
     * @param failed          failed checkpoints
     * @param durationTotalMs total duration of all completed checkpoints
     * @param now             time in ms
     */
    synchronized void observeCheckpoints(long completed, long failed, double durationTotalMs, long now) {
        if (trackingSince == Long.MIN_VALUE) {
            trackingSince = now;
        }
        if (seenCompleted >= 0 && completed > seenCompleted) {
            double mean = (durationTotalMs - seenDurationTotalMs) / (completed - seenCompleted);
            history.addLast(new StatusSnapshot.CheckpointEvent(completed, now, mean));
            while (history.size() > HISTORY) {
                history.removeFirst();
            }
            lastCheckpointSeenAt = now;
            lastCheckpointFailed = false;
        } else if (seenCompleted < 0 && completed > 0) {
            // completed before the server first looked: the count is known, not its time
            lastCheckpointSeenAt = now;
        }
        if ((seenFailed >= 0 && failed > seenFailed) || (seenFailed < 0 && failed > 0 && completed == 0)) {
            lastCheckpointFailed = true;
        }
        seenCompleted = completed;
        seenFailed = failed;
        seenDurationTotalMs = durationTotalMs;
    }

    /** @return time of the last completed checkpoint seen, or {@code Long.MIN_VALUE} */
    synchronized long lastCheckpointSeenAt() {
        return lastCheckpointSeenAt;
    }

    /** @return when the server began to watch the checkpoints, or {@code Long.MIN_VALUE} */
    synchronized long trackingSince() {
        return trackingSince;
    }

    /** @return whether a checkpoint failed after the last completed one */
    synchronized boolean lastCheckpointFailed() {
        return lastCheckpointFailed;
    }

    /** @return the checkpoints seen, oldest first */
    synchronized List<StatusSnapshot.CheckpointEvent> history() {
        return List.copyOf(history);
    }
}
