package io.streamflow.reactive;

import io.streamflow.reactive.internal.EventTime;

/**
 * Generates watermarks for one input partition. Two methods, as in Flink: {@link #onEvent} sees
 * every record's timestamp, {@link #onPeriodicEmit} runs on the strategy's processing-time
 * interval. Either may call {@link WatermarkOutput#emitWatermark(long)}; a watermark lower than
 * one already emitted is ignored (watermarks never go backwards).
 * <p>
 * A generator holds the state of one partition: the strategy makes a new one for each partition it
 * sees. Calls to one generator are never concurrent; they run in the watermark assigner's drain
 * loop, so they must be quick and must not block.
 */
public interface WatermarkGenerator {

    /**
     * Called for every record of the partition, with its event timestamp. Records whose timestamp
     * is not an event time, or that the strategy's guard rejects, never reach the generator.
     *
     * @param timestamp the record's event time in epoch milliseconds
     * @param output    where to emit a watermark, if this record moves it
     */
    void onEvent(long timestamp, WatermarkOutput output);

    /**
     * Called on every periodic tick (only when the strategy has a periodic interval). Does nothing
     * by default.
     *
     * @param output where to emit a watermark
     */
    default void onPeriodicEmit(WatermarkOutput output) {
    }

    /** Where a generator emits its watermark. */
    @FunctionalInterface
    interface WatermarkOutput {
        /**
         * Raises the partition's watermark to {@code watermark}.
         *
         * @param watermark event time in epoch milliseconds; ignored unless it is above the
         *                  partition's current watermark
         */
        void emitWatermark(long watermark);
    }

    /**
     * Bounded out-of-orderness {@code B}: after seeing maximum timestamp {@code M}, the watermark
     * is {@code M - B - 1}; where that is below {@code Long.MIN_VALUE} (a timestamp within
     * {@code B + 1} ms of it) there is no watermark yet. The watermark is emitted on each new
     * maximum timestamp, and again on periodic ticks.
     *
     * @param maxOutOfOrdernessMillis {@code B}, how far (in milliseconds) a record may lag behind the
     *                                highest timestamp seen and still be on time, {@code >= 0}
     * @return a new generator with state of its own, for one partition
     * @throws IllegalArgumentException if {@code maxOutOfOrdernessMillis} is negative
     */
    static WatermarkGenerator boundedOutOfOrderness(long maxOutOfOrdernessMillis) {
        if (maxOutOfOrdernessMillis < 0) {
            throw new IllegalArgumentException("out-of-orderness must be >= 0 ms, was " + maxOutOfOrdernessMillis);
        }
        long behind = -maxOutOfOrdernessMillis - 1; // B + 1 would overflow for B = Long.MAX_VALUE
        return new WatermarkGenerator() {
            private long maxTimestamp = Long.MIN_VALUE;

            @Override
            public void onEvent(long timestamp, WatermarkOutput output) {
                if (timestamp > maxTimestamp) {
                    maxTimestamp = timestamp;
                    output.emitWatermark(EventTime.add(timestamp, behind));
                }
            }

            @Override
            public void onPeriodicEmit(WatermarkOutput output) {
                if (maxTimestamp != Long.MIN_VALUE) {
                    output.emitWatermark(EventTime.add(maxTimestamp, behind));
                }
            }
        };
    }
}
