package io.streamflow.benchmarks.flink;

import io.streamflow.benchmarks.Checksum;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.Accumulator;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Apache Flink as a peer of the harness, run in-process: a local {@link StreamExecutionEnvironment}
 * whose jobs execute in a MiniCluster inside this JVM, plus the plumbing every Flink workload of
 * the harness needs: handing the (large, pre-generated) input to the job without serialising it,
 * and bringing a {@link Checksum} of the results back without materialising them.
 * <p>
 * <b>Cluster.</b> {@link #environment(int)} gives an environment with one task manager whose
 * slot count equals the parallelism, the heap state backend ({@code hashmap}, Flink's default:
 * state lives as objects on the JVM heap), no checkpointing, no web UI (the REST endpoint the
 * MiniCluster always starts binds to a free loopback port), small managed (unused by the heap
 * backend) and network memory budgets sized for a small machine, and no delegation-token lookup.
 * Every {@code execute} starts a fresh MiniCluster (a few seconds) and stops it when the job ends;
 * the job's {@linkplain JobExecutionResult#getNetRuntime() net runtime} does not include that.
 * <p>
 * <b>Input.</b> Jobs run in the same JVM and, having no user jars, load the harness classes from
 * the application class loader, so a function can find the input in a static field instead of
 * carrying it in its serialised form: {@link #share(Object)} registers an object under a fresh
 * id, a function keeps only the id and {@linkplain #shared(long) looks it up} when it opens. This
 * only works in-process; it is not a pattern for a distributed cluster.
 * <p>
 * <b>Results.</b> A function that produces results adds them to a per-subtask
 * {@link ChecksumAccumulator} ({@link #checksumAccumulator(RuntimeContext, String)}); Flink
 * merges the subtasks' accumulators when the job ends, and {@link #checksum(JobExecutionResult,
 * String)} reads the merged value. Since a {@code Checksum} is a sum, merging is exact for any
 * parallelism.
 * <p>
 * Thread-safe; holds no cluster between jobs.
 */
public final class FlinkLocal {

    /** Managed memory of the task manager: only sort/batch operators and RocksDB use it. */
    public static final MemorySize MANAGED_MEMORY = MemorySize.ofMebiBytes(64);
    /** Network buffer memory of the task manager (min = max): ample for a handful of local channels. */
    public static final MemorySize NETWORK_MEMORY = MemorySize.ofMebiBytes(64);

    private static final Map<Long, Object> SHARED = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();

    private FlinkLocal() {
    }

    /**
     * The configuration of {@link #environment(int)}: {@code parallelism} task slots, heap state
     * backend, {@link #MANAGED_MEMORY} / {@link #NETWORK_MEMORY}, REST on a free loopback port.
     * Callers may add options (e.g. object reuse) before creating their environment with
     * {@link #environment(int, Configuration)}.
     */
    public static Configuration configuration(int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism " + parallelism);
        }
        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, parallelism);
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MANAGED_MEMORY);
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MIN, NETWORK_MEMORY);
        conf.set(TaskManagerOptions.NETWORK_MEMORY_MAX, NETWORK_MEMORY);
        conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
        conf.set(RestOptions.BIND_ADDRESS, "localhost");
        conf.set(RestOptions.ADDRESS, "localhost");
        conf.set(RestOptions.BIND_PORT, "0");
        // no Kerberos / Hadoop in-process: skip looking for delegation tokens
        conf.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false);
        return conf;
    }

    /** A local environment with {@link #configuration(int)}: every operator runs with {@code parallelism}. */
    public static StreamExecutionEnvironment environment(int parallelism) {
        return environment(parallelism, configuration(parallelism));
    }

    /** A local environment with the given configuration (normally from {@link #configuration(int)}). */
    public static StreamExecutionEnvironment environment(int parallelism, Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
        env.setParallelism(parallelism);
        return env;
    }

    /**
     * Runs the job defined on {@code env} to completion (starting and stopping a MiniCluster) and
     * returns its result: net runtime and merged accumulators. A failed job surfaces as an
     * {@link IllegalStateException} whose cause chain holds Flink's exception (and the user
     * function's, if one threw).
     */
    public static JobExecutionResult execute(StreamExecutionEnvironment env, String jobName) {
        try {
            return env.execute(jobName);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("Flink job '" + jobName + "' failed", e);
        }
    }

    // ------------------------------------------------------------------ input shared in-process

    /**
     * Makes {@code value} reachable from functions of jobs running in this JVM; returns its id.
     * The caller must {@link #release(long)} it (in a {@code finally}) when the job is done.
     */
    public static long share(Object value) {
        long id = IDS.incrementAndGet();
        SHARED.put(id, value);
        return id;
    }

    /** The object registered under {@code id}; fails if it is not (or no longer) registered. */
    @SuppressWarnings("unchecked")
    public static <T> T shared(long id) {
        Object v = SHARED.get(id);
        if (v == null) {
            throw new IllegalStateException("nothing shared under id " + id
                    + " (released, or the job does not run in the JVM that shared it)");
        }
        return (T) v;
    }

    /** Forgets the object registered under {@code id}. */
    public static void release(long id) {
        SHARED.remove(id);
    }

    // ------------------------------------------------------------------ results as a checksum

    /**
     * Registers a fresh {@link ChecksumAccumulator} named {@code name} for the calling subtask
     * (call from {@code open}); results are added to its {@link ChecksumAccumulator#checksum()}
     * (keep the accumulator, not the checksum: a reset replaces the latter). Every subtask of an
     * operator registers under the same name; Flink merges them.
     */
    public static ChecksumAccumulator checksumAccumulator(RuntimeContext ctx, String name) {
        ChecksumAccumulator acc = new ChecksumAccumulator();
        ctx.addAccumulator(name, acc);
        return acc;
    }

    /**
     * The merged {@link ChecksumAccumulator} {@code name} of a finished job: the checksum of the
     * results of all its subtasks. An accumulator no subtask registered counts as empty (a job
     * whose source had no input may never open the function).
     */
    public static Checksum checksum(JobExecutionResult result, String name) {
        long[] v = result.getAccumulatorResult(name);
        return v == null ? new Checksum() : Checksum.of(v[0], v[1]);
    }

    /** The merged value of a {@code LongCounter} accumulator, 0 when none was registered. */
    public static long counter(JobExecutionResult result, String name) {
        Long v = result.getAccumulatorResult(name);
        return v == null ? 0 : v;
    }

    /**
     * A Flink accumulator holding a {@link Checksum}: a subtask adds results to
     * {@link #checksum()}; Flink {@linkplain #merge merges} the subtasks' accumulators by
     * {@linkplain Checksum#combine combining}; the merged local value is {@code {results, hash}}.
     * <p>
     * Written by its subtask's thread only. Flink may also serialise it from another thread for
     * intermediate (heartbeat) reports, which may then be stale; the final report is taken after
     * the task has finished and is exact.
     */
    public static final class ChecksumAccumulator implements Accumulator<Checksum, long[]> {

        @Serial
        private static final long serialVersionUID = 1L;

        private transient Checksum checksum = new Checksum();

        /** The live checksum of this subtask: add results to it. */
        public Checksum checksum() {
            return checksum;
        }

        /** Adds a partial checksum. */
        @Override
        public void add(Checksum value) {
            checksum.combine(value);
        }

        @Override
        public long[] getLocalValue() {
            return new long[] {checksum.results(), checksum.hash()};
        }

        @Override
        public void resetLocal() {
            checksum = new Checksum();
        }

        @Override
        public void merge(Accumulator<Checksum, long[]> other) {
            long[] v = other.getLocalValue();
            checksum.combine(Checksum.of(v[0], v[1]));
        }

        @Override
        public ChecksumAccumulator clone() {
            ChecksumAccumulator c = new ChecksumAccumulator();
            c.checksum.combine(checksum);
            return c;
        }

        @Serial
        private void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
            out.writeLong(checksum.results());
            out.writeLong(checksum.hash());
        }

        @Serial
        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            long results = in.readLong();
            long hash = in.readLong();
            checksum = Checksum.of(results, hash);
        }

        @Override
        public String toString() {
            return "ChecksumAccumulator " + checksum;
        }
    }
}
