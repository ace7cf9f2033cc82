package io.streamflow.reactive;

import io.streamflow.reactive.state.KeyedState;
import io.streamflow.reactive.state.StateBackend;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Shared plumbing of the {@code *RestoreTest}s: each runs seeded random inputs through an operator
 * and compares the outputs exactly:
 * <ol>
 *   <li>uninterrupted, over a fresh heap backend, with checkpoint barriers (one to three) in the
 *   input ({@link #runUninterrupted}): today's behaviour, the reference;</li>
 *   <li>the same over a {@linkplain #durableBackend() durable test backend}, which keeps only what
 *   is put: the same output shows that every changed state value is put again;</li>
 *   <li>restored: the input cut right after some of the barriers; the part up to the first cut
 *   goes through operator instance #1 over another durable test backend, then #1 is cancelled (its
 *   input never completes) and a new instance #2 over the same backend gets the next part, and so
 *   on ({@link #runRestored}); so an instance also restores state that a restored instance
 *   checkpointed.</li>
 * </ol>
 * The outputs of all instances together must equal the reference, element by element and in order
 * (compared by their {@code toString}, which shows every field, also of side outputs), and the
 * keys left in the state by the last instance must be those left by run 2
 * ({@link #compareState}): an index that is not rebuilt usually shows as a different output, or
 * else as state that is never purged.
 * <p>
 * Seeds: a run uses {@code base + i} for case {@code i}; the base is printed and can be replayed
 * with {@code -Dseed=N} ({@code -Dcases=M} runs M consecutive seeds from it).
 */
public final class RestoreHarness {

    private RestoreHarness() {
    }

    /** The replay seed given with {@code -Dseed}, or {@code null}. */
    public static final Long SEED = Long.getLong("seed");

    /** @return how many cases a test runs: {@code -Dcases}, else 1 with {@code -Dseed}, else {@code normal} */
    public static int cases(int normal) {
        return Integer.getInteger("cases", SEED != null ? 1 : normal);
    }

    /** @return the base seed of a run (printed, so that a failure can be replayed) */
    public static long baseSeed(String test) {
        long base = SEED != null ? SEED : new SplittableRandom().nextLong();
        System.out.println(test + ": base seed " + base + " (replay one case with -Dseed=<seed>)");
        return base;
    }

    // ------------------------------------------------------------------ the durable test backend

    /**
     * A backend over one {@link StateBackend#heap()} instance that says it is
     * {@linkplain StateBackend#isDurable() durable}, so operators keep its state when they are
     * cancelled. It stores a deep copy of every value put and hands out deep copies, like a
     * backend that serialises its values: a value an operator changes in place without putting it
     * again keeps its old content here, so a missing {@code put} shows up as a different output.
     */
    public static StateBackend durableBackend() {
        return new CopyingBackend();
    }

    /**
     * The keys held by every state of a {@link #durableBackend()}: per state, per shard, per
     * namespace, the sorted keys (values are not compared: most have no {@code toString}).
     */
    public static String stateKeys(StateBackend durableBackend) {
        CopyingBackend b = (CopyingBackend) durableBackend;
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, KeyedState<?, ?, ?>> e : new TreeMap<>(b.states).entrySet()) {
            sb.append("\n    ").append(e.getKey()).append(':');
            appendKeys(sb, e.getValue());
        }
        return sb.toString();
    }

    private static <K, N, S> void appendKeys(StringBuilder sb, KeyedState<K, N, S> state) {
        for (int shard : state.shards()) {
            TreeMap<String, TreeSet<String>> byNamespace = new TreeMap<>();
            for (N ns : state.namespaces(shard)) {
                TreeSet<String> keys = new TreeSet<>();
                for (K k : state.keys(shard, ns)) {
                    keys.add(String.valueOf(k));
                }
                byNamespace.put(String.valueOf(ns), keys);
            }
            sb.append(" [").append(shard).append("] ").append(byNamespace);
        }
    }

    private static final class CopyingBackend implements StateBackend {
        private final StateBackend heap = StateBackend.heap();
        private final Map<String, KeyedState<?, ?, ?>> states = new HashMap<>();

        @Override
        @SuppressWarnings("unchecked")
        public synchronized <K, N, S> KeyedState<K, N, S> keyedState(String operator, String name) {
            return (KeyedState<K, N, S>) states.computeIfAbsent(operator + "/" + name,
                    n -> new CopyingState<>(heap.<K, N, S>keyedState(operator, name)));
        }

        @Override
        public boolean isDurable() {
            return true;
        }

        @Override
        public String toString() {
            return "RestoreHarness.durableBackend";
        }
    }

    private record CopyingState<K, N, S>(KeyedState<K, N, S> inner) implements KeyedState<K, N, S> {
        @Override
        public S get(int shard, N namespace, K key) {
            return deepCopy(inner.get(shard, namespace, key));
        }

        @Override
        public void put(int shard, N namespace, K key, S value) {
            inner.put(shard, namespace, key, deepCopy(value));
        }

        @Override
        public S remove(int shard, N namespace, K key) {
            return inner.remove(shard, namespace, key);
        }

        @Override
        public void forEach(int shard, N namespace, BiConsumer<? super K, ? super S> visitor) {
            inner.forEach(shard, namespace, (k, v) -> visitor.accept(k, deepCopy(v)));
        }

        @Override
        public Iterable<K> keys(int shard, N namespace) {
            return inner.keys(shard, namespace);
        }

        @Override
        public Iterable<N> namespaces(int shard) {
            return inner.namespaces(shard);
        }

        @Override
        public void removeNamespace(int shard, N namespace) {
            inner.removeNamespace(shard, namespace);
        }

        @Override
        public int[] shards() {
            return inner.shards();
        }

        @Override
        public boolean existsInOtherShard(int shard, N namespace, K key) {
            return inner.existsInOtherShard(shard, namespace, key);
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public void clear() {
            inner.clear();
        }
    }

    /**
     * A deep copy of a state value, following what durable state stores: immutable JDK values and
     * enums as they are; arrays, lists, sets and maps element by element (sorted ones keep their
     * comparator); records through their canonical constructor; objects of {@code io.streamflow}
     * classes field by field, on an instance made without calling a constructor.
     *
     * @throws IllegalArgumentException for anything else
     */
    @SuppressWarnings("unchecked")
    public static <T> T deepCopy(T value) {
        return (T) copy(value, new IdentityHashMap<>());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object copy(Object v, IdentityHashMap<Object, Object> done) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Character
                || v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof Double || v instanceof Float || v instanceof BigInteger || v instanceof BigDecimal
                || v instanceof Enum<?> || v instanceof Duration) {
            return v;
        }
        Object seen = done.get(v);
        if (seen != null) {
            return seen;
        }
        Class<?> c = v.getClass();
        try {
            if (c.isArray()) {
                int n = Array.getLength(v);
                Object a = Array.newInstance(c.getComponentType(), n);
                done.put(v, a);
                for (int i = 0; i < n; i++) {
                    Array.set(a, i, copy(Array.get(v, i), done));
                }
                return a;
            }
            if (c.isRecord()) {
                RecordComponent[] rc = c.getRecordComponents();
                Class<?>[] types = new Class<?>[rc.length];
                Object[] args = new Object[rc.length];
                for (int i = 0; i < rc.length; i++) {
                    types[i] = rc[i].getType();
                    java.lang.reflect.Method accessor = rc[i].getAccessor();
                    accessor.setAccessible(true);
                    args[i] = copy(accessor.invoke(v), done);
                }
                Constructor<?> ctor = c.getDeclaredConstructor(types);
                ctor.setAccessible(true);
                Object r = ctor.newInstance(args);
                done.put(v, r);
                return r;
            }
            if (v instanceof SortedMap<?, ?> m) {
                SortedMap<Object, Object> r = new TreeMap<>((java.util.Comparator<Object>) m.comparator());
                done.put(v, r);
                m.forEach((k, x) -> r.put(copy(k, done), copy(x, done)));
                return r;
            }
            if (v instanceof Map<?, ?> m) {
                Map<Object, Object> r = new LinkedHashMap<>();
                done.put(v, r);
                m.forEach((k, x) -> r.put(copy(k, done), copy(x, done)));
                return r;
            }
            if (v instanceof SortedSet<?> s) {
                SortedSet<Object> r = new TreeSet<>((java.util.Comparator<Object>) s.comparator());
                done.put(v, r);
                for (Object x : s) {
                    r.add(copy(x, done));
                }
                return r;
            }
            if (v instanceof Set<?> s) {
                Set<Object> r = new LinkedHashSet<>();
                done.put(v, r);
                for (Object x : s) {
                    r.add(copy(x, done));
                }
                return r;
            }
            if (v instanceof Collection<?> l) {
                List<Object> r = new ArrayList<>(l.size());
                done.put(v, r);
                for (Object x : l) {
                    r.add(copy(x, done));
                }
                return r;
            }
            if (c.getName().startsWith("io.streamflow.")) {
                Object r = blankInstance(c);
                done.put(v, r);
                for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
                    for (Field f : k.getDeclaredFields()) {
                        if (Modifier.isStatic(f.getModifiers())) {
                            continue;
                        }
                        f.setAccessible(true);
                        f.set(r, copy(f.get(v), done));
                    }
                }
                return r;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException("cannot copy state value of " + c + ": " + e, e);
        }
        throw new IllegalArgumentException("state value of " + c + " is not a type durable state stores: " + v);
    }

    /**
     * An instance of {@code c} whose fields are then all overwritten: made with its constructor of
     * fewest parameters, given {@code null}, zero or {@code false} (state value classes have trivial
     * constructors).
     */
    private static Object blankInstance(Class<?> c) throws ReflectiveOperationException {
        Constructor<?> best = null;
        for (Constructor<?> k : c.getDeclaredConstructors()) {
            if (best == null || k.getParameterCount() < best.getParameterCount()) {
                best = k;
            }
        }
        if (best == null) {
            throw new NoSuchMethodException("no constructor in " + c);
        }
        Class<?>[] types = best.getParameterTypes();
        Object[] args = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            if (types[i].isPrimitive()) {
                args[i] = types[i] == boolean.class ? Boolean.FALSE : types[i] == char.class ? (Object) '\0'
                        : Array.get(Array.newInstance(types[i], 1), 0);
            }
        }
        best.setAccessible(true);
        return best.newInstance(args);
    }

    // ------------------------------------------------------------------ running

    /** What an operator emitted, and how it ended. */
    public record Run<O>(List<O> output, Throwable error, boolean completed) {
    }

    /** Runs {@code elements} through {@code operator} to the end of the input. */
    public static <I, O> Run<O> runUninterrupted(List<I> elements, Function<Flux<I>, Flux<O>> operator) {
        Collector<O> c = new Collector<>();
        operator.apply(Flux.fromIterable(elements)).subscribe(c);
        c.dispose();
        return new Run<>(c.out, c.error, c.completed);
    }

    /**
     * Runs each part but the last through a new operator instance made by {@code operator} and
     * cancels it while its input is still open (each such part ends with a barrier: the instance
     * "crashes" right after it), then the last part through one more instance, to the end of the
     * input. All instances must share one durable backend, so each restores what the previous one
     * checkpointed.
     *
     * @return the outputs of all instances in order; an error of any instance ends the run and is
     * reported in the result
     */
    public static <I, O> Run<O> runRestored(List<List<I>> parts, Function<Flux<I>, Flux<O>> operator) {
        List<O> all = new ArrayList<>();
        for (int i = 0; i < parts.size() - 1; i++) {
            Collector<O> c = new Collector<>();
            operator.apply(Flux.fromIterable(parts.get(i)).concatWith(Flux.never())).subscribe(c);
            c.dispose(); // the "crash": cancel this instance
            all.addAll(c.out);
            if (c.error != null || c.completed) {
                return new Run<>(all, c.error != null ? c.error
                        : new AssertionError("instance #" + (i + 1) + " completed although its input did not"), false);
            }
        }
        Collector<O> last = new Collector<>();
        operator.apply(Flux.fromIterable(parts.get(parts.size() - 1))).subscribe(last);
        last.dispose();
        all.addAll(last.out);
        return new Run<>(all, last.error, last.completed);
    }

    /** Requests everything and collects it; the inputs are synchronous, so all is in once subscribed. */
    private static final class Collector<O> extends BaseSubscriber<O> {
        final List<O> out = new ArrayList<>();
        Throwable error;
        boolean completed;

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        protected void hookOnNext(O value) {
            out.add(value);
        }

        @Override
        protected void hookOnError(Throwable throwable) {
            error = throwable;
        }

        @Override
        protected void hookOnComplete() {
            completed = true;
        }
    }

    // ------------------------------------------------------------------ comparing

    /**
     * @return {@code null} when the restored run emitted exactly what the uninterrupted one did (and
     * ended the same way), else a description of the first difference and both outputs
     */
    public static String compare(Run<?> uninterrupted, Run<?> restored) {
        if (uninterrupted.error() != null) {
            return "  the uninterrupted run failed: " + stackTrace(uninterrupted.error());
        }
        if (restored.error() != null) {
            return "  the restored run failed: " + stackTrace(restored.error());
        }
        List<String> a = render(uninterrupted.output());
        List<String> b = render(restored.output());
        if (a.equals(b) && uninterrupted.completed() == restored.completed()) {
            return null;
        }
        int first = 0;
        while (first < a.size() && first < b.size() && a.get(first).equals(b.get(first))) {
            first++;
        }
        return "  outputs differ at element " + first + "; completed: " + uninterrupted.completed() + " vs "
                + restored.completed()
                + "\n  uninterrupted:" + lines(a) + "\n  restored:" + lines(b);
    }

    private static List<String> render(List<?> elements) {
        List<String> out = new ArrayList<>(elements.size());
        for (Object e : elements) {
            out.add(String.valueOf(e));
        }
        return out;
    }

    public static String lines(List<?> items) {
        StringBuilder sb = new StringBuilder();
        for (Object o : items) {
            sb.append("\n    ").append(o);
        }
        return sb.toString();
    }

    private static String stackTrace(Throwable t) {
        java.io.StringWriter sw = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(sw));
        return sw.toString();
    }

    // ------------------------------------------------------------------ generating inputs

    /**
     * Seeded random keyed input: records of a few keys (each key read from one of
     * {@code partitions} source partitions, so state has several shards) with out-of-order
     * timestamps on a clock that advances by random steps and sometimes jumps (so the watermark
     * overtakes open state), some records far behind (late), repeated timestamps; after a record,
     * sometimes the watermark {@code max ts - bound - 1} when it advanced (rarely an old one again),
     * rarely an idle/active marker; END at the end half of the time. Record values are their
     * sequence number.
     *
     * @param scale the operator's time scale (window size, gap, interval), so that records share state
     */
    public static List<StreamElement<String, Long>> keyedInput(SplittableRandom rnd, long scale) {
        int keys = 1 + rnd.nextInt(5);
        int partitions = 1 + rnd.nextInt(3);
        int n = 1 + rnd.nextInt(rnd.nextInt(6) == 0 ? 120 : 50);
        long bound = pick(rnd, 0, 1, scale / 2, scale, 3 * scale);
        long disorder = rnd.nextInt(4) == 0 ? bound + pick(rnd, 1, scale, 3 * scale + 20) : bound;
        long step = pick(rnd, 0, 1, 5, scale / 4 + 1, scale);
        double watermarkChance = pick(rnd, 2, 5, 10) / 10.0;
        long clock = pick(rnd, 0, 1_700_000_000_000L, -5_000, rnd.nextLong(-1_000_000, 1_000_000));
        List<StreamElement<String, Long>> out = new ArrayList<>();
        List<Long> seen = new ArrayList<>();
        long max = Long.MIN_VALUE;
        long emitted = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            clock += rnd.nextLong(step + 1);
            if (rnd.nextInt(20) == 0) {
                clock += rnd.nextLong(1, 4 * scale + 50);
            }
            long ts = clock - rnd.nextLong(disorder + 1);
            if (rnd.nextInt(25) == 0) {
                ts = clock - rnd.nextLong(1, 5 * scale + 100); // far behind: usually late
            } else if (!seen.isEmpty() && rnd.nextInt(8) == 0) {
                ts = seen.get(rnd.nextInt(seen.size())); // equal timestamps
            }
            seen.add(ts);
            String key = "k" + rnd.nextInt(keys);
            int partition = Math.floorMod(key.hashCode(), partitions);
            out.add(StreamRecord.of(key, (long) i, ts, Origin.of("src", partition, i)));
            max = Math.max(max, ts);
            if (rnd.nextDouble() < watermarkChance) {
                long w = max - bound - 1;
                if (w > emitted) {
                    emitted = w;
                    out.add(Watermark.of(w));
                } else if (emitted != Long.MIN_VALUE && rnd.nextInt(10) == 0) {
                    out.add(Watermark.of(emitted - rnd.nextLong(3))); // not an advance: ignored
                }
            }
            if (rnd.nextInt(40) == 0) {
                out.add(InputStatus.idle());
                out.add(InputStatus.active());
            }
        }
        if (rnd.nextBoolean()) {
            out.add(Watermark.end());
        }
        return out;
    }

    public static long pick(SplittableRandom rnd, long... choices) {
        return choices[rnd.nextInt(choices.length)];
    }

    /**
     * One case of a single-input operator: the input with checkpoint barriers 1, 2, ... in it, and
     * that input cut after some of the barriers into the parts that instance #1, #2, ... get.
     */
    public record Split<I>(List<I> all, List<List<I>> parts) {

        /**
         * Inserts one to three barriers ({@link CheckpointBarrier#of}, which do not pause) at random
         * places of {@code input} and cuts it after a random non-empty subset of them.
         */
        public static <K, V> Split<StreamElement<K, V>> of(List<StreamElement<K, V>> input, SplittableRandom rnd) {
            int barriers = 1 + rnd.nextInt(3);
            int[] at = new int[barriers];
            for (int i = 0; i < barriers; i++) {
                at[i] = rnd.nextInt(input.size() + 1);
            }
            java.util.Arrays.sort(at);
            List<StreamElement<K, V>> all = new ArrayList<>(input);
            List<Integer> barrierIndex = new ArrayList<>();
            for (int i = 0; i < barriers; i++) {
                int index = at[i] + i; // the barriers inserted before shift the input
                all.add(index, CheckpointBarrier.of(i + 1));
                barrierIndex.add(index);
            }
            List<Integer> cuts = new ArrayList<>();
            for (int index : barrierIndex) {
                if (rnd.nextBoolean()) {
                    cuts.add(index);
                }
            }
            if (cuts.isEmpty()) {
                cuts.add(barrierIndex.get(rnd.nextInt(barriers)));
            }
            if (!all.isEmpty() && all.get(all.size() - 1) instanceof Watermark<?, ?> w && w.timestamp() == Watermark.END
                    && rnd.nextBoolean()) {
                all.add(CheckpointBarrier.of(barriers + 1)); // a last checkpoint, after everything fired
            }
            return new Split<>(all, cut(all, cuts));
        }

        /** @return whether the input ends with END and then a barrier: the last checkpoint holds no timers */
        public boolean endsWithCheckpointAfterEnd() {
            int n = all.size();
            return n >= 2 && all.get(n - 1) instanceof CheckpointBarrier<?, ?>
                    && all.get(n - 2) instanceof Watermark<?, ?> w && w.timestamp() == Watermark.END;
        }

        /** @return {@code all} cut after each of the (ascending) indexes */
        public static <I> List<List<I>> cut(List<I> all, List<Integer> after) {
            List<List<I>> parts = new ArrayList<>();
            int from = 0;
            for (int index : after) {
                parts.add(new ArrayList<>(all.subList(from, index + 1)));
                from = index + 1;
            }
            parts.add(new ArrayList<>(all.subList(from, all.size())));
            return parts;
        }

        /** @return where the input is cut, for failure messages */
        public String describe() {
            StringBuilder sb = new StringBuilder("input cut into ").append(parts.size()).append(" parts:");
            for (int i = 0; i < parts.size(); i++) {
                sb.append("\n  instance #").append(i + 1).append(" gets:").append(lines(parts.get(i)));
            }
            return sb.toString();
        }
    }

    /**
     * Checks one single-input case, with {@code operator} making the operator over a backend:
     * <ul>
     *   <li>uninterrupted over a heap backend (today's behaviour);</li>
     *   <li>uninterrupted over a {@linkplain #durableBackend() durable} backend: the same output
     *   (so every changed state value was put);</li>
     *   <li>restored: instance #1, #2, ... over one durable backend, each getting one part: the
     *   same output, and the same keys left in the state as the uninterrupted durable run.</li>
     * </ul>
     * When the input ends with END and a last barrier, the states named {@code indexStates} (the
     * timer indexes an operator writes at barriers) must be empty: everything fired at END, so the
     * last checkpoint must have removed every list it wrote before.
     *
     * @return {@code null} when all agree, else what differs
     */
    public static <I, O> String check(Split<I> split, Function<StateBackend, Function<Flux<I>, Flux<O>>> operator,
                                      String... indexStates) {
        Run<O> heap = runUninterrupted(split.all(), operator.apply(StateBackend.heap()));
        StateBackend durableUninterrupted = durableBackend();
        Run<O> durable = runUninterrupted(split.all(), operator.apply(durableUninterrupted));
        StateBackend shared = durableBackend();
        Run<O> restored = runRestored(split.parts(), operator.apply(shared));
        String problem = compare(heap, durable);
        if (problem != null) {
            problem = "  over a durable backend (which sees only what is put) the uninterrupted run differs from the "
                    + "heap run:\n" + problem;
        } else {
            problem = compare(heap, restored);
        }
        if (problem == null) {
            problem = compareState(durableUninterrupted, shared);
        }
        if (problem == null && split.endsWithCheckpointAfterEnd()) {
            problem = checkEmpty(shared, indexStates);
        }
        return problem == null ? null : problem + "\n  " + split.describe();
    }

    /**
     * @return {@code null} when every state of the durable backend whose name (after the operator
     * name) is one of {@code names} is empty, else which is not
     */
    public static String checkEmpty(StateBackend durableBackend, String... names) {
        CopyingBackend b = (CopyingBackend) durableBackend;
        for (Map.Entry<String, KeyedState<?, ?, ?>> e : new TreeMap<>(b.states).entrySet()) {
            for (String name : names) {
                if (e.getKey().endsWith("/" + name) && e.getValue().size() != 0) {
                    StringBuilder sb = new StringBuilder();
                    appendKeys(sb, e.getValue());
                    return "  after END and a last checkpoint, state " + e.getKey() + " still holds " + sb;
                }
            }
        }
        return null;
    }

    /**
     * @return {@code null} when the two durable backends hold the same keys in the same namespaces
     * of the same states, else both (a restore that misses an index typically leaks state that the
     * uninterrupted operator purges)
     */
    public static String compareState(StateBackend uninterrupted, StateBackend restored) {
        String a = stateKeys(uninterrupted);
        String b = stateKeys(restored);
        return a.equals(b) ? null : "  the state left differs\n  uninterrupted:" + a + "\n  restored:" + b;
    }

    /** Keeps a count of cases per label, to show what a run exercised. */
    public static void tally(Map<String, Integer> seen, String what, boolean happened) {
        if (happened) {
            seen.merge(what, 1, Integer::sum);
        }
    }

    /** @return the tallies in name order, for the summary line */
    public static String summary(Map<String, Integer> seen) {
        return new TreeMap<>(seen).toString();
    }
}
