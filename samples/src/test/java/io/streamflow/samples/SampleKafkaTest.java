package io.streamflow.samples;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The command line and the run bounds of the Kafka samples, without a broker. */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class SampleKafkaTest {

    @Test
    void bootstrap_may_stand_anywhere_and_the_rest_are_positional_arguments() {
        assertThat(SampleKafka.Args.parse(new String[]{"500", "--bootstrap", "kafka:9092", "7"}))
                .isEqualTo(new SampleKafka.Args("kafka:9092", List.of("500", "7")));
        assertThat(SampleKafka.Args.parse(new String[]{"--bootstrap=kafka:9093"}))
                .isEqualTo(new SampleKafka.Args("kafka:9093", List.of()));
        SampleKafka.Args none = SampleKafka.Args.parse(new String[]{"500"});
        assertThat(none.longArg(0, 1)).isEqualTo(500);
        assertThat(none.longArg(1, 42)).isEqualTo(42);
    }

    @Test
    void without_bootstrap_the_system_property_names_the_cluster() {
        String before = System.getProperty(SampleKafka.BOOTSTRAP_PROPERTY);
        try {
            System.setProperty(SampleKafka.BOOTSTRAP_PROPERTY, "other:9092");
            assertThat(SampleKafka.Args.parse(new String[0]).bootstrap()).isEqualTo("other:9092");
            assertThat(SampleKafka.Args.parse(new String[]{"--bootstrap", "kafka:9092"}).bootstrap())
                    .isEqualTo("kafka:9092");
            System.clearProperty(SampleKafka.BOOTSTRAP_PROPERTY);
            assertThat(SampleKafka.Args.parse(new String[0]).bootstrap()).as("start a broker").isNull();
        } finally {
            if (before == null) {
                System.clearProperty(SampleKafka.BOOTSTRAP_PROPERTY);
            } else {
                System.setProperty(SampleKafka.BOOTSTRAP_PROPERTY, before);
            }
        }
    }

    @Test
    void a_bootstrap_without_value_or_an_unknown_option_is_refused_with_what_to_give() {
        assertThatThrownBy(() -> SampleKafka.Args.parse(new String[]{"--bootstrap"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host:port");
        assertThatThrownBy(() -> SampleKafka.Args.parse(new String[]{"--bootstrap="}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host:port");
        assertThatThrownBy(() -> SampleKafka.Args.parse(new String[]{"--seed", "3"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--bootstrap");
    }

    @Test
    void reading_starts_after_the_offset_before_each_partitions_first_record() {
        SampleKafka.Produced produced = new SampleKafka.Produced("t", Map.of(0, 0L, 1, 7L, 2, 100L),
                Map.of(0, 3L, 1, 9L, 2, 100L), 8);

        assertThat(produced.startPositions()).isEqualTo(Map.of(1, 6L, 2, 99L));
        assertThat(produced.partitions()).containsExactly(0, 1, 2);
    }

    private static StreamElement<String, String> at(int partition, long offset) {
        return StreamRecord.of("k", "v" + offset, offset, Origin.of("t", partition, offset));
    }

    @Test
    void the_input_ends_once_every_partition_delivered_its_last_record_of_the_run() {
        SampleKafka.Produced produced = new SampleKafka.Produced("t", Map.of(0, 0L, 1, 5L), Map.of(0, 2L, 1, 6L), 5);
        DeadLetter<String, String> dead = new DeadLetter<>("raw", Origin.of("t", 1, 6), "kafka",
                new IllegalArgumentException("undecodable"));
        // a source that never ends by itself: more records come after the run's last ones
        Flux<StreamElement<String, String>> source = Flux.concat(
                Flux.just(at(0, 0), at(1, 5), at(0, 1), at(0, 2), at(0, 3), dead, at(1, 7)), Flux.never());

        List<StreamElement<String, String>> read = SampleKafka.untilLastRecord(source, produced).collectList()
                .block(java.time.Duration.ofSeconds(10));

        assertThat(read).containsExactly(at(0, 0), at(1, 5), at(0, 1), at(0, 2), at(0, 3), dead);
    }
}
