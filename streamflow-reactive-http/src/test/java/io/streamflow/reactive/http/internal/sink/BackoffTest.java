package io.streamflow.reactive.http.internal.sink;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Exponential backoff with full jitter, and reading Retry-After. */
class BackoffTest {

    @Test
    void shouldDrawEachDelayUniformlyBelowABoundThatDoublesUpToTheMaximum() {
        long seed = Long.getLong("seed", System.nanoTime());
        System.out.println("BackoffTest seed " + seed + " (replay with -Dseed=" + seed + ")");
        Random random = new Random(seed);
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), b -> random.nextLong(b + 1));
        long[] caps = {100, 200, 400, 800, 1600, 2000, 2000};
        double previousMean = 0;
        for (int attempt = 1; attempt <= caps.length; attempt++) {
            long cap = Duration.ofMillis(caps[attempt - 1]).toNanos();
            assertThat(backoff.capNanos(attempt)).isEqualTo(cap);
            Set<Long> distinct = new HashSet<>();
            double sum = 0;
            long min = Long.MAX_VALUE;
            int samples = 400;
            for (int i = 0; i < samples; i++) {
                long d = backoff.delay(attempt, null).toNanos();
                assertThat(d).isBetween(0L, cap);
                distinct.add(d);
                sum += d;
                min = Math.min(min, d);
            }
            double mean = sum / samples;
            // uniform on [0, cap]: mean cap/2 (standard error about 1.4% of cap with 400 samples)
            assertThat(mean / cap).as("attempt %d, seed %d", attempt, seed).isBetween(0.42, 0.58);
            assertThat(min).as("full jitter reaches down near zero").isLessThan(cap / 20);
            assertThat(distinct).hasSizeGreaterThan(390);
            if (attempt <= 5) {
                assertThat(mean).as("the delays grow").isGreaterThan(previousMean);
            }
            previousMean = mean;
        }
        assertThat(backoff.capNanos(200)).as("no overflow on many attempts").isEqualTo(Duration.ofSeconds(2).toNanos());
    }

    @Test
    void shouldWaitWhatRetryAfterAsksForUpToTheMaximum() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30), b -> b);
        assertThat(backoff.delay(1, Duration.ofSeconds(7))).isEqualTo(Duration.ofSeconds(7));
        assertThat(backoff.delay(1, Duration.ofSeconds(120))).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void shouldReadRetryAfterAsSecondsOrAnHttpDate() {
        long now = ZonedDateTime.of(2026, 12, 7, 6, 0, 0, 0, ZoneOffset.UTC).toInstant().toEpochMilli();
        String inNinetySeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(
                ZonedDateTime.of(2026, 12, 7, 6, 1, 30, 0, ZoneOffset.UTC));
        assertThat(Backoff.parseRetryAfter("12", now)).isEqualTo(Duration.ofSeconds(12));
        assertThat(Backoff.parseRetryAfter(" 0 ", now)).isEqualTo(Duration.ZERO);
        assertThat(Backoff.parseRetryAfter(inNinetySeconds, now)).isEqualTo(Duration.ofSeconds(90));
        assertThat(Backoff.parseRetryAfter("Sun, 06 Dec 2026 06:00:00 GMT", now)).isEqualTo(Duration.ZERO);
        assertThat(Backoff.parseRetryAfter("soon", now)).isNull();
        assertThat(Backoff.parseRetryAfter(null, now)).isNull();
        assertThat(Backoff.parseRetryAfter("99999999999999999999999", now)).isNull();
    }
}
