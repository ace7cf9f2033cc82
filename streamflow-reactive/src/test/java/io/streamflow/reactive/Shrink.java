package io.streamflow.reactive;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The shrinker of the seeded random-input tests. */
public final class Shrink {

    private Shrink() {
    }

    /** Drops elements one at a time as long as the input still fails; stops when no single element can go. */
    public static <T> List<T> smallest(List<T> input, Predicate<List<T>> fails) {
        List<T> current = input;
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < current.size() && current.size() > 1; i++) {
                List<T> candidate = new ArrayList<>(current);
                candidate.remove(i);
                if (fails.test(candidate)) {
                    current = candidate;
                    progress = true;
                    i--;
                }
            }
        }
        return current;
    }
}
