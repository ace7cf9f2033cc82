package io.streamflow.reactive.kafka.internal;

import io.streamflow.reactive.DeadLetter;
import io.streamflow.reactive.ErrorPolicy;
import io.streamflow.reactive.LateRecord;
import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;
import io.streamflow.reactive.kafka.KafkaRecord;
import io.streamflow.reactive.kafka.KafkaSendException;
import io.streamflow.reactive.kafka.KafkaSender;
import io.streamflow.reactive.kafka.SendResult;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownProducerIdException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.Logger;
import reactor.util.Loggers;
import reactor.util.concurrent.Queues;
import reactor.util.context.Context;

import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * One subscription of a {@link KafkaSender}: a non-transactional producer driven by a drain loop
 * that runs on one worker of {@code Schedulers.boundedElastic()}.
 * <p>
 * Only the worker touches the producer and calls downstream. The other threads only add work and
 * call {@link #drain()}: upstream's {@code onNext} queues the element (at most {@code maxInFlight}
 * are ever requested), downstream's {@code request} adds demand, the client's network thread queues
 * the result of an acknowledged or failed send. The loop sends the queued elements in arrival order
 * (so records of a partition keep their order), emits results as demanded, and requests from
 * upstream as many elements as it emitted results: the elements between upstream and downstream
 * never exceed {@code maxInFlight}.
 *
 * @param <T> the input element type
 */
public final class SendSubscriber<T> implements CoreSubscriber<T>, Subscription, Runnable {

    private static final Logger LOG = Loggers.getLogger(SendSubscriber.class);

    /**
     * The sender configuration one subscription needs.
     *
     * @param properties   producer properties (serializers are set here)
     * @param maxInFlight  the most elements between upstream and downstream
     * @param errorPolicy  what a record that cannot be sent becomes
     * @param closeTimeout how long closing after a cancel waits for the records the producer holds
     * @param meters       where sent, dead-lettered and failed records are counted, or {@code null}
     */
    public record Settings(Map<String, Object> properties, int maxInFlight, ErrorPolicy errorPolicy,
                           Duration closeTimeout, SenderMeters meters) {
    }

    private static final AtomicIntegerFieldUpdater<SendSubscriber> WIP =
            AtomicIntegerFieldUpdater.newUpdater(SendSubscriber.class, "wip");
    private static final AtomicLongFieldUpdater<SendSubscriber> REQUESTED =
            AtomicLongFieldUpdater.newUpdater(SendSubscriber.class, "requested");

    private final Settings settings;
    private final Function<? super T, KafkaRecord> format;
    private final CoreSubscriber<? super SendResult<T>> actual;
    private final Scheduler.Worker worker;
    /** Elements from upstream not yet sent: written by upstream, read by the worker. */
    private final Queue<T> inbound;
    /** Results of sends and dead letters not yet emitted: written by the network thread and the worker. */
    private final Queue<SendResult<T>> results = new ConcurrentLinkedQueue<>();
    /** Sends handed to the producer whose callback has not run yet. */
    private final AtomicInteger pendingAcks = new AtomicInteger();
    /** The first error that fails the subscription (a producer error, or a record error under the fail policy). */
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private Subscription upstream;
    private volatile int wip;
    private volatile long requested;
    private volatile boolean done;
    private Throwable upstreamError;
    private volatile boolean cancelled;

    // worker only
    private KafkaProducer<byte[], byte[]> producer;
    private boolean terminated;

    /**
     * @param settings the sender's configuration
     * @param format   turns an element into the record to send
     * @param actual   the subscriber of the results
     */
    public SendSubscriber(Settings settings, Function<? super T, KafkaRecord> format,
                          CoreSubscriber<? super SendResult<T>> actual) {
        this.settings = settings;
        this.format = format;
        this.actual = actual;
        this.inbound = Queues.<T>get(settings.maxInFlight()).get();
        this.worker = Schedulers.boundedElastic().createWorker();
    }

    @Override
    public Context currentContext() {
        return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription s) {
        if (Operators.validate(upstream, s)) {
            upstream = s;
            actual.onSubscribe(this);
            s.request(settings.maxInFlight());
        }
    }

