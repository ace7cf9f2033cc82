package io.streamflow.reactive.test.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Not API. The main class of the broker JVM that {@code KafkaBroker} starts, and of the JVMs that
 * {@code ChildJvm} starts: runs the main class named by its first argument ({@code kafka.Kafka}
 * for the broker) with the other arguments, and halts the JVM as soon as its standard input ends,
 * which happens when the test JVM that started it exits in any way, even killed with SIGKILL, so
 * that no broker or child outlives its test run; it then also deletes the broker's directory named
 * by the system property {@value #DIRECTORY_PROPERTY}, if set. Uses the JDK only: it runs on the
 * broker's class path, next to the broker's jars.
 */
public final class BrokerMain {

    /** System property naming the directory to delete when the parent JVM has gone: {@value}. */
    public static final String DIRECTORY_PROPERTY = "streamflow.kafka.broker.directory";

    private BrokerMain() {
    }

    /**
     * Starts the broker.
     *
     * @param args the broker's main class ({@code kafka.Kafka}), then its arguments (the path of
     *             {@code server.properties})
     * @throws Exception if the main class cannot be found or run
     */
    public static void main(String[] args) throws Exception {
        Thread watchdog = new Thread(() -> {
            InputStream in = System.in;
            try {
                while (in.read() >= 0) {
                    // nothing is ever sent: only the end of the stream matters
                }
            } catch (IOException e) {
                // a broken pipe also means the parent is gone
            }
            System.err.println("BrokerMain: the test JVM that started this one (" + args[0] + ") has gone; halting");
            String directory = System.getProperty(DIRECTORY_PROPERTY);
            if (directory != null) {
                delete(Path.of(directory));
            }
            Runtime.getRuntime().halt(3);
        }, "streamflow-parent-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        String[] mainArgs = java.util.Arrays.copyOfRange(args, 1, args.length);
        Class.forName(args[0]).getMethod("main", String[].class).invoke(null, (Object) mainArgs);
    }

    private static void delete(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // best effort: the JVM halts next
        }
    }
}
