package io.streamflow.reactive.test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** Finds the class path of the broker's JVM and checks that its entries exist. */
final class BrokerClassPath {

    enum Kind { CLASS_PATH, FILE, HOME }

    /** Where a class path comes from: its kind, the value given, and who gave it (for messages). */
    record Source(Kind kind, String value, String origin) {
    }

    private BrokerClassPath() {
    }

    /**
     * The class path for the broker's JVM.
     *
     * @param configured       what the configuration names, or {@code null} for the system properties
     * @param systemProperties looks up a system property ({@code System::getProperty} outside tests)
     * @throws IllegalStateException with a message that says what to set, when nothing usable is named
     */
    static String resolve(Source configured, UnaryOperator<String> systemProperties) {
        Source source = configured != null ? configured : fromSystemProperties(systemProperties);
        String classPath = switch (source.kind()) {
            case CLASS_PATH -> source.value();
            case FILE -> read(source);
            case HOME -> home(source);
        };
        List<String> missing = new ArrayList<>();
        int entries = 0;
        for (String entry : classPath.split(File.pathSeparator)) {
            entry = entry.strip();
            if (entry.isEmpty()) {
                continue;
            }
            entries++;
            String path = entry.endsWith("*") ? entry.substring(0, entry.length() - 1) : entry;
            if (!path.isEmpty() && !Files.exists(Path.of(path))) {
                missing.add(entry);
            }
        }
        if (entries == 0) {
            throw new IllegalStateException("the Kafka broker class path from " + source.origin() + " is empty");
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the Kafka broker class path from " + source.origin() + " names "
                    + missing.size() + " missing file(s), e.g. " + missing.subList(0, Math.min(3, missing.size()))
                    + ": the jars were removed from the local repository or the file is stale; rebuild the "
                    + "module that writes it");
        }
        return classPath.strip();
    }

    private static Source fromSystemProperties(UnaryOperator<String> properties) {
        String classPath = properties.apply(KafkaBrokerConfig.CLASS_PATH_PROPERTY);
        if (classPath != null && !classPath.isBlank()) {
            return new Source(Kind.CLASS_PATH, classPath, "system property " + KafkaBrokerConfig.CLASS_PATH_PROPERTY);
        }
        String file = properties.apply(KafkaBrokerConfig.CLASS_PATH_FILE_PROPERTY);
        if (file != null && !file.isBlank()) {
            return new Source(Kind.FILE, file, "system property " + KafkaBrokerConfig.CLASS_PATH_FILE_PROPERTY);
        }
        String home = properties.apply(KafkaBrokerConfig.KAFKA_HOME_PROPERTY);
        if (home != null && !home.isBlank()) {
            return new Source(Kind.HOME, home, "system property " + KafkaBrokerConfig.KAFKA_HOME_PROPERTY);
        }
        throw new IllegalStateException("No Kafka broker to run: the broker runs in a child JVM from its own jars, "
                + "which must not be on the test class path, and none were named. Set one of the system properties "
                + KafkaBrokerConfig.CLASS_PATH_FILE_PROPERTY + " (a file holding the broker's class path, as "
                + "maven-dependency-plugin:build-classpath writes it for org.apache.kafka:kafka_2.13 and "
                + "org.slf4j:slf4j-simple in a separate pom module, such as one depending on "
                + "io.streamflow:streamflow-reactive-kafka-broker with type pom; in Maven, pass it to the tests with "
                + "surefire's systemPropertyVariables), " + KafkaBrokerConfig.CLASS_PATH_PROPERTY
                + " (the class path itself, entries separated by '" + File.pathSeparator + "') or "
                + KafkaBrokerConfig.KAFKA_HOME_PROPERTY + " (an unpacked Apache Kafka download; its libs directory "
                + "is used), or give KafkaBrokerConfig.withClassPathFile, withClassPath or withKafkaHome");
    }

    private static String read(Source source) {
        Path file = Path.of(source.value());
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException(source.origin() + " names " + file.toAbsolutePath()
                    + ", which does not exist: build the module that writes it first (in this project "
                    + "mvn -pl <the module under test> -am verify does; a single test run from an IDE needs "
                    + "that build once)");
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the Kafka broker class path from " + file + " ("
                    + source.origin() + "): " + e, e);
        }
    }

    private static String home(Source source) {
        Path libs = Path.of(source.value()).resolve("libs");
        if (!Files.isDirectory(libs)) {
            throw new IllegalStateException(source.origin() + " names " + Path.of(source.value()).toAbsolutePath()
                    + ", which has no libs directory: name the directory of an unpacked Apache Kafka download");
        }
        return libs.toAbsolutePath() + File.separator + "*";
    }
}
