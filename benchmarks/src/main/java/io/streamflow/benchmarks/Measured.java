package io.streamflow.benchmarks;

/**
 * One measured run of one system: its result checksum and the time the processing took, in
 * nanoseconds (for a Flink job: the job's net runtime, without starting the local cluster).
 */
public record Measured(Checksum checksum, long nanos) {

    public double eventsPerSecond(long events) {
        return events / (nanos / 1e9);
    }
}
