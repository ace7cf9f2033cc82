/**
 * Keyed event-time windows: assigners ({@link io.streamflow.reactive.window.Windows}: tumbling,
 * sliding, session, calendar, global and count windows over half-open {@code [start, end)}),
 * triggers and panes ({@link io.streamflow.reactive.window.Trigger},
 * {@link io.streamflow.reactive.window.PaneInfo}), aggregations
 * ({@link io.streamflow.reactive.window.Aggregations} and your own
 * {@link io.streamflow.reactive.window.AggregateFunction}) and the operator that runs them,
 * {@link io.streamflow.reactive.window.WindowOperator}, which emits
 * {@link io.streamflow.reactive.window.WindowResult}s.
 */
package io.streamflow.reactive.window;
