/**
 * Implementation of {@link io.streamflow.reactive.json.JsonDecoder} on Jackson: not API, may change
 * in any release, and left out of the published javadoc.
 */
package io.streamflow.reactive.json.internal;
