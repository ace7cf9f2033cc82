package io.streamflow.samples;

import org.junit.jupiter.api.Test;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every Java snippet of README.md, docs/*.md and the modules' README.md compiles against this build. A snippet is the body
 * of a method; the variables it uses without declaring them (and types it needs) are named in an
 * HTML comment right before it, {@code <!-- compiled by ReadmeSnippetsTest with: PARAMETERS | DECLARATIONS -->},
 * which does not show when the Markdown is rendered. Every public package of the core, the JSON, Kafka and HTTP modules and
 * the test kit is imported, and the few Kafka client and JUnit types the test-kit snippets use.
 */
class ReadmeSnippetsTest {

    private static final Pattern BLOCK = Pattern.compile(
            "(?:<!-- compiled by ReadmeSnippetsTest with: ((?:(?!-->)[^|])*?)(?:\\|((?:(?!-->).)*?))? -->\\s*\\n)?```java\\n(.*?)```",
            Pattern.DOTALL);
    private static final String IMPORTS = """
            import io.streamflow.reactive.*;
            import io.streamflow.reactive.analytics.*;
            import io.streamflow.reactive.join.*;
            import io.streamflow.reactive.state.*;
            import io.streamflow.reactive.window.*;
            import io.streamflow.reactive.json.*;
            import io.streamflow.reactive.kafka.*;
            import io.streamflow.reactive.http.*;
            import io.micrometer.core.instrument.MeterRegistry;
            import io.micrometer.prometheusmetrics.PrometheusConfig;
            import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
            import java.net.URI;
            import io.streamflow.reactive.test.*;
            import org.apache.kafka.clients.producer.KafkaProducer;
            import org.apache.kafka.clients.producer.ProducerRecord;
            import org.apache.kafka.common.serialization.StringSerializer;
            import org.junit.jupiter.api.Test;
            import org.junit.jupiter.api.extension.RegisterExtension;
            import reactor.core.publisher.*;
            import reactor.core.scheduler.*;
            import java.nio.file.*;
            import java.time.*;
            import java.util.*;
            import java.util.function.*;
            """;

    record Snippet(String file, int line, String parameters, String declarations, String body) {
    }

    static List<Snippet> snippets() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<Path> files = new ArrayList<>();
        files.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        try (Stream<Path> modules = Files.list(root)) {
            modules.map(m -> m.resolve("README.md")).filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        List<Snippet> out = new ArrayList<>();
        for (Path f : files) {
            String text = Files.readString(f, StandardCharsets.UTF_8);
            Matcher m = BLOCK.matcher(text);
            while (m.find()) {
                int line = 1 + (int) text.substring(0, m.start(3)).chars().filter(c -> c == '\n').count();
                out.add(new Snippet(root.relativize(f).toString(), line, m.group(1) == null ? "" : m.group(1).trim(),
                        m.group(2) == null ? "" : m.group(2).trim(), m.group(3)));
            }
        }
        return out;
    }

    @Test
    void everyJavaSnippetInTheDocsCompiles() throws IOException {
        List<Snippet> snippets = snippets();
        assertThat(snippets).as("Java snippets in README.md and docs/").hasSizeGreaterThanOrEqualTo(4);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        List<JavaFileObject> sources = new ArrayList<>();
        for (int i = 0; i < snippets.size(); i++) {
            Snippet s = snippets.get(i);
            String source = IMPORTS + "\n/** " + s.file() + " line " + s.line() + " */\nclass Snippet" + i + " {\n"
                    + s.declarations() + "\n@SuppressWarnings(\"unused\") void run(" + s.parameters()
                    + ") throws Exception {\n" + s.body() + "\n}\n}\n";
            sources.add(new SimpleJavaFileObject(URI.create("string:///Snippet" + i + ".java"),
                    JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return source;
                }
            });
        }
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        Path out = Files.createTempDirectory("snippets");
        try (StandardJavaFileManager files = compiler.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean ok = compiler.getTask(null, files, diagnostics, List.of("-d", out.toString(), "-classpath",
                    System.getProperty("java.class.path"), "-proc:none"), null, sources).call();
            List<String> errors = new ArrayList<>();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() == Diagnostic.Kind.ERROR) {
                    int index = Integer.parseInt(d.getSource().getName().replaceAll("\\D", ""));
                    Snippet s = snippets.get(index);
                    errors.add(s.file() + " snippet at line " + s.line() + ": " + d.getMessage(null));
                }
            }
            assertThat(errors).as("snippets that do not compile").isEmpty();
            assertThat(ok).isTrue();
        } finally {
            try (Stream<Path> all = Files.walk(out)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
