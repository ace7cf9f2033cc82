package io.streamflow.reactive;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.RestoreHarness.Split;
import io.streamflow.reactive.internal.Barriers;
import io.streamflow.reactive.internal.CheckpointSignal;
import io.streamflow.reactive.state.StateBackend;
import io.streamflow.reactive.window.Aggregations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Restoring {@link KeyedOperators#runningAggregate} and {@link KeyedOperators#deduplicate} from
 * their checkpointed state reproduces the output of an uninterrupted run exactly (see
 * {@link RestoreHarness}), state time-to-live and its expiry timers included. Replay a case with
 * {@code -Dseed=N} (and {@code -Dkeyed=CONFIG}).
 */
class KeyedRestoreTest {

    private static final int CASES = RestoreHarness.cases(400);
    private static final String ONLY = System.getProperty("keyed");

    enum Config { RUNNING_AGGREGATE, DEDUPLICATE }

    record Case(long seed, String spec, long ttl, int prefetch, long idModulo,
                Split<StreamElement<String, Long>> split) {
    }

    static Case generate(Config config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long ttl = config == Config.RUNNING_AGGREGATE && rnd.nextInt(4) == 0 ? -1
                : RestoreHarness.pick(rnd, 1, 5, 20, 100);
        // time passes several ttl between a key's records, so entries expire and ids are seen anew
        long scale = ttl > 0 ? ttl * RestoreHarness.pick(rnd, 1, 3, 10) : 20;
        long idModulo = RestoreHarness.pick(rnd, 3, 7, 20);
        int prefetch = (int) RestoreHarness.pick(rnd, 256, 256, 1, 2, 7);
        List<StreamElement<String, Long>> input = RestoreHarness.keyedInput(rnd, scale);
        String spec = config + (ttl > 0 ? " ttl " + ttl : " no ttl")
                + (config == Config.DEDUPLICATE ? " id = key:value % " + idModulo : "") + ", prefetch " + prefetch;
        return new Case(seed, spec, ttl, prefetch, idModulo, Split.of(input, rnd));
    }

    static Function<Flux<StreamElement<String, Long>>, Flux<StreamElement<String, Long>>> operator(
            Config config, Case c, StateBackend backend) {
        OperatorSettings settings = OperatorSettings.named("keyed").withMeterRegistry(new SimpleMeterRegistry())
                .withPrefetch(c.prefetch()).withStateBackend(backend);
        Duration ttl = c.ttl() > 0 ? Duration.ofMillis(c.ttl()) : null;
        if (config == Config.RUNNING_AGGREGATE) {
            return KeyedOperators.runningAggregate(Aggregations.<Long>sumLong(v -> v), ttl, settings);
        }
        // the id includes the key: a key is read from one partition, so are its ids
        return KeyedOperators.deduplicate(r -> r.key() + ":" + r.value() % c.idModulo(), ttl, settings);
    }

    @ParameterizedTest
    @EnumSource(Config.class)
    void aRestoredKeyedOperatorEmitsExactlyWhatAnUninterruptedOneDoes(Config config) {
        if (ONLY != null && !ONLY.equals(config.name())) {
            return;
        }
        long base = RestoreHarness.baseSeed("KeyedRestoreTest " + config);
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < CASES; i++) {
            long seed = base + i;
            Case c = generate(config, seed);
            String problem = RestoreHarness.check(c.split(), backend -> operator(config, c, backend));
            if (problem != null) {
                fail("restored keyed operator differs from the uninterrupted one%n  seed: %d (replay: -Dtest="
                        + "KeyedRestoreTest -Dkeyed=%s -Dseed=%d)%n  %s%n%s", seed, config, seed, c.spec(), problem);
            }
            RestoreHarness.tally(seen, "restored twice", c.split().parts().size() > 2);
        }
        System.out.println("KeyedRestoreTest " + config + ": " + CASES + " cases, " + RestoreHarness.summary(seen));
    }

    @Test
    void aCheckpointBarrierPausesTheOperatorUntilItsCheckpointIsCommitted() {
        CheckpointSignal signal = new CheckpointSignal(4);
        CheckpointBarrier<String, Long> barrier = Barriers.create(4, signal);
        TestPublisher<StreamElement<String, Long>> input = TestPublisher.create();
        List<StreamElement<String, Long>> delivered = new CopyOnWriteArrayList<>();
        Flux<StreamElement<String, Long>> sums = input.flux()
                .transform(KeyedOperators.runningAggregate(Aggregations.<Long>sumLong(v -> v), null,
                        OperatorSettings.named("paused-sum").withMeterRegistry(new SimpleMeterRegistry())))
                .doOnNext(delivered::add);
        StepVerifier.create(sums)
                .then(() -> input.next(StreamRecord.of("k", 1L, 1), barrier))
                .expectNext(StreamRecord.of("k", 1L, 1))
                .expectNext(StreamElement.forward(barrier))
                .then(() -> input.next(StreamRecord.of("k", 2L, 2)))
                .then(() -> assertThat(delivered).as("delivered before the commit").hasSize(2))
                .then(signal::done)
                .expectNext(StreamRecord.of("k", 3L, 2))
                .then(input::complete)
                .verifyComplete();
    }
}
