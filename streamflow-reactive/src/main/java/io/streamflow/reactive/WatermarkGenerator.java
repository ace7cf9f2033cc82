package io.streamflow.reactive;

import io.streamflow.reactive.internal.EventTime;

/**
 * Generates watermarks for one input partition. Two methods, as in Flink: {@link #onEvent} sees
 * every record's timestamp, {@link #onPeriodicEmit} runs on the strategy's processing-time
 * interval. Either may call {@link WatermarkOutput#emitWatermark(long)}; a watermark lower than
 * one already emitted is ignored (watermarks never go backwards).
 */
public interface WatermarkGenerator {

    /** Called for every record of the partition, with its event timestamp. */
    void onEvent(long timestamp, WatermarkOutput output);

    /** Called on every periodic tick (only when the strategy has a periodic interval). */
    default void onPeriodicEmit(WatermarkOutput output) {
    }

    /** Where a generator emits its watermark. */
    @FunctionalInterface
    interface WatermarkOutput {
        void emitWatermark(long watermark);
    }

    /**
     * Bounded out-of-orderness {@code B}: after seeing maximum timestamp {@code M}, the watermark
     * is {@code M - B - 1}; where that is below {@code Long.MIN_VALUE} (a timestamp within
     * {@code B + 1} ms of it) there is no watermark yet.
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
