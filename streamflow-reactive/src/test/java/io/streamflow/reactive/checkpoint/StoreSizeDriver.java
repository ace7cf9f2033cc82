package io.streamflow.reactive.checkpoint;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamflow.reactive.Checkpointing;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.internal.store.CheckpointStore;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import org.h2.mvstore.Chunk;
import org.h2.mvstore.FileStore;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Measures the state file's size against the live state it holds, for one checkpoint interval,
 * with the store's default settings. The pipeline: a generator of readings for {@code keys} string
 * keys (each block of {@code keys} records has every key once, in a scattered order; one millisecond
 * of event time per record) → a keyed tumbling window of {@value #PASSES} × {@code keys} ms with
 * count and sum per key → exactly-once part files. So the window state holds about {@code keys}
 * entries, each checkpoint updates entries all over it, and every {@value #PASSES} blocks a window
 * fires ({@code keys} results through the outbox) and its state is purged.
 * <p>
 * Every {@value #SAMPLE_MILLIS} ms it prints one line: seconds, checkpoints completed, state
 * entries, file size, the bytes of the store's chunks, the live bytes in them (each chunk's length
 * times the share of its pages that the newest version still uses, as MVStore counts them), the
 * bytes written to the file so far, and file size / live bytes. The chunks are read from the open
 * store (reached by reflection: this is test code). At the end it prints a summary line over the
 * second half of the run (the plateau).
 * <p>
 * Arguments: checkpoint interval in ms, run time in s, keys (default 100000), records per second
 * (default 10000; 0: as fast as it goes), directory (default: a new temporary one, deleted at the
 * end). Run it alone: it writes up to 20 MB/s to the disk.
 * <pre>
 * mvn -B -q -pl streamflow-reactive -am test-compile
 * mvn -B -q -pl streamflow-reactive exec:java -Dexec.skip=false -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.streamflow.reactive.checkpoint.StoreSizeDriver -Dexec.args="50 90 100000 10000"
 * </pre>
 */
public final class StoreSizeDriver {

    static final int PASSES = 3;
    static final long SAMPLE_MILLIS = 1_000;
    static final long STRIDE = 7_919;

    private StoreSizeDriver() {
    }

    /** One sample of the store. */
    record Sample(double seconds, long checkpoints, long fileBytes, long chunkBytes, long liveBytes, long entries,
                  long written) {
        double ratio() {
            return liveBytes == 0 ? 0 : (double) fileBytes / liveBytes;
        }
    }

    /** Result of a run: the samples and the summary over its second half. */
    record Result(long intervalMillis, List<Sample> samples, long records, long checkpoints, double seconds) {

        List<Sample> secondHalf() {
            return samples.subList(samples.size() / 2, samples.size());
        }

        long maxFile() {
            return secondHalf().stream().mapToLong(Sample::fileBytes).max().orElse(0);
        }

        long meanLive() {
            return (long) secondHalf().stream().mapToLong(Sample::liveBytes).average().orElse(0);
        }

        long maxLive() {
            return secondHalf().stream().mapToLong(Sample::liveBytes).max().orElse(0);
        }

        double writtenPerSecond() {
            List<Sample> h = secondHalf();
            Sample a = h.get(0);
            Sample b = h.get(h.size() - 1);
            return b.seconds() == a.seconds() ? 0 : (b.written() - a.written()) / (b.seconds() - a.seconds());
        }

        String summary() {
            return String.format("summary interval=%dms records=%d checkpoints=%d seconds=%.0f live(mean)=%.1fMB "
                            + "live(max)=%.1fMB file(max)=%.1fMB ratio(max file/mean live)=%.1f written/s=%.1fMB",
                    intervalMillis, records, checkpoints, seconds, meanLive() / 1e6, maxLive() / 1e6, maxFile() / 1e6,
                    meanLive() == 0 ? 0 : (double) maxFile() / meanLive(), writtenPerSecond() / 1e6);
        }
    }

    public static void main(String[] args) throws Exception {
        long interval = Long.parseLong(args[0]);
        long seconds = Long.parseLong(args[1]);
        int keys = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
        long rate = args.length > 3 ? Long.parseLong(args[3]) : 10_000;
        Path dir = args.length > 4 ? Path.of(args[4]) : Files.createTempDirectory("store-size");
        try {
            Result r = run(dir, interval, Duration.ofSeconds(seconds), Long.MAX_VALUE, keys, rate, SAMPLE_MILLIS,
                    System.out::println);
            System.out.println(r.summary());
        } finally {
            if (args.length <= 4) {
                deleteTree(dir);
            }
        }
    }

    /** Record {@code n}: one of {@code keys} keys, spread so that every block of {@code keys} records has each once. */
    static StreamRecord<String, Long> record(long n, int keys) {
        long k = Math.floorMod(n * STRIDE, keys);
        return StreamRecord.of("user-" + String.format("%07d", k), n % 100, n, Origin.of("readings", 0, n));
    }

    /**
     * Runs the pipeline in {@code dir} until {@code wallTime} has passed or {@code maxRecords} were
     * read, sampling the store every {@code sampleMillis}; each sample is also given to {@code log}
     * as a line.
     */
    static Result run(Path dir, long intervalMillis, Duration wallTime, long maxRecords, int keys, long ratePerSecond,
                      long sampleMillis, java.util.function.Consumer<String> log) throws Exception {
        DiskFullFileSystem.register();
        long start = DiskFullFileSystem.written();
        CheckpointStore.useFileSystem(DiskFullFileSystem.SCHEME);
        Path checkpoints = dir.resolve("ck");
        Path output = dir.resolve("out");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<Sample> samples = new ArrayList<>();
        long t0 = System.nanoTime();
        long deadline = t0 + wallTime.toNanos();
        AtomicBoolean running = new AtomicBoolean(true);
        long[] read = new long[1];
        try (Checkpointing cp = Checkpointing.builder(checkpoints).interval(Duration.ofMillis(intervalMillis))
                .pipeline("store-size").meterRegistry(registry).open()) {
            CheckpointStore store = storeOf(cp);
            Thread sampler = new Thread(() -> {
                while (running.get()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(sampleMillis));
                    if (!running.get()) {
                        break;
                    }
                    Sample s = sample(store, checkpoints, registry, (System.nanoTime() - t0) / 1e9,
                            DiskFullFileSystem.written() - start);
                    synchronized (samples) {
                        samples.add(s);
                    }
                    log.accept(String.format("t=%5.1fs checkpoints=%5d entries=%7d file=%7.1fMB chunks=%7.1fMB "
                                    + "live=%5.1fMB written=%8.1fMB file/live=%5.1f", s.seconds(), s.checkpoints(),
                            s.entries(), s.fileBytes() / 1e6, s.chunkBytes() / 1e6, s.liveBytes() / 1e6,
                            s.written() / 1e6, s.ratio()));
                }
            }, "store-size-sampler");
            sampler.setDaemon(true);
            sampler.start();
            Function<Map<Integer, Long>, Flux<StreamRecord<String, Long>>> generator =
                    Checkpointing.resumeGenerator(-1, n -> record(n, keys));
            EventStream.of(cp.source("readings", positions -> generator.apply(positions)
                                    .takeWhile(r -> r.origin().position() < maxRecords && System.nanoTime() < deadline)
                                    .doOnNext(r -> {
                                        long n = ++read[0];
                                        if (ratePerSecond > 0 && n % 256 == 0) {
                                            long due = t0 + n * 1_000_000_000L / ratePerSecond;
                                            long ahead = due - System.nanoTime();
                                            if (ahead > 0) {
                                                LockSupport.parkNanos(ahead);
                                            }
                                        }
                                    }),
                            WatermarkStrategy.<String, Long>forBoundedOutOfOrderness(Duration.ZERO)))
                    .settings(OperatorSettings.named("readings").withStateBackend(cp.stateBackend()))
                    .window(Windows.tumbling(Duration.ofMillis((long) PASSES * keys)))
                    .name("per-user")
                    .aggregate(Aggregations.<Long>countAndSum(v -> v))
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output), StoreSizeDriver::format))
                    .block();
            running.set(false);
            sampler.join();
        } finally {
            running.set(false);
            CheckpointStore.useFileSystem(null);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double count = registry.find("streamflow.checkpoints").tag("result", "completed").counter().count();
        return new Result(intervalMillis, List.copyOf(samples), read[0], (long) count, secs);
    }

    static String format(StreamRecord<String, WindowResult<String, Aggregations.CountAndSum>> r) {
        WindowResult<String, Aggregations.CountAndSum> w = r.value();
        return w.key() + "," + w.start() + "," + w.value().count() + "," + w.value().sum();
    }

    /** The open store of {@code cp}, for sampling its chunks (test code: reached by reflection). */
    static CheckpointStore storeOf(Checkpointing cp) throws ReflectiveOperationException {
        java.lang.reflect.Field f = Checkpointing.class.getDeclaredField("store");
        f.setAccessible(true);
        return (CheckpointStore) f.get(cp);
    }

    static Sample sample(CheckpointStore cs, Path checkpoints, SimpleMeterRegistry registry, double seconds,
                         long written) {
        long chunkBytes = 0;
        double liveBytes = 0;
        long entries = 0;
        try {
            for (Chunk<?> c : chunksOf(cs.backend().store().getFileStore())) {
                long len = (long) c.len * 4096; // MVStore's block size
                chunkBytes += len;
                liveBytes += c.maxLen == 0 ? 0 : (double) len * c.maxLenLive / c.maxLen;
            }
            for (Map.Entry<String, Long> e : cs.backend().stateSizes().entrySet()) {
                entries += e.getValue();
            }
        } catch (RuntimeException | ReflectiveOperationException closing) {
            // the store closed meanwhile: a sample without chunk figures
        }
        long size;
        try {
            size = Files.size(checkpoints.resolve(CheckpointStore.FILE));
        } catch (IOException e) {
            size = -1;
        }
        double count = registry.find("streamflow.checkpoints").tag("result", "completed").counter().count();
        return new Sample(seconds, (long) count, size, chunkBytes, (long) liveBytes, entries, written);
    }

    /** The store's chunks as it holds them in memory (test code: reached by reflection). */
    @SuppressWarnings("unchecked")
    static java.util.Collection<Chunk<?>> chunksOf(FileStore<?> fs) throws ReflectiveOperationException {
        java.lang.reflect.Method m = FileStore.class.getDeclaredMethod("getChunks");
        m.setAccessible(true);
        return new ArrayList<>(((Map<Integer, Chunk<?>>) m.invoke(fs)).values());
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
