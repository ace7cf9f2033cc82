package io.streamflow.benchmarks.jmh;

import io.streamflow.benchmarks.WindowWorkload;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

/**
 * The allocation profile end to end at a tiny scale: JMH forks a JVM per parameter combination,
 * runs one short warm-up and one short measured iteration, and the gc profiler's figures come
 * back per system. The fork gets this JVM's class path; under the test runner that is a jar whose
 * manifest lists the test class path, which the forked JVM follows.
 */
class AllocationProfileTest {

    @Test
    void streamFlowAllocatesPerEventAndTheLoopAlmostNothing() {
        AllocationProfile.Settings settings = AllocationProfile.Settings.defaults()
                .withWarmup(1, Duration.ofMillis(500))
                .withMeasurement(1, Duration.ofMillis(500))
                .withJvmArgs(List.of("-Xmx512m"))
                .withQuiet(true);

        List<AllocationProfile.Row> rows = AllocationProfile.run(
                List.of(WindowBenchmark.LOOP, WindowBenchmark.STREAMFLOW, WindowBenchmark.STREAMFLOW_ASYNC),
                List.of(WindowWorkload.TUMBLING),
                List.of(100), List.of(10L), 50_000, settings);

        rows.forEach(System.out::println);
        assertThat(rows).extracting(AllocationProfile.Row::system)
                .containsExactly(WindowBenchmark.LOOP, WindowBenchmark.STREAMFLOW, WindowBenchmark.STREAMFLOW_ASYNC);
        AllocationProfile.Row loop = rows.get(0);
        for (AllocationProfile.Row r : rows) {
            assertThat(r.workload()).isEqualTo(WindowWorkload.TUMBLING);
            assertThat(r.keys()).isEqualTo(100);
            assertThat(r.disorderMillis()).isEqualTo(10);
            assertThat(r.eventsPerOp()).isEqualTo(50_000);
            assertThat(r.eventsPerSecond()).isPositive();
            assertThat(r.bytesPerEvent()).isCloseTo(r.bytesPerOp() / 50_000, offset(1e-9));
        }
        // a record, its boxed key and value per event at the very least (counted on every thread)
        assertThat(rows.get(1).bytesPerEvent()).isGreaterThan(16);
        assertThat(rows.get(2).bytesPerEvent()).isGreaterThan(16);
        // the loop's primitive state is allocated once per run, not per event
        assertThat(loop.bytesPerEvent()).isNotNegative().isLessThan(2);
    }
}
