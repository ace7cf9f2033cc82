package io.streamflow.reactive.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The state file levels off at a small multiple of the live state under a checkpoint every 50 ms,
 * with the store's default settings: {@link StoreSizeDriver}'s pipeline, {@value #KEYS} keys
 * updated all over their state by every checkpoint, for {@value #RECORDS} records at up to
 * {@value #RATE} a second (six windows fire, each purging its state and sending {@value #KEYS}
 * results through the outbox). The file and the live pages in it are sampled every
 * {@value #SAMPLE_MILLIS} ms.
 * <p>
 * Over the second half of the run the file stays within {@value #LIVE_FACTOR} times the largest
 * live state plus {@value #CONSTANT_MB} MB, many times its size is written through it (its space is
 * reused), and it does not grow from the second to the last quarter. With MVStore's default
 * retention time of 45 s the file would hold all that a run this short writes.
 */
class StoreSizePlateauTest {

    static final int KEYS = 30_000;
    static final long RECORDS = 6L * StoreSizeDriver.PASSES * KEYS;
    /** Records per second at most, so that a fast machine still takes a hundred checkpoints or more. */
    static final long RATE = 60_000;
    static final long SAMPLE_MILLIS = 100;
    static final int LIVE_FACTOR = 4;
    static final int CONSTANT_MB = 4;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES) // 9 to 15 s on 2 cores
    void fileLevelsOffAtASmallMultipleOfTheLiveStateUnderShortCheckpointIntervals() throws Exception {
        StoreSizeDriver.Result r = StoreSizeDriver.run(dir, 50, Duration.ofMinutes(2), RECORDS, KEYS, RATE,
                SAMPLE_MILLIS, line -> { });
        List<StoreSizeDriver.Sample> samples = r.samples().stream().filter(s -> s.liveBytes() > 0).toList();
        int n = samples.size();
        List<StoreSizeDriver.Sample> second = samples.subList(n / 2, n);
        long maxFile = max(second, StoreSizeDriver.Sample::fileBytes);
        long maxLive = max(second, StoreSizeDriver.Sample::liveBytes);
        long maxFileQ2 = max(samples.subList(n / 4, n / 2), StoreSizeDriver.Sample::fileBytes);
        long maxFileQ4 = max(samples.subList(3 * n / 4, n), StoreSizeDriver.Sample::fileBytes);
        long written = samples.get(n - 1).written();
        System.out.printf("StoreSizePlateauTest: %s; second half: file max %.1f MB, live max %.1f MB; file max Q2 "
                        + "%.1f MB, Q4 %.1f MB; %d samples%n", r.summary(), maxFile / 1e6, maxLive / 1e6,
                maxFileQ2 / 1e6, maxFileQ4 / 1e6, n);

        assertThat(r.records()).as("records read").isEqualTo(RECORDS);
        assertThat(r.checkpoints()).as("checkpoints").isGreaterThanOrEqualTo(50);
        assertThat(n).as("samples with live pages").isGreaterThanOrEqualTo(20);
        assertThat(maxLive).as("live state at the plateau").isGreaterThan(KEYS * 20L);
        assertThat(maxFile).as("largest file in the second half vs %d x the largest live state + %d MB",
                LIVE_FACTOR, CONSTANT_MB).isLessThanOrEqualTo(LIVE_FACTOR * maxLive + ((long) CONSTANT_MB << 20));
        assertThat(written).as("bytes written vs the largest file in the second half").isGreaterThan(5 * maxFile);
        assertThat(maxFileQ4).as("largest file in the last quarter vs the second").isLessThanOrEqualTo(
                maxFileQ2 * 3 / 2 + (1 << 20));
    }

    private static long max(List<StoreSizeDriver.Sample> samples,
                            java.util.function.ToLongFunction<StoreSizeDriver.Sample> f) {
        return samples.stream().mapToLong(f).max().orElse(0);
    }
}
