package io.streamflow.benchmarks;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One system of one windowed configuration in a JVM of its own. The harness starts one worker per
 * system and asks them in turn for a run, so rounds stay interleaved while no system runs with
 * the type profiles, compiled code and heap that the others left behind (the reason JMH forks a
 * JVM per benchmark). In one shared JVM the first systems to run decide which call sites in the
 * JDK and in Reactor are compiled monomorphic; whatever runs later pays for the megamorphic ones.
 * <p>
 * Protocol on the worker's standard input and output, one line each: the worker generates the
 * events and writes {@code ready}; each {@code run} is answered with
 * {@code ok <nanos> <results> <hash>} or {@code failed <reason>}; {@code exit} ends it. What the
 * systems themselves print goes to the worker's standard error.
 */
public final class WindowWorker {

    private WindowWorker() {
    }

    /** Arguments: system, workload, events, keys, disorder (ms). */
    public static void main(String[] args) throws IOException {
        String system = args[0];
        WindowWorkload w = WindowWorkload.valueOf(args[1]);
        int events = Integer.parseInt(args[2]);
        int keys = Integer.parseInt(args[3]);
        long disorder = Long.parseLong(args[4]);
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.setOut(System.err);
        BenchEvents ev = BenchEvents.generate(new BenchEvents.Spec(events, keys, disorder, 1_000_000, 42));
        protocol.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null && !line.equals("exit"); ) {
            if (!line.equals("run")) {
                protocol.println("failed unknown command '" + line + "'");
                continue;
            }
            try {
                Measured m = system.equals("loop") ? Harness.measure(() -> WindowLoop.run(ev, w, disorder))
                        : Harness.run(system, ev, w);
                protocol.println("ok " + m.nanos() + " " + m.checksum().results() + " " + m.checksum().hash());
            } catch (Throwable t) {
                protocol.println("failed " + String.valueOf(t).replace('\n', ' '));
            }
        }
        System.exit(0); // a system's non-daemon threads (a Flink cluster's, a scheduler's) must not keep it alive
    }

    /** The parent's handle on a worker process. */
    static final class Handle implements AutoCloseable {
        private final String system;
        private final Process process;
        private final BufferedReader out;
        private final BufferedWriter in;

        private Handle(String system, Process process) {
            this.system = system;
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        }

        /**
         * Starts the worker of {@code system} with {@code jvmFlags} and the harness's own class path,
         * and waits until it has generated its events.
         */
        static Handle start(String system, WindowWorkload w, int events, int keys, long disorder,
                            List<String> jvmFlags) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(jvmFlags);
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(WindowWorker.class.getName());
            cmd.add(system);
            cmd.add(w.name());
            cmd.add(Integer.toString(events));
            cmd.add(Integer.toString(keys));
            cmd.add(Long.toString(disorder));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Handle h = new Handle(system, p);
            String first = h.out.readLine();
            if (!"ready".equals(first)) {
                h.close();
                throw new IOException("worker of " + system + " did not start (first line: " + first
                        + ", exit " + (p.isAlive() ? "none" : p.exitValue()) + ")");
            }
            return h;
        }

        /** One measured run in the worker; a failure inside the system is thrown as an exception. */
        Measured run() throws IOException {
            in.write("run\n");
            in.flush();
            String line = out.readLine();
            if (line == null) {
                throw new IOException("worker of " + system + " ended (exit "
                        + waitExit() + ")");
            }
            if (line.startsWith("ok ")) {
                String[] f = line.split(" ");
                return new Measured(Checksum.of(Long.parseLong(f[2]), Long.parseLong(f[3])), Long.parseLong(f[1]));
            }
            throw new IllegalStateException(system + ": " + line);
        }

        private int waitExit() {
            try {
                return process.waitFor(10, TimeUnit.SECONDS) ? process.exitValue() : -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        @Override
        public void close() {
            try {
                in.write("exit\n");
                in.flush();
            } catch (IOException ignored) {
                // already gone
            }
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
