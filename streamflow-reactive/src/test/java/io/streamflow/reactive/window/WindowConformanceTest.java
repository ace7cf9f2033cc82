package io.streamflow.reactive.window;

import io.streamflow.reactive.window.WindowTestKit.In;
import io.streamflow.reactive.window.WindowTestKit.Outcome;
import io.streamflow.reactive.window.WindowTestKit.Pane;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The window conformance vectors ({@code src/test/resources/conformance/windows/*.json}, see
 * {@code conformance/README.md}): each one is an input whose fired panes and late records were
 * produced by Apache Flink 1.20's window operator. Our operator must produce the same panes (as a
 * multiset of key, window, count and sum) and send the same records to the late output.
 */
class WindowConformanceTest {

    private static final String DIR = "conformance/windows";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A parsed vector. */
    record Vector(String name, WindowAssigner assigner, long outOfOrderness, long lateness, List<In> input,
                  List<Pane> expectedPanes, List<Integer> expectedLate) {
    }

    @TestFactory
    Stream<DynamicTest> shouldMatchFlinkOnEveryConformanceVector() {
        return vectorNames().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Vector v = load(name);
            Outcome out = WindowTestKit.run(v.input(), v.outOfOrderness(),
                    WindowTestKit.operator(v.assigner(), v.lateness(), null));
            List<Pane> actual = out.panes().stream().map(Pane::withoutPaneInfo).sorted(WindowTestKit.PANE_ORDER)
                    .toList();
            List<Pane> expected = v.expectedPanes().stream().sorted(WindowTestKit.PANE_ORDER).toList();
            assertThat(actual)
                    .as("%s: fired panes (key, window, count, sum) as a multiset%nexpected:%s%nactual:%s", name,
                            WindowTestKit.lines(expected), WindowTestKit.lines(actual))
                    .containsExactlyInAnyOrderElementsOf(expected);
            assertThat(out.lateSeqs()).as("%s: seq of the records sent to the late output", name)
                    .containsExactlyInAnyOrderElementsOf(v.expectedLate());
            assertThat(out.lateCounter()).as("%s: streamflow.records.late", name)
                    .isEqualTo((double) v.expectedLate().size());
        }));
    }

    @Test
    void shouldFindAllEighteenConformanceVectorsOnTheClasspath() {
        assertThat(vectorNames()).hasSize(18)
                .anyMatch(n -> n.startsWith("tumbling-"))
                .anyMatch(n -> n.startsWith("sliding-"))
                .anyMatch(n -> n.startsWith("session-"));
    }

    // ------------------------------------------------------------------ loading

    /** Names of the {@code *.json} files in the resource directory, sorted. */
    static List<String> vectorNames() {
        URL url = WindowConformanceTest.class.getClassLoader().getResource(DIR);
        assertThat(url).as("classpath resource directory %s", DIR).isNotNull();
        try {
            URI uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                FileSystem fs;
                try {
                    fs = FileSystems.newFileSystem(uri, Map.of());
                } catch (FileSystemAlreadyExistsException e) {
                    fs = FileSystems.getFileSystem(uri);
                }
                return list(fs.getPath(DIR));
            }
            return list(Path.of(uri));
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot list " + url, e);
        }
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).sorted().toList();
        }
    }

    static Vector load(String name) {
        JsonNode root;
        try (InputStream in = WindowConformanceTest.class.getClassLoader().getResourceAsStream(DIR + "/" + name)) {
            assertThat(in).as("resource %s/%s", DIR, name).isNotNull();
            root = JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode w = root.required("window");
        String kind = w.required("kind").asString();
        WindowAssigner assigner = switch (kind) {
            case "tumbling" -> Windows.tumbling(Duration.ofMillis(w.required("size_ms").asLong()));
            case "sliding" -> Windows.sliding(Duration.ofMillis(w.required("size_ms").asLong()),
                    Duration.ofMillis(w.required("slide_ms").asLong()));
            case "session" -> Windows.session(Duration.ofMillis(w.required("gap_ms").asLong()));
            default -> throw new IllegalArgumentException(name + ": unknown window kind " + kind);
        };
        List<In> input = new ArrayList<>();
        for (JsonNode r : root.required("input")) {
            input.add(new In(r.required("key").asString(), r.required("ts").asLong(), r.required("value").asLong(),
                    r.required("seq").asInt()));
        }
        List<Pane> panes = new ArrayList<>();
        for (JsonNode p : root.required("expected_panes")) {
            panes.add(new Pane(p.required("key").asString(), p.required("start").asLong(), p.required("end").asLong(),
                    p.required("count").asLong(), p.required("sum").asLong(), null, -1, false));
        }
        List<Integer> late = new ArrayList<>();
        for (JsonNode s : root.required("expected_late_seq")) {
            late.add(s.asInt());
        }
        assertThat(input).as("%s: input", name).isNotEmpty();
        return new Vector(name, assigner, root.required("out_of_orderness_ms").asLong(),
                root.required("allowed_lateness_ms").asLong(), input, panes, late);
    }
}
