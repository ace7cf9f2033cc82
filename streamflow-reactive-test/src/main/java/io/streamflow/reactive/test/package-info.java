/**
 * The test kit: {@link io.streamflow.reactive.test.TestEventStream} scripts records, watermarks,
 * idleness and processing-time pauses for {@code StepVerifier}; {@link io.streamflow.reactive.test.KafkaBroker}
 * runs a real Kafka broker in a child JVM, which a test can kill, stop, pause and restart, and
 * {@link io.streamflow.reactive.test.KafkaBrokerExtension} runs one for each JUnit 5 test class;
 * {@link io.streamflow.reactive.test.ChildJvm} runs a program under test in a JVM of its own, to kill
 * it with SIGKILL or freeze it with SIGSTOP when it prints a given line.
 */
package io.streamflow.reactive.test;
