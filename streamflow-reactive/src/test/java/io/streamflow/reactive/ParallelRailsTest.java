package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowOperator;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link StreamOperators#parallel} on a seeded random keyed input: the same results as one rail.
 * The seed is printed; replay a failure with {@code -Dseed=<seed>}.
 */
class ParallelRailsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static Function<Flux<StreamElement<String, Long>>, Flux<StreamElement<String, WindowResult<String, Long>>>>
    sumPerKeyAndSecond() {
        return WindowOperator.<String, Long>of(Windows.tumbling(Duration.ofSeconds(1)))
                .allowedLateness(Duration.ofMillis(200))
                .settings(OperatorSettings.named("sums").withMeterRegistry(new SimpleMeterRegistry()))
                .aggregate(Aggregations.sumLong(v -> v));
    }

    /** Keyed records with timestamps up to 600 ms out of order, so some are late even with the allowed lateness. */
    private static List<StreamRecord<String, Long>> randomInput(long seed, int n, int keys) {
        Random random = new Random(seed);
        List<StreamRecord<String, Long>> records = new ArrayList<>(n);
        long time = 0;
        for (int i = 0; i < n; i++) {
            time += random.nextInt(20);
            long ts = Math.max(0, time - random.nextInt(600));
            records.add(StreamRecord.of("key-" + random.nextInt(keys), (long) random.nextInt(1000), ts));
        }
        return records;
    }

    private static List<StreamElement<String, WindowResult<String, Long>>> run(
            List<StreamRecord<String, Long>> input,
            Function<Flux<StreamElement<String, Long>>, Flux<StreamElement<String, WindowResult<String, Long>>>> op) {
        return Flux.fromIterable(input)
                .transform(WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ofMillis(300)).assign())
                .transform(op)
                .collectList()
                .block(TIMEOUT);
    }

    private static List<Long> watermarks(List<? extends StreamElement<?, ?>> out) {
        return out.stream().filter(e -> e instanceof Watermark).map(e -> ((Watermark<?, ?>) e).timestamp()).toList();
    }

    private static List<StreamRecord<?, ?>> lateRecords(List<? extends StreamElement<?, ?>> out) {
        return out.stream().filter(e -> e instanceof LateRecord).<StreamRecord<?, ?>>map(e -> ((LateRecord<?, ?>) e)
                .record()).toList();
    }

    @Test
    void fourRailsGiveTheSameResultsAsOneRailWithNonDecreasingWatermarksEndingWithTheEnd() {
        long seed = Long.getLong("seed", System.nanoTime());
        System.out.println("ParallelRailsTest seed=" + seed + " (replay with -Dseed=" + seed + ")");
        List<StreamRecord<String, Long>> input = randomInput(seed, 20_000, 200);

        List<StreamElement<String, WindowResult<String, Long>>> oneRail = run(input, sumPerKeyAndSecond());
        List<StreamElement<String, WindowResult<String, Long>>> fourRails = run(input,
                StreamOperators.parallel(4, Schedulers.parallel(), sumPerKeyAndSecond()));

        List<StreamElement<String, WindowResult<String, Long>>> expectedResults =
                oneRail.stream().filter(StreamElement::isRecord).toList();
        assertThat(expectedResults).as("seed %d: the input produces results", seed).isNotEmpty();
        assertThat(fourRails.stream().filter(StreamElement::isRecord).toList())
                .as("seed %d: results", seed)
                .containsExactlyInAnyOrderElementsOf(expectedResults);
        assertThat(lateRecords(fourRails)).as("seed %d: late records", seed)
                .containsExactlyInAnyOrderElementsOf(lateRecords(oneRail));

        assertThat(watermarks(fourRails)).as("seed %d: watermarks of four rails", seed)
                .isNotEmpty()
                .isSorted()
                .doesNotHaveDuplicates();
        assertThat(fourRails.get(fourRails.size() - 1)).as("seed %d: last element", seed)
                .isEqualTo(Watermark.end());
        assertThat(watermarks(oneRail)).isSorted().endsWith(Watermark.END);
    }
}
