package io.streamflow.reactive;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

class StreamOperatorsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static final StreamRecord<String, Integer> R1 = StreamRecord.of("a", 1, 5, Origin.of("src", 0, 1));
    private static final StreamRecord<String, Integer> R2 = StreamRecord.of("b", 2, 7, Origin.of("src", 0, 2));
    private static final LateRecord<String, Integer> LATE =
            new LateRecord<>(StreamRecord.of("x", 0, 1), "upstream-window", 0, 10, 20);
    private static final DeadLetter<String, Integer> DEAD =
            new DeadLetter<>("raw bytes", Origin.of("src", 0, 0), "decode", new IllegalArgumentException("bad json"));

    /** Records interleaved with every kind of control element and side output. */
    private static final List<StreamElement<String, Integer>> MIXED = List.of(R1, Watermark.of(4),
            InputStatus.idle(), InputStatus.active(), CheckpointBarrier.of(7), LATE, DEAD, R2, Watermark.end());

    private static List<StreamElement<String, Integer>> mixedInput() {
        return MIXED;
    }

    private static <V2> List<StreamElement<String, V2>> run(
            Function<Flux<StreamElement<String, Integer>>, Flux<StreamElement<String, V2>>> op) {
        return Flux.fromIterable(mixedInput()).transform(op).collectList().block(TIMEOUT);
    }

    /** The non-record elements of the output are the very instances of the input, in the same order. */
    private static void assertControlElementsUntouchedAndInOrder(List<? extends StreamElement<?, ?>> output) {
        List<StreamElement<?, ?>> in = new ArrayList<>();
        for (StreamElement<?, ?> e : mixedInput()) {
            if (!e.isRecord()) {
                in.add(e);
            }
        }
        List<StreamElement<?, ?>> out = new ArrayList<>();
        for (StreamElement<?, ?> e : output) {
            if (!e.isRecord()) {
                out.add(e);
            }
        }
        assertThat(out).hasSameSizeAs(in);
        for (int i = 0; i < in.size(); i++) {
            assertThat(out.get(i)).as("control element %d", i).isSameAs(in.get(i));
        }
    }

    private static OperatorSettings settings(String name, ErrorPolicy policy, SimpleMeterRegistry registry) {
        return OperatorSettings.named(name).withPipeline("p").withErrorPolicy(policy).withMeterRegistry(registry);
    }

    /** Dead letters counted for the operator; the counter is registered with the first dead letter. */
    private static double deadLetters(SimpleMeterRegistry registry, String operator) {
        Counter c = registry.find("streamflow.records.dead.letter").tag("operator", operator).tag("pipeline", "p")
                .counter();
        return c == null ? 0 : c.count();
    }

    // ------------------------------------------------------------------ pass-through

    @Test
    void mapSeesOnlyRecordsAndPassesEveryOtherElementThroughInOrder() {
        List<Integer> seen = new CopyOnWriteArrayList<>();
        List<StreamElement<String, String>> out = run(StreamOperators.<String, Integer, String>map(v -> {
            seen.add(v);
            return "v" + v;
        }));

        assertThat(seen).containsExactly(1, 2);
        assertThat(out).containsExactly(R1.withValue("v1"), Watermark.of(4), InputStatus.idle(),
                InputStatus.active(), CheckpointBarrier.of(7), StreamElement.forward(LATE),
                StreamElement.forward(DEAD), R2.withValue("v2"), Watermark.end());
        assertControlElementsUntouchedAndInOrder(out);
    }

    @Test
    void mapKeepsKeyTimestampHeadersAndOrigin() {
        StreamRecord<String, Integer> r = StreamRecord.of("k", 3, 99, Map.of("h", "x"), Origin.of("t", 2, 5));

        StepVerifier.create(Flux.<StreamElement<String, Integer>>just(r)
                        .transform(StreamOperators.<String, Integer, Integer>map(v -> v + 1)))
                .expectNext(StreamRecord.of("k", 4, 99, Map.of("h", "x"), Origin.of("t", 2, 5)))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void filterSeesOnlyRecordsAndPassesEveryOtherElementThroughInOrder() {
        List<Integer> seen = new CopyOnWriteArrayList<>();
        List<StreamElement<String, Integer>> out = run(StreamOperators.<String, Integer>filter(v -> {
            seen.add(v);
            return v > 1;
        }));

        assertThat(seen).containsExactly(1, 2);
        assertThat(out).containsExactly(Watermark.of(4), InputStatus.idle(), InputStatus.active(),
                CheckpointBarrier.of(7), LATE, DEAD, R2, Watermark.end());
        assertControlElementsUntouchedAndInOrder(out);
    }

    @Test
    void flatMapSeesOnlyRecordsAndPassesEveryOtherElementThroughInOrder() {
        List<Integer> seen = new CopyOnWriteArrayList<>();
        List<StreamElement<String, Integer>> out = run(StreamOperators.<String, Integer, Integer>flatMap(v -> {
            seen.add(v);
            return v == 1 ? List.of() : List.of(v, v * 10);
        }, OperatorSettings.named("flatMap")));

        assertThat(seen).containsExactly(1, 2);
        assertThat(out).containsExactly(Watermark.of(4), InputStatus.idle(), InputStatus.active(),
                CheckpointBarrier.of(7), LATE, DEAD, R2, R2.withValue(20), Watermark.end());
        assertControlElementsUntouchedAndInOrder(out);
    }

    @Test
    void keyBySeesOnlyRecordsAndPassesEveryOtherElementThroughInOrder() {
        List<Integer> seen = new CopyOnWriteArrayList<>();
        List<StreamElement<Integer, Integer>> out = Flux.fromIterable(mixedInput())
                .transform(StreamOperators.<String, Integer, Integer>keyBy(v -> {
                    seen.add(v);
                    return v * 100;
                }))
                .collectList().block(TIMEOUT);

        assertThat(seen).containsExactly(1, 2);
        assertThat(out).containsExactly(R1.withKey(100), Watermark.of(4), InputStatus.idle(), InputStatus.active(),
                CheckpointBarrier.of(7), StreamElement.forward(LATE), StreamElement.forward(DEAD), R2.withKey(200),
                Watermark.end());
        assertThat(out.get(5)).isSameAs(LATE);
        assertThat(out.get(6)).isSameAs(DEAD);
    }

    // ------------------------------------------------------------------ error policies

    @Test
    void aThrowingUserFunctionTerminatesTheStreamByDefault() {
        TestPublisher<StreamElement<String, Integer>> source = TestPublisher.create();

        StepVerifier.create(source.flux().transform(StreamOperators.<String, Integer, Integer>map(v -> {
                    if (v == 2) {
                        throw new IllegalStateException("boom on 2");
                    }
                    return v;
                })))
                .then(() -> source.next(R1, R2, StreamRecord.of("c", 3, 9)))
                .expectNext(R1)
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                        .hasMessage("boom on 2"))
                .verify(TIMEOUT);
        source.assertCancelled();
    }

    @Test
    void theDeadLetterPolicyEmitsADeadLetterCountsItAndContinues() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        IllegalStateException boom = new IllegalStateException("boom");

        StepVerifier.create(Flux.<StreamElement<String, Integer>>just(R1, R2, Watermark.of(8), R2)
                        .transform(StreamOperators.<String, Integer, String, Integer>mapRecord(r -> {
                            if (r.value() == 2) {
                                throw boom;
                            }
                            return r;
                        }, settings("enrich", ErrorPolicy.deadLetter(), registry))))
                .expectNext(R1)
                .assertNext(e -> {
                    assertThat(e).isInstanceOf(DeadLetter.class);
                    DeadLetter<?, ?> d = (DeadLetter<?, ?>) e;
                    assertThat(d.input()).isEqualTo(R2);
                    assertThat(d.origin()).isEqualTo(R2.origin());
                    assertThat(d.operator()).isEqualTo("enrich");
                    assertThat(d.error()).isSameAs(boom);
                })
                .expectNext(Watermark.of(8))
                .expectNextMatches(e -> e instanceof DeadLetter)
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(deadLetters(registry, "enrich")).isEqualTo(2.0);
    }

    @Test
    void theDeadLetterPolicyAlsoAppliesToFilterAndFlatMap() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Predicate<StreamRecord<String, Integer>> throwingOnTwo = r -> {
            if (r.value() == 2) {
                throw new IllegalArgumentException("cannot test 2");
            }
            return true;
        };

        List<StreamElement<String, Integer>> filtered = Flux.<StreamElement<String, Integer>>just(R1, R2)
                .transform(StreamOperators.filterRecord(throwingOnTwo,
                        settings("filter", ErrorPolicy.deadLetter(), registry)))
                .collectList().block(TIMEOUT);
        List<StreamElement<String, Integer>> flatMapped = Flux.<StreamElement<String, Integer>>just(R1, R2)
                .transform(StreamOperators.<String, Integer, Integer>flatMap(v -> {
                    if (v == 1) {
                        throw new IllegalArgumentException("cannot split 1");
                    }
                    return List.of(v);
                }, settings("split", ErrorPolicy.deadLetter(), registry)))
                .collectList().block(TIMEOUT);

        assertThat(filtered).hasSize(2);
        assertThat(filtered.get(0)).isEqualTo(R1);
        assertThat(filtered.get(1)).isInstanceOfSatisfying(DeadLetter.class,
                d -> assertThat(d.input()).isEqualTo(R2));
        assertThat(flatMapped).hasSize(2);
        assertThat(flatMapped.get(0)).isInstanceOfSatisfying(DeadLetter.class,
                d -> assertThat(d.input()).isEqualTo(R1));
        assertThat(flatMapped.get(1)).isEqualTo(R2);
        assertThat(deadLetters(registry, "filter")).isEqualTo(1.0);
        assertThat(deadLetters(registry, "split")).isEqualTo(1.0);
    }

    @Test
    void theRetryPolicyCallsAFlakyFunctionAgainUntilItSucceeds() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicInteger calls = new AtomicInteger();

        StepVerifier.create(Flux.<StreamElement<String, Integer>>just(R1)
                        .transform(StreamOperators.<String, Integer, Integer>map(v -> {
                            if (calls.incrementAndGet() < 3) {
                                throw new IllegalStateException("flaky " + calls.get());
                            }
                            return v * 10;
                        }, settings("lookup", ErrorPolicy.retryThenDeadLetter(2), registry))))
                .expectNext(R1.withValue(10))
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(calls).hasValue(3);
        assertThat(deadLetters(registry, "lookup")).isZero();
    }

    @Test
    void theRetryPolicySendsTheRecordToTheDeadLetterOutputWhenEveryCallThrows() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicInteger calls = new AtomicInteger();

        StepVerifier.create(Flux.<StreamElement<String, Integer>>just(R1, R2)
                        .transform(StreamOperators.<String, Integer, Integer>map(v -> {
                            if (v == 1) {
                                throw new IllegalStateException("attempt " + calls.incrementAndGet());
                            }
                            return v;
                        }, settings("lookup", ErrorPolicy.retryThenDeadLetter(2), registry))))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class, d -> {
                    assertThat(d.input()).isEqualTo(R1);
                    assertThat(d.error()).hasMessage("attempt 3");
                    assertThat(d.error().getSuppressed()).hasSize(1);
                    assertThat(d.error().getSuppressed()[0]).hasMessage("attempt 2");
                }))
                .expectNext(R2)
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(calls).as("first call plus two retries").hasValue(3);
        assertThat(deadLetters(registry, "lookup")).isEqualTo(1.0);
    }

    @Test
    void theRetryPolicyReportsTheRealErrorWhenAFunctionThrowsTheSameInstanceEveryTime() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        IllegalStateException always = new IllegalStateException("service down");

        StepVerifier.create(Flux.<StreamElement<String, Integer>>just(R1)
                        .transform(StreamOperators.<String, Integer, Integer>map(v -> {
                            throw always;
                        }, settings("lookup", ErrorPolicy.retryThenDeadLetter(3), registry))))
                .assertNext(e -> assertThat(e).isInstanceOfSatisfying(DeadLetter.class,
                        d -> assertThat(d.error()).isSameAs(always)))
                .expectComplete()
                .verify(TIMEOUT);
    }

    // ------------------------------------------------------------------ merge

    @Test
    void mergeEmitsTheMinimumWatermarkOfItsInputsAndNeverGoesBackwards() {
        TestPublisher<StreamElement<String, Integer>> a = TestPublisher.create();
        TestPublisher<StreamElement<String, Integer>> b = TestPublisher.create();

        StepVerifier.create(StreamOperators.merge(a.flux(), b.flux()))
                .then(() -> a.next(Watermark.of(100)))
                .then(() -> b.next(Watermark.of(50)))
                .expectNext(Watermark.of(50))
                .then(() -> a.next(Watermark.of(200)))
                .then(() -> b.next(Watermark.of(150)))
                .expectNext(Watermark.of(150))
                .then(() -> a.next(R1))
                .expectNext(R1)
                .then(() -> b.next(Watermark.of(120)))   // an input going backwards changes nothing
                .then(() -> b.next(Watermark.of(300)))
                .expectNext(Watermark.of(200))
                .then(() -> b.complete())                 // a completed input counts as END
                .then(() -> a.next(Watermark.of(400)))
                .expectNext(Watermark.of(400))
                .then(() -> a.complete())
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void mergeIgnoresAnIdleInputUntilItIsActiveAgain() {
        TestPublisher<StreamElement<String, Integer>> a = TestPublisher.create();
        TestPublisher<StreamElement<String, Integer>> b = TestPublisher.create();

        StepVerifier.create(StreamOperators.merge(a.flux(), b.flux()))
                .then(() -> a.next(Watermark.of(100)))
                .then(() -> b.next(Watermark.of(50)))
                .expectNext(Watermark.of(50))
                .then(() -> b.next(InputStatus.idle()))
                .expectNext(Watermark.of(100))            // b no longer holds it back
                .then(() -> a.next(Watermark.of(300)))
                .expectNext(Watermark.of(300))
                .then(() -> b.next(InputStatus.active(), StreamRecord.of("b", 9, 60)))
                .expectNext(StreamRecord.of("b", 9, 60))  // b is back at 50: no watermark, none backwards
                .then(() -> a.next(Watermark.of(500)))    // min(500, 50): held back by b again
                .then(() -> b.next(Watermark.of(400)))
                .expectNext(Watermark.of(400))
                .then(() -> {
                    a.complete();
                    b.complete();
                })
                .expectNext(Watermark.end())
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void mergeEmitsIdleOnceWhenEveryInputIsIdleAndActiveWhenOneComesBack() {
        TestPublisher<StreamElement<String, Integer>> a = TestPublisher.create();
        TestPublisher<StreamElement<String, Integer>> b = TestPublisher.create();

        StepVerifier.create(StreamOperators.merge(a.flux(), b.flux()))
                .then(() -> a.next(Watermark.of(10)))
                .then(() -> b.next(Watermark.of(20)))
                .expectNext(Watermark.of(10))
                .then(() -> a.next(InputStatus.idle()))
                .expectNext(Watermark.of(20))
                .then(() -> b.next(InputStatus.idle()))
                .expectNext(InputStatus.idle())
                .then(() -> a.next(InputStatus.idle()))   // repeated: nothing
                .then(() -> a.next(InputStatus.active(), StreamRecord.of("a", 1, 30), Watermark.of(29)))
                .expectNext(InputStatus.active())
                .expectNext(StreamRecord.of("a", 1, 30))
                .expectNext(Watermark.of(29))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void mergeKeepsTheOrderOfEachInput() {
        List<StreamElement<String, Integer>> in = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            in.add(StreamRecord.of("a", i, i));
            in.add(Watermark.of(i));
        }
        List<StreamElement<String, Integer>> out = StreamOperators.merge(Flux.fromIterable(in),
                        Flux.<StreamElement<String, Integer>>just(Watermark.of(Long.MAX_VALUE - 1)))
                .collectList().block(TIMEOUT);

        assertThat(out).filteredOn(StreamElement::isRecord).containsExactlyElementsOf(
                in.stream().filter(StreamElement::isRecord).toList());
        List<Long> watermarks = out.stream().filter(e -> e instanceof Watermark)
                .map(e -> ((Watermark<?, ?>) e).timestamp()).toList();
        assertThat(watermarks).isSorted().doesNotHaveDuplicates().endsWith(Watermark.END);
    }

    // ------------------------------------------------------------------ split

    @Test
    void splitRoutesRecordsToTheFirstMatchingBranchAndWatermarksToEveryBranch() {
        LinkedHashMap<String, Predicate<? super StreamRecord<String, Integer>>> branches = new LinkedHashMap<>();
        branches.put("big", r -> r.value() >= 100);
        branches.put("positive", r -> r.value() > 0);   // 100 also matches, but "big" comes first
        StreamRecord<String, Integer> big = StreamRecord.of("k", 100, 1);
        StreamRecord<String, Integer> small = StreamRecord.of("k", 5, 2);
        StreamRecord<String, Integer> negative = StreamRecord.of("k", -5, 3);
        Watermark<String, Integer> w = Watermark.of(3);
        Map<String, List<StreamElement<String, Integer>>> byBranch = new LinkedHashMap<>();

        Flux.<StreamElement<String, Integer>>just(big, small, LATE, negative, w, DEAD, Watermark.end())
                .transform(StreamOperators.<String, Integer, Map.Entry<String, StreamElement<String, Integer>>>split(
                        branches, out -> Flux.merge(out.entrySet().stream()
                                .map(b -> b.getValue().map(e -> Map.entry(b.getKey(), e)))
                                .toList())))
                .doOnNext(e -> byBranch.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue()))
                .blockLast(TIMEOUT);

        assertThat(byBranch).containsOnlyKeys("big", "positive", StreamOperators.UNMATCHED,
                StreamOperators.SIDE_OUTPUTS);
        assertThat(byBranch.get("big")).containsExactly(big, w, Watermark.end());
        assertThat(byBranch.get("positive")).containsExactly(small, w, Watermark.end());
        assertThat(byBranch.get(StreamOperators.UNMATCHED)).containsExactly(negative, w, Watermark.end());
        assertThat(byBranch.get(StreamOperators.SIDE_OUTPUTS)).containsExactly(LATE, w, DEAD, Watermark.end());
    }

    @Test
    void splitRejectsAReservedBranchName() {
        LinkedHashMap<String, Predicate<? super StreamRecord<String, Integer>>> branches = new LinkedHashMap<>();
        branches.put(StreamOperators.UNMATCHED, r -> true);

        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> StreamOperators.<String, Integer, Object>split(branches, m -> Flux.empty()))
                .withMessageContaining("reserved");
    }
}
