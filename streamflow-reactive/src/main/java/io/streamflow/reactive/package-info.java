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
 */
package io.streamflow.reactive;
