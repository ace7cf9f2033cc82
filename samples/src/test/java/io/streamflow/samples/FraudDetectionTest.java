package io.streamflow.samples;

import io.streamflow.reactive.StreamRecord;
import io.streamflow.samples.FraudDetection.Reason;
import io.streamflow.samples.FraudDetection.Transaction;
import io.streamflow.samples.FraudDetection.Verdict;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class FraudDetectionTest {

    /** 2023-11-14T22:15:00Z. */
    private static final long T0 = FraudDetection.START_MILLIS;
    private static final long SECOND = 1_000;

    private static Transaction tx(String id, String card, long amountCents, long offset) {
        return new Transaction(id, card, amountCents, T0 + offset);
    }

    // card A: 5 transactions, the 4th and 5th within a minute of 3 others
    private static final Transaction A1 = tx("a1", "A", 5_000, 0);
    private static final Transaction A2 = tx("a2", "A", 5_000, 10 * SECOND);
    private static final Transaction A3 = tx("a3", "A", 5_000, 20 * SECOND);
    private static final Transaction A4 = tx("a4", "A", 5_000, 30 * SECOND);
    private static final Transaction A5 = tx("a5", "A", 5_000, 61 * SECOND);   // a1 no longer counts
    // card B: 4 transactions, the first exactly 60 s before the last: never more than 3 in a minute
    private static final Transaction B1 = tx("b1", "B", 2_000, 0);
    private static final Transaction B2 = tx("b2", "B", 2_000, 20 * SECOND);
    private static final Transaction B3 = tx("b3", "B", 2_000, 40 * SECOND);
    private static final Transaction B4 = tx("b4", "B", 2_000, 60 * SECOND);
    // card C: exactly 10,000.00 passes, 10,000.01 is large
    private static final Transaction C1 = tx("c1", "C", 1_000_000, 5 * SECOND);
    private static final Transaction C2 = tx("c2", "C", 1_000_001, 45 * SECOND);
    // card D: 4 transactions in 25 s, the 4th is large (and arrives before the 3rd)
    private static final Transaction D1 = tx("d1", "D", 9_900, 10 * SECOND);
    private static final Transaction D2 = tx("d2", "D", 9_900, 20 * SECOND);
    private static final Transaction D3 = tx("d3", "D", 9_900, 30 * SECOND);
    private static final Transaction D4 = tx("d4", "D", 2_000_000, 35 * SECOND);
    // card E: one that arrives after the watermark passed it, then a normal one
    private static final Transaction E0 = tx("e0", "E", 1_200, 50 * SECOND);
    private static final Transaction E1 = tx("e1", "E", 1_200, 180 * SECOND);

    /** In arrival order; at most 5 s out of order except e0. */
    private static final List<Transaction> INPUT = List.of(
            A1, B1, C1, A2, D1, A3, B2, D2,
            D4,             // watermark now 29.999 s
            D3, A4,         // 30 s: still in time
            B3, C2, B4, A5, // watermark now 55.999 s
            E0,             // 50 s: late
            E1);

    private static Flux<StreamRecord<String, Transaction>> input(List<Transaction> txs) {
        return Flux.fromIterable(txs).map(Transaction::toRecord);
    }

    private static Verdict verdict(Transaction tx, long inLastMinute, Reason... reasons) {
        return new Verdict(tx, inLastMinute, reasons.length == 0 ? Set.of() : EnumSet.of(reasons[0], reasons));
    }

    private record Sinks(List<StreamRecord<String, Verdict>> alerts, List<StreamRecord<String, Transaction>> passed) {
    }

    private static Sinks run(List<Transaction> txs) {
        List<StreamRecord<String, Verdict>> alerts = new ArrayList<>();
        List<StreamRecord<String, Transaction>> passed = new ArrayList<>();
        FraudDetection.run(input(txs), f -> f.doOnNext(alerts::add), f -> f.doOnNext(passed::add)).block();
        return new Sinks(alerts, passed);
    }

    @Test
    void counts_each_cards_transactions_in_the_minute_ending_with_each_transaction() {
        List<Verdict> out = FraudDetection.check(input(INPUT)).values().collectList().block();

        assertThat(out).containsExactlyInAnyOrder(
                verdict(A1, 1), verdict(A2, 2), verdict(A3, 3),
                verdict(A4, 4, Reason.BURST),
                verdict(A5, 4, Reason.BURST),
                verdict(B1, 1), verdict(B2, 2), verdict(B3, 3), verdict(B4, 3),
                verdict(C1, 1),
                verdict(C2, 2, Reason.LARGE_AMOUNT),
                verdict(D1, 1), verdict(D2, 2), verdict(D3, 3),
                verdict(D4, 4, Reason.LARGE_AMOUNT, Reason.BURST),
                verdict(E0, 0, Reason.LATE),
                verdict(E1, 1));
    }

    @Test
    void alerts_go_to_the_alerts_sink_and_every_other_transaction_to_the_passed_sink() {
        Sinks out = run(INPUT);

        assertThat(out.alerts()).extracting(StreamRecord::key, StreamRecord::timestamp, StreamRecord::value)
                .containsExactlyInAnyOrder(
                        tuple("A", A4.timestamp(), verdict(A4, 4, Reason.BURST)),
                        tuple("A", A5.timestamp(), verdict(A5, 4, Reason.BURST)),
                        tuple("C", C2.timestamp(), verdict(C2, 2, Reason.LARGE_AMOUNT)),
                        tuple("D", D4.timestamp(), verdict(D4, 4, Reason.LARGE_AMOUNT, Reason.BURST)),
                        tuple("E", E0.timestamp(), verdict(E0, 0, Reason.LATE)));
        assertThat(out.passed()).extracting(StreamRecord::key, StreamRecord::timestamp, StreamRecord::value)
                .containsExactlyInAnyOrder(
                        tuple("A", A1.timestamp(), A1), tuple("A", A2.timestamp(), A2), tuple("A", A3.timestamp(), A3),
                        tuple("B", B1.timestamp(), B1), tuple("B", B2.timestamp(), B2), tuple("B", B3.timestamp(), B3),
                        tuple("B", B4.timestamp(), B4),
                        tuple("C", C1.timestamp(), C1),
                        tuple("D", D1.timestamp(), D1), tuple("D", D2.timestamp(), D2), tuple("D", D3.timestamp(), D3),
                        tuple("E", E1.timestamp(), E1));
    }

    @Test
    void every_transaction_ends_up_in_exactly_one_sink() {
        Sinks out = run(INPUT);

        List<Transaction> all = new ArrayList<>();
        out.alerts().forEach(r -> all.add(r.value().transaction()));
        out.passed().forEach(r -> all.add(r.value()));
        assertThat(all).containsExactlyInAnyOrderElementsOf(INPUT);
    }

    @Test
    void the_verdicts_do_not_depend_on_the_arrival_order_within_five_seconds() {
        // the same transactions, sorted by time (e0 is then in time and counts for nothing but itself)
        List<Transaction> sorted = new ArrayList<>(INPUT);
        sorted.remove(E0);
        sorted.sort(java.util.Comparator.comparingLong(Transaction::timestamp).thenComparing(Transaction::id));
        List<Transaction> shuffled = new ArrayList<>(INPUT);
        shuffled.remove(E0);

        assertThat(FraudDetection.check(input(shuffled)).values().collectList().block())
                .containsExactlyInAnyOrderElementsOf(
                        FraudDetection.check(input(sorted)).values().collectList().block());
    }

    @Test
    void transactions_at_the_same_millisecond_all_count_for_each_other() {
        Transaction x1 = tx("x1", "X", 100, 0);
        Transaction x2 = tx("x2", "X", 100, 0);
        Transaction x3 = tx("x3", "X", 100, 0);
        Transaction x4 = tx("x4", "X", 100, 0);
        Transaction y1 = tx("y1", "Y", 100, 0);

        assertThat(FraudDetection.check(input(List.of(x1, x2, y1, x3, x4))).values().collectList().block())
                .containsExactlyInAnyOrder(
                        verdict(x1, 4, Reason.BURST), verdict(x2, 4, Reason.BURST),
                        verdict(x3, 4, Reason.BURST), verdict(x4, 4, Reason.BURST),
                        verdict(y1, 1));
    }

    @Test
    void a_late_large_transaction_is_alerted_for_both_reasons() {
        Transaction big = tx("z1", "Z", 5_000_000, 0);
        Sinks out = run(List.of(tx("z0", "Z", 100, 10 * SECOND), big));

        assertThat(out.alerts()).extracting(StreamRecord::value)
                .containsExactly(verdict(big, 0, Reason.LARGE_AMOUNT, Reason.LATE));
        assertThat(out.passed()).extracting(r -> r.value().id()).containsExactly("z0");
    }

    @Test
    void a_failing_sink_fails_the_run() {
        assertThatThrownBy(() -> FraudDetection.run(input(INPUT),
                        f -> f.map(r -> {
                            throw new IllegalStateException("alerts sink down");
                        }),
                        f -> f).block())
                .hasMessageContaining("alerts sink down");
    }

    @Test
    void the_built_in_input_raises_six_alerts() {
        Sinks out = run(FraudDetection.transactions().stream().map(StreamRecord::value).toList());

        assertThat(out.alerts()).extracting(r -> r.value().transaction().card(), r -> r.value().reasons())
                .containsExactlyInAnyOrder(
                        tuple("card-6", Set.of(Reason.BURST)),
                        tuple("card-6", Set.of(Reason.BURST)),
                        tuple("card-7", Set.of(Reason.LARGE_AMOUNT)),
                        tuple("card-8", Set.of(Reason.LARGE_AMOUNT, Reason.BURST)),
                        tuple("card-1", Set.of(Reason.LATE)));
        assertThat(out.alerts().size() + out.passed().size()).isEqualTo(FraudDetection.transactions().size());
    }

    @Test
    void prints_alerts_and_passed_verdicts() {
        assertThat(verdict(D4, 4, Reason.LARGE_AMOUNT, Reason.BURST).toString()).isEqualTo(
                "ALERT  d4     D        20000.00 2023-11-14T22:15:35Z  LARGE_AMOUNT, BURST (4 in the last minute)");
        assertThat(verdict(E0, 0, Reason.LATE).toString()).isEqualTo(
                "ALERT  e0     E           12.00 2023-11-14T22:15:50Z  LATE (not counted: late)");
        assertThat(verdict(B4, 3).toString()).isEqualTo(
                "passed b4     B           20.00 2023-11-14T22:16:00Z  (3 in the last minute)");
    }
}
