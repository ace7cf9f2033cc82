package io.streamflow.reactive.test;

import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Where the broker's jars come from, the errors that say how to name them, the settings a
 * configuration refuses, and what stays off the test class path and out of the public API. No
 * broker runs here.
 */
class KafkaBrokerConfigTest {

    @Test
    void withoutAClassPathTheErrorNamesTheThreeSystemPropertiesAndHowToWriteTheFile() {
        assertThatThrownBy(() -> BrokerClassPath.resolve(null, name -> null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(KafkaBrokerConfig.CLASS_PATH_FILE_PROPERTY)
                .hasMessageContaining(KafkaBrokerConfig.CLASS_PATH_PROPERTY + " (")
                .hasMessageContaining(KafkaBrokerConfig.KAFKA_HOME_PROPERTY)
                .hasMessageContaining("maven-dependency-plugin:build-classpath")
                .hasMessageContaining("streamflow-reactive-kafka-broker")
                .hasMessageContaining("must not be on the test class path");
    }

    @Test
    void theClassPathPropertyComesBeforeTheFileWhichComesBeforeTheKafkaHome(@TempDir Path dir) throws Exception {
        Path jar = Files.createFile(dir.resolve("broker.jar"));
        Path file = Files.writeString(dir.resolve("classpath.txt"), jar + "\n");
        Path home = Files.createDirectories(dir.resolve("kafka").resolve("libs")).getParent();
        Map<String, String> all = Map.of(KafkaBrokerConfig.CLASS_PATH_PROPERTY, dir.toString(),
                KafkaBrokerConfig.CLASS_PATH_FILE_PROPERTY, file.toString(),
                KafkaBrokerConfig.KAFKA_HOME_PROPERTY, home.toString());

        assertThat(BrokerClassPath.resolve(null, all::get)).isEqualTo(dir.toString());
        assertThat(BrokerClassPath.resolve(null, name -> name.equals(KafkaBrokerConfig.CLASS_PATH_PROPERTY)
                ? null : all.get(name))).isEqualTo(jar.toString());
        assertThat(BrokerClassPath.resolve(null, name -> name.equals(KafkaBrokerConfig.KAFKA_HOME_PROPERTY)
                ? all.get(name) : null)).isEqualTo(home.resolve("libs").toAbsolutePath() + File.separator + "*");
        assertThat(BrokerClassPath.resolve(KafkaBrokerConfig.defaults().withClassPathFile(file).classPathSource(),
                all::get)).as("the configuration wins over the properties").isEqualTo(jar.toString());
    }

    @Test
    void aMissingFileAStaleClassPathAndAHomeWithoutLibsAreReportedWithWhatToDo(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.txt");
        assertThatThrownBy(() -> BrokerClassPath.resolve(null,
                name -> name.equals(KafkaBrokerConfig.CLASS_PATH_FILE_PROPERTY) ? missing.toString() : null))
                .hasMessageContaining(missing.toString()).hasMessageContaining("does not exist: build the module");

        Path stale = Files.writeString(dir.resolve("stale.txt"), dir.resolve("gone.jar") + File.pathSeparator
                + dir);
        assertThatThrownBy(() -> BrokerClassPath.resolve(KafkaBrokerConfig.defaults().withClassPathFile(stale)
                .classPathSource(), name -> null))
                .hasMessageContaining("1 missing file(s)").hasMessageContaining("gone.jar")
                .hasMessageContaining("KafkaBrokerConfig.withClassPathFile");

        assertThatThrownBy(() -> BrokerClassPath.resolve(KafkaBrokerConfig.defaults().withKafkaHome(dir)
                .classPathSource(), name -> null)).hasMessageContaining("has no libs directory");
    }

    @Test
    void theSettingsKafkaBrokerChoosesItselfAreRefusedWithTheirNames() {
        KafkaBrokerConfig config = KafkaBrokerConfig.defaults();
        assertThatThrownBy(() -> config.withBrokerProperty("listeners", "PLAINTEXT://0.0.0.0:9092"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chosen by KafkaBroker")
                .hasMessageContaining("log.dirs");
        assertThatThrownBy(() -> config.withBrokerProperty("listener.name.plaintext.x", "y"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withSaslPlain(Map.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withSaslPlain(Map.of("a b", "x"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withSaslPlain(Map.of("a", "x\"y")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withStartTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> config.withClassPath(" ")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aConfigurationIsImmutableAndHidesSaslPasswords() {
        KafkaBrokerConfig defaults = KafkaBrokerConfig.defaults();
        KafkaBrokerConfig changed = defaults.withBrokerProperty("log.retention.ms", "-1")
                .withSaslPlain(Map.of("alice", "alice-secret")).withJvmOptions(List.of("-Xmx1g"));

        assertThat(defaults.brokerProperties()).isEmpty();
        assertThat(defaults.saslUsers()).isEmpty();
        assertThat(defaults.jvmOptions()).containsExactly("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
        assertThat(changed.brokerProperties()).containsExactly(Map.entry("log.retention.ms", "-1"));
        assertThat(changed.jvmOptions()).containsExactly("-Xmx1g");
        assertThat(changed.toString()).contains("alice").doesNotContain("alice-secret");
    }

    @Test
    void theBrokerJarsAreNotOnTheTestClassPathOnlyTheLibrarysKafkaClients() {
        assertThatThrownBy(() -> Class.forName("kafka.server.KafkaConfig")).isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("scala.Option")).isInstanceOf(ClassNotFoundException.class);
        assertThat(AppInfoParser.getVersion()).startsWith("3.9.");
    }

    @Test
    void theKitsPublicSignaturesNameNoKafkaClientType() {
        List<String> problems = new ArrayList<>();
        for (Class<?> c : List.of(KafkaBroker.class, KafkaBrokerConfig.class, KafkaBrokerExtension.class,
                TestEventStream.class)) {
            List<String> signatures = new ArrayList<>();
            signatures.add(c.toGenericString());
            if (c.getGenericSuperclass() != null) {
                signatures.add(c.getGenericSuperclass().getTypeName());
            }
            for (var t : c.getGenericInterfaces()) {
                signatures.add(t.getTypeName());
            }
            for (Constructor<?> k : c.getDeclaredConstructors()) {
                if (Modifier.isPublic(k.getModifiers())) {
                    signatures.add(k.toGenericString());
                }
            }
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers())) {
                    signatures.add(m.toGenericString());
                }
            }
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isPublic(f.getModifiers())) {
                    signatures.add(f.toGenericString());
                }
            }
            signatures.stream().filter(s -> s.contains("org.apache.kafka")).forEach(problems::add);
        }
        assertThat(problems).isEmpty();
    }
}
