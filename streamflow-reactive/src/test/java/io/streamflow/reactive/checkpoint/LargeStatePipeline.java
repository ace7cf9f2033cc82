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

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The pipeline of {@link LargerThanHeapTest}, run in a child JVM with a small heap: a generator
 * source → a running aggregate per key with no state TTL, whose accumulator holds a large string
 * → exactly-once part files with lines {@code "key,count,payloadLength,payloadHash"}.
 * <p>
 * Records {@code 0 .. keys - 1} each bring a new key {@code "k" + n} with a payload of
 * {@code payloadChars} pseudo-random letters, which the accumulator keeps. Records from
 * {@code keys} on are updates of old keys ({@link #updatedKey}) with a short value: the accumulator
 * keeps its stored payload and counts on, so their output depends on the state restored from disk.
 * Checkpoints are taken only when the uncommitted state passes {@code maxUncommittedBytes}
 * (default: an eighth of the heap) and at the end.
 * <p>
 * Arguments: checkpoint directory, output directory, source record count, keys, payload chars and,
 * optionally, {@code maxUncommittedBytes} (default: the builder's).
 * Prints {@code report <name> <value>} lines (heap, checkpoints, state entries, file size), then
 * {@code done}.
 */
public final class LargeStatePipeline {

    /** Multiplier that spreads the updates over the whole key range (coprime with the key counts used). */
    static final long STRIDE = 7_919;
    static final String OPERATOR = "large";

    private LargeStatePipeline() {
    }

    /** Accumulator: records seen for the key and the payload of its first record. */
    record Big(long count, String payload) {
    }

    /** Keeps the first value as payload and counts records; the result is {@code "count,length,hash"}. */
    static final class KeepFirst implements AggregateFunction<String, Big, String> {
        @Override
        public Big createAccumulator() {
            return new Big(0, null);
        }

        @Override
        public Big add(Big acc, String value) {
            return new Big(acc.count() + 1, acc.payload() == null ? value : acc.payload());
        }

        @Override
        public Big merge(Big a, Big b) {
            throw new UnsupportedOperationException("not used by a running aggregate");
        }

        @Override
        public String result(Big acc) {
            return acc.count() + "," + acc.payload().length() + "," + acc.payload().hashCode();
        }
    }

    /** @return the key index that record {@code n >= keys} updates */
    static long updatedKey(long n, long keys) {
        return Math.floorMod((n - keys) * STRIDE, keys);
    }

    /** @return the payload of key index {@code k}: {@code chars} pseudo-random letters */
    static String payload(long k, int chars) {
        SplittableRandom rnd = new SplittableRandom(k * 0x9E3779B97F4A7C15L);
        byte[] b = new byte[chars];
        for (int i = 0; i < chars; i++) {
            b[i] = (byte) ('a' + rnd.nextInt(26));
        }
        return new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    static StreamRecord<String, String> record(long n, long keys, int chars) {
        String key;
        String value;
        if (n < keys) {
            key = "k" + n;
            value = payload(n, chars);
        } else {
            key = "k" + updatedKey(n, keys);
            value = "u" + n;
        }
        return StreamRecord.of(key, value, n, Origin.of("gen", 0, n));
    }

    public static void main(String[] args) throws IOException {
        Path checkpoints = Path.of(args[0]);
        Path output = Path.of(args[1]);
        long count = Long.parseLong(args[2]);
        long keys = Long.parseLong(args[3]);
        int chars = Integer.parseInt(args[4]);
        long t0 = System.nanoTime();
        Checkpointing.Builder builder = Checkpointing.builder(checkpoints).interval(Duration.ZERO)
                .pipeline("large-state");
        if (args.length > 5) {
            builder.maxUncommittedBytes(Long.parseLong(args[5]));
        }
        try (Checkpointing cp = builder.open()) {
            report("restoredPosition", cp.restored().map(i -> i.positions().get("gen").get(0)).orElse(-1L));
            EventStream.of(cp.source("gen", Checkpointing.resumeGenerator(count, n -> record(n, keys, chars)),
                            WatermarkStrategy.<String, String>forBoundedOutOfOrderness(Duration.ZERO)))
                    .transform(KeyedOperators.<String, String, Big, String>runningAggregate(new KeepFirst(), null,
                            OperatorSettings.named(OPERATOR).withStateBackend(cp.stateBackend())))
                    .elements()
                    .as(cp.sink(StreamSinks.exactlyOnceFiles(output), r -> r.key() + "," + r.value()))
                    .block();
        }
        List<CheckpointInfo> list = Checkpointing.list(checkpoints);
        CheckpointInfo last = list.get(list.size() - 1);
        long entries = last.stateEntries().getOrDefault(DurableStateBackend.stateMapName(OPERATOR, "running"), 0L);
        long peakHeap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                peakHeap += pool.getPeakUsage().getUsed();
            }
        }
        System.out.println("info stateEntries " + last.stateEntries());
        report("maxMemory", Runtime.getRuntime().maxMemory());
        report("peakHeapPoolsSum", peakHeap);
        report("lastCheckpoint", last.id());
        report("lastPosition", last.positions().get("gen").get(0));
        report("stateEntries", entries);
        report("fileBytes", Files.size(checkpoints.resolve(CheckpointStore.FILE)));
        report("millis", (System.nanoTime() - t0) / 1_000_000);
        System.out.println("done");
        System.out.flush();
    }

    private static void report(String name, long value) {
        System.out.println("report " + name + " " + value);
        System.out.flush();
    }
}
