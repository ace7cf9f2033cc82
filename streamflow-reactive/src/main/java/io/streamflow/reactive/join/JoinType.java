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
    INNER,
    LEFT,
    FULL_OUTER
}
