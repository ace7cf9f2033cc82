package io.streamflow.reactive.kafka;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.kafka.internal.PollLoop;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A deliberately slow reader of a large backlog, run by {@link KafkaSourceBurstTest} in a JVM with
 * a small heap: a {@link KafkaSource} subscribed in a group, whose subscriber asks for
 * {@value #BATCH} records at a time and takes a pause after each batch, far slower than the
 * consumer fetches. It checks every record as it comes (partition by partition, offsets 0, 1, 2,
 * ... with no gap and no repeat, each value naming its own partition and offset) and watches the
 * poll loop every few milliseconds: paused partitions, buffered records, the assigned partitions
 * and the heap in use (garbage included).
 * <p>
 * It prints one {@code report key=value ...} line at the end and exits 0, or prints
 * {@code failed <why>} and exits 1 at the first wrong record or lost partition. An
 * {@link OutOfMemoryError} ends the JVM, given {@code -XX:+ExitOnOutOfMemoryError}.
 * <p>
 * Arguments: bootstrap servers, topic, partitions, records per partition, bufferPerPartition,
 * max.poll.records, max.poll.interval.ms, pause after each batch in ms.
 */
public final class KafkaBurstReader {

    static final int BATCH = 16;

    private KafkaBurstReader() {
    }

    /** The value of record {@code offset} of partition {@code partition}: its coordinates, then padding. */
    static byte[] value(int partition, long offset, int size) {
        byte[] v = new byte[size];
        byte[] head = (partition + "@" + offset + "|").getBytes(StandardCharsets.UTF_8);
        System.arraycopy(head, 0, v, 0, head.length);
        for (int i = head.length; i < size; i++) {
            v[i] = (byte) ('a' + (i + offset) % 26);
        }
        return v;
    }

    public static void main(String[] args) throws InterruptedException {
        String servers = args[0];
        String topic = args[1];
        int partitions = Integer.parseInt(args[2]);
        long perPartition = Long.parseLong(args[3]);
        int bufferPerPartition = Integer.parseInt(args[4]);
        int maxPollRecords = Integer.parseInt(args[5]);
        int maxPollInterval = Integer.parseInt(args[6]);
        long pauseMillis = Long.parseLong(args[7]);

        Map<String, Object> props = new HashMap<>();
        props.put("bootstrap.servers", servers);
        props.put("group.id", "burst-reader");
        props.put("auto.offset.reset", "earliest");
        props.put("max.poll.records", maxPollRecords);
        props.put("max.poll.interval.ms", maxPollInterval);
        AtomicReference<PollLoop<byte[], byte[]>> loop = new AtomicReference<>();
        long[] next = new long[partitions];
        AtomicLong received = new AtomicLong();
        AtomicReference<String> failure = new AtomicReference<>();
        BaseSubscriber<StreamElement<byte[], byte[]>> slow = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                // nothing asked for yet: the partitions fill their buffers and pause
            }

            @Override
            protected void hookOnNext(StreamElement<byte[], byte[]> e) {
                if (e instanceof DeadLetter<?, ?> d) {
                    failure.compareAndSet(null, "dead letter at " + d.origin() + ": " + d.error());
                    return;
                }
                StreamRecord<byte[], byte[]> r = (StreamRecord<byte[], byte[]>) e;
                int p = r.origin().partition();
                long o = r.origin().position();
                String head = new String(r.value(), 0, Math.min(24, r.value().length), StandardCharsets.UTF_8);
                if (p < 0 || p >= partitions || o != next[p] || !head.startsWith(p + "@" + o + "|")) {
                    failure.compareAndSet(null, "record " + p + "@" + o + " (value " + head + ") where "
                            + (p >= 0 && p < partitions ? p + "@" + next[p] : "no partition") + " was due");
                    return;
                }
                next[p]++;
                received.incrementAndGet();
            }

            @Override
            protected void hookOnError(Throwable t) {
                failure.compareAndSet(null, "the source failed: " + t);
            }
        };
        KafkaSource.bytes(props).topic(topic).bufferPerPartition(bufferPerPartition).flux(null, loop::set)
                .subscribe(slow);

        // nothing asked for yet: every partition fetches, buffers and is paused
        long joinDeadline = System.nanoTime() + 2L * 60 * 1_000_000_000L;
        while (loop.get().pausedPartitions().size() < partitions) {
            if (System.nanoTime() > joinDeadline) {
                fail("the partitions were not all paused within 2 minutes while nothing was requested: "
                        + loop.get().pausedPartitions());
            }
            Thread.sleep(10);
        }
        long total = partitions * perPartition;
        long started = System.nanoTime();
        long samples = 0;
        long pausedSamples = 0;
        int maxPaused = 0;
        int maxBuffered = 0;
        long peakHeapUsed = 0;
        boolean everAssignedAll = false;
        String lostPartitions = null;
        long deadline = started + 10L * 60 * 1_000_000_000L;
        while (received.get() < total && failure.get() == null && System.nanoTime() < deadline) {
            slow.request(BATCH);
            // a reader slow in wall-clock time, on purpose: a real consumer and a real broker run meanwhile
            Thread.sleep(pauseMillis);
            PollLoop<byte[], byte[]> l = loop.get();
            Set<Integer> paused = l.pausedPartitions();
            Set<Integer> assigned = l.assignedPartitions();
            samples++;
            pausedSamples += paused.isEmpty() ? 0 : 1;
            maxPaused = Math.max(maxPaused, paused.size());
            maxBuffered = Math.max(maxBuffered, l.buffered());
            peakHeapUsed = Math.max(peakHeapUsed, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            if (assigned.size() == partitions) {
                everAssignedAll = true;
            } else if (everAssignedAll && lostPartitions == null) {
                lostPartitions = "assigned " + assigned + " after all " + partitions + " had been";
            }
        }
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        PollLoop<byte[], byte[]> l = loop.get();
        int maxPerPartition = l.maxBufferedPerPartition();
        slow.cancel();
        if (failure.get() != null) {
            fail(failure.get());
        }
        if (lostPartitions != null) {
            fail("the member lost partitions: " + lostPartitions);
        }
        if (received.get() < total) {
            fail("only " + received.get() + " of " + total + " records in " + tookMillis + " ms");
        }
        long heapMax = Runtime.getRuntime().maxMemory();
        System.out.println("report received=" + received.get() + " tookMillis=" + tookMillis + " samples=" + samples
                + " pausedSamples=" + pausedSamples + " maxPaused=" + maxPaused + " maxBuffered=" + maxBuffered
                + " maxBufferedPerPartition=" + maxPerPartition + " peakHeapUsed=" + peakHeapUsed
                + " heapMax=" + heapMax);
        System.out.flush();
    }

    private static void fail(String why) {
        System.out.println("failed " + why);
        System.out.flush();
        System.exit(1);
    }
}
