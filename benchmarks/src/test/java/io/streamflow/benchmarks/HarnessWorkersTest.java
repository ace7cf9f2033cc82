package io.streamflow.benchmarks;

import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The harness's windowed rows measured in worker JVMs: the gate sees each worker's own results. */
class HarnessWorkersTest {

    private static final String SMALL_HEAP = "worker=-Xmx256m,-XX:+UseSerialGC,-XX:TieredStopAtLevel=1";

    @Test
    void workersRunEverySystemOnTheSameEventsAndPassTheGate() {
        Harness.Options o = Harness.Options.parse(new String[] {"events=20000", "rounds=2", "warmup=1",
                "systems=loop,streamflow,streamflow-async", SMALL_HEAP});
        Harness.WindowRow row = Harness.windows(o, WindowWorkload.SESSION, 300, 100);
        BenchEvents ev = BenchEvents.generate(new BenchEvents.Spec(20_000, 300, 100, 1_000_000, 42));
        Checksum expected = WindowLoop.run(ev, WindowWorkload.SESSION, 100);
        assertThat(expected.results()).isPositive();
        assertThat(row.systems()).hasSize(3).allSatisfy(s -> {
            assertThat(s.status()).as(s.system()).isEqualTo("ok");
            assertThat(s.rates()).as(s.system()).hasSize(2);
            assertThat(s.checksum()).as(s.system()).isEqualTo(expected);
        });
    }

    @Test
    void aWorkerThatCannotStartIsAClearFailure() {
        Harness.Options o = Harness.Options.parse(new String[] {"events=1000", "rounds=1", "systems=loop,streamflow",
                "worker=-XX:+NoSuchFlagInAnyJvm"});
        assertThatThrownBy(() -> Harness.windows(o, WindowWorkload.TUMBLING, 10, 0))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("worker of loop did not start");
    }

    @Test
    void inThisJvmTheRowsAreTheSame() {
        Harness.Options o = Harness.Options.parse(new String[] {"events=20000", "rounds=1", "warmup=0",
                "systems=loop,streamflow", "isolate=false"});
        Harness.WindowRow row = Harness.windows(o, WindowWorkload.TUMBLING, 300, 0);
        BenchEvents ev = BenchEvents.generate(new BenchEvents.Spec(20_000, 300, 0, 1_000_000, 42));
        Checksum expected = WindowLoop.run(ev, WindowWorkload.TUMBLING, 0);
        assertThat(row.systems()).allSatisfy(s -> assertThat(s.checksum()).as(s.system()).isEqualTo(expected));
    }
}