    @Override
    public void onNext(T t) {
        if (done) {
            Operators.onNextDropped(t, actual.currentContext());
            return;
        }
        if (cancelled) {
            Operators.onDiscard(t, actual.currentContext());
            return;
        }
        if (!inbound.offer(t)) {
            Operators.onDiscard(t, actual.currentContext());
            failure.compareAndSet(null, Operators.onOperatorError(upstream,
                    Exceptions.failWithOverflow("the upstream of KafkaSender sent more than the "
                            + settings.maxInFlight() + " elements it requested"), t, actual.currentContext()));
        }
        drain();
    }

    @Override
    public void onError(Throwable t) {
        if (done) {
            Operators.onErrorDropped(t, actual.currentContext());
            return;
        }
        upstreamError = t;
        done = true;
        drain();
    }

    @Override
    public void onComplete() {
        if (done) {
            return;
        }
        done = true;
        drain();
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            Operators.addCap(REQUESTED, this, n);
            drain();
        }
    }

    @Override
    public void cancel() {
        if (!cancelled) {
            cancelled = true;
            upstream.cancel();
            drain();
        }
    }

    private void drain() {
        if (WIP.getAndIncrement(this) != 0) {
            return;
        }
        try {
            worker.schedule(this);
        } catch (RejectedExecutionException e) {
            // the worker is disposed: the subscription is over
        }
    }

    /** The drain loop, on the worker. */
    @Override
    public void run() {
        int missed = 1;
        for (;;) {
            if (terminated) {
                return;
            }
            if (cancelled) {
                cancelNow();
                return;
            }
            T t;
            while (failure.get() == null && !cancelled && (t = inbound.poll()) != null) {
                send(t);
            }
            long r = requested;
            long e = 0;
            while (e != r && failure.get() == null && !cancelled) {
                SendResult<T> result = results.poll();
                if (result == null) {
                    break;
                }
                actual.onNext(result);
                e++;
            }
            if (e != 0) {
                if (r != Long.MAX_VALUE) {
                    REQUESTED.addAndGet(this, -e);
                }
                if (!done) {
                    upstream.request(e);
                }
            }
            if (cancelled) {
                continue;
            }
            Throwable f = failure.get();
            if (f != null) {
                failNow(f);
                return;
            }
            boolean d = done;
            if (d && inbound.isEmpty() && pendingAcks.get() == 0 && results.isEmpty()) {
                completeNow();
                return;
            }
            missed = WIP.addAndGet(this, -missed);
            if (missed == 0) {
                return;
            }
        }
    }

    private void send(T t) {
        KafkaRecord record;
        try {
            record = formatWithRetries(t);
        } catch (Throwable ex) {
            Exceptions.throwIfJvmFatal(ex);
            recordFailed(t, null, ex);
            return;
        }
        KafkaProducer<byte[], byte[]> p;
        try {
            p = producer();
        } catch (KafkaException ex) {
            failure.compareAndSet(null, new KafkaSendException("cannot create the Kafka producer of KafkaSender"
                    + hint(ex) + ": " + ex, record.topic(), record.partition(), origin(t), ex));
            return;
        }
        RecordHeaders headers = new RecordHeaders();
        record.headers().forEach(headers::add);
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(record.topic(), record.partition(),
                record.timestamp(), record.key(), record.value(), headers);
        pendingAcks.incrementAndGet();
        try {
            p.send(out, (metadata, ex) -> acknowledged(t, record, metadata, ex));
        } catch (RuntimeException ex) {
            // thrown, not passed to the callback: the producer itself is unusable (closed, or failed fatally)
            pendingAcks.decrementAndGet();
            failure.compareAndSet(null, sendException("the Kafka producer of KafkaSender failed", t, record, ex));
        }
    }

    private KafkaRecord formatWithRetries(T t) {
        RuntimeException first = null;
        for (int attempt = 0; ; attempt++) {
            try {
                KafkaRecord r = format.apply(t);
                if (r == null) {
                    throw new NullPointerException("the format function of KafkaSender returned null for " + t);
                }
                return r;
            } catch (RuntimeException ex) {
                if (first != null) {
                    ex.addSuppressed(first);
                }
                first = ex;
                if (attempt >= settings.errorPolicy().retries()) {
                    throw ex;
                }
            }
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            producer = new KafkaProducer<>(settings.properties(), new ByteArraySerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    /** The producer's callback, on its network thread (or on the worker for an error found in {@code send}). */
    private void acknowledged(T t, KafkaRecord record, RecordMetadata metadata, Exception ex) {
        if (ex == null) {
            if (settings.meters() != null) {
                settings.meters().sent();
            }
            results.offer(new SendResult<>(t, metadata.topic(), metadata.partition(), metadata.offset(),
                    metadata.hasTimestamp() ? metadata.timestamp() : -1L, null));
        } else if (isProducerError(ex)) {
            failure.compareAndSet(null, sendException("the Kafka producer of KafkaSender failed", t, record, ex));
        } else {
            recordFailed(t, record, ex);
        }
        pendingAcks.decrementAndGet();
        drain();
    }

    /** A record that could not be formatted or sent: a dead letter, or the failure, by the policy. */
    private void recordFailed(T t, KafkaRecord record, Throwable ex) {
        KafkaSendException error = record == null
                ? new KafkaSendException("the element " + describe(t) + " could not be formatted into a Kafka record: "
                + ex, null, null, origin(t), ex)
                : sendException("a record could not be sent", t, record, ex);
        if (!settings.errorPolicy().isDeadLetter()) {
            if (settings.meters() != null) {
                settings.meters().failed();
            }
            failure.compareAndSet(null, error);
            return;
        }
        if (settings.meters() != null) {
            settings.meters().deadLetter();
        }
        LOG.warn("{}; it becomes a dead letter", error.getMessage());
        results.offer(new SendResult<>(t, record == null ? null : record.topic(),
                record == null || record.partition() == null ? -1 : record.partition(), -1L, -1L,
                new DeadLetter<>(t, origin(t), KafkaSender.OPERATOR, error)));
    }

    private KafkaSendException sendException(String what, T t, KafkaRecord record, Throwable ex) {
        Origin origin = origin(t);
        String message = what + ": the record for topic '" + record.topic() + "'"
                + (record.partition() == null ? "" : " partition " + record.partition())
                + (origin == Origin.NONE ? "" : " from " + origin) + hint(ex) + ": " + ex;
        return new KafkaSendException(message, record.topic(), record.partition(), origin, ex);
    }

    private static String hint(Throwable e) {
        return e instanceof AuthenticationException ? " (authentication failed: the credentials were refused)"
                : e instanceof AuthorizationException ? " (not authorised: check the ACLs)" : "";
    }

    private static String describe(Object t) {
        return t instanceof StreamRecord<?, ?> r ? "from " + r.origin() : String.valueOf(t);
    }

    /** Where an element came from, when it says so. */
    static Origin origin(Object t) {
        if (t instanceof StreamRecord<?, ?> r) {
            return r.origin();
        }
        if (t instanceof DeadLetter<?, ?> d) {
            return d.origin();
        }
        if (t instanceof LateRecord<?, ?> l) {
            return l.record().origin();
        }
        return Origin.NONE;
    }

    /**
     * Whether an error concerns the producer rather than one record: those fail the subscription
     * whatever the policy (each further record would fail the same way).
     */
    static boolean isProducerError(Throwable e) {
        if (!(e instanceof ApiException)) {
            return true; // a closed or broken producer, an interrupt
        }
        return e instanceof AuthenticationException
                || e instanceof AuthorizationException && !(e instanceof TopicAuthorizationException)
                || e instanceof UnsupportedVersionException || e instanceof ProducerFencedException
                || e instanceof InvalidProducerEpochException || e instanceof OutOfOrderSequenceException
                || e instanceof UnknownProducerIdException;
    }

    private void completeNow() {
        terminated = true;
        closeProducer(settings.closeTimeout());
        worker.dispose();
        Throwable e = upstreamError;
        if (e != null) {
            actual.onError(e);
        } else {
            actual.onComplete();
        }
    }

    private void failNow(Throwable f) {
        terminated = true;
        upstream.cancel();
        Operators.onDiscardQueueWithClear(inbound, actual.currentContext(), null);
        results.clear();
        closeProducer(Duration.ZERO);
        worker.dispose();
        actual.onError(f);
    }

    private void cancelNow() {
        terminated = true;
        Operators.onDiscardQueueWithClear(inbound, actual.currentContext(), null);
        Operators.onDiscardQueueWithClear(results, actual.currentContext(), null);
        closeProducer(settings.closeTimeout());
        worker.dispose();
    }

    private void closeProducer(Duration timeout) {
        if (producer != null) {
            try {
                producer.close(timeout);
            } catch (RuntimeException e) {
                LOG.warn("closing the Kafka producer of KafkaSender failed: {}", e.toString());
            }
            producer = null;
        }
    }
}
