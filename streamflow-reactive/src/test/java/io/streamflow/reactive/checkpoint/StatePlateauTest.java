package io.streamflow.reactive.checkpoint;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.KeyedOperators;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.internal.store.CheckpointStore;
import io.streamflow.reactive.internal.store.DurableStateBackend;
import io.streamflow.reactive.window.AggregateFunction;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * State TTL and window purge keep the store bounded: a steady stream of new keys goes through a
 * deduplication with a state TTL and a keyed tumbling window, with a checkpoint every
 * {@value #KEYS_PER_CHECKPOINT} keys and the store's default settings. Each key has
 * {@value #RECORDS_PER_KEY} records (duplicates) in one millisecond of event time and never appears
 * again; its id stays in the deduplication state for the TTL ({@value #TTL_MILLIS} ms: the ids of
 * {@value #TTL_CHECKPOINTS} checkpoints), its {@value #PAYLOAD_CHARS}-char payload in the window
 * state until its window fires.
 * <p>
 * The live entries of both operators must stay at what the key rate and the TTL / window size
 * allow, and the state file (sampled after each checkpoint) must level off: its mean size over the
 * second half of the run at most 1.3 times that from an eighth to half of the run, its peak at
 * most 1.25 times the first half's, and at least ten times its largest size written into
 * it. With state that does not expire, the entries and the file keep growing. Since the working
 * set is cached on the heap, most window payloads are created and purged between two checkpoints
 * and never reach the file, so the file stays bounded by the reuse of freed chunks alone (it did
 * the same with compaction switched off). The sizes and bytes written are printed.
 */
class StatePlateauTest {

    static final int RECORDS_PER_KEY = 2;
    /** One new key per millisecond of event time. */
    static final long KEYS_PER_CHECKPOINT = 1_000;
    static final long WINDOW_MILLIS = 1_000;
    static final int TTL_CHECKPOINTS = 30;
    static final long TTL_MILLIS = TTL_CHECKPOINTS * KEYS_PER_CHECKPOINT;
    static final int CHECKPOINTS = 640;
    static final long KEYS = CHECKPOINTS * KEYS_PER_CHECKPOINT;
    static final int PAYLOAD_CHARS = 1_000;
    static final String DEDUP = "dedup";
    static final String WINDOWS = "windows";

    @TempDir
    Path dir;

    @BeforeEach
    void countWrites() {
        // the disk-full file system with a budget that never runs out counts what is written
        DiskFullFileSystem.register();
        DiskFullFileSystem.budget.set(PLENTY);
        CheckpointStore.useFileSystem(DiskFullFileSystem.SCHEME);
    }

    @AfterEach
    void reset() {
        CheckpointStore.useFileSystem(null);
        DiskFullFileSystem.budget.set(Long.MAX_VALUE);
    }

    /** Window accumulator: records in the window and the first one's payload. */
    record Acc(long count, String payload) {
    }

    static final class KeepFirst implements AggregateFunction<String, Acc, Acc> {
        @Override
        public Acc createAccumulator() {
            return new Acc(0, null);
        }

        @Override
        public Acc add(Acc acc, String value) {
            return new Acc(acc.count() + 1, acc.payload() == null ? value : acc.payload());
        }

        @Override
        public Acc merge(Acc a, Acc b) {
            throw new UnsupportedOperationException("not used by tumbling windows");
        }

        @Override
        public Acc result(Acc acc) {
            return acc;
        }
    }

    /** Record {@code n}: key {@code n / RECORDS_PER_KEY}, at that many milliseconds, with a payload. */
    static StreamRecord<String, String> record(long n) {
        long key = n / RECORDS_PER_KEY;
        SplittableRandom rnd = new SplittableRandom(key);
        byte[] b = new byte[PAYLOAD_CHARS];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) ('a' + rnd.nextInt(26));
        }
        return StreamRecord.of("k" + key, new String(b, StandardCharsets.ISO_8859_1), key, Origin.of("gen", 0, n));
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES) // about 15 s on 2 cores
    void liveEntriesAndFileSizeLevelOffUnderASteadyStreamOfNewKeys() throws Exception {
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");
        long records = KEYS * RECORDS_PER_KEY;
        long every = KEYS_PER_CHECKPOINT * RECORDS_PER_KEY;
        List<long[]> samples = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ZERO).pipeline("plateau")
                .open()) {
            Function<Map<Integer, Long>, Flux<StreamRecord<String, String>>> generator =
                    Checkpointing.resumeGenerator(records, StatePlateauTest::record);
            OperatorSettings settings = OperatorSettings.named(DEDUP).withStateBackend(cp.stateBackend());
            EventStream.of(cp.source("gen", positions -> generator.apply(positions).doOnNext(r -> {
                                long n = r.origin().position();
                                if (n % every == every - 1 && n < records - 1) {
                                    // a checkpoint after this record (never blocks); once it is durable,
                                    // on the sink's worker: the file size and what was written so far
                                    cp.checkpointNow().subscribe(id -> samples.add(new long[]{id,
                                            sizeOf(checkpoints.resolve(CheckpointStore.FILE)),
                                            written()}));
                                }
                            }),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ZERO)))
                    .settings(settings)
                    .transform(KeyedOperators.<String, String, String>deduplicate(StreamRecord::key,
                            Duration.ofMillis(TTL_MILLIS), settings))
                    .window(Windows.tumbling(Duration.ofMillis(WINDOW_MILLIS)))
                    .name(WINDOWS)
                    .aggregate(new KeepFirst())
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output), StatePlateauTest::format))
                    .block(Duration.ofMinutes(2));
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        long written = written();
        long finalSize = Files.size(checkpoints.resolve(CheckpointStore.FILE));

        // per checkpoint (in id order, one sample per id): file size and bytes written so far
        TreeMap<Long, long[]> byId = new TreeMap<>();
        synchronized (samples) {
            for (long[] x : samples) {
                byId.put(x[0], x);
            }
        }
        List<Long> sizes = byId.values().stream().map(x -> x[1]).toList();
        List<Long> writtenSoFar = byId.values().stream().map(x -> x[2]).toList();
        int n = sizes.size();
        long maxFirstHalf = max(sizes.subList(0, n / 2));
        long maxSecondHalf = max(sizes.subList(n / 2, n));
        double meanFirstHalf = mean(sizes.subList(n / 8, n / 2));
        double meanSecondHalf = mean(sizes.subList(n / 2, n));
        double writtenPerCheckpoint = (double) (writtenSoFar.get(n - 1) - writtenSoFar.get(n / 2)) / (n - 1 - n / 2);

        // the live entries of the last (up to) 100 checkpoints, which the store keeps records of
        List<CheckpointInfo> list = Checkpointing.list(checkpoints);
        String dedupMap = DurableStateBackend.stateMapName(DEDUP, "seen");
        List<Long> dedup = new ArrayList<>();
        List<Long> windows = new ArrayList<>();
        for (CheckpointInfo c : list) {
            dedup.add(c.stateEntries().getOrDefault(dedupMap, 0L));
            windows.add(c.stateEntries().entrySet().stream()
                    .filter(e -> e.getKey().startsWith("state/" + WINDOWS + "/"))
                    .mapToLong(Map.Entry::getValue).sum());
        }
        System.out.printf("StatePlateauTest: %d keys, %d records, %d checkpoints in %d ms; dedup entries max %d, "
                        + "window entries max %d (last %d checkpoints); file mean from n/8 to n/2 %.0f, second half %.0f "
                        + "(%.2fx), max first half %d, second half %d, final %d bytes; written %d bytes (%.1fx the largest "
                        + "file of the second half), %.0f per checkpoint in the second half%n",
                KEYS, records, n, millis, max(dedup), max(windows), list.size(), meanFirstHalf, meanSecondHalf,
                meanSecondHalf / meanFirstHalf, maxFirstHalf, maxSecondHalf, finalSize, written,
                (double) written / maxSecondHalf, writtenPerCheckpoint);
        System.out.println("StatePlateauTest: file sizes (KB) per checkpoint "
                + sizes.stream().map(x -> x / 1024).toList());

        assertThat(n).as("checkpoints sampled").isGreaterThanOrEqualTo(CHECKPOINTS * 3 / 4);
        assertThat(list).as("checkpoint records kept").hasSizeGreaterThanOrEqualTo(Math.min(100, n / 2));
        // the deduplication holds the ids of the last TTL (one key per ms), the windows at most the
        // keys of the window being filled and of one that is due to fire
        assertThat(max(dedup)).as("deduplication entries (TTL %d ms, %d keys in all) %s", TTL_MILLIS, KEYS, dedup)
                .isPositive().isLessThanOrEqualTo(TTL_MILLIS * 5 / 4);
        assertThat(max(windows)).as("window entries (window %d ms) %s", WINDOW_MILLIS, windows)
                .isPositive().isLessThanOrEqualTo(2 * WINDOW_MILLIS);
        // the file levels off. It saw-tooths (between 2-4 MB and 10-12 MB in the first half) as
        // MVStore reuses the space of freed chunks and gives back the end of the file, with cycles of
        // 30 to 100 checkpoints, so quartiles of a quarter depend on where the cycles fall (a bound
        // on them failed a third of the runs): the bounds are on the mean and the peak over halves.
        // With the TTL, the second half's mean was 0.51-0.56 times that from n/8 to n/2 and its peak
        // 0.38-0.49 times the first half's (four runs); with ids kept for ever (a TTL of a day),
        // 1.68-1.85 and 1.51-1.58 (two runs).
        assertThat((double) meanSecondHalf).as("mean file size in the second half vs checkpoints n/8 to n/2")
                .isPositive().isLessThanOrEqualTo(meanFirstHalf * 1.3);
        assertThat(maxSecondHalf).as("largest file size in the second half vs the first half")
                .isLessThanOrEqualTo(maxFirstHalf * 5 / 4);
        assertThat(finalSize).as("final file size vs the first half's largest").isLessThanOrEqualTo(maxFirstHalf * 5 / 4);
        // ... and many times its size went through it
        assertThat(written).as("bytes written to the state file vs its largest size in the last quarter")
                .isGreaterThanOrEqualTo(10 * maxSecondHalf);

        // the state was right: one result per key, with the duplicate dropped
        Set<String> expected = new HashSet<>();
        for (long k = 0; k < KEYS; k++) {
            expected.add("k" + k + "," + Math.floorDiv(k, WINDOW_MILLIS) * WINDOW_MILLIS + ",1," + PAYLOAD_CHARS);
        }
        List<String> lines = outputLines(output);
        List<String> unexpected = lines.stream().filter(l -> !expected.remove(l)).limit(10).toList();
        assertThat(unexpected).as("window results not in the model, or delivered twice (first 10)").isEmpty();
        assertThat(expected).as("window results missing: %d", expected.size()).isEmpty();
        assertThat(lines).hasSize((int) KEYS);
    }

    static String format(StreamRecord<String, WindowResult<String, Acc>> r) {
        WindowResult<String, Acc> w = r.value();
        return w.key() + "," + w.start() + "," + w.value().count() + "," + w.value().payload().length();
    }

    private static List<String> outputLines(Path output) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> parts = Files.list(output)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                lines.addAll(Files.readAllLines(part, StandardCharsets.UTF_8));
            }
        }
        return lines;
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double mean(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).average().orElse(0);
    }

    private static long max(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private static final long PLENTY = Long.MAX_VALUE / 2;

    /** @return bytes written to the state file since the test began */
    private static long written() {
        return PLENTY - DiskFullFileSystem.budget.get();
    }
}
