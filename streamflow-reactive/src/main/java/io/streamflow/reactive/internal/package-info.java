/**
 * Implementation of the operators, sources and sinks: not API, may change in any release.
 */
package io.streamflow.reactive.internal;
