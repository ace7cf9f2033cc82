package io.streamflow.samples;

import io.micrometer.core.instrument.Metrics;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.StreamSinks;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.join.JoinType;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Orders joined with their payments: an order is {@code PAID} when a payment for it arrives at most
 * {@link #PAYMENT_WINDOW} (5 minutes) after it, and reported {@code UNPAID} otherwise.
 * <p>
 * An event-time interval join, orders on the left, payments on the right, both keyed by order id:
 * an order at {@code t} matches every payment for it with a timestamp in {@code [t, t + 5 min]},
 * both ends inclusive. A {@link JoinType#LEFT left} join, so an order that found no payment is
 * still reported:
 * <ul>
 *   <li>{@code PAID}: one result per matching payment (a second payment of the same order within
 *   the 5 minutes gives a second {@code PAID} line), emitted as soon as both are there, at the
 *   payment's timestamp;</li>
 *   <li>{@code UNPAID}: an order with no payment in its interval, emitted once the watermark of
 *   both inputs reaches {@code t + 5 min}, at that timestamp. A payment 5 min 1 ms after its
 *   order, or one before it, does not count.</li>
 * </ul>
 * Payments that match no order (an unknown order id, or too late for theirs) are not reported.
 * Each input may be up to {@link #MAX_OUT_OF_ORDERNESS} out of order; a record arriving later than
 * that goes to the late output (a warning in the log) and is not joined.
 * <p>
 * Arguments (optional): number of orders (default 20, one every 30 s of event time).
 */
public final class OrdersPayments {

    public static final Duration PAYMENT_WINDOW = Duration.ofMinutes(5);
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofSeconds(30);
    /** 2023-11-14T22:15:00Z. */
    public static final long START_MILLIS = 1_700_000_100_000L;

    private static final String[] CUSTOMERS = {"ann", "bob", "cid", "dee", "eve"};

    /** An order placed at {@code orderedAt} (epoch millis), for {@code amountCents} (1234 = 12.34). */
    public record Order(String orderId, String customer, long amountCents, long orderedAt) {

        public Order {
            Objects.requireNonNull(orderId, "orderId");
        }

        /** @return this order as a record keyed by order id at the order time */
        public StreamRecord<String, Order> toRecord() {
            return StreamRecord.of(orderId, this, orderedAt);
        }
    }

    /** A payment for an order, made at {@code paidAt}. */
    public record Payment(String paymentId, String orderId, long amountCents, long paidAt) {

        public Payment {
            Objects.requireNonNull(orderId, "orderId");
        }

        /** @return this payment as a record keyed by the order id it pays, at the payment time */
        public StreamRecord<String, Payment> toRecord() {
            return StreamRecord.of(orderId, this, paidAt);
        }
    }

    /** The join result: an order and the payment that settled it ({@code null}: unpaid). */
    public record OrderStatus(Order order, Payment payment) {

        public boolean paid() {
            return payment != null;
        }

        @Override
        public String toString() {
            String head = String.format(Locale.ROOT, "%-6s %-4s %9s ordered %s", order.orderId(), order.customer(),
                    money(order.amountCents()), Instant.ofEpochMilli(order.orderedAt()));
            if (payment == null) {
                return head + "  UNPAID  no payment by "
                        + Instant.ofEpochMilli(order.orderedAt() + PAYMENT_WINDOW.toMillis());
            }
            return head + "  PAID    " + payment.paymentId() + " " + money(payment.amountCents()) + " after "
                    + duration(payment.paidAt() - order.orderedAt());
        }
    }

    private OrdersPayments() {
    }

    public static void main(String[] args) {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        pipeline(Flux.fromIterable(orders(count)), Flux.fromIterable(payments(count)))
                .sink(StreamSinks.stdout(r -> r.value().toString()))
                .block();
    }

    /** {@code 150_000} -> {@code "2m30s"}. */
    private static String duration(long millis) {
        return Duration.ofMillis(millis).toString().substring(2).toLowerCase(Locale.ROOT);
    }

    /** {@code 1234} -> {@code "12.34"}. */
    public static String money(long cents) {
        return String.format(Locale.ROOT, "%d.%02d", cents / 100, Math.abs(cents % 100));
    }

    /** Order {@code n} ({@code o-1000 + n}) at {@code START_MILLIS + n * 30 s}, by a customer in turn. */
    public static List<StreamRecord<String, Order>> orders(int count) {
        List<StreamRecord<String, Order>> out = new ArrayList<>(count);
        for (int n = 0; n < count; n++) {
            Order o = order(n);
            out.add(StreamRecord.of(o.orderId(), o, o.orderedAt(), Origin.of("orders", 0, n)));
        }
        return out;
    }

    private static Order order(int n) {
        return new Order("o-" + (1000 + n), CUSTOMERS[n % CUSTOMERS.length], 1_000 + (n * 1_537L) % 20_000,
                START_MILLIS + n * 30_000L);
    }

    /**
     * The payments of {@link #orders(int)}, in event-time order: order {@code n} is paid
     * {@code (n * 37 % 9) * 30 s} after it (0 to 4 minutes), except every sixth order (n % 6 == 5),
     * which is never paid, and every seventh (n % 7 == 3), paid 6 minutes after, too late. Plus one
     * payment for an order that does not exist ({@code o-999}).
     */
    public static List<StreamRecord<String, Payment>> payments(int count) {
        List<Payment> out = new ArrayList<>(count + 1);
        for (int n = 0; n < count; n++) {
            Order o = order(n);
            if (n % 6 == 5) {
                continue;
            }
            long delay = n % 7 == 3 ? Duration.ofMinutes(6).toMillis() : (n * 37L % 9) * 30_000;
            out.add(new Payment("p-" + (5000 + n), o.orderId(), o.amountCents(), o.orderedAt() + delay));
        }
        out.add(new Payment("p-4999", "o-999", 4_200, START_MILLIS + 90_000));
        out.sort(Comparator.comparingLong(Payment::paidAt).thenComparing(Payment::paymentId));
        List<StreamRecord<String, Payment>> records = new ArrayList<>(out.size());
        for (int i = 0; i < out.size(); i++) {
            Payment p = out.get(i);
            records.add(StreamRecord.of(p.orderId(), p, p.paidAt(), Origin.of("payments", 0, i)));
        }
        return records;
    }

    /**
     * Orders (keyed by order id) left-joined with payments (keyed by the order id they pay) when the
     * payment is at most 5 minutes after the order; each input gets its own watermarks.
     */
    public static EventStream<String, OrderStatus> pipeline(Publisher<StreamRecord<String, Order>> orders,
                                                            Publisher<StreamRecord<String, Payment>> payments) {
        // distinct operator names, so the two inputs' watermark meters are distinct
        EventStream<String, Order> o = EventStream.from(orders,
                WatermarkStrategy.<String, Order>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS)
                        .withMetrics("default", "order-watermarks", Metrics.globalRegistry));
        EventStream<String, Payment> p = EventStream.from(payments,
                WatermarkStrategy.<String, Payment>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS)
                        .withMetrics("default", "payment-watermarks", Metrics.globalRegistry));
        return o.intervalJoin(p, Duration.ZERO, PAYMENT_WINDOW, JoinType.LEFT, OrderStatus::new);
    }
}
