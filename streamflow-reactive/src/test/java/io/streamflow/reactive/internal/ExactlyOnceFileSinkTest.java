package io.streamflow.reactive.internal;

import io.streamflow.reactive.OutboxSink.Delivery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ExactlyOnceFileSinkTest {

    @TempDir
    Path dir;

    private static Delivery delivery(long id, long records) {
        return new Delivery(id, Map.of("file:in.txt", Map.of(0, 100 * id, 3, 7L), "other source", Map.of(1, -1L)),
                records, 0xfedcba9876543210L + id, id == 9);
    }

    @Test
    void aDeliveryRecordIsReadBackAsItWasWritten() throws IOException {
        ExactlyOnceFileSink sink = new ExactlyOnceFileSink(dir);
        sink.deliver(delivery(3, 2), List.of("a", "b"));
        sink.deliver(delivery(9, 1), List.of("c"));
        sink.deliver(delivery(4, 0), List.of()); // nothing to deliver: no part, no record
        assertThat(sink.deliveries()).contains(List.of(delivery(3, 2), delivery(9, 1)));
        assertThat(Files.readAllLines(dir.resolve(ExactlyOnceFileSink.partName(3)))).containsExactly("a", "b");
        assertThat(ExactlyOnceFileSink.decode(ExactlyOnceFileSink.encode(delivery(5, 1)))).isEqualTo(delivery(5, 1));
    }

    @Test
    void aRecordWithoutItsPartIsADeliveryThatDidNotFinishAndLeftoverTemporaryFilesGo() throws IOException {
        ExactlyOnceFileSink sink = new ExactlyOnceFileSink(dir);
        sink.deliver(delivery(3, 1), List.of("a"));
        Files.delete(dir.resolve(ExactlyOnceFileSink.partName(3)));
        Files.writeString(dir.resolve("." + ExactlyOnceFileSink.partName(5) + ".tmp"), "half");
        Files.writeString(dir.resolve("." + ExactlyOnceFileSink.recordName(5) + ".tmp"), "half");
        assertThat(sink.deliveries()).contains(List.of());
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .containsExactly(ExactlyOnceFileSink.recordName(3));
        }
    }

    @Test
    void aPartWithoutADeliveryRecordOrADamagedRecordIsAClearError() throws IOException {
        ExactlyOnceFileSink sink = new ExactlyOnceFileSink(dir);
        sink.deliver(7, List.of("written without a record"));
        assertThatThrownBy(sink::deliveries).isInstanceOf(IOException.class)
                .hasMessageContaining("has no delivery record").hasMessageContaining("Move it out of");
        Files.delete(dir.resolve(ExactlyOnceFileSink.partName(7)));
        sink.deliver(delivery(8, 1), List.of("x"));
        Path record = dir.resolve(ExactlyOnceFileSink.recordName(8));
        Files.writeString(record, Files.readString(record).replace("\nend", ""));
        assertThatThrownBy(sink::deliveries).isInstanceOf(IOException.class).hasMessageContaining("cannot be read");
    }

    @Test
    void aRecordCountThatDoesNotMatchTheLinesIsRefused() {
        ExactlyOnceFileSink sink = new ExactlyOnceFileSink(dir);
        assertThatThrownBy(() -> sink.deliver(delivery(2, 3), List.of("a")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("says 3 records but has 1");
    }
}
