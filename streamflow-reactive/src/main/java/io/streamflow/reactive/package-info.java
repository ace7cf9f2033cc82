/**
 * Event-time stream processing on Project Reactor: the record model ({@link
 * io.streamflow.reactive.StreamElement}, {@link io.streamflow.reactive.StreamRecord},
 * {@link io.streamflow.reactive.Watermark}, side outputs {@link io.streamflow.reactive.LateRecord} and
 * {@link io.streamflow.reactive.DeadLetter}), watermark generation
 * ({@link io.streamflow.reactive.WatermarkStrategy}), the fluent {@link io.streamflow.reactive.EventStream}
 * facade and the {@code Function<Flux, Flux>} operators behind it ({@link io.streamflow.reactive.StreamOperators},
 * {@link io.streamflow.reactive.KeyedOperators}), built-in sources and sinks, Micrometer meters, and
 * durable state with exactly-once checkpoints ({@link io.streamflow.reactive.Checkpointing}).
 * <p>
 * Windows are in {@code io.streamflow.reactive.window}, joins in {@code io.streamflow.reactive.join},
 * analytics operators in {@code io.streamflow.reactive.analytics} and the keyed state API in
 * {@code io.streamflow.reactive.state}. Packages named {@code internal} are implementation, not API.
 * <h2>What every stateful operator does</h2>
 * The operators of this library that keep state or time (watermark assignment, windows, joins, the
 * keyed and analytics operators) share one implementation of the Reactive Streams contract:
 * <ul>
 *   <li><b>Demand.</b> An operator requests at most its prefetch ({@link
 *   io.streamflow.reactive.OperatorSettings#withPrefetch}, 256 by default) inputs ahead, takes the
 *   next input only once the outputs of the previous one were delivered, and produces a large output,
 *   such as every window one watermark fires, lazily as downstream requests it.</li>
 *   <li><b>Cancel.</b> Inputs waiting in its queue and outputs not yet delivered are discarded
 *   (Reactor's discard hook sees them), its timers are stopped, and its keyed state is dropped unless
 *   the state backend is {@linkplain io.streamflow.reactive.state.StateBackend#isDurable() durable},
 *   where it belongs to the last checkpoint.</li>
 *   <li><b>Error from upstream.</b> It is passed downstream at once; the operator's queued inputs,
 *   undelivered outputs and open windows are discarded as on cancel, not flushed.</li>
 *   <li><b>Completion.</b> The end of input acts as the final watermark
 *   ({@link io.streamflow.reactive.Watermark#END}): every open window fires and every pending result
 *   is emitted, then the operator completes.</li>
 *   <li><b>User functions.</b> A function that throws, and a record whose timestamp cannot be used,
 *   are handled by the operator's {@link io.streamflow.reactive.ErrorPolicy}: under
 *   {@code fail()} upstream is cancelled and the error goes downstream. A JVM-fatal error
 *   ({@link OutOfMemoryError}, {@link StackOverflowError}) always terminates the pipeline, as an
 *   exception whose cause is that error.</li>
 *   <li><b>Threads.</b> The signals of one operator are serialized: its user functions are called one
 *   at a time, on the thread that delivers an input, requests, or runs one of its timers, and must not
 *   block.</li>
 * </ul>
 */
package io.streamflow.reactive;
