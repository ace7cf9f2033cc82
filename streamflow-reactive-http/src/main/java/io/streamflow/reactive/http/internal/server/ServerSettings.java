package io.streamflow.reactive.http.internal.server;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import reactor.core.scheduler.Scheduler;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything the public builder collected, validated by it.
 *
 * @param host             the address to bind
 * @param port             the port (0: any free one)
 * @param prometheus       the registry of {@code /metrics} and of the pipelines' meters, or {@code null}
 * @param pipelines        the registered pipelines
 * @param maxWatermarkLag  health limit, or {@code null}
 * @param maxCheckpointAge health limit, or {@code null}
 * @param credentials      what protected routes require
 * @param certificateChain PEM certificate chain for TLS, or {@code null} for plain HTTP
 * @param privateKey       PEM PKCS#8 private key for TLS, or {@code null}
 * @param idleTimeout      idle and read timeout of a connection
 * @param maxHeaderSize    the largest request header block in bytes
 * @param maxConnections   the most connections served at a time
 * @param scheduler        clock and timer of the status ticks
 * @param statusInterval   time between status snapshots
 * @param routes           routes added by the module's other parts
 */
public record ServerSettings(String host, int port, PrometheusMeterRegistry prometheus,
                             List<MonitoredPipeline> pipelines, Duration maxWatermarkLag, Duration maxCheckpointAge,
                             Credentials credentials, Path certificateChain, Path privateKey, Duration idleTimeout,
                             int maxHeaderSize, int maxConnections, Scheduler scheduler, Duration statusInterval,
                             List<HttpRoute> routes) {
}
