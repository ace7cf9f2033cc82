package io.streamflow.reactive.http.internal.ingest;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.http.HttpIngest;
import io.streamflow.reactive.http.HttpIngestException;
import io.streamflow.reactive.json.JsonDecoder;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The buffer between requests and the pipeline: demand, all-or-nothing appends, one subscriber at a time. */
class IngestBufferTest {

    private static List<Pending<String>> values(String... values) {
        List<Pending<String>> out = new ArrayList<>();
        for (String v : values) {
            out.add(Pending.record(v, v.length()));
        }
        return out;
    }

    private static Origin at(long sequence) {
        return Origin.of("src", 0, sequence);
    }

    @Test
    void shouldDeliverOnlyWhatWasRequested() {
        IngestBuffer<String> buffer = new IngestBuffer<>("src", 10);
        assertThat(buffer.offer(values("a", "bb", "ccc", "dddd"))).isEqualTo(IngestBuffer.Offer.TAKEN);

        StepVerifier.create(buffer, 0)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(50))
                .thenRequest(1)
                .expectNext(StreamRecord.of(null, "a", 1, at(0)))
                .expectNoEvent(Duration.ofMillis(50))
                .then(() -> assertThat(buffer.held()).isEqualTo(3))
                .thenRequest(2)
                .expectNext(StreamRecord.of(null, "bb", 2, at(1)), StreamRecord.of(null, "ccc", 3, at(2)))
                .then(() -> assertThat(buffer.held()).isEqualTo(1))
                .thenRequest(5)
                .expectNext(StreamRecord.of(null, "dddd", 4, at(3)))
                .then(() -> buffer.offer(values("e")))
                .expectNext(StreamRecord.of(null, "e", 1, at(4)))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void shouldTakeARequestWholeOrNotAtAllAndNeverHoldMoreThanItsSize() {
        IngestBuffer<String> buffer = new IngestBuffer<>("src", 5);

        assertThat(buffer.offer(values("a", "b", "c"))).isEqualTo(IngestBuffer.Offer.TAKEN);
        assertThat(buffer.offer(values("d", "e", "f"))).isEqualTo(IngestBuffer.Offer.FULL);
        assertThat(buffer.held()).as("nothing of the refused request").isEqualTo(3);
        assertThat(buffer.offer(values("1", "2", "3", "4", "5", "6"))).isEqualTo(IngestBuffer.Offer.TOO_MANY);
        assertThat(buffer.offer(values("d", "e"))).isEqualTo(IngestBuffer.Offer.TAKEN);
        assertThat(buffer.offer(values("f"))).isEqualTo(IngestBuffer.Offer.FULL);
        assertThat(buffer.peak()).isEqualTo(5);

        StepVerifier.create(buffer.map(e -> ((StreamRecord<Void, String>) e).value()), 2)
                .expectNext("a", "b")
                .then(() -> assertThat(buffer.offer(values("f", "g"))).isEqualTo(IngestBuffer.Offer.TAKEN))
                .thenRequest(10)
                .expectNext("c", "d", "e", "f", "g")
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertThat(buffer.peak()).isEqualTo(5);
    }

    @Test
    void shouldServeOneSubscriberAtATimeAndKeepWhatACancelledOneDidNotReceive() {
        IngestBuffer<String> buffer = new IngestBuffer<>("src", 10);
        buffer.offer(values("a", "b", "c"));

        StepVerifier.create(buffer, 1)
                .expectNext(StreamRecord.of(null, "a", 1, at(0)))
                .then(() -> StepVerifier.create(buffer)
                        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                                .hasMessageContaining("'src' has a subscriber already"))
                        .verify(Duration.ofSeconds(5)))
                .thenCancel()
                .verify(Duration.ofSeconds(10));

        StepVerifier.create(buffer, 5)
                .expectNext(StreamRecord.of(null, "b", 1, at(1)), StreamRecord.of(null, "c", 1, at(2)))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void shouldCompleteAfterCloseOnceEverythingWasDeliveredAndRefuseMore() {
        IngestBuffer<String> buffer = new IngestBuffer<>("src", 10);
        buffer.offer(values("a", "b"));
        buffer.close();

        assertThat(buffer.offer(values("c"))).isEqualTo(IngestBuffer.Offer.CLOSED);
        StepVerifier.create(buffer.map(e -> ((StreamRecord<Void, String>) e).value()), 1)
                .expectNext("a")
                .expectNoEvent(Duration.ofMillis(50))
                .thenRequest(1)
                .expectNext("b")
                .verifyComplete();
    }

    @Test
    void shouldNumberDeadLettersInTheirPlace() {
        IngestBuffer<String> buffer = new IngestBuffer<>("src", 10);
        HttpIngestException error = new HttpIngestException("r", 2, "bad", null);
        List<Pending<String>> request = new ArrayList<>(values("a"));
        request.add(Pending.rejected("{", error));
        request.addAll(values("c"));
        buffer.offer(request);

        StepVerifier.create(buffer)
                .expectNext(StreamRecord.of(null, "a", 1, at(0)))
                .assertNext(e -> {
                    DeadLetter<Void, String> d = (DeadLetter<Void, String>) e;
                    assertThat(d.origin()).isEqualTo(at(1));
                    assertThat(d.input()).isEqualTo("{");
                    assertThat(d.error()).isSameAs(error).hasMessage("request r line 2: bad");
                    assertThat(d.operator()).isEqualTo(HttpIngest.OPERATOR);
                })
                .expectNext(StreamRecord.of(null, "c", 1, at(2)))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void shouldContinueNumberingAfterTheRestoredPosition() {
        HttpIngest<Event> ingest = HttpIngest.builder("clicks", JsonDecoder.events().timestampField("ts"))
                .meterRegistry(new SimpleMeterRegistry()).build();
        IngestEngine<?> engine = IngestAccess.engine(ingest);

        StepVerifier.create(ingest.resume().apply(Map.of(0, 41L)), 0)
                .then(() -> {
                    BodyReader body = new BodyReader(BodyReader.Format.LINES, 1000, 100);
                    body.consume("{\"ts\":5}\n{\"ts\":6}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    assertThat(engine.take("r", null, body).status()).isEqualTo(200);
                })
                .thenRequest(2)
                .assertNext(e -> assertThat(((StreamRecord<Void, Event>) e).origin()).isEqualTo(Origin.of("clicks", 0, 42)))
                .assertNext(e -> assertThat(((StreamRecord<Void, Event>) e).origin()).isEqualTo(Origin.of("clicks", 0, 43)))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }
}
