package io.streamflow.samples;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamOperators;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.Watermark;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.join.JoinType;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Windows;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Fraud checks on card transactions: every transaction gets exactly one verdict and goes either
 * to the <b>alerts</b> sink or to the <b>passed</b> sink; none is dropped.
 * <p>
 * A transaction of card {@code c} at event time {@code t} raises an alert for each of these
 * reasons that applies (one alert listing all of them, never two alerts):
 * <ul>
 *   <li>{@link Reason#LARGE_AMOUNT}: its amount is over 10,000.00 (strictly: exactly 10,000.00
 *   passes);</li>
 *   <li>{@link Reason#BURST}: card {@code c} made more than 3 transactions in the minute ending
 *   with it, that is, at least 4 transactions with a timestamp in {@code (t - 60 s, t]}, this one
 *   included. A transaction exactly 60 s earlier no longer counts. Transactions with the same
 *   timestamp all count for each other, whatever order they arrive in. Every transaction counts,
 *   alerted or not, so the 1st to 3rd transactions of a burst pass and the 4th and later ones
 *   are alerted (until the card slows down);</li>
 *   <li>{@link Reason#LATE}: it arrived more than {@link #MAX_OUT_OF_ORDERNESS} behind the newest
 *   transaction (at or behind the watermark), too late to be checked for a burst. It is alerted,
 *   not passed unchecked (still with {@code LARGE_AMOUNT} when that applies), and it does not
 *   count in other transactions' minutes.</li>
 * </ul>
 * So a transaction over 10,000 that is also the 4th of a minute gives one alert with the reasons
 * {@code [LARGE_AMOUNT, BURST]}. The result depends only on the timestamps, not on the arrival
 * order of transactions that are at most {@link #MAX_OUT_OF_ORDERNESS} out of order.
 * <p>
 * How: the count is an interval self-join of the transactions keyed by card, each transaction
 * (left) with the card's transactions in {@code [t - 59.999 s, t]} (right), one pair per match, all
 * carrying the left timestamp {@code t}. Keyed by the transaction, a 1 ms tumbling window
 * {@code [t, t + 1)} counts its pairs once the watermark passes {@code t}, which is when all of
 * them are in; the verdict follows. Late transactions are set aside before the join, so both sides
 * see the same transactions. A verdict is emitted once the watermark passes the transaction's
 * time; {@link #split} routes it to the sinks. Transactions are told apart by value (id, card,
 * amount, time): deliver each once (an exact duplicate would share the original's verdict and
 * count twice). With a partitioned source, all transactions of a card must come from one
 * partition (join and window state are sharded by source partition).
 * <p>
 * {@code main} runs on a built-in list of transactions: alerts are printed as they are raised,
 * passed transactions are written to {@code passed.txt} in a temporary directory, which is printed
 * at the end.
 */
public final class FraudDetection {

    /** 10,000.00: an amount above this is {@link Reason#LARGE_AMOUNT}. */
    public static final long LARGE_AMOUNT_CENTS = 1_000_000;
    /** More than this many transactions of a card in {@link #BURST_WINDOW} is a {@link Reason#BURST}. */
    public static final int MAX_PER_WINDOW = 3;
    public static final Duration BURST_WINDOW = Duration.ofMinutes(1);
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofSeconds(5);
    /** 2023-11-14T22:15:00Z. */
    public static final long START_MILLIS = 1_700_000_100_000L;

    private static final String LATE_CHECK = "late-check";

    /** A card transaction at {@code timestamp} (epoch millis) for {@code amountCents} (1234 = 12.34). */
    public record Transaction(String id, String card, long amountCents, long timestamp) {

        public Transaction {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(card, "card");
        }

        /** @return this transaction as a record keyed by card, at its timestamp */
        public StreamRecord<String, Transaction> toRecord() {
            return StreamRecord.of(card, this, timestamp);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-6s %-7s %9s %s", id, card, money(amountCents),
                    Instant.ofEpochMilli(timestamp));
        }
    }

    /** Why a transaction was alerted. */
    public enum Reason { LARGE_AMOUNT, BURST, LATE }

    /**
     * The verdict on one transaction.
     *
     * @param inLastMinute the card's transactions in {@code (t - 60 s, t]}, this one included; 0 for a
     *                     late transaction, which was not counted
     * @param reasons      why it is alerted; empty: it passed
     */
    public record Verdict(Transaction transaction, long inLastMinute, Set<Reason> reasons) {

        public Verdict {
            Objects.requireNonNull(transaction, "transaction");
            reasons = reasons.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(reasons));
        }

        /** The verdict for a transaction, from the count of its minute ({@code late}: not counted). */
        public static Verdict of(Transaction tx, long inLastMinute, boolean late) {
            EnumSet<Reason> reasons = EnumSet.noneOf(Reason.class);
            if (tx.amountCents() > LARGE_AMOUNT_CENTS) {
                reasons.add(Reason.LARGE_AMOUNT);
            }
            if (inLastMinute > MAX_PER_WINDOW) {
                reasons.add(Reason.BURST);
            }
            if (late) {
                reasons.add(Reason.LATE);
            }
            return new Verdict(tx, inLastMinute, reasons);
        }

        public boolean isAlert() {
            return !reasons.isEmpty();
        }

        /** {@code ALERT  t-007  card-2   12500.00 2023-11-14T22:18:30Z  LARGE_AMOUNT, BURST (4 in the last minute)}. */
        @Override
        public String toString() {
            String count = reasons.contains(Reason.LATE) ? "not counted: late"
                    : inLastMinute + " in the last minute";
            return (isAlert() ? "ALERT  " : "passed ") + transaction + "  "
                    + reasons.stream().map(Enum::name).collect(Collectors.joining(", "))
                    + (isAlert() ? " " : "") + "(" + count + ")";
        }
    }

    private FraudDetection() {
    }

    public static void main(String[] args) throws IOException {
        Path passedFile = Files.createTempDirectory("fraud-detection").resolve("passed.txt");
        run(Flux.fromIterable(transactions()),
                StreamSinks.stdout(r -> r.value().toString()),
                StreamSinks.fileLines(passedFile, r -> r.value().toString()))
                .block();
        List<String> passed = Files.readAllLines(passedFile);
        System.out.println("-- " + passed.size() + " passed, in " + passedFile);
        passed.forEach(System.out::println);
    }

    /** {@code 1234} -> {@code "12.34"}. */
    public static String money(long cents) {
        return String.format(Locale.ROOT, "%d.%02d", cents / 100, Math.abs(cents % 100));
    }

    /**
     * The built-in input, in arrival order (ids {@code t-000}, ... in that order): background
     * traffic of cards 1 to 5 (one transaction every 7.5 s, each card every 37.5 s, so at most 2 a
     * minute) for 5 minutes, and:
     * <ul>
     *   <li>card-6: 5 transactions 10 s apart: the 4th and 5th are bursts;</li>
     *   <li>card-7: 15,000.00 (large) and, later, exactly 10,000.00 (passes);</li>
     *   <li>card-8: 4 transactions in 30 s, the 4th over 10,000: one alert for both reasons;</li>
     *   <li>card-9: 4 transactions 20 s apart: the first is exactly 60 s before the 4th, so the
     *   4th sees 3 in its minute and passes;</li>
     *   <li>card-1: one transaction that arrives last, 60 s behind the others: late.</li>
     * </ul>
     */
    public static List<StreamRecord<String, Transaction>> transactions() {
        List<long[]> rows = new ArrayList<>(); // card, amount, offset millis
        for (int n = 0; n < 40; n++) {
            rows.add(new long[]{n % 5 + 1, 500 + (n * 7_919L) % 50_000, n * 7_500L});
        }
        for (int i = 0; i < 5; i++) {
            rows.add(new long[]{6, 2_000 + i * 100L, 60_000 + i * 10_000L});
        }
        rows.add(new long[]{7, 1_500_000, 120_000});
        rows.add(new long[]{7, 1_000_000, 150_000});
        for (int i = 0; i < 4; i++) {
            rows.add(new long[]{8, i == 3 ? 1_250_000 : 9_900, 180_000 + i * 10_000L});
        }
        for (int i = 0; i < 4; i++) {
            rows.add(new long[]{9, 4_000, 200_000 + i * 20_000L});
        }
        rows.sort((a, b) -> Long.compare(a[2], b[2]));
        rows.add(new long[]{1, 7_700, 232_500}); // after the last row (292 500): 60 s late
        List<StreamRecord<String, Transaction>> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            long[] r = rows.get(i);
            Transaction tx = new Transaction(String.format(Locale.ROOT, "t-%03d", i), "card-" + r[0], r[1],
                    START_MILLIS + r[2]);
            out.add(StreamRecord.of(tx.card(), tx, tx.timestamp(), Origin.of("transactions", 0, i)));
        }
        return out;
    }

    /**
     * Runs the checks on {@code transactions}: alerts (verdicts with reasons) go to {@code alerts},
     * every other transaction to {@code passed}. Completes when both sinks have.
     */
    public static Mono<Void> run(Publisher<StreamRecord<String, Transaction>> transactions,
                                 Function<Flux<StreamRecord<String, Verdict>>, ? extends Publisher<?>> alerts,
                                 Function<Flux<StreamRecord<String, Transaction>>, ? extends Publisher<?>> passed) {
        return check(transactions).elements().transform(split(alerts, passed)).then();
    }

    /**
     * Routes verdicts: alerts to {@code alerts}, passed transactions to {@code passed}. There are no
     * other side outputs (late transactions are verdicts by now); if one showed up anyway, the
     * stream fails rather than lose it.
     */
    public static Function<Flux<StreamElement<String, Verdict>>, Flux<Void>> split(
            Function<Flux<StreamRecord<String, Verdict>>, ? extends Publisher<?>> alerts,
            Function<Flux<StreamRecord<String, Transaction>>, ? extends Publisher<?>> passed) {
        LinkedHashMap<String, Predicate<? super StreamRecord<String, Verdict>>> branches = new LinkedHashMap<>();
        branches.put("alerts", r -> r.value().isAlert());
        return StreamOperators.split(branches, b -> Flux.merge(
                Flux.from(alerts.apply(records(b.get("alerts")))).then(),
                Flux.from(passed.apply(records(b.get(StreamOperators.UNMATCHED))
                        .map(r -> r.withValue(r.value().transaction())))).then(),
                b.get(StreamOperators.SIDE_OUTPUTS)
                        .filter(e -> e instanceof LateRecord || e instanceof DeadLetter)
                        .flatMap(e -> Mono.<Void>error(new IllegalStateException(
                                "a side output would be lost: " + e)))
                        .then()));
    }

    @SuppressWarnings("unchecked")
    private static <K, V> Flux<StreamRecord<K, V>> records(Flux<StreamElement<K, V>> elements) {
        return elements.filter(StreamElement::isRecord).map(e -> (StreamRecord<K, V>) e);
    }

    /**
     * One {@link Verdict} per transaction, keyed by card, at the transaction's timestamp. Verdicts of
     * late transactions come as soon as they arrive; the others once the watermark passes them.
     */
    public static EventStream<String, Verdict> check(Publisher<StreamRecord<String, Transaction>> transactions) {
        return check(EventStream.from(transactions,
                        WatermarkStrategy.<String, Transaction>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS)),
                OperatorSettings.named("stream"));
    }

    /**
     * As {@link #check(Publisher)}, on transactions that already carry their watermarks (bounded
     * out-of-orderness of {@link #MAX_OUT_OF_ORDERNESS}, as {@link #check(Publisher)} assigns them),
     * for example from a checkpointed source; the stateful operators (the self-join and the count)
     * use {@code settings}, so a checkpointed pipeline passes settings with its state backend.
     */
    public static EventStream<String, Verdict> check(EventStream<String, Transaction> transactions,
                                                     OperatorSettings settings) {
        EventStream<String, Transaction> txs = transactions.settings(settings)
                .keyBy(Transaction::card)
                .transform(FraudDetection::setAsideLate);
        // one subscription of the input feeds both sides of the self-join
        Flux<StreamElement<String, Verdict>> verdicts = txs.elements().publish(shared -> {
            EventStream<String, Transaction> left = EventStream.of(shared).settings(settings);
            // the late transactions travel on the left side only, so each comes out once
            EventStream<String, Transaction> right = EventStream.of(
                    shared.filter(e -> !(e instanceof LateRecord || e instanceof DeadLetter))).settings(settings);
            long lower = -(BURST_WINDOW.toMillis() - 1);
            return left.intervalJoin(right, Duration.ofMillis(lower), Duration.ZERO, JoinType.INNER,
                            (tx, earlier) -> tx)
                    .keyBy(tx -> tx)
                    .window(Windows.tumbling(Duration.ofMillis(1)))
                    .aggregate(Aggregations.count())
                    .<String, Verdict>mapRecord(r -> r.with(r.key().card(),
                            Verdict.of(r.value().key(), r.value().value(), false)))
                    .elements();
        });
        return EventStream.of(verdicts).settings(settings).transform(FraudDetection::lateToVerdicts);
    }

    /**
     * Turns a transaction at or behind the watermark into a late-record side output, before the
     * join: the join would treat it as late on one side and maybe not on the other.
     */
    static Flux<StreamElement<String, Transaction>> setAsideLate(Flux<StreamElement<String, Transaction>> in) {
        return Flux.defer(() -> {
            long[] watermark = {Long.MIN_VALUE};
            return in.map(e -> {
                if (e instanceof Watermark<String, Transaction> w) {
                    watermark[0] = Math.max(watermark[0], w.timestamp());
                } else if (e instanceof StreamRecord<String, Transaction> r && r.timestamp() <= watermark[0]) {
                    return new LateRecord<String, Transaction>(r, LATE_CHECK, r.timestamp(), r.timestamp() + 1,
                            watermark[0]);
                }
                return e;
            });
        });
    }

    /** The late transactions set aside by {@link #setAsideLate} become {@link Reason#LATE} verdicts. */
    static Flux<StreamElement<String, Verdict>> lateToVerdicts(Flux<StreamElement<String, Verdict>> in) {
        return in.map(e -> {
            if (e instanceof LateRecord<?, ?> l && LATE_CHECK.equals(l.operator())
                    && l.record().value() instanceof Transaction tx) {
                return StreamRecord.of(tx.card(), Verdict.of(tx, 0, true), l.record().timestamp(),
                        l.record().origin());
            }
            return e;
        });
    }
}
