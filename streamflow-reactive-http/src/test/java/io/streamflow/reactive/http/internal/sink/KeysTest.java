package io.streamflow.reactive.http.internal.sink;

import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Idempotency keys are deterministic and never stand for two different results. */
class KeysTest {

    private static byte[] json(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldGiveTheSameResultOfTheSameCheckpointTheSameKeyAndADifferentResultAnother() {
        String k = Keys.ofCheckpoint("kv", 12, 3, "{\"n\":3}");
        assertThat(Keys.ofCheckpoint("kv", 12, 3, "{\"n\":3}")).isEqualTo(k);
        assertThat(k).matches("kv:cp:12:3:[0-9a-f]{16}");
        // a checkpoint id reused after a fallback, with other output at that index: another key
        assertThat(Keys.ofCheckpoint("kv", 12, 3, "{\"n\":4}")).isNotEqualTo(k);
        assertThat(Keys.ofCheckpoint("kv", 12, 4, "{\"n\":3}")).isNotEqualTo(k);
        assertThat(Keys.ofCheckpoint("kv2", 12, 3, "{\"n\":3}")).isNotEqualTo(k);
    }

    @Test
    void shouldKeyARecordByItsOriginAndContent() {
        StreamRecord<String, Integer> r = StreamRecord.of("a", 1, 10L, Origin.of("orders", 2, 99));
        String k = Keys.ofRecord("kv", r, json("1"));
        assertThat(k).matches("kv:orders:2:99:[0-9a-f]{16}");
        assertThat(Keys.ofRecord("kv", r, json("1"))).isEqualTo(k);
        assertThat(Keys.ofRecord("kv", r.withKey("b"), json("1"))).isNotEqualTo(k);
        assertThat(Keys.ofRecord("kv", r.withTimestamp(11L), json("1"))).isNotEqualTo(k);
        assertThat(Keys.ofRecord("kv", r, json("2"))).isNotEqualTo(k);
        assertThat(Keys.ofRecord("kv", StreamRecord.of("a", 1, 10L, Origin.of("counts", 0, -1)), json("1")))
                .matches("kv:counts:0:-:[0-9a-f]{16}");
    }

    @Test
    void shouldMakeABatchKeyFitForAHeader() {
        String k = Keys.ofBatch("kv ä", List.of("a", "b"));
        assertThat(k).matches("kv%20%C3%A4:batch:[0-9a-f]{16}");
        assertThat(Keys.ofBatch("kv ä", List.of("a", "b"))).isEqualTo(k);
        assertThat(Keys.ofBatch("kv ä", List.of("b", "a"))).isNotEqualTo(k);
    }
}
