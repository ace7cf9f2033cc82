package io.streamflow.reactive.test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How {@link KafkaBroker} starts a broker: where its jars are, extra broker settings, an optional
 * SASL/PLAIN listener, the broker JVM's options and how long to wait for it. Immutable: every
 * {@code with...} method returns a changed copy, so a configuration can be shared.
 * <pre>{@code
 * KafkaBrokerConfig config = KafkaBrokerConfig.defaults()
 *     .withBrokerProperty("transaction.max.timeout.ms", "60000")
 *     .withSaslPlain(Map.of("alice", "alice-secret"))
 *     .withStartTimeout(Duration.ofMinutes(3));
 * }</pre>
 *
 * <h2>Where the broker's jars come from</h2>
 * The broker runs in a child JVM whose class path is, in this order of precedence:
 * <ol>
 *   <li>the one given to {@link #withClassPath}, {@link #withClassPathFile} or
 *       {@link #withKafkaHome} (the last of these calls wins);</li>
 *   <li>the system property {@value #CLASS_PATH_PROPERTY}: a class path, entries separated by the
 *       platform's path separator ({@code :} on Linux);</li>
 *   <li>the system property {@value #CLASS_PATH_FILE_PROPERTY}: a file holding such a class path,
 *       as {@code maven-dependency-plugin:build-classpath} writes it for
 *       {@code org.apache.kafka:kafka_2.13} and an slf4j binding (the
 *       {@code streamflow-reactive-kafka-broker} module does exactly that);</li>
 *   <li>the system property {@value #KAFKA_HOME_PROPERTY}: a Kafka installation (an unpacked
 *       Apache Kafka download), whose {@code libs} directory holds the jars.</li>
 * </ol>
 * The broker's jars must not be on the test's own class path: they bring their own
 * {@code kafka-clients}, Scala, Jackson 2 and log4j.
 */
public final class KafkaBrokerConfig {

    /** System property naming the broker's class path: {@value}. */
    public static final String CLASS_PATH_PROPERTY = "streamflow.kafka.broker.classpath";

    /** System property naming a file that holds the broker's class path: {@value}. */
    public static final String CLASS_PATH_FILE_PROPERTY = "streamflow.kafka.broker.classpath.file";

    /** System property naming a Kafka installation whose {@code libs} directory holds the broker's jars: {@value}. */
    public static final String KAFKA_HOME_PROPERTY = "streamflow.kafka.broker.home";

    /** Broker settings that {@link KafkaBroker} chooses itself (roles, node, listeners, ports, directories). */
    static final Set<String> RESERVED_PROPERTIES = Set.of("process.roles", "node.id", "broker.id",
            "controller.quorum.voters", "controller.quorum.bootstrap.servers", "listeners", "advertised.listeners",
            "controller.listener.names", "inter.broker.listener.name", "security.inter.broker.protocol",
            "listener.security.protocol.map", "log.dirs", "log.dir", "metadata.log.dir", "sasl.enabled.mechanisms");

    private static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xmx512m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1");
    private static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(2);
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final KafkaBrokerConfig DEFAULTS = new KafkaBrokerConfig(null, Map.of(), Map.of(),
            DEFAULT_JVM_OPTIONS, DEFAULT_START_TIMEOUT);

    private final BrokerClassPath.Source classPath;
    private final Map<String, String> brokerProperties;
    private final Map<String, String> saslUsers;
    private final List<String> jvmOptions;
    private final Duration startTimeout;

    private KafkaBrokerConfig(BrokerClassPath.Source classPath, Map<String, String> brokerProperties,
            Map<String, String> saslUsers, List<String> jvmOptions, Duration startTimeout) {
        this.classPath = classPath;
        this.brokerProperties = brokerProperties;
        this.saslUsers = saslUsers;
        this.jvmOptions = jvmOptions;
        this.startTimeout = startTimeout;
    }

    /**
     * The defaults: the class path from the system properties, a {@code PLAINTEXT} listener only,
     * JVM options {@code -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1} (a quick start on
     * small machines), and 2 minutes to start.
     *
     * @return the default configuration
     */
    public static KafkaBrokerConfig defaults() {
        return DEFAULTS;
    }

    /**
     * Runs the broker with this class path instead of the one the system properties name.
     *
     * @param classPath the broker's jars (and directories, or {@code dir/*} wildcards), separated
     *                  by the platform's path separator
     * @return a copy with this class path
     * @throws NullPointerException     if {@code classPath} is {@code null}
     * @throws IllegalArgumentException if {@code classPath} is blank
     */
    public KafkaBrokerConfig withClassPath(String classPath) {
        Objects.requireNonNull(classPath, "classPath");
        if (classPath.isBlank()) {
            throw new IllegalArgumentException("classPath is blank: give the broker's jars, separated by '"
                    + java.io.File.pathSeparator + "'");
        }
        return withSource(new BrokerClassPath.Source(BrokerClassPath.Kind.CLASS_PATH, classPath.strip(),
                "KafkaBrokerConfig.withClassPath"));
    }

    /**
     * Runs the broker with the class path held in a file, as
     * {@code maven-dependency-plugin:build-classpath} writes it. The file is read when a broker
     * starts.
     *
     * @param file a file holding the broker's class path
     * @return a copy with this class path
     * @throws NullPointerException if {@code file} is {@code null}
     */
    public KafkaBrokerConfig withClassPathFile(Path file) {
        Objects.requireNonNull(file, "file");
        return withSource(new BrokerClassPath.Source(BrokerClassPath.Kind.FILE, file.toString(),
                "KafkaBrokerConfig.withClassPathFile"));
    }

    /**
     * Runs the broker from a Kafka installation: every jar of {@code home/libs}.
     *
     * @param home the directory of an unpacked Apache Kafka download
     * @return a copy with this class path
     * @throws NullPointerException if {@code home} is {@code null}
     */
    public KafkaBrokerConfig withKafkaHome(Path home) {
        Objects.requireNonNull(home, "home");
        return withSource(new BrokerClassPath.Source(BrokerClassPath.Kind.HOME, home.toString(),
                "KafkaBrokerConfig.withKafkaHome"));
    }

    private KafkaBrokerConfig withSource(BrokerClassPath.Source source) {
        return new KafkaBrokerConfig(source, brokerProperties, saslUsers, jvmOptions, startTimeout);
    }

    /**
     * Adds a broker setting to the broker's {@code server.properties}, or replaces one of the
     * defaults (for example {@code group.initial.rebalance.delay.ms}, {@code 0} by default, or
     * {@code transaction.max.timeout.ms}). Roles, node id, listeners, ports and directories are
     * chosen by {@link KafkaBroker} and cannot be set.
     *
     * @param name  the setting's name, as in the Kafka broker documentation
     * @param value its value
     * @return a copy with this setting
     * @throws NullPointerException     if {@code name} or {@code value} is {@code null}
     * @throws IllegalArgumentException if {@code name} is blank or one of the settings
     *                                  {@link KafkaBroker} chooses (the message names them)
     */
    public KafkaBrokerConfig withBrokerProperty(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isBlank()) {
            throw new IllegalArgumentException("broker property name is blank");
        }
        if (RESERVED_PROPERTIES.contains(name) || name.startsWith("listener.name.")) {
            throw new IllegalArgumentException("broker property " + name + " is chosen by KafkaBroker (it runs one "
                    + "combined broker and controller on loopback with ports of its own, and adds a SASL listener "
                    + "with withSaslPlain); these cannot be set: " + new java.util.TreeSet<>(RESERVED_PROPERTIES)
                    + " and listener.name.*");
        }
        Map<String, String> copy = new LinkedHashMap<>(brokerProperties);
        copy.put(name, value);
        return new KafkaBrokerConfig(classPath, Collections.unmodifiableMap(copy), saslUsers, jvmOptions,
                startTimeout);
    }

    /**
     * Adds a second client listener, {@code SASL_PLAINTEXT} with the {@code PLAIN} mechanism, that
     * accepts exactly these users; the {@code PLAINTEXT} listener stays. Clients connect to it with
     * {@link KafkaBroker#clientProperties(String, String)}.
     *
     * @param usersAndPasswords user names ({@code A-Z a-z 0-9 . _ -}) and their passwords (no
     *                          {@code "} or {@code \}), at least one
     * @return a copy with this listener
     * @throws NullPointerException     if the map, a name or a password is {@code null}
     * @throws IllegalArgumentException if the map is empty or a name or password has a character
     *                                  that is not allowed
     */
    public KafkaBrokerConfig withSaslPlain(Map<String, String> usersAndPasswords) {
        Objects.requireNonNull(usersAndPasswords, "usersAndPasswords");
        if (usersAndPasswords.isEmpty()) {
            throw new IllegalArgumentException("a SASL/PLAIN listener needs at least one user");
        }
        Map<String, String> copy = new LinkedHashMap<>();
        usersAndPasswords.forEach((user, password) -> {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password of " + user);
            if (!USER_NAME.matcher(user).matches()) {
                throw new IllegalArgumentException("SASL user name '" + user
                        + "' has characters other than A-Z a-z 0-9 . _ -");
            }
            checkSaslSecret("password of " + user, password);
            copy.put(user, password);
        });
        return new KafkaBrokerConfig(classPath, brokerProperties, Collections.unmodifiableMap(copy), jvmOptions,
                startTimeout);
    }

    /**
     * Replaces the options of the broker's JVM (heap, garbage collector, system properties).
     *
     * @param options the JVM options, e.g. {@code List.of("-Xmx1g")}; may be empty
     * @return a copy with these options
     * @throws NullPointerException if the list or one of its options is {@code null}
     */
    public KafkaBrokerConfig withJvmOptions(List<String> options) {
        return new KafkaBrokerConfig(classPath, brokerProperties, saslUsers, List.copyOf(options), startTimeout);
    }

    /**
     * Sets how long a start or restart may take, from launching the JVM to the broker answering
     * a metadata request. A loaded machine can take 20 seconds or more.
     *
     * @param timeout the longest wait, positive
     * @return a copy with this timeout
     * @throws NullPointerException     if {@code timeout} is {@code null}
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public KafkaBrokerConfig withStartTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("start timeout must be positive: " + timeout);
        }
        return new KafkaBrokerConfig(classPath, brokerProperties, saslUsers, jvmOptions, timeout);
    }

    static void checkSaslSecret(String what, String value) {
        if (value.indexOf('"') >= 0 || value.indexOf('\\') >= 0) {
            throw new IllegalArgumentException(what + " contains \" or \\, which the JAAS configuration cannot hold");
        }
    }

    BrokerClassPath.Source classPathSource() {
        return classPath;
    }

    Map<String, String> brokerProperties() {
        return brokerProperties;
    }

    Map<String, String> saslUsers() {
        return saslUsers;
    }

    List<String> jvmOptions() {
        return jvmOptions;
    }

    Duration startTimeout() {
        return startTimeout;
    }

    /**
     * Describes this configuration, without the SASL passwords.
     *
     * @return a description for logs and test reports
     */
    @Override
    public String toString() {
        return "KafkaBrokerConfig[classPath=" + (classPath == null ? "from system properties" : classPath.origin())
                + ", brokerProperties=" + brokerProperties + ", saslUsers=" + saslUsers.keySet() + ", jvmOptions="
                + jvmOptions + ", startTimeout=" + startTimeout + "]";
    }
}
