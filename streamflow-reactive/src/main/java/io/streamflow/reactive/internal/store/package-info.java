/**
 * Implementation of durable state and checkpoints on H2 MVStore: not API, may change in any release.
 */
package io.streamflow.reactive.internal.store;
