/**
 * Not API: implementation classes of the test kit, which may change in any release.
 */
package io.streamflow.reactive.test.internal;
