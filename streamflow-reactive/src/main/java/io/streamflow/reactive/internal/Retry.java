package io.streamflow.reactive.internal;

import reactor.core.Exceptions;

import java.util.function.Function;

/** Calls a user function again after it threw, as an {@code ErrorPolicy} with retries asks. */
public final class Retry {

    private Retry() {
    }

    /**
     * Calls {@code fn} up to {@code retries} more times after {@code first} was thrown.
     *
     * @return the result of the first call that succeeds
     * @throws RuntimeException the last error (with the earlier ones suppressed) when every call threw
     */
    public static <T, R> R again(Function<? super T, ? extends R> fn, T input, int retries, Throwable first) {
        Throwable last = first;
        for (int i = 0; i < retries; i++) {
            try {
                return fn.apply(input);
            } catch (Throwable t) {
                Exceptions.throwIfFatal(t);
                if (t != last) { // a function may throw the same instance every time
                    t.addSuppressed(last);
                }
                last = t;
            }
        }
        throw Exceptions.propagate(last);
    }
}
