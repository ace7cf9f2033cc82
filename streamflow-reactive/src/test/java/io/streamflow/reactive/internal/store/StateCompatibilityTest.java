package io.streamflow.reactive.internal.store;

import io.streamflow.reactive.state.StateCodec;
import io.streamflow.reactive.state.StateIncompatibleException;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * State written by one build and read by another: classes whose layout changed, codecs whose
 * version changed, removed classes and enum constants, and another store format are reported
 * clearly instead of being misread. The two "builds" are classes compiled at test time in two
 * versions and loaded through separate class loaders.
 */
class StateCompatibilityTest {

    @TempDir
    Path dir;

    private static final String COUNTER_V1 = """
            package io.streamflow.gen;
            public final class Counter { public long count; }
            """;
    private static final String COUNTER_V2 = """
            package io.streamflow.gen;
            public final class Counter { public long count; public double sum; }
            """;
    private static final String POINT_V1 = """
            package com.example.gen;
            public record Point(int x, int y) { }
            """;
    private static final String POINT_V2 = """
            package com.example.gen;
            public record Point(int x, long y) { }
            """;
    private static final String LEVEL_V1 = """
            package com.example.gen;
            public enum Level { LOW, HIGH }
            """;
    private static final String LEVEL_V2 = """
            package com.example.gen;
            public enum Level { LOW }
            """;
    private static final String SAME = """
            package com.example.gen;
            public record Same(String name) { }
            """;

