package io.streamflow.reactive;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventStreamRoutingTest {

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
}
