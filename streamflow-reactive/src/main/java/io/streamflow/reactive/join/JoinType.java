package io.streamflow.reactive.join;

/**
 * Which unmatched records a join emits, with {@code null} for the missing side.
 * <ul>
 *   <li>{@link #INNER}: only matched pairs;</li>
 *   <li>{@link #LEFT}: matched pairs, and every left record that found no match;</li>
 *   <li>{@link #FULL_OUTER}: matched pairs and the unmatched records of both sides (window join only).</li>
 * </ul>
 */
public enum JoinType {
    /** Only matched pairs; unmatched records are counted in {@code streamflow.records.unmatched}. */
    INNER,
    /** Matched pairs, and each left record that found no match, with {@code null} for the right side. */
    LEFT,
    /**
     * Matched pairs, and each unmatched record of either side with {@code null} for the other; window
     * joins only.
     */
    FULL_OUTER
}
