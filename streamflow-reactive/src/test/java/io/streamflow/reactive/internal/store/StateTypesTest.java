package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.state.StateCodec;
import io.streamflow.reactive.state.StateIncompatibleException;
import io.streamflow.reactive.state.UnsupportedStateTypeException;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.TimeWindow;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StateTypesTest {

    record Point(int x, long y, String label) {
    }

    record Tree(String name, List<Tree> children, Map<String, ?> points) {
    }

    record Everything(boolean z, byte b, short s, char c, int i, long l, float f, double d, Object any,
                      int[] ints) {
    }

    enum Color { RED, GREEN, BLUE }

    enum Op {
        PLUS {
            @Override
            int apply(int a, int b) {
                return a + b;
            }
        };

        abstract int apply(int a, int b);
    }

    /** Not a record and not ours: needs a codec. */
    static final class Money {
        final long cents;
        final String currency;

        Money(long cents, String currency) {
            this.cents = cents;
            this.currency = currency;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Money m && m.cents == cents && m.currency.equals(currency);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(cents) * 31 + currency.hashCode();
        }
    }

    static final class MoneyCodec implements StateCodec<Money> {
        @Override
        public void encode(Money value, DataOutput out) throws IOException {
            out.writeLong(value.cents);
            out.writeUTF(value.currency);
        }

        @Override
        public Money decode(DataInput in) throws IOException {
            return new Money(in.readLong(), in.readUTF());
        }
    }

    /** A class of ours (package io.streamflow.*): stored field by field, superclass first. */
    static class Base {
        long created = 7;
        transient String cache = "not stored";
    }

    static final class Derived extends Base {
        final String name;
        double[] weights;
        Object payload;

        Derived(String name) {
            this.name = name;
        }
    }

    @TempDir
    Path dir;
    private MVStore store;
    private StateTypes types;

    @BeforeEach
    void open() {
        store = new MVStore.Builder().fileName(dir.resolve("types.mv").toString()).autoCommitDisabled().open();
        types = StateTypes.open(store, Map.of(Money.class, new MoneyCodec()));
    }

    @AfterEach
    void close() {
        if (!store.isClosed()) {
            store.close();
        }
    }

    private Object roundTrip(Object v) {
        types.checkEncodable(v);
        return types.decode(types.encode(v));
    }

    private static List<Object> builtIns() {
        List<Object> values = new ArrayList<>(Arrays.asList(
                null, true, false, (byte) -5, (short) 300, (short) -32768, 0, -1, Integer.MIN_VALUE,
                Integer.MAX_VALUE, 0L, -3L, Long.MIN_VALUE, Long.MAX_VALUE, 1.5f, Float.NaN, -0.0f, -0.0,
                Double.NaN, Double.NEGATIVE_INFINITY, Math.PI, 'x', '\uD800', '\u00E9',
                "", "ascii", "héllo wörld ✓ 𝄞", "lone \uD800 surrogate \uDC00 end", "nul\0byte",
                new byte[]{1, -2, 3}, new short[]{-1, 2}, new int[]{Integer.MIN_VALUE, 0, 5},
                new long[]{Long.MAX_VALUE, -1}, new float[]{1.25f}, new double[]{-2.5, Double.MIN_VALUE},
                new boolean[]{true, false, true}, new char[]{'a', '\uFFFF'}, new byte[0],
                new Object[]{1, "two", null, List.of(3L)}, new String[]{"a", null, "c"},
                new TimeWindow[]{new TimeWindow(0, 10)}, new long[][]{{1}, {2, 3}},
                UUID.randomUUID(), new BigInteger("-123456789012345678901234567890"),
                new BigDecimal("3.14159265358979323846"), BigDecimal.ZERO, Instant.ofEpochSecond(1_700_000_000L, 123),
                Duration.ofMillis(-1500), Color.GREEN, Op.PLUS, TimeUnit.SECONDS));
        return values;
    }

    @Test
    void shouldRoundTripEveryBuiltInType() {
        for (Object v : builtIns()) {
            Object back = roundTrip(v);
            assertThat(back).as("round trip of %s", v).isEqualTo(v);
            if (v != null) {
                assertThat(back.getClass()).as("class of %s", v).isEqualTo(v.getClass());
            }
        }
        assertThat(roundTrip(Double.NaN)).isEqualTo(Double.NaN);
        assertThat(Double.doubleToRawLongBits((Double) roundTrip(-0.0))).isEqualTo(Double.doubleToRawLongBits(-0.0));
        assertThat(roundTrip(Op.PLUS)).isSameAs(Op.PLUS);
    }

    @Test
    void shouldReadCollectionsBackAsArrayListLinkedHashMapAndLinkedHashSetKeepingOrder() {
        List<Object> linked = new LinkedList<>(List.of(3, 1, 2));
        assertThat(roundTrip(linked)).isExactlyInstanceOf(ArrayList.class).isEqualTo(List.of(3, 1, 2));
        assertThat(roundTrip(List.of("a", "b"))).isExactlyInstanceOf(ArrayList.class);

        Map<String, Integer> ordered = new LinkedHashMap<>();
        for (String k : List.of("zeta", "alpha", "mid", "beta")) {
            ordered.put(k, k.length());
        }
        Object map = roundTrip(ordered);
        assertThat(map).isExactlyInstanceOf(LinkedHashMap.class);
        assertThat(new ArrayList<Object>(((Map<?, ?>) map).keySet())).containsExactly("zeta", "alpha", "mid", "beta");

        TreeMap<Long, String> sorted = new TreeMap<>(Map.of(5L, "five", -1L, "minus one", 3L, "three"));
        assertThat(roundTrip(sorted)).isExactlyInstanceOf(TreeMap.class).isEqualTo(sorted);
        assertThat(roundTrip(new TreeSet<>(Set.of("b", "a")))).isExactlyInstanceOf(TreeSet.class);

        Set<String> set = new LinkedHashSet<>(List.of("q", "w", "e"));
        Object setBack = roundTrip(set);
        assertThat(setBack).isExactlyInstanceOf(LinkedHashSet.class);
        assertThat(new ArrayList<Object>((Set<?>) setBack)).containsExactly("q", "w", "e");
        assertThat(roundTrip(Map.of())).isEqualTo(Map.of());
    }

    @Test
    void shouldRoundTripRecordsNestedInListsAndMaps() {
        Tree leaf = new Tree("leaf", List.of(), Map.of("p", new Point(1, 2, "one")));
        Tree root = new Tree("root", List.of(leaf, leaf), new LinkedHashMap<>(Map.of("q", new Point(-1, -2, null))));
        assertThat(roundTrip(root)).isEqualTo(root);
        List<Object> mixed = List.of(new Point(3, 4, "x"), Map.of("k", List.of(new Point(5, 6, "y"))),
                new Everything(true, (byte) 1, (short) 2, 'c', 3, 4L, 5f, 6d, new Point(0, 0, ""), new int[]{9}));
        Object back = roundTrip(mixed);
        assertThat(back).usingRecursiveComparison().isEqualTo(mixed);
    }

    @Test
    void shouldRoundTripStreamRecordWithHeadersAndOrigin() {
        StreamRecord<String, Point> r = StreamRecord.of("key", new Point(1, 2, "p"), 1234L,
                Map.of("trace", "abc", "tenant", "t1"), Origin.of("orders", 3, 42L));
        assertThat(roundTrip(r)).isEqualTo(r);
        StreamRecord<Long, String> plain = StreamRecord.of(7L, "v", -5L);
        Object back = roundTrip(plain);
        assertThat(back).isEqualTo(plain);
        assertThat(((StreamRecord<?, ?>) back).origin()).isEqualTo(Origin.NONE);
    }

    @Test
    void shouldRoundTripTheOperatorsStateValues() {
        Object countSum = Reflect.set(Reflect.set(new Aggregations.CountSumAcc(), "count", 3L), "sum", 99L);
        Object windowState = Reflect.create("io.streamflow.reactive.window.WindowState", countSum);
        Reflect.set(windowState, "panes", 2L);
        Reflect.set(windowState, "sinceFire", 1L);
        Reflect.set(windowState, "dirty", true);
        Reflect.set(windowState, "start", 1000L);
        Reflect.set(windowState, "end", 2000L);
        Reflect.set(windowState, "onTimeFired", true);
        assertThat(roundTrip(windowState)).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(windowState);
        // session windows keep a list of window states
        Object session = Reflect.create("io.streamflow.reactive.window.WindowState", new ArrayList<>(List.of("a")));
        List<Object> sessions = new ArrayList<>(List.of(windowState, session));
        assertThat(roundTrip(sessions)).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(sessions);

        Object holder = Reflect.set(Reflect.set(new Aggregations.Holder<>(), "value", new Point(1, 1, "min")),
                "present", true);
        Object doubleAcc = Reflect.set(Reflect.set(new Aggregations.DoubleAcc(), "sum", 2.5), "count", 2L);
        Object longAcc = Reflect.set(new Aggregations.LongAcc(), "value", 17L);
        for (Object acc : List.of(holder, doubleAcc, longAcc, new Aggregations.CountAndSum(4, 8))) {
            assertThat(roundTrip(acc)).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(acc);
        }

        Object rows = Reflect.create("io.streamflow.reactive.join.Rows");
        for (int i = 0; i < 5; i++) {
            Reflect.call(rows, "add", StreamRecord.of("k" + i, i, 100L + i), 100L + i);
        }
        Reflect.call(rows, "markMatched", 3);
        Object rowsBack = roundTrip(rows);
        assertThat(rowsBack).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(rows);
        assertThat(Reflect.call(rowsBack, "matched", 3)).isEqualTo(true);
        assertThat(Reflect.call(rowsBack, "value", 4)).isEqualTo(StreamRecord.of("k4", 4, 104L));

        Object versions = Reflect.create("io.streamflow.reactive.join.Versions");
        Reflect.call(versions, "put", 10L, "v10");
        Reflect.call(versions, "put", 5L, null);
        Reflect.call(versions, "put", 20L, new Point(2, 0, "v20"));
        Object versionsBack = roundTrip(versions);
        assertThat(versionsBack).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(versions);
        assertThat(Reflect.call(versionsBack, "valueAt", 15L)).isEqualTo("v10");

        Object score = Reflect.create("io.streamflow.reactive.analytics.TrendingSubscriber$Score");
        Reflect.set(score, "value", 12.75);
        Reflect.set(score, "asOf", 999L);
        Object partial = Reflect.set(Reflect.create("io.streamflow.reactive.analytics.TrendingSubscriber$Partial"),
                "sum", -0.5);
        Object acc = Reflect.create("io.streamflow.reactive.RunningAggregateSubscriber$Acc");
        Reflect.set(acc, "acc", longAcc);
        Reflect.set(acc, "lastTimestamp", 55L);
        Reflect.set(acc, "registeredExpiry", 155L);
        Object seen = Reflect.create("io.streamflow.reactive.DeduplicateSubscriber$Seen");
        Reflect.set(seen, "lastTimestamp", 77L);
        Object ref = Reflect.create("io.streamflow.reactive.ExpiringKeyedSubscriber$Ref", 2, "key");
        for (Object v : List.of(score, partial, acc, seen, ref, new TimeWindow(-10, 10))) {
            Object back = roundTrip(v);
            assertThat(back).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(v);
            assertThat(back).isExactlyInstanceOf(v.getClass());
        }
    }

    @Test
    void shouldStoreFieldsOfOurClassesWithoutCallingConstructorsAndSkipTransientFields() {
        Derived d = new Derived("d");
        d.created = 42;
        d.cache = "changed";
        d.weights = new double[]{0.5};
        d.payload = Map.of("k", new Point(1, 2, "3"));
        Derived back = (Derived) roundTrip(d);
        assertThat(back.name).isEqualTo("d");
        assertThat(back.created).isEqualTo(42);
        assertThat(back.cache).as("transient field, no constructor or initializer run").isNull();
        assertThat(back.weights).containsExactly(0.5);
        assertThat(back.payload).isEqualTo(Map.of("k", new Point(1, 2, "3")));
    }

    @Test
    void shouldUseRegisteredCodecs() {
        Money m = new Money(1999, "EUR");
        assertThat(roundTrip(m)).isEqualTo(m);
        assertThat(roundTrip(List.of(m, new Point(1, 2, "x")))).isEqualTo(List.of(m, new Point(1, 2, "x")));
        assertThat(types.decodeKey(types.encodeKey(m))).isEqualTo(m);
    }

    @Test
    void shouldRejectUnsupportedClassesNamingTheClassAndTheFix() {
        assertThatThrownBy(() -> types.checkEncodable(new AtomicLong(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.util.concurrent.atomic.AtomicLong")
                .hasMessageContaining("register a StateCodec")
                .hasMessageContaining("record");
        assertThatThrownBy(() -> types.checkEncodable(List.of(new Tree("t", List.of(),
                Map.of("p", new Point(1, 2, "x"))), new StringBuilder("sb"))))
                .isInstanceOf(UnsupportedStateTypeException.class)
                .hasMessageContaining("java.lang.StringBuilder")
                .hasMessageContaining("found at");
        assertThatThrownBy(() -> types.encode(new Thread()))
                .isInstanceOf(UnsupportedStateTypeException.class)
                .hasMessageContaining("java.lang.Thread");
        assertThatThrownBy(() -> types.checkEncodable(new TreeMap<String, Integer>(String.CASE_INSENSITIVE_ORDER)))
                .isInstanceOf(UnsupportedStateTypeException.class)
                .hasMessageContaining("comparator");
        Runnable lambda = () -> { };
        assertThatThrownBy(() -> types.checkEncodable(lambda))
                .isInstanceOf(UnsupportedStateTypeException.class)
                .hasMessageContaining("lambda");
    }

    @Test
    void shouldRejectCyclicObjectGraphs() {
        List<Object> self = new ArrayList<>();
        self.add(self);
        assertThatThrownBy(() -> types.checkEncodable(self))
                .isInstanceOf(UnsupportedStateTypeException.class)
                .hasMessageContaining("cyclic");
    }

    @Test
    void shouldRejectCodecsForBuiltInOrAbstractClasses() {
        StateCodec<String> stringCodec = new StateCodec<>() {
            @Override
            public void encode(String value, DataOutput out) {
            }

            @Override
            public String decode(DataInput in) {
                return "";
            }
        };
        StateCodec<Number> numberCodec = new StateCodec<>() {
            @Override
            public void encode(Number value, DataOutput out) {
            }

            @Override
            public Number decode(DataInput in) {
                return 0;
            }
        };
        assertThatThrownBy(() -> StateTypes.open(store, Map.of(String.class, stringCodec, Number.class, numberCodec)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.String is built in")
                .hasMessageContaining("java.lang.Number is abstract");
    }

    @Test
    void shouldReportACodecThatReadsLessThanItWrote() {
        StateCodec<Money> sloppy = new StateCodec<>() {
            @Override
            public void encode(Money value, DataOutput out) throws IOException {
                out.writeLong(value.cents);
                out.writeUTF(value.currency);
            }

            @Override
            public Money decode(DataInput in) throws IOException {
                return new Money(in.readLong(), "?");
            }
        };
        StateTypes withSloppy = StateTypes.open(MVStore.open(null), Map.of(Money.class, sloppy));
        byte[] bytes = withSloppy.encode(new Money(1, "USD"));
        assertThatThrownBy(() -> withSloppy.decode(bytes))
                .isInstanceOf(StateIncompatibleException.class)
                .hasMessageContaining("must read exactly what its encode wrote");
    }

    @Test
    void equalKeysShouldHaveEqualBytes() {
        Map<String, Integer> a = new HashMap<>();
        Map<String, Integer> b = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            names.add("name-" + i);
        }
        for (String n : names) {
            a.put(n, n.length());
        }
        for (int i = names.size() - 1; i >= 0; i--) {
            b.put(names.get(i), names.get(i).length());
        }
        assertThat(a).isEqualTo(b);
        assertThat(types.encodeKey(a)).isEqualTo(types.encodeKey(b));
        assertThat(types.encodeKey(new HashSet<>(names))).isEqualTo(types.encodeKey(new LinkedHashSet<>(names)));
        assertThat(types.encodeKey(new Tree("t", List.of(), a))).isEqualTo(types.encodeKey(new Tree("t", List.of(), b)));
        assertThat(types.encodeKey(0.0)).isNotEqualTo(types.encodeKey(-0.0)); // as Double.equals
        assertThat(types.encodeKey(Double.NaN)).isEqualTo(types.encodeKey(Double.longBitsToDouble(0x7ff8000000000001L)));
        assertThat(types.encodeKey(1)).isNotEqualTo(types.encodeKey(1L)); // as Integer.equals(Long)
        assertThat(types.decodeKey(types.encodeKey(a))).isEqualTo(a);
    }

    @Test
    void shouldRoundTripEverythingThroughTheStoreAfterReopen() {
        Path file = dir.resolve("reopen.mv");
        List<Object> values = new ArrayList<>(builtIns());
        values.removeIf(v -> v == null);
        values.add(new Tree("root", List.of(new Tree("c", List.of(), Map.of())), Map.of("p", new Point(1, 2, "3"))));
        values.add(StreamRecord.of("k", List.of(1, 2), 5L, Map.of("h", "v"), Origin.of("src", 1, 2)));
        values.add(new Money(5, "CHF"));
        values.add(Reflect.set(new Aggregations.CountSumAcc(), "count", 3L));
        try (MVStore s = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open()) {
            DurableKeyedState<Integer, String, Object> state =
                    DurableStateBackend.open(s, Map.of(Money.class, new MoneyCodec())).keyedState("op", "all");
            for (int i = 0; i < values.size(); i++) {
                state.put(i % 3, "ns", i, values.get(i));
            }
            s.commit();
        }
        try (MVStore s = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open()) {
            DurableKeyedState<Integer, String, Object> state =
                    DurableStateBackend.open(s, Map.of(Money.class, new MoneyCodec())).keyedState("op", "all");
            for (int i = 0; i < values.size(); i++) {
                Object back = state.get(i % 3, "ns", i);
                Object expected = values.get(i);
                if (expected.getClass().getPackageName().startsWith("io.streamflow.")) {
                    assertThat(back).as("value %s", expected).usingRecursiveComparison().isEqualTo(expected);
                } else {
                    assertThat(back).as("value %s", expected).isEqualTo(expected);
                }
                assertThat(back.getClass()).isEqualTo(values.get(i).getClass());
            }
            assertThat(state.size()).isEqualTo(values.size());
        }
    }

    @Test
    void aValueIsCommittedAsItWasPutAndAChangeOnlyWhenPutAgain() {
        record Late(String what, long when) {
        }
        Path file = dir.resolve("late.mv");
        try (MVStore s = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open()) {
            DurableKeyedState<String, Long, List<Object>> state = DurableStateBackend.open(s).keyedState("op", "late");
            List<Object> list = new ArrayList<>(List.of(1L));
            state.put(0, 1L, "k", list);
            list.add(new Late("added after put", 9)); // not put again: not in the commit
            assertThat(state.get(0, 1L, "k")).as("the stored instance, as on the heap").isSameAs(list);
            List<Object> other = new ArrayList<>(List.of(2L));
            state.put(0, 2L, "k", other);
            other.add(new Late("put again", 10));
            other.add(new Late[]{new Late("in an array", 11)});
            state.put(0, 2L, "k", other); // classes first met here are registered by this put
            s.commit();
        }
        try (MVStore s = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open()) {
            DurableKeyedState<String, Long, List<Object>> state = DurableStateBackend.open(s).keyedState("op", "late");
            assertThat(state.get(0, 1L, "k")).containsExactly(1L);
            List<Object> back = state.get(0, 2L, "k");
            assertThat(back).hasSize(3);
            assertThat(back.get(1)).isEqualTo(new Late("put again", 10));
            assertThat((Late[]) back.get(2)).containsExactly(new Late("in an array", 11));
        }
    }

    @Test
    void putShouldRejectAnUnsupportedValueAtOnceAndLeaveTheStoreUsable() {
        DurableKeyedState<String, String, Object> state = DurableStateBackend.open(store).keyedState("op", "bad");
        assertThatThrownBy(() -> state.put(0, "ns", "k", List.of(new AtomicLong())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("AtomicLong");
        assertThat(state.get(0, "ns", "k")).isNull();
        state.put(0, "ns", "k", "fine");
        store.commit();
        assertThat(store.isClosed()).isFalse();
        assertThat(state.get(0, "ns", "k")).isEqualTo("fine");
    }
}
