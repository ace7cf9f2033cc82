package io.streamflow.benchmarks.kafka;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One Kafka system in a JVM of its own, as the windowed workloads' {@code WindowWorker}: the
 * harness starts one per system and asks them in turn for runs, so no system runs on the compiled
 * code and heap another one left behind.
 * <p>
 * Protocol, one line each: the worker writes {@code ready}; each
 * {@code run <bootstrap> <input> <output> <runId> <partitions> <disorderMs> <intervalMs>} is
 * answered with {@code ok <nanos> <records>} or {@code failed <reason>}; {@code exit} ends it.
 * What the system prints goes to standard error.
 */
public final class KafkaWorker {

    private KafkaWorker() {
    }

    /** Arguments: the system's name, a directory for the runs' checkpoints and state stores. */
    public static void main(String[] args) throws IOException {
        KafkaSystem system = KafkaSystem.of(args[0]);
        Path base = Path.of(args[1]);
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        protocol.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null && !line.equals("exit"); ) {
            String[] f = line.split(" ");
            if (f.length != 8 || !f[0].equals("run")) {
                protocol.println("failed unknown command '" + line + "'");
                continue;
            }
            try {
                KafkaSystem.RunResult r = runOnce(system, f[1], f[2], f[3], f[4], Integer.parseInt(f[5]),
                        Long.parseLong(f[6]), Duration.ofMillis(Long.parseLong(f[7])), base);
                protocol.println("ok " + r.nanos() + " " + r.records());
            } catch (Throwable t) {
                t.printStackTrace();
                protocol.println("failed " + String.valueOf(t).replace('\n', ' '));
            }
        }
        System.exit(0); // the systems' non-daemon threads must not keep it alive
    }

    /** One run in a fresh directory under {@code base}, deleted afterwards. */
    static KafkaSystem.RunResult runOnce(KafkaSystem system, String bootstrap, String input, String output,
                                         String runId, int partitions, long disorderMillis, Duration interval,
                                         Path base) throws Exception {
        Path dir = Files.createDirectories(base.resolve(runId));
        try {
            return system.run(new KafkaSystem.RunSpec(Map.of("bootstrap.servers", bootstrap), input, output, runId,
                    partitions, disorderMillis, interval, dir));
        } finally {
            delete(dir);
        }
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The harness's handle on a worker process. */
    static final class Handle implements AutoCloseable {
        private final KafkaSystem system;
        private final Process process;
        private final BufferedReader out;
        private final BufferedWriter in;

        private Handle(KafkaSystem system, Process process) {
            this.system = system;
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        }

        /** Starts the worker of {@code system} with {@code jvmFlags} and the harness's class path. */
        static Handle start(KafkaSystem system, Path base, List<String> jvmFlags) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(jvmFlags);
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(KafkaWorker.class.getName());
            cmd.add(system.id());
            cmd.add(base.toString());
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Handle h = new Handle(system, p);
            String first = h.readLine();
            if (!"ready".equals(first)) {
                h.close();
                throw new IOException("worker of " + system.id() + " did not start (first line: " + first + ")");
            }
            return h;
        }

        /** One run in the worker; a failure inside the system is thrown as an exception. */
        KafkaSystem.RunResult run(String bootstrap, String input, String output, String runId, int partitions,
                                  long disorderMillis, Duration interval) throws IOException {
            in.write(String.join(" ", "run", bootstrap, input, output, runId, Integer.toString(partitions),
                    Long.toString(disorderMillis), Long.toString(interval.toMillis())) + "\n");
            in.flush();
            String line = readLine();
            if (line == null) {
                throw new IOException("worker of " + system.id() + " ended");
            }
            if (line.startsWith("ok ")) {
                String[] f = line.split(" ");
                return new KafkaSystem.RunResult(Long.parseLong(f[1]), Long.parseLong(f[2]));
            }
            throw new IllegalStateException(system.id() + ": " + line);
        }

        /** The next protocol line, skipping what the JVM itself prints (unified logging, e.g. JFR's start). */
        private String readLine() throws IOException {
            String line = out.readLine();
            while (line != null && line.startsWith("[")) {
                System.err.println(system.id() + " worker: " + line);
                line = out.readLine();
            }
            return line;
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
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
