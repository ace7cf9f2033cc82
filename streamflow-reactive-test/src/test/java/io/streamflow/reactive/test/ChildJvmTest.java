package io.streamflow.reactive.test;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A child JVM runs its main class with the test's class path, its options and arguments; the test
 * follows its output line by line, kills it with SIGKILL when it says something, and freezes and
 * thaws it with SIGSTOP and SIGCONT.
 */
class ChildJvmTest {

    /** Prints its system property and arguments, then exits with the code in its first argument. */
    public static final class Greeter {

        private Greeter() {
        }

        public static void main(String[] args) {
            System.out.println("hello " + System.getProperty("greeting") + " " + String.join(" ", args));
            System.err.println("on standard error");
            System.exit(Integer.parseInt(args[0]));
        }
    }

    /** Prints "tick n" every 10 ms, n from 1 to its argument, then ends. */
    public static final class Ticker {

        private Ticker() {
        }

        public static void main(String[] args) throws InterruptedException {
            int ticks = Integer.parseInt(args[0]);
            for (int n = 1; n <= ticks; n++) {
                System.out.println("tick " + n);
                Thread.sleep(10);
            }
            System.out.println("done");
        }
    }

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void theChildRunsItsMainClassWithOptionsAndArgumentsAndEndsWithItsExitCode() {
        try (ChildJvm child = ChildJvm.start(Greeter.class, List.of("-Dgreeting=world"), "7", "two")) {
            assertThat(child.awaitLine("hello world 7 two", WAIT)).isTrue();
            assertThat(child.awaitLine("on standard error", WAIT)).as("standard error is read too").isTrue();
            assertThat(child.awaitExit(WAIT)).isTrue();
            assertThat(child.exitValue()).isEqualTo(7);
            assertThat(child.awaitLine("never printed", WAIT)).as("its output ended").isFalse();
            assertThat(child.output()).contains("hello world 7 two").contains("on standard error");
            assertThat(child.kill()).as("nothing to kill").isFalse();
        }
    }

    @Test
    void killWhenSaidKillsTheChildAtTheLineAndSaysWhetherItDid() {
        try (ChildJvm child = ChildJvm.start(Ticker.class, List.of(), "100000")) {
            assertThat(child.killWhenSaid("tick 5", Duration.ZERO)).isTrue();
            assertThat(child.isAlive()).isFalse();
            assertThat(child.exitValue()).as("128 + SIGKILL").isEqualTo(137);
            assertThat(child.output()).contains("tick 5").doesNotContain("done");
        }
        try (ChildJvm child = ChildJvm.start(Ticker.class, List.of(), "3")) {
            assertThat(child.killWhenSaid("tick 50", Duration.ZERO)).as("it ended before the line").isFalse();
            assertThat(child.exitValue()).isZero();
            assertThat(child.output()).contains("tick 3", "done");
        }
    }

    @Test
    void awaitLineTakesTheLinesInOrderAndMatchesByCondition() {
        try (ChildJvm child = ChildJvm.start(Ticker.class, List.of(), "20")) {
            assertThat(child.awaitLine(l -> l.endsWith("0"), WAIT)).hasValue("tick 10");
            assertThat(child.awaitLine("tick 3", WAIT)).as("went past it already").isFalse();
            assertThat(child.awaitExit(WAIT)).isTrue();
        }
    }

    @Test
    void aPausedChildIsStoppedByTheKernelUntilItIsResumed() {
        try (ChildJvm child = ChildJvm.start(Ticker.class, List.of(), "100000")) {
            assertThat(child.awaitLine("tick 1", WAIT)).isTrue();
            child.pause();
            Awaitility.await("stopped").atMost(WAIT).until(() -> state(child.pid()) == 'T');
            child.resume();
            Awaitility.await("running again").atMost(WAIT).until(() -> state(child.pid()) != 'T');
            assertThat(child.awaitLine(l -> l.startsWith("tick "), WAIT)).as("it ticks again").isPresent();
            child.pause();
            assertThat(child.kill()).as("a paused child is killed too").isTrue();
        }
    }

    @Test
    void closeKillsTheChildAndAPauseOfAnEndedChildFails() {
        ChildJvm child = ChildJvm.start(Ticker.class, List.of(), "100000");
        assertThat(child.awaitLine("tick 1", WAIT)).isTrue();
        child.close();
        assertThat(child.isAlive()).isFalse();
        assertThatThrownBy(child::pause).isInstanceOf(IllegalStateException.class).hasMessageContaining("ended");
    }

    /** The process state letter in /proc/pid/stat: 'T' when stopped by a signal. */
    private static char state(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }
}
