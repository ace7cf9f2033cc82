package io.streamflow.samples;

import io.streamflow.reactive.StreamRecord;
import io.streamflow.samples.OrdersPayments.Order;
import io.streamflow.samples.OrdersPayments.OrderStatus;
import io.streamflow.samples.OrdersPayments.Payment;
import org.junit.jupiter.api.DisplayNameGeneration;
import org.junit.jupiter.api.DisplayNameGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

@DisplayNameGeneration(DisplayNameGenerator.ReplaceUnderscores.class)
class OrdersPaymentsTest {

    /** 2023-11-14T22:15:00Z. */
    private static final long T0 = OrdersPayments.START_MILLIS;
    private static final long MINUTE = 60_000;

    private static Order order(String id, String customer, long at) {
        return new Order(id, customer, 2_500, at);
    }

    private static Payment payment(String id, Order order, long at) {
        return new Payment(id, order.orderId(), order.amountCents(), at);
    }

    private static List<StreamRecord<String, OrderStatus>> run(List<Order> orders, List<Payment> payments) {
        return OrdersPayments.pipeline(
                        Flux.fromIterable(orders).map(Order::toRecord),
                        Flux.fromIterable(payments).map(Payment::toRecord))
                .records().collectList().block();
    }

    @Test
    void an_order_paid_within_five_minutes_is_paid_and_one_paid_after_six_minutes_or_never_is_unpaid() {
        Order o1 = order("o-1", "ann", T0);
        Order o2 = order("o-2", "bob", T0 + MINUTE);
        Order o3 = order("o-3", "cid", T0 + 2 * MINUTE);
        Order o4 = order("o-4", "dee", T0 + 3 * MINUTE);
        Payment p1 = payment("p-1", o1, T0 + 2 * MINUTE);
        Payment unknown = new Payment("p-9", "o-9", 999, T0 + 4 * MINUTE);   // no such order
        Payment p2 = payment("p-2", o2, T0 + 6 * MINUTE);                    // exactly 5 min: still paid
        Payment p3 = payment("p-3", o3, T0 + 8 * MINUTE);                    // 6 min: too late

        List<StreamRecord<String, OrderStatus>> out = run(List.of(o1, o2, o3, o4), List.of(p1, unknown, p2, p3));

        // paid: at the payment's time; unpaid: at order + 5 min
        assertThat(out).extracting(StreamRecord::key, StreamRecord::timestamp, StreamRecord::value)
                .containsExactlyInAnyOrder(
                        tuple("o-1", T0 + 2 * MINUTE, new OrderStatus(o1, p1)),
                        tuple("o-2", T0 + 6 * MINUTE, new OrderStatus(o2, p2)),
                        tuple("o-3", T0 + 7 * MINUTE, new OrderStatus(o3, null)),
                        tuple("o-4", T0 + 8 * MINUTE, new OrderStatus(o4, null)));
        assertThat(out).filteredOn(r -> r.value().paid()).extracting(StreamRecord::key)
                .containsExactlyInAnyOrder("o-1", "o-2");
    }

    @Test
    void a_payment_one_millisecond_too_late_or_before_the_order_does_not_count_and_two_payments_give_two_lines() {
        Order late = order("o-1", "ann", T0);
        Order early = order("o-2", "bob", T0 + MINUTE);
        Order twice = order("o-3", "cid", T0 + MINUTE);
        Payment tooLate = payment("p-1", late, T0 + 5 * MINUTE + 1);
        Payment before = payment("p-2", early, T0 + MINUTE - 1_000);
        Payment first = payment("p-3", twice, T0 + 2 * MINUTE);
        Payment second = payment("p-4", twice, T0 + 3 * MINUTE);

        List<StreamRecord<String, OrderStatus>> out = run(List.of(late, early, twice),
                List.of(before, first, second, tooLate));

        assertThat(out).extracting(StreamRecord::timestamp, StreamRecord::value).containsExactlyInAnyOrder(
                tuple(T0 + 5 * MINUTE, new OrderStatus(late, null)),
                tuple(T0 + 6 * MINUTE, new OrderStatus(early, null)),
                tuple(T0 + 2 * MINUTE, new OrderStatus(twice, first)),
                tuple(T0 + 3 * MINUTE, new OrderStatus(twice, second)));
    }

    @Test
    void the_result_does_not_depend_on_which_input_arrives_first_or_on_disorder_within_thirty_seconds() {
        Order o1 = order("o-1", "ann", T0 + 20_000);
        Order o2 = order("o-2", "bob", T0);                  // 20 s out of order
        Order o3 = order("o-3", "cid", T0 + MINUTE);
        Payment p2 = payment("p-2", o2, T0 + 4 * MINUTE);
        Payment p1 = payment("p-1", o1, T0 + 3 * MINUTE + 50_000); // 10 s out of order
        Payment p3 = payment("p-3", o3, T0 + 7 * MINUTE);          // too late for o-3

        // the payments are all there before the first order: nothing may be purged too early
        StepVerifier.withVirtualTime(() -> OrdersPayments.pipeline(
                                Flux.just(o1, o2, o3).map(Order::toRecord).delaySubscription(Duration.ofMinutes(1)),
                                Flux.just(p2, p1, p3).map(Payment::toRecord))
                        .values().collectList())
                .expectSubscription()
                .thenAwait(Duration.ofMinutes(1))
                .assertNext(out -> assertThat(out).containsExactlyInAnyOrder(
                        new OrderStatus(o1, p1),
                        new OrderStatus(o2, p2),
                        new OrderStatus(o3, null)))
                .verifyComplete();
    }

    @Test
    void the_generated_input_has_fifteen_paid_orders_five_unpaid_ones_and_ignores_the_unknown_payment() {
        List<OrderStatus> out = OrdersPayments.pipeline(
                        Flux.fromIterable(OrdersPayments.orders(20)), Flux.fromIterable(OrdersPayments.payments(20)))
                .values().collectList().block();

        assertThat(out).hasSize(20);
        assertThat(out).extracting(s -> s.order().orderId())
                .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 20).mapToObj(n -> "o-" + (1000 + n)).toList());
        // never paid: n % 6 == 5; paid after 6 minutes: n % 7 == 3
        assertThat(out).filteredOn(s -> !s.paid()).extracting(s -> s.order().orderId())
                .containsExactlyInAnyOrder("o-1003", "o-1005", "o-1010", "o-1011", "o-1017");
        assertThat(out).filteredOn(OrderStatus::paid)
                .allSatisfy(s -> assertThat(s.payment().paidAt() - s.order().orderedAt())
                        .isBetween(0L, 5 * MINUTE));
    }

    @Test
    void prints_order_amount_and_payment_or_the_time_it_was_due() {
        Order o = new Order("o-1001", "bob", 123_405, T0);
        assertThat(new OrderStatus(o, new Payment("p-7", "o-1001", 123_405, T0 + 150_000)).toString())
                .isEqualTo("o-1001 bob    1234.05 ordered 2023-11-14T22:15:00Z  PAID    p-7 1234.05 after 2m30s");
        assertThat(new OrderStatus(o, null).toString())
                .isEqualTo("o-1001 bob    1234.05 ordered 2023-11-14T22:15:00Z  UNPAID  no payment by "
                        + "2023-11-14T22:20:00Z");
    }
}
