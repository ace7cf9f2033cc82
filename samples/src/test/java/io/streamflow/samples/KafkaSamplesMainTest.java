package io.streamflow.samples;

import io.streamflow.samples.FraudDetection.Verdict;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Kafka samples as their one command runs them: {@code main} without {@code --bootstrap} starts
 * the test kit's broker (from the class path file the build names in a system property), runs,
 * prints, and stops the broker again.
 */
@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class KafkaSamplesMainTest {

    private static final Pattern READY = Pattern.compile("-- broker ready at 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern VIEWS = Pattern.compile("\\S+\\s+\\[\\S+, \\S+\\) views=(\\d+) ON_TIME#0\\(final\\)");
    private static final Pattern ALERT = Pattern.compile("ALERT  (tx-\\d+) .* (\\S+Z)  .*");

    @FunctionalInterface
    private interface Main {
        void run() throws Exception;
    }

    /** What {@code main} printed on standard output. */
    private static List<String> stdout(Main main) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream before = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            main.run();
        } finally {
            System.setOut(before);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        return text.lines().toList();
    }

    /** The port of the broker main started, which is closed again once main returned. */
    private static void assertBrokerStartedAndStopped(List<String> lines) {
        Matcher ready = lines.stream().map(READY::matcher).filter(Matcher::matches).findFirst().orElseThrow(
                () -> new AssertionError("no broker started: " + lines));
        int port = Integer.parseInt(ready.group(1));
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            }
        }).as("the broker on port " + port + " is stopped").isInstanceOf(IOException.class);
    }

    @Test
    void kafka_page_views_starts_a_broker_counts_every_view_and_stops_the_broker() throws Exception {
        List<String> lines = stdout(() -> KafkaPageViews.main(new String[]{"500", "3"}));

        assertBrokerStartedAndStopped(lines);
        long counted = lines.stream().map(VIEWS::matcher).filter(Matcher::matches)
                .mapToLong(m -> Long.parseLong(m.group(1))).sum();
        assertThat(counted).isEqualTo(500);
        assertThat(lines).last().asString().startsWith("-- 500 page views read from pageviews, ")
                .endsWith(" windows, 500 views counted, 0 late, 0 dead letters");
    }

    @Test
    void kafka_fraud_alerts_starts_a_broker_prints_the_rules_alerts_and_stops_the_broker() throws Exception {
        List<String> lines = stdout(() -> KafkaFraudAlerts.main(new String[]{"400", "5"}));

        assertBrokerStartedAndStopped(lines);
        // main starts the transactions on the minute of its clock: find it from the first alert
        List<FraudDetection.Transaction> at0 = KafkaFraudAlerts.transactions(400, 5, 0);
        Matcher first = lines.stream().map(ALERT::matcher).filter(Matcher::matches).findFirst().orElseThrow();
        long start = Instant.parse(first.group(2)).toEpochMilli() - at0.stream()
                .filter(t -> t.id().equals(first.group(1))).findFirst().orElseThrow().timestamp();
        List<Verdict> reference = KafkaFraudAlertsTest.referenceAlerts(KafkaFraudAlerts.transactions(400, 5, start));

        assertThat(lines.stream().filter(l -> l.startsWith("ALERT")).toList())
                .containsExactlyElementsOf(reference.stream().map(Verdict::toString).toList());
        assertThat(lines).last().asString().startsWith("-- 400 transactions checked, " + reference.size()
                + " alerts read from fraud-alerts (read_committed)");
    }
}
