package io.streamflow.reactive.window;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A record whose field function throws leaves the accumulator as it was (it goes to the dead letters). */
class AggregationsTest {

    @Test
    void countAndSumLeavesTheAccumulatorUnchangedWhenTheFieldFails() {
        AggregateFunction<String, Aggregations.CountSumAcc, Aggregations.CountAndSum> f = Aggregations.countAndSum(Long::parseLong);
        Aggregations.CountSumAcc acc = f.add(f.createAccumulator(), "5");
        assertThatThrownBy(() -> f.add(acc, "not a number")).isInstanceOf(NumberFormatException.class);
        assertThat(f.result(acc)).isEqualTo(new Aggregations.CountAndSum(1, 5));
    }

    @Test
    void doubleSumLeavesTheAccumulatorUnchangedWhenTheFieldFails() {
        AggregateFunction<String, Aggregations.DoubleAcc, Double> f = Aggregations.sum(Double::parseDouble);
        Aggregations.DoubleAcc acc = f.add(f.createAccumulator(), "2.5");
        assertThatThrownBy(() -> f.add(acc, "x")).isInstanceOf(NumberFormatException.class);
        assertThat(f.result(acc)).isEqualTo(2.5);
        assertThat(Aggregations.average(Double::parseDouble).result(acc)).isEqualTo(2.5);
    }
}
