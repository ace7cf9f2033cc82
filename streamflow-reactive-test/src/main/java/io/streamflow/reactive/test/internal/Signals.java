package io.streamflow.reactive.test.internal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Not API. Sends a Unix signal to a process with the {@code kill} command, for the pause and
 * resume of the broker and of child JVMs ({@code STOP}, {@code CONT}); the JDK itself sends only
 * SIGTERM and SIGKILL.
 */
public final class Signals {

    private Signals() {
    }

    /**
     * Sends the signal and waits until {@code kill} has done so.
     *
     * @param pid  the process id
     * @param name the signal's name without {@code SIG}, e.g. {@code STOP}
     * @throws IllegalStateException         if {@code kill} fails or cannot be run
     * @throws UnsupportedOperationException on Windows
     */
    public static void send(long pid, String name) {
        if (File.separatorChar == '\\') {
            throw new UnsupportedOperationException("sending SIG" + name + " needs Unix signals (kill -" + name + ")");
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + pid + " failed: " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run kill -" + name + " " + pid + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending SIG" + name + " to process " + pid, e);
        }
    }
}