    /** Compiles sources into a fresh directory and returns a class loader over it. */
    private ClassLoader build(String name, String... sources) throws IOException {
        Path src = Files.createDirectories(dir.resolve(name + "-src"));
        Path out = Files.createDirectories(dir.resolve(name + "-classes"));
        List<String> args = new ArrayList<>(List.of("-d", out.toString(), "--release", "17"));
        for (int i = 0; i < sources.length; i++) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:class|record|enum) (\\w+)")
                    .matcher(sources[i]);
            assertThat(m.find()).isTrue();
            Path file = Files.createDirectories(src.resolve("p" + i)).resolve(m.group(1) + ".java");
            Files.writeString(file, sources[i]);
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, args.toArray(new String[0]));
        assertThat(rc).as("javac: %s", err.toString(StandardCharsets.UTF_8)).isZero();
        return new URLClassLoader(new URL[]{out.toUri().toURL()}, getClass().getClassLoader());
    }

    private static <T> T withLoader(ClassLoader loader, java.util.concurrent.Callable<T> action) throws Exception {
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(loader);
        try {
            return action.call();
        } finally {
            t.setContextClassLoader(old);
        }
    }

    private MVStore openStore(Path file) {
        return new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
    }

    /** Writes one value per state map with the classes of {@code loader}. */
    private void writeWith(ClassLoader loader, Path file) throws Exception {
        withLoader(loader, () -> {
            try (MVStore store = openStore(file)) {
                DurableStateBackend backend = DurableStateBackend.open(store);
                Object counter = loader.loadClass("io.streamflow.gen.Counter").getConstructor().newInstance();
                Reflect.set(counter, "count", 5L);
                Object point = loader.loadClass("com.example.gen.Point").getConstructors()[0].newInstance(1, 2);
                Object high = loader.loadClass("com.example.gen.Level").getMethod("valueOf", String.class)
                        .invoke(null, "HIGH");
                Object same = loader.loadClass("com.example.gen.Same").getConstructors()[0].newInstance("same");
                backend.keyedState("op", "counter").put(0, "ns", "k", counter);
                backend.keyedState("op", "point").put(0, "ns", "k", point);
                backend.keyedState("op", "level").put(0, "ns", "k", high);
                backend.keyedState("op", "same").put(0, "ns", same, List.of(same));
                store.commit();
            }
            return null;
        });
    }

    /** Reads the value of one state map with the classes of {@code loader}. */
    private Object readWith(ClassLoader loader, Path file, String state) throws Exception {
        return withLoader(loader, () -> {
            try (MVStore store = openStore(file)) {
                DurableStateBackend backend = DurableStateBackend.open(store);
                if (state.equals("same")) {
                    Object key = loader.loadClass("com.example.gen.Same").getConstructors()[0].newInstance("same");
                    return backend.keyedState("op", state).get(0, "ns", key);
                }
                return backend.keyedState("op", state).get(0, "ns", "k");
            }
        });
    }

    @Test
    void stateOfAChangedClassShouldBeReportedAsUnreadableInsteadOfMisread() throws Exception {
        ClassLoader v1 = build("v1", COUNTER_V1, POINT_V1, LEVEL_V1, SAME);
        ClassLoader v2 = build("v2", COUNTER_V2, POINT_V2, LEVEL_V2, SAME);
        Path file = dir.resolve("state.mv");
        writeWith(v1, file);

        // the build that wrote it reads everything
        assertThat(Reflect.get(readWith(v1, file, "counter"), "count")).isEqualTo(5L);
        assertThat(readWith(v1, file, "point").toString()).isEqualTo("Point[x=1, y=2]");
        assertThat(readWith(v1, file, "level").toString()).isEqualTo("HIGH");

        // the other build: changed field list, changed component type, removed constant
        assertThatThrownBy(() -> readWith(v2, file, "counter"))
                .isInstanceOf(StateIncompatibleException.class)
                .hasMessageContaining("io.streamflow.gen.Counter")
                .hasMessageContaining("different layout")
                .hasMessageContaining("cannot be read by this build");
        assertThatThrownBy(() -> readWith(v2, file, "point"))
                .isInstanceOf(StateIncompatibleException.class)
                .hasMessageContaining("com.example.gen.Point")
                .hasMessageContaining("different layout");
        assertThatThrownBy(() -> readWith(v2, file, "level"))
                .isInstanceOf(StateIncompatibleException.class)
                .hasMessageContaining("HIGH")
                .hasMessageContaining("com.example.gen.Level");
        // unchanged classes still read (as keys too)
        assertThat(readWith(v2, file, "same").toString()).isEqualTo("[Same[name=same]]");
    }

    @Test
    void stateOfAClassThisBuildDoesNotHaveShouldBeReported() throws Exception {
        ClassLoader v1 = build("v1", COUNTER_V1, POINT_V1, LEVEL_V1, SAME);
        Path file = dir.resolve("state.mv");
        writeWith(v1, file);
        assertThatThrownBy(() -> readWith(getClass().getClassLoader(), file, "point"))
                .isInstanceOf(StateIncompatibleException.class)
                .hasMessageContaining("com.example.gen.Point")
                .hasMessageContaining("does not have");
    }

    static final class Temperature {
        final double celsius;

        Temperature(double celsius) {
            this.celsius = celsius;
        }
    }

    /** Same codec class; the version (v1 stores Celsius, v2 Kelvin) is what changes between builds. */
    static final class TemperatureCodec implements StateCodec<Temperature> {
        private final int version;
        private final double offset;

        TemperatureCodec(int version, double offset) {
            this.version = version;
            this.offset = offset;
        }

        @Override
        public void encode(Temperature value, DataOutput out) throws IOException {
            out.writeDouble(value.celsius + offset);
        }

        @Override
        public Temperature decode(DataInput in) throws IOException {
            return new Temperature(in.readDouble() - offset);
        }

        @Override
        public int version() {
            return version;
        }
    }

    @Test
    void stateWrittenWithAnotherCodecVersionShouldBeReported() {
        Path file = dir.resolve("codec.mv");
        Map<Class<?>, StateCodec<?>> v1 = Map.of(Temperature.class, new TemperatureCodec(1, 0));
        Map<Class<?>, StateCodec<?>> v2 = Map.of(Temperature.class, new TemperatureCodec(2, 273.15));
        try (MVStore store = openStore(file)) {
            DurableStateBackend.open(store, v1).keyedState("op", "t").put(0, "ns", "k", new Temperature(21.5));
            store.commit();
        }
        try (MVStore store = openStore(file)) {
            DurableKeyedState<String, String, Temperature> st = DurableStateBackend.open(store, v1).keyedState("op", "t");
            assertThat(st.get(0, "ns", "k").celsius).isEqualTo(21.5);
        }
        try (MVStore store = openStore(file)) {
            DurableStateBackend backend = DurableStateBackend.open(store, v2);
            // the map's only page is its root, read when the state is opened
            assertThatThrownBy(() -> backend.<String, String, Temperature>keyedState("op", "t").get(0, "ns", "k"))
                    .isInstanceOf(StateIncompatibleException.class)
                    .hasMessageContaining(Temperature.class.getName())
                    .hasMessageContaining("TemperatureCodec:v1")
                    .hasMessageContaining("TemperatureCodec:v2");
            // new state of the class is written under the new version and reads back
            DurableKeyedState<String, String, Temperature> fresh = backend.keyedState("op", "fresh");
            fresh.put(1, "ns", "k", new Temperature(-4));
            store.commit();
            assertThat(fresh.get(1, "ns", "k").celsius).isCloseTo(-4, org.assertj.core.data.Offset.offset(1e-9));
        }
        try (MVStore store = openStore(file)) {
            DurableKeyedState<String, String, Temperature> fresh =
                    DurableStateBackend.open(store, v2).keyedState("op", "fresh");
            assertThat(fresh.get(1, "ns", "k").celsius).isCloseTo(-4, org.assertj.core.data.Offset.offset(1e-9));
        }
    }

    @Test
    void aStoreWithAnotherFormatVersionShouldNotOpen() {
        Path file = dir.resolve("format.mv");
        try (MVStore store = openStore(file)) {
            StateTypes types = StateTypes.open(store);
            MVMap<byte[], Object> meta = types.openMap(StateTypes.META_MAP);
            assertThat(meta.get(types.encodeKey(StateTypes.FORMAT_KEY))).isEqualTo(StateTypes.FORMAT_VERSION);
            meta.put(types.encodeKey(StateTypes.FORMAT_KEY), StateTypes.FORMAT_VERSION + 1);
            store.commit();
        }
        try (MVStore store = openStore(file)) {
            assertThatThrownBy(() -> DurableStateBackend.open(store))
                    .isInstanceOf(StateIncompatibleException.class)
                    .hasMessageContaining("format version " + (StateTypes.FORMAT_VERSION + 1))
                    .hasMessageContaining("reads and writes version " + StateTypes.FORMAT_VERSION)
                    .hasMessageContaining("cannot be read by this build");
        }
    }

    @Test
    void aStoreWithStateButNoFormatVersionShouldNotOpen() {
        Path file = dir.resolve("noformat.mv");
        try (MVStore store = openStore(file)) {
            DurableStateBackend.open(store).keyedState("op", "s").put(0, "ns", "k", 1L);
            store.removeMap(StateTypes.META_MAP);
            store.commit();
        }
        try (MVStore store = openStore(file)) {
            assertThatThrownBy(() -> DurableStateBackend.open(store))
                    .isInstanceOf(StateIncompatibleException.class)
                    .hasMessageContaining("no state format version");
        }
    }

    @Test
    void aReadOnlyStoreShouldOpenWithoutWriting() {
        Path file = dir.resolve("ro.mv");
        try (MVStore store = openStore(file)) {
            DurableStateBackend.open(store).keyedState("op", "s").put(0, "ns", "k", List.of(1L, 2L));
            store.commit();
        }
        MVStore ro = new MVStore.Builder().fileName(file.toString()).readOnly().open();
        try {
            DurableStateBackend backend = DurableStateBackend.open(ro);
            assertThat(backend.<String, String, Object>keyedState("op", "s").get(0, "ns", "k")).isEqualTo(List.of(1L, 2L));
            assertThat(backend.stateSizes()).containsExactly(Map.entry("state/op/s", 1L));
            assertThat(backend.operatorNames()).containsExactly("op");
        } finally {
            ro.close();
        }
    }
}
