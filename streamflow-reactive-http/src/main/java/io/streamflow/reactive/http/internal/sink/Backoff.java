package io.streamflow.reactive.http.internal.sink;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * Exponential backoff with full jitter: the delay before retry {@code n} (after {@code n} failed
 * attempts) is uniform in {@code [0, min(max, initial * 2^(n-1))]}; an answer's {@code Retry-After}
 * replaces it, capped at {@code max}.
 */
public final class Backoff {

    /** Full jitter from {@link ThreadLocalRandom}. */
    public static final LongUnaryOperator RANDOM_JITTER = bound -> ThreadLocalRandom.current().nextLong(bound + 1);

    private final long initialNanos;
    private final long maxNanos;
    private final LongUnaryOperator jitter;

    /**
     * @param initial cap of the first delay, positive
     * @param max     cap of every delay, at least {@code initial}
     * @param jitter  given a bound {@code b}, a value in {@code [0, b]}
     */
    public Backoff(Duration initial, Duration max, LongUnaryOperator jitter) {
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.jitter = jitter;
    }

    /**
     * @param failedAttempts attempts made so far, {@code >= 1}
     * @return the bound of the delay before the next attempt: {@code min(max, initial * 2^(failedAttempts-1))}
     */
    public long capNanos(int failedAttempts) {
        int shift = Math.min(failedAttempts - 1, 62);
        long cap = initialNanos > (maxNanos >> shift) ? maxNanos : initialNanos << shift;
        return Math.min(cap, maxNanos);
    }

    /**
     * @param failedAttempts attempts made so far, {@code >= 1}
     * @param retryAfter     what the answer's {@code Retry-After} asked for, or {@code null}
     * @return the delay before the next attempt
     */
    public Duration delay(int failedAttempts, Duration retryAfter) {
        if (retryAfter != null) {
            return Duration.ofNanos(Math.min(retryAfter.toNanos(), maxNanos));
        }
        long cap = capNanos(failedAttempts);
        long d = jitter.applyAsLong(cap);
        if (d < 0 || d > cap) {
            throw new IllegalStateException("jitter returned " + d + " ns for a bound of " + cap + " ns");
        }
        return Duration.ofNanos(d);
    }

    /**
     * Reads a {@code Retry-After} header: delay seconds or an HTTP date.
     *
     * @param header    the header's value, or {@code null}
     * @param nowMillis the current time in epoch milliseconds, for an HTTP date
     * @return the wait it asks for (zero for a date in the past), or {@code null} when absent or unreadable
     */
    public static Duration parseRetryAfter(String header, long nowMillis) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String v = header.trim();
        if (v.chars().allMatch(Character::isDigit)) {
            try {
                return Duration.ofSeconds(Long.parseLong(v));
            } catch (NumberFormatException e) {
                return null; // more seconds than a long holds
            }
        }
        try {
            long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
            return Duration.ofMillis(Math.max(0, at - nowMillis));
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
