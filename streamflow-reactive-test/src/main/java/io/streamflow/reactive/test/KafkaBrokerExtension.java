package io.streamflow.reactive.test;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.Objects;

/**
 * A JUnit 5 extension that runs one real Kafka broker ({@link KafkaBroker}) for a test class:
 * started before the class's first test, closed after its last, whether its tests pass or fail.
 * Register it in a {@code static} field:
 * <pre>{@code
 * class OrdersPipelineTest {
 *
 *     @RegisterExtension
 *     static final KafkaBrokerExtension kafka = KafkaBrokerExtension.create();
 *
 *     @Test
 *     void countsOrdersPerCustomer(KafkaBroker broker) {
 *         broker.createTopic("orders", 3);
 *         // produce with broker.clientProperties(), run the pipeline, check its output
 *     }
 * }
 * }</pre>
 * Test and lifecycle methods get the broker as a {@link KafkaBroker} parameter, or from
 * {@link #broker()}. Tests of a class share the broker, so each should use topics and consumer
 * groups of its own, and a test that kills, stops or pauses it should leave it running. Nested
 * test classes share the broker of their enclosing class. A class with two of these extensions
 * gets its brokers from {@link #broker()}: parameters would be ambiguous.
 *
 * <p>Starting a broker takes a few seconds (more on a loaded machine); see
 * {@link KafkaBrokerConfig} for where its jars come from and what can be configured. The extension
 * needs {@code org.junit.jupiter:junit-jupiter-api} and {@code org.apache.kafka:kafka-clients} on
 * the test class path; the test kit declares both optional.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        ParameterResolver {

    private final KafkaBrokerConfig config;
    private volatile KafkaBroker broker;
    private volatile String startedFor;

    private KafkaBrokerExtension(KafkaBrokerConfig config) {
        this.config = config;
    }

    /**
     * An extension that starts a broker with {@link KafkaBrokerConfig#defaults()}.
     *
     * @return the extension, to be put in a {@code static} field annotated with
     *         {@code @RegisterExtension}
     */
    public static KafkaBrokerExtension create() {
        return new KafkaBrokerExtension(KafkaBrokerConfig.defaults());
    }

    /**
     * An extension that starts a broker with this configuration.
     *
     * @param config how to start the broker
     * @return the extension, to be put in a {@code static} field annotated with
     *         {@code @RegisterExtension}
     * @throws NullPointerException if {@code config} is {@code null}
     */
    public static KafkaBrokerExtension create(KafkaBrokerConfig config) {
        return new KafkaBrokerExtension(Objects.requireNonNull(config, "config"));
    }

    /**
     * The broker of the running test class.
     *
     * @return the broker, running unless a test killed or stopped it
     * @throws IllegalStateException if called outside the class's tests and lifecycle methods (before
     *                               the broker started or after it was closed), or if the extension
     *                               is not in a {@code static} field
     */
    public KafkaBroker broker() {
        KafkaBroker b = broker;
        if (b == null) {
            throw new IllegalStateException("no Kafka broker: KafkaBrokerExtension starts it before a test class's "
                    + "first test, when registered in a static field with @RegisterExtension, and closes it after "
                    + "the class's last test");
        }
        return b;
    }

    /**
     * Starts the broker, unless an enclosing test class already did.
     *
     * @param context the test class's context
     * @throws IllegalStateException if the broker cannot start (see {@link KafkaBroker#start(KafkaBrokerConfig)})
     */
    @Override
    public void beforeAll(ExtensionContext context) {
        if (broker == null) {
            broker = KafkaBroker.start(config);
            startedFor = context.getUniqueId();
        }
    }

    /**
     * Closes the broker after the class that started it (not after a nested class).
     *
     * @param context the test class's context
     */
    @Override
    public void afterAll(ExtensionContext context) {
        if (context.getUniqueId().equals(startedFor)) {
            KafkaBroker b = broker;
            broker = null;
            startedFor = null;
            if (b != null) {
                b.close();
            }
        }
    }

    /**
     * Fails a test clearly when the extension was registered in an instance field, where JUnit does
     * not call it before the class's tests, so no broker was started.
     *
     * @param context the test's context
     * @throws ExtensionConfigurationException if no broker was started
     */
    @Override
    public void beforeEach(ExtensionContext context) {
        if (broker == null) {
            throw new ExtensionConfigurationException("KafkaBrokerExtension did not start a broker: register it in a "
                    + "static field (@RegisterExtension static final KafkaBrokerExtension kafka = "
                    + "KafkaBrokerExtension.create();), so that it runs before the class's first test");
        }
    }

    /**
     * Resolves parameters of type {@link KafkaBroker}.
     *
     * @param parameterContext  the parameter
     * @param extensionContext  the test's or class's context
     * @return whether the parameter is a {@link KafkaBroker}
     */
    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == KafkaBroker.class;
    }

    /**
     * The broker, for a {@link KafkaBroker} parameter.
     *
     * @param parameterContext the parameter
     * @param extensionContext the test's or class's context
     * @return the broker
     * @throws IllegalStateException if no broker runs (see {@link #broker()})
     */
    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return broker();
    }

    /**
     * Describes the extension: its configuration and broker.
     *
     * @return a description for test reports
     */
    @Override
    public String toString() {
        return "KafkaBrokerExtension[" + config + ", " + broker + "]";
    }
}
