/**
 * The keyed state API that stateful operators keep their state behind
 * ({@link io.streamflow.reactive.state.StateBackend}, {@link io.streamflow.reactive.state.KeyedState}),
 * the heap backend, codecs for storing your own value classes in durable state
 * ({@link io.streamflow.reactive.state.StateCodec}), and the exceptions durable state reports:
 * {@link io.streamflow.reactive.state.StateCorruptedException} (damaged bytes),
 * {@link io.streamflow.reactive.state.StateIncompatibleException} (state written with another
 * layout) and {@link io.streamflow.reactive.state.UnsupportedStateTypeException} (a value that
 * cannot be stored).
 */
package io.streamflow.reactive.state;
