package io.streamflow.reactive.http.internal.server;

import java.util.List;

/**
 * What the status page shows, sent once a second on {@code /status/events}. Times are epoch
 * milliseconds of the server's scheduler; {@code null} stands for "not known yet" (no watermark
 * before the first one, no rate before the second sample).
 *
 * @param time      when it was sampled
 * @param status    {@code UP} when every pipeline is up, else {@code DOWN}
 * @param pipelines every registered pipeline, in registration order
 */
public record StatusSnapshot(long time, String status, List<Pipeline> pipelines) {

    /**
     * One pipeline's figures.
     *
     * @param name               its name (the {@code pipeline} tag of its meters)
     * @param status             {@code UP} or {@code DOWN}
     * @param problems           why it is down (empty when up)
     * @param state              {@code RUNNING}, {@code COMPLETED}, {@code FAILED}, {@code CANCELLED}, or
     *                           {@code UNTRACKED} when the server was not told its lifecycle
     * @param error              the error it failed with, or {@code null}
     * @param recordsIn          records taken in by its entry operators (those with per-partition
     *                           watermarks; without any, its busiest operator)
     * @param recordsInPerSecond their rate over the last sample interval
     * @param watermark          the lowest watermark of its operators
     * @param watermarkLagMs     the highest watermark lag of its operators
     * @param late               late records of all its operators
     * @param deadLetters        dead letters of all its operators
     * @param operators          per operator, by name
     * @param partitions         per source partition of its watermark operators
     * @param checkpoints        its checkpoints, or {@code null} when no {@code Checkpointing} is registered
     */
    public record Pipeline(String name, String status, List<String> problems, String state, String error,
                           long recordsIn, Double recordsInPerSecond, Long watermark, Long watermarkLagMs,
                           long late, long deadLetters, List<Operator> operators, List<Partition> partitions,
                           Checkpoints checkpoints) {
    }

    /**
     * One operator's figures.
     *
     * @param name           the {@code operator} tag
     * @param recordsIn      records received
     * @param inPerSecond    their rate over the last sample interval
     * @param recordsOut     records or results emitted
     * @param outPerSecond   their rate over the last sample interval
     * @param late           late records
     * @param deadLetters    dead letters
     * @param watermark      its watermark
     * @param watermarkLagMs processing time minus its watermark
     */
    public record Operator(String name, long recordsIn, Double inPerSecond, long recordsOut, Double outPerSecond,
                           long late, long deadLetters, Long watermark, Long watermarkLagMs) {
    }

    /**
     * The watermark of one source partition.
     *
     * @param operator  the watermark operator
     * @param partition the partition id
     * @param watermark its watermark
     * @param lagMs     processing time minus it
     */
    public record Partition(String operator, String partition, Long watermark, Long lagMs) {
    }

    /**
     * A pipeline's checkpoints, from its {@code streamflow.checkpoint*} meters.
     *
     * @param completed      checkpoints completed since the pipeline's {@code Checkpointing} opened
     * @param failed         checkpoints failed
     * @param lastAgeMs      time since the server saw the last completed checkpoint (to one sample
     *                       interval), or {@code null} before the first one
     * @param meanDurationMs mean duration of all its checkpoints
     * @param maxDurationMs  the longest recent duration (Micrometer's decaying maximum)
     * @param restoredId     the checkpoint restored when it opened, or {@code null}
     * @param restoredTime   when that checkpoint was taken (wall clock), or {@code null}
     * @param history        the latest checkpoints seen, oldest first
     */
    public record Checkpoints(long completed, long failed, Long lastAgeMs, Double meanDurationMs,
                              Double maxDurationMs, Long restoredId, Long restoredTime, List<CheckpointEvent> history) {
    }

    /**
     * Checkpoints completed during one sample interval.
     *
     * @param completed  the completed count after them
     * @param at         when the server saw them
     * @param durationMs their mean duration
     */
    public record CheckpointEvent(long completed, long at, Double durationMs) {
    }
}
