package io.streamflow.reactive.test;

import io.streamflow.reactive.test.internal.BrokerMain;
import io.streamflow.reactive.test.internal.Signals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A Java program under test in a JVM of its own, for crash tests: started with the test's class
 * path, it tells the test where it is by printing lines, and the test reacts to them by killing it
 * with SIGKILL ({@link #kill()}, {@link #killWhenSaid}), freezing it with SIGSTOP
 * ({@link #pause()}) or letting it run to its end ({@link #awaitExit}):
 * <pre>{@code
 * try (ChildJvm child = ChildJvm.start(MyPipeline.class, List.of("-Xmx256m"), checkpointDir.toString())) {
 *     boolean killed = child.killWhenSaid("progress 20000", Duration.ZERO);
 *     // killed is false if the pipeline ended before it printed that line
 * }
 * }</pre>
 * Its standard output and standard error are read as lines of UTF-8 text by a daemon thread of
 * this JVM. {@link #awaitLine} and {@link #killWhenSaid} take the lines in order: a line one of
 * them went past is not seen by the next. {@link #output()} keeps the last
 * {@value #KEPT_LINES} lines for failure messages.
 * <p>
 * The child does not outlive the JVM that started it: {@link #close()} kills it, and if the test
 * JVM itself dies, the child halts (exit code 3) when its standard input ends, so a child's main
 * class must not read standard input. Every method may block: none may be called on a
 * non-blocking Reactor thread. {@link #pause()} and {@link #resume()} need a Unix {@code kill}
 * command; SIGKILL comes from {@link Process#destroyForcibly()}, which sends it on Linux and macOS.
 */
public final class ChildJvm implements AutoCloseable {

    /** How many of the child's last output lines {@link #output()} keeps. */
    public static final int KEPT_LINES = 2_000;

    private static final String EOF = new String("<end of output>");
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final String name;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Deque<String> kept = new ArrayDeque<>();
    private volatile boolean ended;

    private ChildJvm(Process process, String name) {
        this.process = process;
        this.name = name;
        Thread reader = new Thread(this::read, "streamflow-child-jvm-reader-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code mainClass} in a new JVM: the {@code java} of this JVM's {@code java.home}, with
     * the options, this JVM's class path ({@code java.class.path}) and the arguments. Returns once
     * the process is started, not once the program is ready: wait for a line it prints.
     *
     * @param mainClass  the class whose {@code public static void main(String[])} runs; it must be
     *                   on this JVM's class path
     * @param jvmOptions options before the class path, e.g. {@code -Xmx64m} or {@code -Dname=value}
     * @param args       the program's arguments
     * @return the running child, to be closed by the caller
     * @throws NullPointerException  if an argument is {@code null}
     * @throws UncheckedIOException  if the process cannot be started
     */
    public static ChildJvm start(Class<?> mainClass, List<String> jvmOptions, String... args) {
        Objects.requireNonNull(mainClass, "mainClass");
        Objects.requireNonNull(jvmOptions, "jvmOptions");
        Objects.requireNonNull(args, "args");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        // runs mainClass and halts when this JVM goes (the end of its standard input)
        command.add(BrokerMain.class.getName());
        command.add(mainClass.getName());
        command.addAll(Arrays.asList(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            return new ChildJvm(p, mainClass.getSimpleName());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a JVM for " + mainClass.getName(), e);
        }
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                keep(line);
                lines.add(line);
            }
        } catch (IOException e) {
            // the process was killed while a line was being read
        }
        lines.add(EOF);
    }

    private synchronized void keep(String line) {
        kept.addLast(line);
        if (kept.size() > KEPT_LINES) {
            kept.removeFirst();
        }
    }

    /**
     * The process id, e.g. for a heap dump or to look at the process in {@code /proc}.
     *
     * @return the child's process id
     */
    public long pid() {
        return process.pid();
    }

    /**
     * Waits until the child prints a line equal to {@code line}, taking the lines before it.
     *
     * @param line    the whole line to wait for
     * @param timeout the longest wait for the next line (not for the whole wait)
     * @return {@code true} when it printed the line, {@code false} if its output ended first (it
     *         exited or was killed); every later wait then returns {@code false} at once
     * @throws IllegalStateException if the child printed nothing for {@code timeout} (the message
     *                               holds its last lines)
     */
    public boolean awaitLine(String line, Duration timeout) {
        Objects.requireNonNull(line, "line");
        return awaitLine(line::equals, timeout).isPresent();
    }

    /**
     * Waits until the child prints a line that matches, taking the lines before it.
     *
     * @param matches the condition on a line
     * @param timeout the longest wait for the next line (not for the whole wait)
     * @return the matching line, or empty if the child's output ended first (it exited or was
     *         killed); every later wait then returns empty at once
     * @throws IllegalStateException if the child printed nothing for {@code timeout} (the message
     *                               holds its last lines)
     */
    public Optional<String> awaitLine(Predicate<String> matches, Duration timeout) {
        Objects.requireNonNull(matches, "matches");
        Objects.requireNonNull(timeout, "timeout");
        for (;;) {
            if (ended) {
                return Optional.empty();
            }
            String l;
            try {
                l = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + name + " to print a line", e);
            }
            if (l == null) {
                throw new IllegalStateException(name + " (pid " + pid() + ") printed nothing for "
                        + timeout.toSeconds() + " s; its last lines:" + System.lineSeparator() + output());
            }
            if (l == EOF) {
                ended = true;
                awaitExit(EXIT_TIMEOUT);
                return Optional.empty();
            }
            if (matches.test(l)) {
                return Optional.of(l);
            }
        }
    }

    /**
     * Kills the child with SIGKILL {@code delay} after it prints {@code line}, unless it ends first.
     *
     * @param line    the whole line to wait for
     * @param delay   how long after the line; {@link Duration#ZERO} kills at once
     * @return {@code true} if it was killed, {@code false} if it ended by itself before
     * @throws IllegalStateException if the child printed nothing for three minutes
     */
    public boolean killWhenSaid(String line, Duration delay) {
        if (!awaitLine(line, Duration.ofMinutes(3))) {
            return false;
        }
        return delay.isZero() ? kill() : killAfter(delay);
    }

    /**
     * Kills the child with SIGKILL {@code delay} from now, unless it ends first.
     *
     * @param delay how long to let it run
     * @return {@code true} if it was killed, {@code false} if it ended by itself before
     */
    public boolean killAfter(Duration delay) {
        return !awaitExit(delay) && kill();
    }

    /**
     * Kills the child at once with SIGKILL (no shutdown hook, no finally block runs in it; a
     * paused child dies too) and waits until it is gone.
     *
     * @return {@code true} if it was alive and is now killed, {@code false} if it had ended already
     * @throws IllegalStateException if it is still there a minute later
     */
    public boolean kill() {
        if (!process.isAlive()) {
            return false;
        }
        process.destroyForcibly();
        if (!awaitExit(EXIT_TIMEOUT)) {
            throw new IllegalStateException(name + " (pid " + pid() + ") still runs a minute after SIGKILL");
        }
        return true;
    }

    /**
     * Freezes the child with SIGSTOP: its threads stop where they are, its sockets stay open and
     * unanswered, its timers fall behind, as in a long garbage collection pause, until
     * {@link #resume()}.
     *
     * @throws IllegalStateException         if the child has ended or the signal cannot be sent
     * @throws UnsupportedOperationException on Windows
     */
    public void pause() {
        requireAlive("pause");
        Signals.send(pid(), "STOP");
    }

    /**
     * Lets a paused child run again with SIGCONT. Sending it to a child that is not paused does
     * nothing.
     *
     * @throws IllegalStateException         if the child has ended or the signal cannot be sent
     * @throws UnsupportedOperationException on Windows
     */
    public void resume() {
        requireAlive("resume");
        Signals.send(pid(), "CONT");
    }

    private void requireAlive(String action) {
        if (!process.isAlive()) {
            throw new IllegalStateException("cannot " + action + " " + name + ": it has ended with exit code "
                    + process.exitValue());
        }
    }

    /**
     * Waits until the child ends.
     *
     * @param timeout the longest wait
     * @return {@code true} if it has ended, {@code false} if it still runs
     */
    public boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /**
     * Whether the child still runs (a paused child does).
     *
     * @return {@code true} until it ends or is killed
     */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * The exit code of an ended child: 0 after a normal end, 137 after SIGKILL, 3 when it halted
     * because the JVM that started it went.
     *
     * @return the exit code
     * @throws IllegalThreadStateException if it still runs
     */
    public int exitValue() {
        return process.exitValue();
    }

    /**
     * The child's last {@value #KEPT_LINES} lines of output so far, for failure messages.
     *
     * @return the lines, each followed by a line separator
     */
    public synchronized String output() {
        StringBuilder out = new StringBuilder();
        for (String l : kept) {
            out.append(l).append(System.lineSeparator());
        }
        return out.toString();
    }

    /** Kills the child with SIGKILL if it still runs, and waits until it is gone. */
    @Override
    public void close() {
        kill();
    }

    /**
     * Describes the child.
     *
     * @return its main class's simple name and process id, e.g. {@code ChildJvm[MyPipeline, pid 4242]}
     */
    @Override
    public String toString() {
        return "ChildJvm[" + name + ", pid " + pid() + "]";
    }
}
