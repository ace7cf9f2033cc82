package io.streamflow.samples;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.Event;
import io.streamflow.reactive.EventStream;
import io.streamflow.reactive.OperatorSettings;
import io.streamflow.reactive.StreamElement;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.WatermarkStrategy;
import io.streamflow.reactive.http.HttpIngest;
import io.streamflow.reactive.http.HttpSink;
import io.streamflow.reactive.http.ResultLog;
import io.streamflow.reactive.http.StreamFlowHttpServer;
import io.streamflow.reactive.json.JsonDecoder;
import io.streamflow.reactive.window.Aggregations;
import io.streamflow.reactive.window.Trigger;
import io.streamflow.reactive.window.WindowResult;
import io.streamflow.reactive.window.Windows;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.util.Logger;
import reactor.util.Loggers;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Page views over HTTP, counted per page and minute, live in a browser and in a key-value receiver.
 * <pre>
 *   POST /ingest/pageviews  --&gt;  HttpIngest "pageviews"  --&gt;  watermarks (5 s out of order)
 *     --&gt;  views per page in 1-minute tumbling windows, early panes every 2 s
 *     --&gt;  ResultLog, served at GET /results (server-sent events)  --&gt;  the page at /
 *     --&gt;  HttpSink  --&gt;  PageViewsReceiver (POST /results, GET /kv) on another port
 * </pre>
 * Page views are JSON lines {@code {"page":"/home","user":"u1","ts":<epoch ms>}}; a built-in load
 * generator posts about {@value #DEFAULT_VIEWS_PER_SECOND} a second over HTTP, event times up to 3 s
 * in the past, so the page moves without any other client. The page ({@code
 * src/main/resources/io/streamflow/samples/pageviews/}) reads {@code /results} with an
 * {@code EventSource}: {@code result} = put, {@code retract} = remove, {@code reset} = clear; it
 * resumes by itself after a reconnect ({@code Last-Event-ID}). The server's status page is at
 * {@code /status}, its metrics at {@code /metrics}.
 * <p>
 * Arguments (optional): the port on 127.0.0.1 (default 8080), then the seconds to run (default:
 * until Ctrl-C).
 */
public final class HttpPageViews implements AutoCloseable {

    /** Window size. */
    public static final Duration WINDOW = Duration.ofMinutes(1);
    /** Bounded out-of-orderness of the watermarks. */
    public static final Duration MAX_OUT_OF_ORDERNESS = Duration.ofSeconds(5);
    /** Processing time between early panes of a window that received views. */
    public static final Duration EARLY_FIRINGS = Duration.ofSeconds(2);
    /** Views a second posted by the load generator of {@link #main}. */
    public static final int DEFAULT_VIEWS_PER_SECOND = 20;
    /** The pipeline's and the ingest's name. */
    public static final String NAME = "pageviews";

    /** Pages of the load generator, with their weights. */
    static final Map<String, Integer> PAGES = pages();

    private static final Logger LOG = Loggers.getLogger(HttpPageViews.class);
    private static final Duration LOAD_TICK = Duration.ofMillis(250);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpIngest<Event> ingest;
    private final ResultLog<String, Long> log;
    private final PageViewsReceiver receiver;
    private final HttpSink sink;
    private final StreamFlowHttpServer.Builder serverBuilder;
    private volatile StreamFlowHttpServer server;
    private final Disposable run;
    private volatile Disposable load;
    private final Scheduler clock = Schedulers.parallel();
    private final AtomicLong late = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final AtomicLong notDelivered = new AtomicLong();
    private final AtomicLong posted = new AtomicLong();
    private final AtomicLong postsRefused = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();

    private HttpPageViews(int port, int receiverPort, int retainCount) {
        this.ingest = HttpIngest.builder(NAME, JsonDecoder.events().timestampField("ts").keyField("page"))
                .bufferRecords(10_000)
                .meterRegistry(registry)
                .build();
        this.log = ResultLog.<String, Long>builder(NAME)
                .retainCount(retainCount)
                .clientBuffer(Math.min(1_000, retainCount))
                .retainAge(Duration.ofMinutes(10))
                .build();
        this.receiver = PageViewsReceiver.start(receiverPort);
        this.sink = HttpSink.to(receiver.resultsUri()).name("pageviews-kv").pipeline(NAME)
                .batchSize(100).maxBatchDelay(Duration.ofMillis(200))
                .maxInFlight(2).timeout(Duration.ofSeconds(5)).maxRetries(6)
                .backoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                .meterRegistry(registry)
                .build();
        this.serverBuilder = StreamFlowHttpServer.builder()
                .port(port)                                    // 127.0.0.1
                .prometheus(registry)
                .pipeline(NAME)
                .page("/", "io/streamflow/samples/pageviews/")  // index.html, pageviews.js, pageviews.css
                .results("/results", log)
                .ingest(ingest);
        this.server = serverBuilder.start();
        Mono<Void> pipeline = results().publish(shared -> Flux.merge(
                log.append(shared),
                shared.transform(sink.send(HttpPageViews::toReceiver)).doOnNext(outcome -> {
                    if (outcome instanceof DeadLetter<?, ?> d) {
                        notDelivered.incrementAndGet();
                        LOG.warn("a count did not reach the receiver: {}", d.error().getMessage());
                    }
                }).then())).then();
        this.run = server.track(NAME, pipeline).subscribe(v -> { },
                e -> LOG.error("the page views pipeline failed", e));
    }

    /**
     * Starts the server, the receiver and the pipeline, without load.
     *
     * @param port         the server's port on 127.0.0.1 (0: any free one)
     * @param receiverPort the receiver's port on 127.0.0.1 (0: any free one)
     * @return the running sample; close it to stop everything
     */
    public static HttpPageViews start(int port, int receiverPort) {
        return new HttpPageViews(port, receiverPort, 10_000);
    }

    /** As {@link #start(int, int)}, with a result log that keeps {@code retainCount} events and live windows. */
    static HttpPageViews start(int port, int receiverPort, int retainCount) {
        return new HttpPageViews(port, receiverPort, retainCount);
    }

    /** HTTP ingest → event time → counts per page and minute, with early panes. */
    private Flux<StreamElement<String, WindowResult<String, Long>>> results() {
        return EventStream.from(ingest.flux(),
                        WatermarkStrategy.<Void, Event>forBoundedOutOfOrderness(MAX_OUT_OF_ORDERNESS)
                                .withMetrics(NAME, "watermarks", registry))
                .settings(OperatorSettings.named("counts").withPipeline(NAME).withMeterRegistry(registry))
                .onDeadLetter(dead -> dead.doOnNext(d -> {
                    deadLetters.incrementAndGet();
                    LOG.warn("page view not taken ({}): {}", d.origin(), d.error().getMessage());
                }))
                .onLateData(lateViews -> lateViews.doOnNext(l -> {
                    late.incrementAndGet();
                    LOG.warn("late page view: {}", l);
                }))
                .keyBy(Event::key)
                .window(Windows.tumbling(WINDOW)).name("counts")
                .trigger(Trigger.onWatermark().withEarlyFiringsEvery(EARLY_FIRINGS))
                .aggregate(Aggregations.count())
                .elements();
    }

    /** What the sink sends for a count: the receiver's entry for a page and minute. */
    static Map<String, Object> toReceiver(StreamRecord<String, WindowResult<String, Long>> r) {
        WindowResult<String, Long> w = r.value();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("page", w.key());
        m.put("start", w.start());
        m.put("end", w.end());
        m.put("views", w.value());
        m.put("pane", w.pane().index());
        m.put("timing", w.pane().timing().name());
        m.put("final", w.pane().isFinal());
        return m;
    }

    /**
     * Posts synthetic page views to the ingest over HTTP, every 250 ms a batch of about
     * {@code viewsPerSecond / 4}, on random pages (weighted) by 50 users, event times up to 3 s in
     * the past. A refused or failed post is counted and the next one goes on.
     *
     * @param viewsPerSecond the rate
     * @param seed           the seed of the random views
     */
    public void startLoad(int viewsPerSecond, long seed) {
        if (viewsPerSecond <= 0) {
            return;
        }
        SplittableRandom random = new SplittableRandom(seed);
        HttpClient client = HttpClient.create().headers(h -> h.set("Content-Type", "application/x-ndjson"));
        double perTick = viewsPerSecond * LOAD_TICK.toMillis() / 1000.0;
        this.load = Flux.interval(LOAD_TICK, clock)
                .onBackpressureDrop()
                .concatMap(tick -> {
                    int n = (int) Math.max(0, Math.round(perTick + (random.nextDouble() - 0.5) * perTick));
                    if (n == 0) {
                        return Mono.empty();
                    }
                    String body = views(random, n, clock.now(TimeUnit.MILLISECONDS));
                    return client.post().uri(ingestUri())
                            .send((request, out) -> out.sendString(Mono.just(body)))
                            .responseSingle((response, content) -> content.asString().defaultIfEmpty("")
                                    .map(text -> {
                                        if (response.status().code() == 200) {
                                            posted.addAndGet(n);
                                        } else {
                                            postsRefused.incrementAndGet();
                                        }
                                        return text;
                                    }))
                            .timeout(Duration.ofSeconds(5))
                            .onErrorResume(e -> {
                                postsRefused.incrementAndGet();
                                return Mono.empty();
                            });
                }, 1)
                .subscribe();
    }

    private static String views(SplittableRandom random, int n, long now) {
        StringBuilder sb = new StringBuilder(n * 60);
        int total = PAGES.values().stream().mapToInt(Integer::intValue).sum();
        for (int i = 0; i < n; i++) {
            int pick = random.nextInt(total);
            String page = null;
            for (Map.Entry<String, Integer> e : PAGES.entrySet()) {
                pick -= e.getValue();
                if (pick < 0) {
                    page = e.getKey();
                    break;
                }
            }
            sb.append(view(page, "u" + (1 + random.nextInt(50)), now - random.nextLong(3_001))).append('\n');
        }
        return sb.toString();
    }

    /**
     * @param page the page
     * @param user the user
     * @param ts   the event time, epoch millis
     * @return a page view as the ingest takes it: {@code {"page":"/home","user":"u1","ts":...}}
     */
    static String view(String page, String user, long ts) {
        return "{\"page\":\"" + page + "\",\"user\":\"" + user + "\",\"ts\":" + ts + "}";
    }

    /** Stops the load generator. */
    void stopLoad() {
        Disposable d = load;
        if (d != null) {
            d.dispose();
        }
    }

    /** Closes the server (every connection, the browser's event stream too) and starts it again on its port. */
    void restartServer() {
        int port = server.port();
        server.close();
        server = serverBuilder.port(port).start();
    }

    /** @return the page to open */
    public URI pageUri() {
        return server.uri("/");
    }

    /** @return where page views are posted */
    public URI ingestUri() {
        return server.uri("/ingest/" + NAME);
    }

    StreamFlowHttpServer server() {
        return server;
    }

    ResultLog<String, Long> log() {
        return log;
    }

    PageViewsReceiver receiver() {
        return receiver;
    }

    long lateViews() {
        return late.get();
    }

    long deadLetters() {
        return deadLetters.get();
    }

    long notDelivered() {
        return notDelivered.get();
    }

    long posted() {
        return posted.get();
    }

    /** Stops the load, the pipeline, the sink, the server and the receiver. Calling it again does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        stopLoad();
        run.dispose();
        ingest.close();
        sink.close();
        server.close();
        receiver.close();
    }

    /**
     * Runs the sample: {@code [port (default 8080)] [seconds (default: until Ctrl-C)]}.
     *
     * @param args the arguments
     * @throws InterruptedException if interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        int port;
        long seconds;
        try {
            port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
            seconds = args.length > 1 ? Long.parseLong(args[1]) : 0;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("usage: HttpPageViews [port, default 8080] [seconds to run, default: "
                    + "until Ctrl-C]; was " + String.join(" ", args), e);
        }
        HttpPageViews app = start(port, 0);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            app.close();
            stopped.countDown();
        }, "http-page-views-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        app.startLoad(DEFAULT_VIEWS_PER_SECOND, System.nanoTime());
        System.out.println("Page views per minute, live: open " + app.pageUri());
        System.out.println("  ingest:   POST " + app.ingestUri()
                + "  (JSON lines {\"page\":\"/home\",\"user\":\"u1\",\"ts\":<epoch ms>})");
        System.out.println("  results:  " + app.server.uri("/results") + "  (server-sent events)");
        System.out.println("  receiver: " + app.receiver.kvUri() + "  (latest count per page and minute, from the HTTP sink)");
        System.out.println("  status:   " + app.server.uri("/status") + "  metrics: " + app.server.uri("/metrics"));
        System.out.println("Posting about " + DEFAULT_VIEWS_PER_SECOND + " page views a second; "
                + (seconds > 0 ? "stopping after " + seconds + " s." : "Ctrl-C to stop."));
        boolean timedOut = seconds > 0 && !stopped.await(seconds, TimeUnit.SECONDS);
        if (seconds <= 0) {
            stopped.await();
        }
        if (timedOut) {
            Runtime.getRuntime().removeShutdownHook(hook);
            System.out.println("-- " + app.posted() + " page views posted, " + app.receiver.results()
                    + " counts received by the receiver (" + app.receiver.duplicates() + " repeats dropped), "
                    + app.log.lastEventId() + " result events, " + app.lateViews() + " late, "
                    + app.deadLetters() + " dead letters");
            app.close();
        }
    }

    private static Map<String, Integer> pages() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("/home", 35);
        m.put("/docs", 25);
        m.put("/pricing", 15);
        m.put("/blog", 15);
        m.put("/about", 10);
        return java.util.Collections.unmodifiableMap(m);
    }
}
