package io.streamflow.reactive.test.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The broker JVM's watchdog: it halts, and deletes the broker's directory, when the JVM that started
 * it goes (its standard input ends).
 */
class BrokerMainTest {

    /** Stands in for the broker: runs until halted. */
    public static final class RunsForever {

        private RunsForever() {
        }

        public static void main(String[] args) throws InterruptedException {
            System.out.println("running with " + String.join(",", args));
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    @Test
    void theBrokerJvmRunsItsMainClassAndHaltsAndDeletesItsDirectoryWhenItsStandardInputEnds(@TempDir Path temp)
            throws Exception {
        Path directory = Files.createDirectories(temp.resolve("broker").resolve("data"));
        Files.writeString(directory.resolve("00000000000000000000.log"), "records");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + BrokerMain.DIRECTORY_PROPERTY + "=" + directory.getParent(),
                "-cp", System.getProperty("java.class.path"), BrokerMain.class.getName(), RunsForever.class.getName(),
                "server.properties").redirectErrorStream(true).start();
        try {
            assertThat(child.waitFor(1, TimeUnit.SECONDS)).as("exited while its parent lives").isFalse();

            child.getOutputStream().close();

            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("halted after its input ended").isTrue();
            assertThat(child.exitValue()).isEqualTo(3);
            assertThat(new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .contains("running with server.properties").contains("has gone; halting");
            assertThat(directory.getParent()).doesNotExist();
        } finally {
            child.destroyForcibly();
        }
    }
}
