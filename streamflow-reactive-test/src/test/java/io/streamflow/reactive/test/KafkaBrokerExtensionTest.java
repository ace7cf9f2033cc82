package io.streamflow.reactive.test;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

/**
 * The extension's life cycle, checked by running small test classes with the JUnit engine: one
 * broker for a class and its nested classes, closed after the class even when a test fails; a
 * broker that cannot start fails the class with the end of its log and leaves no process; a
 * registration in an instance field is refused with a message that says what to do.
 */
class KafkaBrokerExtensionTest {

    private static volatile boolean runByTheOuterTest;
    private static final List<KafkaBroker> SEEN = new CopyOnWriteArrayList<>();

    static boolean runByTheOuterTest() {
        return runByTheOuterTest;
    }

    private static EngineExecutionResults run(Class<?> testClass) {
        runByTheOuterTest = true;
        try {
            return EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass)).execute();
        } finally {
            runByTheOuterTest = false;
        }
    }

    @Test
    void oneBrokerServesAClassAndItsNestedClassesAndIsClosedAfterTheClassEvenWhenATestFails() {
        SEEN.clear();

        EngineExecutionResults results = run(OneBrokerForTheClass.class);

        results.testEvents().assertStatistics(stats -> stats.started(3).succeeded(2).failed(1));
        assertThat(SEEN).hasSize(3);
        KafkaBroker broker = SEEN.get(0);
        assertThat(SEEN).allMatch(b -> b == broker);
        assertThat(broker.isRunning()).isFalse();
        assertThat(broker.logFile().getParent()).as("the broker's directory").doesNotExist();
    }

    @Test
    void aBrokerThatCannotStartFailsTheClassWithTheEndOfItsLogAndLeavesNoProcess() {
        EngineExecutionResults results = run(BrokerThatCannotStart.class);

        results.testEvents().assertStatistics(stats -> stats.started(0));
        results.containerEvents().assertThatEvents().haveExactly(1, finishedWithFailure(
                instanceOf(IllegalStateException.class),
                message(m -> m.contains("could not format its storage")
                        && m.contains("Could not find or load main class kafka.tools.StorageTool"))));
        assertThat(ProcessHandle.current().descendants()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("kafka.tools.StorageTool") || c.contains("kafka.Kafka")))
                .isEmpty();
    }

    @Test
    void anExtensionInAnInstanceFieldFailsTheTestsAndSaysToMakeTheFieldStatic() {
        EngineExecutionResults results = run(RegisteredInAnInstanceField.class);

        results.testEvents().assertThatEvents().haveExactly(1, finishedWithFailure(
                instanceOf(ExtensionConfigurationException.class), message(m -> m.contains("static field"))));
        List<Event> started = results.testEvents().started().list();
        assertThat(started).hasSize(1);
    }

    @EnabledIf("io.streamflow.reactive.test.KafkaBrokerExtensionTest#runByTheOuterTest")
    static class OneBrokerForTheClass {

        @RegisterExtension
        static final KafkaBrokerExtension kafka = KafkaBrokerExtension.create();

        @Test
        void servesTheFirstTest(KafkaBroker broker) {
            SEEN.add(broker);
            assertThat(broker).isSameAs(kafka.broker());
            assertThat(broker.isRunning()).isTrue();
        }

        @Test
        void failsOnPurpose(KafkaBroker broker) {
            SEEN.add(broker);
            throw new AssertionError("fails on purpose: the broker must be closed all the same");
        }

        @Nested
        class Inner {

            @Test
            void getsTheSameBroker(KafkaBroker broker) {
                SEEN.add(broker);
            }
        }
    }

    @EnabledIf("io.streamflow.reactive.test.KafkaBrokerExtensionTest#runByTheOuterTest")
    static class BrokerThatCannotStart {

        /** The JDK's lib directory: it exists, and holds no Kafka. */
        @RegisterExtension
        static final KafkaBrokerExtension kafka = KafkaBrokerExtension.create(KafkaBrokerConfig.defaults()
                .withClassPath(Path.of(System.getProperty("java.home"), "lib").toString()));

        @Test
        void neverRuns() {
            throw new AssertionError("must not run without a broker");
        }
    }

    @EnabledIf("io.streamflow.reactive.test.KafkaBrokerExtensionTest#runByTheOuterTest")
    static class RegisteredInAnInstanceField {

        @RegisterExtension
        final KafkaBrokerExtension kafka = KafkaBrokerExtension.create();

        @Test
        void failsBeforeItRuns() {
            throw new AssertionError("must not run without a broker");
        }
    }
}
