package io.streamflow.reactive;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventStreamRoutingTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final List<Throwable> droppedErrors = new CopyOnWriteArrayList<>();

    @TempDir
    Path dir;

    @BeforeEach
    void installDroppedHook() {
        Hooks.onErrorDropped(droppedErrors::add);
    }

    @AfterEach
    void resetDroppedHook() {
        Hooks.resetOnErrorDropped();
    }

    private static Flux<StreamRecord<String, String>> input() {
        return Flux.range(0, 200).map(i -> StreamRecord.of("k", i % 10 == 0 ? "bad" + i : "ok" + i, i));
    }

    @RepeatedTest(20)
    void shouldDeliverEveryDeadLetterToAHandlerThatSubscribesLateOnAnotherThread() {
        List<Object> dead = new CopyOnWriteArrayList<>();
        List<String> values = EventStream.from(input(), WatermarkStrategy.<String, String>forMonotonousTimestamps())
                .errorPolicy(ErrorPolicy.deadLetter())
                .map(v -> {
                    if (v.startsWith("bad")) {
                        throw new IllegalArgumentException("cannot parse " + v);
                    }
                    return v;
                })
                .onDeadLetter(d -> d.subscribeOn(Schedulers.boundedElastic()).doOnNext(x -> dead.add(x.input())))
                .values().collectList().block(Duration.ofSeconds(10));
        assertThat(values).hasSize(180);
        assertThat(dead).hasSize(20);
    }

    @Test
    void shouldRefuseWindowsOnAStreamWithoutWatermarks() {
        EventStream<String, String> s = EventStream.fromRecords(input());
        assertThatThrownBy(() -> s.window(io.streamflow.reactive.window.Windows.tumbling(Duration.ofSeconds(1))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("did you forget".substring(1));
    }

    @Test
    void shouldSendARecordWhoseFlatMapIterableThrowsWhileIteratingToTheDeadLetterOutput() {
        List<Object> dead = new CopyOnWriteArrayList<>();
        List<String> values = EventStream.from(input().take(3), WatermarkStrategy.<String, String>forMonotonousTimestamps())
                .errorPolicy(ErrorPolicy.deadLetter())
                .flatMap(v -> () -> new java.util.Iterator<String>() {
                    int i;

                    public boolean hasNext() {
                        return i < 2;
                    }

                    public String next() {
                        if (v.equals("ok1") && i == 1) {
                            throw new IllegalStateException("broken iterator");
                        }
                        return v + "-" + i++;
                    }
                })
                .onDeadLetter(d -> d.doOnNext(x -> dead.add(((StreamRecord<?, ?>) x.input()).value())))
                .values().collectList().block(Duration.ofSeconds(10));
        assertThat(values).containsExactly("bad0-0", "bad0-1", "ok2-0", "ok2-1");
        assertThat(dead).containsExactly("ok1");
    }

    @Test
    void aLateDataHandlerThatNeverSubscribesToItsFluxFailsThePipelineNamingTheHandler() {
        EventStream<String, String> stream = EventStream.from(input(),
                        WatermarkStrategy.<String, String>forMonotonousTimestamps())
                .onLateData(late -> Mono.empty());

        StepVerifier.create(stream.values())
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("the onLateData handler (pipeline 'default', right after the source)")
                        .hasMessageContaining("without subscribing to the flux of late records")
                        .hasMessageContaining("must subscribe to that flux"))
                .verify(TIMEOUT);
        assertThat(droppedErrors).isEmpty();
    }

    @Test
    void aDeadLetterHandlerThatNeverSubscribesToItsFluxFailsThePipelineSayingWhereItIs() {
        EventStream<String, String> stream = EventStream.from(input(),
                        WatermarkStrategy.<String, String>forMonotonousTimestamps())
                .settings(OperatorSettings.named("parse").withPipeline("orders"))
                .errorPolicy(ErrorPolicy.deadLetter())
                .filter(v -> true)
                .map(v -> v)
                .onDeadLetter(dead -> Flux.just("not", "the", "flux"));

        StepVerifier.create(stream.values())
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("the onDeadLetter handler (pipeline 'orders', after operator 2 of the "
                                + "stream)")
                        .hasMessageContaining("without subscribing to the flux of dead letters"))
                .verify(TIMEOUT);
    }

    @Test
    void aHandlerWhosePublisherSubscribesToItsFluxOnlyAfterADelayOnAnotherThreadGetsEveryDeadLetter() {
        List<Object> dead = new CopyOnWriteArrayList<>();
        List<String> values = EventStream.from(input(), WatermarkStrategy.<String, String>forMonotonousTimestamps())
                .errorPolicy(ErrorPolicy.deadLetter())
                .map(v -> {
                    if (v.startsWith("bad")) {
                        throw new IllegalArgumentException("cannot parse " + v);
                    }
                    return v;
                })
                .onDeadLetter(d -> Mono.delay(Duration.ofMillis(20))
                        .thenMany(d.doOnNext(x -> dead.add(x.input()))))
                .values().collectList().block(TIMEOUT);

        assertThat(values).hasSize(180);
        assertThat(dead).hasSize(20);
    }

    @Test
    void aHandlerWhosePublisherFailsBeforeSubscribingFailsThePipelineWithItsOwnError() {
        EventStream<String, String> stream = EventStream.from(input(),
                        WatermarkStrategy.<String, String>forMonotonousTimestamps())
                .onLateData(late -> Mono.error(new IllegalStateException("late sink unavailable")));

        StepVerifier.create(stream.values())
                .expectErrorMessage("late sink unavailable")
                .verify(TIMEOUT);
    }

    @RepeatedTest(5)
    void aMissingInputFileFailsThePipelineOnceAndNothingGoesToTheDroppedErrorHook() throws Exception {
        Path missing = dir.resolve("missing.txt");
        // counted down after the source's error has gone through the whole pipeline (on its thread),
        // including both handlers' copies of it
        CountDownLatch sourceTerminated = new CountDownLatch(1);
        List<Throwable> seenByHandlers = new CopyOnWriteArrayList<>();
        Flux<StreamElement<Void, String>> source = StreamSources.fileLines(missing)
                .doAfterTerminate(sourceTerminated::countDown);

        Mono<Void> pipeline = EventStream.from(source, WatermarkStrategy.<Void, String>forMonotonousTimestamps())
                .onDeadLetter(dead -> dead.doOnError(seenByHandlers::add).then())
                .onLateData(late -> StreamSinks.<LateRecord<?, ?>>textLines(dir.resolve("late.txt"), String::valueOf)
                        .apply(late.doOnError(seenByHandlers::add)))
                .sink(StreamSinks.fileLines(dir.resolve("out.txt"), StreamRecord::value));

        StepVerifier.create(pipeline)
                .expectErrorSatisfies(e -> assertThat(e)
                        .isInstanceOf(UncheckedIOException.class)
                        .hasMessageContaining("cannot open " + missing)
                        .hasCauseInstanceOf(NoSuchFileException.class))
                .verify(TIMEOUT);
        assertThat(sourceTerminated.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

        assertThat(droppedErrors).as("errors sent to the dropped-error hook").isEmpty();
        assertThat(seenByHandlers).as("each handler still sees the error").hasSize(2);
    }
}
