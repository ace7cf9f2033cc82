package io.streamflow.reactive.test;

import io.streamflow.reactive.test.internal.BrokerMain;
import io.streamflow.reactive.test.internal.Signals;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A real Apache Kafka broker for tests: one KRaft node that is both broker and controller,
 * listening on {@code 127.0.0.1} only, on ports chosen when it first starts, running in a child
 * JVM from the broker's own jars (see {@link KafkaBrokerConfig} for where they come from; they
 * never go on the test's class path). Because it is a separate process, a test can crash it
 * ({@link #kill()}), stop it cleanly ({@link #stop()}), freeze it ({@link #pause()}) and bring it
 * back ({@link #restart()}, {@link #resume()}) with its data and ports.
 * <pre>{@code
 * try (KafkaBroker broker = KafkaBroker.start()) {
 *     broker.createTopic("orders", 3);
 *     Map<String, Object> producerConfig = new HashMap<>(broker.clientProperties());
 *     producerConfig.put("acks", "all");
 *     // ... run the pipeline under test against broker.bootstrapServers()
 * }
 * }</pre>
 * In JUnit 5 tests, {@link KafkaBrokerExtension} starts one per test class and closes it.
 *
 * <p>Its files (settings, data and the broker's output in {@link #logFile()}) are in a temporary
 * directory that {@link #close()} deletes. The broker does not outlive the JVM that started it:
 * a shutdown hook kills it, and if that JVM is itself killed, the broker halts when its standard
 * input ends.
 *
 * <p>The broker keeps every record for as long as it runs ({@code log.retention.ms=-1}): records
 * with event-time timestamps far in the past, as tests write them, are not deleted by time-based
 * retention under a running test ({@link KafkaBrokerConfig#withBrokerProperty} sets another).
 *
 * <p>Every method blocks (starting takes seconds), so none may be called on a non-blocking
 * Reactor thread. The methods are thread-safe. {@link #pause()} and {@link #resume()} need a Unix
 * {@code kill} command.
 *
 * <p>This class needs {@code org.apache.kafka:kafka-clients} (3.9.x or later) on the test class
 * path to ask the broker whether it is ready and to create topics; the test kit declares it as an
 * optional dependency, so tests that use the broker add it themselves (they need it for their own
 * producers and consumers anyway). No Kafka client type appears in this class's methods: client
 * settings are plain maps.
 */
public final class KafkaBroker implements AutoCloseable {

    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(60);
    private static final int START_ATTEMPTS = 3;
    private static final int LOG_TAIL_LINES = 40;
    private static final String LOCALHOST = "127.0.0.1";
    private static final String MARKER = "---- streamflow KafkaBroker: ";

    private final KafkaBrokerConfig config;
    private final String classPath;
    private final Path directory;
    private final Path logFile;
    private final Path propertiesFile;
    private final Thread shutdownHook;
    private int brokerPort;
    private int controllerPort;
    private int saslPort = -1;
    private volatile Process process;
    private boolean paused;
    private boolean closed;

    private KafkaBroker(KafkaBrokerConfig config, String classPath, Path directory) {
        this.config = config;
        this.classPath = classPath;
        this.directory = directory;
        this.logFile = directory.resolve("broker.log");
        this.propertiesFile = directory.resolve("server.properties");
        this.shutdownHook = new Thread(this::killAndDelete, "streamflow-kafka-broker-cleanup");
    }

    /**
     * Starts a broker with {@link KafkaBrokerConfig#defaults()} and waits until it serves.
     *
     * @return the running broker, to be closed by the caller
     * @throws IllegalStateException if no broker class path is configured (the message says how to
     *                               set one), if kafka-clients is missing, or if the broker does not
     *                               start within the start timeout (the message holds the end of
     *                               the broker's log)
     */
    public static KafkaBroker start() {
        return start(KafkaBrokerConfig.defaults());
    }

    /**
     * Starts a broker and waits until it serves: formats its storage, launches its JVM and asks it
     * for cluster metadata until it answers. If a chosen port was taken by another process in the
     * meantime, it tries again with new ports (three times in all).
     *
     * @param config how to start it
     * @return the running broker, to be closed by the caller
     * @throws NullPointerException  if {@code config} is {@code null}
     * @throws IllegalStateException if no broker class path is configured (the message says how to
     *                               set one), if kafka-clients is missing, or if the broker does not
     *                               start within the start timeout (the message holds the end of
     *                               the broker's log); nothing is left running then
     */
    public static KafkaBroker start(KafkaBrokerConfig config) {
        Objects.requireNonNull(config, "config");
        BrokerAdmin.checkClientsPresent();
        String classPath = BrokerClassPath.resolve(config.classPathSource(), System::getProperty);
        Path directory;
        try {
            directory = Files.createTempDirectory("streamflow-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the Kafka broker", e);
        }
        KafkaBroker broker = new KafkaBroker(config, classPath, directory);
        try {
            Runtime.getRuntime().addShutdownHook(broker.shutdownHook);
            broker.firstStart();
            return broker;
        } catch (RuntimeException | Error e) {
            broker.close();
            throw e;
        }
    }

    private synchronized void firstStart() {
        long started = System.nanoTime();
        long deadline = started + config.startTimeout().toNanos();
        for (int attempt = 1; ; attempt++) {
            choosePorts();
            writeProperties();
            if (attempt == 1) {
                format(deadline);
            }
            long logOffset = logSize();
            if (launchAndAwaitReady(started, deadline)) {
                return;
            }
            String output = logSince(logOffset);
            if (attempt < START_ATTEMPTS && portTaken(output)) {
                marker("a port was taken meanwhile; trying again with new ports");
                continue;
            }
            throw failure("exited with code " + process.exitValue() + " while starting", false);
        }
    }

    /**
     * The broker's client listener ({@code PLAINTEXT}), for the {@code bootstrap.servers} setting.
     * It stays the same across {@link #restart()}.
     *
     * @return {@code host:port}, e.g. {@code 127.0.0.1:40123}
     */
    public String bootstrapServers() {
        return LOCALHOST + ":" + brokerPort;
    }

    /**
     * The client settings for the {@code PLAINTEXT} listener: only {@code bootstrap.servers}. Copy
     * the map to add more.
     *
     * @return an unmodifiable map to pass to a Kafka producer, consumer or admin client
     */
    public Map<String, Object> clientProperties() {
        return Map.of("bootstrap.servers", bootstrapServers());
    }

    /**
     * The {@code SASL_PLAINTEXT} listener added by {@link KafkaBrokerConfig#withSaslPlain}.
     *
     * @return {@code host:port} of that listener
     * @throws IllegalStateException if the broker has no SASL listener
     */
    public String saslBootstrapServers() {
        if (saslPort < 0) {
            throw new IllegalStateException("this broker has no SASL listener: start it with "
                    + "KafkaBrokerConfig.withSaslPlain(users)");
        }
        return LOCALHOST + ":" + saslPort;
    }

    /**
     * The client settings for the {@code SASL_PLAINTEXT} listener, logging in with {@code PLAIN} as
     * this user: {@code bootstrap.servers}, {@code security.protocol}, {@code sasl.mechanism} and
     * {@code sasl.jaas.config}. The broker accepts only the users and passwords it was configured
     * with; others fail to authenticate, which a test may want to see.
     *
     * @param user     the user name
     * @param password the password
     * @return an unmodifiable map to pass to a Kafka producer, consumer or admin client
     * @throws NullPointerException     if {@code user} or {@code password} is {@code null}
     * @throws IllegalArgumentException if either holds {@code "} or {@code \}
     * @throws IllegalStateException    if the broker has no SASL listener
     */
    public Map<String, Object> clientProperties(String user, String password) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        KafkaBrokerConfig.checkSaslSecret("user", user);
        KafkaBrokerConfig.checkSaslSecret("password", password);
        return Map.of("bootstrap.servers", saslBootstrapServers(),
                "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                        + user + "\" password=\"" + password + "\";");
    }

    /**
     * Creates a topic with one replica per partition and waits until every partition has a leader.
     *
     * @param name       the topic's name
     * @param partitions its number of partitions, at least 1
     * @throws NullPointerException     if {@code name} is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank or {@code partitions < 1}
     * @throws IllegalStateException    if the broker is not running, is paused, or does not create
     *                                  the topic within 60 seconds (e.g. it exists already)
     */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /**
     * Creates a topic with one replica per partition and these topic settings (for example
     * {@code cleanup.policy=compact}), and waits until every partition has a leader.
     *
     * @param name        the topic's name
     * @param partitions  its number of partitions, at least 1
     * @param topicConfig topic settings, as in the Kafka topic configuration documentation
     * @throws NullPointerException     if an argument is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank or {@code partitions < 1}
     * @throws IllegalStateException    if the broker is not running, is paused, or does not create
     *                                  the topic within 60 seconds (e.g. it exists already or a
     *                                  setting is invalid)
     */
    public void createTopic(String name, int partitions, Map<String, String> topicConfig) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(topicConfig, "topicConfig");
        if (name.isBlank()) {
            throw new IllegalArgumentException("topic name is blank");
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("a topic needs at least 1 partition: " + partitions);
        }
        synchronized (this) {
            requireServing("create topic " + name);
        }
        BrokerAdmin.createTopic(bootstrapServers(), name, partitions, Map.copyOf(topicConfig), TOPIC_TIMEOUT);
    }

    /**
     * Crashes the broker: SIGKILL, no shutdown, and waits until its process is gone. What it had
     * acknowledged stays in its log directory (the operating system still writes it out), so
     * {@link #restart()} brings it back as after a power-less crash of the process only. Works on a
     * paused broker too. Does nothing if the broker is not running.
     *
     * @throws IllegalStateException if the broker is closed
     */
    public synchronized void kill() {
        requireOpen("kill");
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            awaitExit(p, STOP_TIMEOUT);
            marker("killed (SIGKILL)");
        }
        paused = false;
    }

    /**
     * Stops the broker cleanly: SIGTERM (after resuming it if it is paused), then waits for its
     * controlled shutdown, which takes about a second. Does nothing if the broker is not running.
     *
     * @throws IllegalStateException if the broker is closed, or did not stop within 30 seconds
     *                               (it is then killed)
     */
    public synchronized void stop() {
        requireOpen("stop");
        Process p = process;
        if (p == null || !p.isAlive()) {
            paused = false;
            return;
        }
        if (paused) {
            signal("CONT");
            paused = false;
        }
        // SIGTERM through the process handle: Process.destroy() would also close the broker's standard
        // input, which BrokerMain takes for the death of this JVM and halts before the clean shutdown
        p.toHandle().destroy();
        if (!awaitExit(p, STOP_TIMEOUT)) {
            p.destroyForcibly();
            awaitExit(p, STOP_TIMEOUT);
            throw failure("did not stop within " + STOP_TIMEOUT.toSeconds() + " s of SIGTERM and was killed", true);
        }
        marker("stopped (SIGTERM), exit code " + p.exitValue());
    }

    /**
     * Starts the broker again with the same ports, settings and log directory, so it keeps the
     * topics, records, committed offsets and transactions it had, and waits until it serves. If it
     * is running it is {@linkplain #stop() stopped} first; after {@link #kill()} this is recovery
     * from a crash.
     *
     * @throws IllegalStateException if the broker is closed, or does not serve within the start
     *                               timeout (for example because another process took one of its
     *                               ports meanwhile; the message holds the end of its log)
     */
    public synchronized void restart() {
        requireOpen("restart");
        stop();
        long started = System.nanoTime();
        if (!launchAndAwaitReady(started, started + config.startTimeout().toNanos())) {
            throw failure("exited with code " + process.exitValue() + " while restarting on ports " + brokerPort
                    + ", " + controllerPort + (saslPort < 0 ? "" : ", " + saslPort)
                    + " (if the log says a port is in use, another process took it while the broker was down)", true);
        }
    }

    /**
     * Freezes the broker's process (SIGSTOP): it keeps its connections but answers nothing, as a
     * broker does in a long garbage collection pause or behind a network partition, until
     * {@link #resume()}. Does nothing if it is paused already.
     *
     * @throws IllegalStateException         if the broker is closed or not running, or the signal
     *                                       cannot be sent
     * @throws UnsupportedOperationException on Windows
     */
    public synchronized void pause() {
        requireOpen("pause");
        Process p = process;
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("cannot pause the Kafka broker: it is not running");
        }
        if (!paused) {
            signal("STOP");
            paused = true;
            marker("paused (SIGSTOP)");
        }
    }

    /**
     * Lets a paused broker run again (SIGCONT). It serves at once; clients reconnect on their own.
     * Does nothing if it is not paused.
     *
     * @throws IllegalStateException         if the broker is closed or the signal cannot be sent
     * @throws UnsupportedOperationException on Windows
     */
    public synchronized void resume() {
        requireOpen("resume");
        if (paused) {
            signal("CONT");
            paused = false;
            marker("resumed (SIGCONT)");
        }
    }

    /**
     * Whether the broker's process is alive: started and not killed, stopped or closed. A paused
     * broker is running.
     *
     * @return {@code true} if the process is alive
     */
    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /**
     * Whether the broker is paused by {@link #pause()}.
     *
     * @return {@code true} between {@link #pause()} and {@link #resume()} (or a stop or kill)
     */
    public synchronized boolean isPaused() {
        return paused;
    }

    /**
     * The file that holds the broker's output (its log, at INFO level with the default class path)
     * and a line for each start, stop, kill, pause and resume. Deleted by {@link #close()}: a test
     * that wants to keep it copies it first.
     *
     * @return the path of the broker's log file
     */
    public Path logFile() {
        return logFile;
    }

    /**
     * Kills the broker if it runs and deletes its directory, data and log. Calling it again does
     * nothing; every other method then fails.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        killAndDelete();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // the JVM is shutting down (the hook runs or ran), or it was never added
        }
    }

    /**
     * Describes the broker: its client listener and whether it runs.
     *
     * @return e.g. {@code KafkaBroker[127.0.0.1:40123, running]}
     */
    @Override
    public String toString() {
        Process p = process;
        String state = p == null ? "not started" : p.isAlive() ? "running" : "not running";
        return "KafkaBroker[" + bootstrapServers() + ", " + state + "]";
    }

    // ---- processes

    private boolean launchAndAwaitReady(long started, long deadline) {
        marker("starting on " + bootstrapServers());
        launch();
        try {
            if (BrokerAdmin.awaitReady(bootstrapServers(), deadline, process::isAlive)) {
                marker(String.format(Locale.ROOT, "ready after %.1f s", (System.nanoTime() - started) / 1e9));
                return true;
            }
            awaitExit(process, STOP_TIMEOUT);
            return false;
        } catch (TimeoutException e) {
            throw failure("did not answer within " + config.startTimeout().toSeconds()
                    + " s (a loaded machine can need more: KafkaBrokerConfig.withStartTimeout)", true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("start interrupted", true);
        }
    }

    private void launch() {
        List<String> command = javaCommand();
        command.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        command.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
        Path ours = ownLocation();
        if (ours != null) {
            command.add("-D" + BrokerMain.DIRECTORY_PROPERTY + "=" + directory);
        }
        command.add("-cp");
        command.add(ours == null ? classPath : classPath + File.pathSeparator + ours);
        if (ours != null) {
            command.add(BrokerMain.class.getName());
        }
        command.add("kafka.Kafka");
        command.add(propertiesFile.toString());
        paused = false;
        process = startProcess(command);
    }

    private void format(long deadline) {
        List<String> command = javaCommand();
        command.add("-cp");
        command.add(classPath);
        command.add("kafka.tools.StorageTool");
        command.add("format");
        // the "=" form: a generated id may start with '-', which would be read as an option
        command.add("--cluster-id=" + clusterId());
        command.add("-c");
        command.add(propertiesFile.toString());
        marker("formatting the log directory");
        Process p = startProcess(command);
        try {
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                p.destroyForcibly();
                awaitExit(p, STOP_TIMEOUT);
                throw failure("could not format its storage within " + config.startTimeout().toSeconds() + " s", false);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw failure("start interrupted while formatting its storage", false);
        }
        if (p.exitValue() != 0) {
            throw failure("could not format its storage (kafka.tools.StorageTool exited with code " + p.exitValue()
                    + "; is the class path a Kafka broker's?)", false);
        }
    }

    private List<String> javaCommand() {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(config.jvmOptions());
        return command;
    }

    private Process startProcess(List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        try {
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        }
    }

    private static boolean awaitExit(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        }
    }

    private void signal(String name) {
        try {
            Signals.send(process.pid(), name);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("cannot send SIG" + name + " to the Kafka broker: " + e.getMessage(), e);
        }
    }

    /** Shutdown hook and {@link #close()}: no lock, so that an exit from a locked method cannot deadlock. */
    private void killAndDelete() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            awaitExit(p, Duration.ofSeconds(10));
        }
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // already gone, or partly: nothing more to do
        }
    }

    // ---- settings and files

    private void choosePorts() {
        int count = config.saslUsers().isEmpty() ? 2 : 3;
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LOCALHOST));
                sockets.add(s);
            }
            brokerPort = sockets.get(0).getLocalPort();
            controllerPort = sockets.get(1).getLocalPort();
            saslPort = count == 3 ? sockets.get(2).getLocalPort() : -1;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find free ports on " + LOCALHOST, e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException e) {
                    // a port we only looked at
                }
            }
        }
    }

    private void writeProperties() {
        Properties p = new Properties();
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "1");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "1");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        // a restarted controller keeps the registration of a broker that did not shut down cleanly for
        // one session timeout before the new broker process may register (9 s by default)
        p.setProperty("broker.session.timeout.ms", "3000");
        p.setProperty("broker.heartbeat.interval.ms", "500");
        // no time-based deletion: tests write records with event-time timestamps far in the past (1970
        // for small numbers), which the default retention of 7 days would delete at the first check,
        // 5 minutes after start, moving consumers mid-topic to the end of the log
        p.setProperty("log.retention.ms", "-1");
        config.brokerProperties().forEach(p::setProperty);
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@" + LOCALHOST + ":" + controllerPort);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("log.dirs", directory.resolve("data").toString());
        String listeners = "PLAINTEXT://" + bootstrapServers();
        String protocols = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT";
        if (saslPort >= 0) {
            listeners += ",SASL_PLAINTEXT://" + LOCALHOST + ":" + saslPort;
            protocols += ",SASL_PLAINTEXT:SASL_PLAINTEXT";
            StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
            config.saslUsers().forEach((user, password) ->
                    jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
            jaas.append(';');
            p.setProperty("sasl.enabled.mechanisms", "PLAIN");
            p.setProperty("listener.name.sasl_plaintext.sasl.enabled.mechanisms", "PLAIN");
            p.setProperty("listener.name.sasl_plaintext.plain.sasl.jaas.config", jaas.toString());
        }
        p.setProperty("advertised.listeners", listeners);
        p.setProperty("listeners", listeners + ",CONTROLLER://" + LOCALHOST + ":" + controllerPort);
        p.setProperty("listener.security.protocol.map", protocols);
        try (Writer w = Files.newBufferedWriter(propertiesFile, StandardCharsets.UTF_8)) {
            p.store(w, "written by streamflow KafkaBroker: one combined broker and controller on loopback");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + propertiesFile, e);
        }
    }

    private static String clusterId() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static Path ownLocation() {
        try {
            return Path.of(KafkaBroker.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            // no usable location (an unusual class loader): run kafka.Kafka directly, without the watchdog
            return null;
        }
    }

    private void marker(String what) {
        String line = MARKER + LocalTime.now().withNano(0) + " " + what + System.lineSeparator();
        try {
            Files.writeString(logFile, line, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            // the log is for diagnosis only
        }
    }

    private long logSize() {
        try {
            return Files.exists(logFile) ? Files.size(logFile) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private String logSince(long offset) {
        try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
            long start = Math.max(offset, f.length() - 1_000_000);
            byte[] bytes = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static boolean portTaken(String output) {
        return output.contains("Address already in use") || output.contains("BindException");
    }

    private String tail() {
        String text = logSince(Math.max(0, logSize() - 64 * 1024));
        String[] lines = text.split("\\R");
        int from = Math.max(0, lines.length - LOG_TAIL_LINES);
        return String.join(System.lineSeparator(), java.util.Arrays.asList(lines).subList(from, lines.length));
    }

    private IllegalStateException failure(String what, boolean logKept) {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            awaitExit(p, STOP_TIMEOUT);
        }
        return new IllegalStateException("Kafka broker " + what + (logKept ? " (log: " + logFile + ")" : "")
                + "; the last lines of its output:" + System.lineSeparator() + tail());
    }

    private void requireOpen(String action) {
        if (closed) {
            throw new IllegalStateException("cannot " + action + " the Kafka broker: it is closed");
        }
    }

    private void requireServing(String action) {
        requireOpen(action);
        if (!isRunning()) {
            throw new IllegalStateException("cannot " + action + ": the Kafka broker is not running (restart() it)");
        }
        if (paused) {
            throw new IllegalStateException("cannot " + action + ": the Kafka broker is paused (resume() it)");
        }
    }
}
