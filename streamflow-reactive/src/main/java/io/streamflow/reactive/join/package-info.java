/**
 * Event-time joins of two keyed streams ({@link io.streamflow.reactive.join.Joins}): window joins,
 * interval joins and joins with a changelog kept as a table. Each input keeps its own watermark;
 * join state is purged once the watermark makes a match impossible, and records that come after
 * their partners were purged go to the late output.
 */
package io.streamflow.reactive.join;
