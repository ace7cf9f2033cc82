package io.streamflow.benchmarks;

import reactor.core.publisher.Flux;
import reactor.core.publisher.GroupedFlux;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The "naive Reactor" system of the harness: the keyed windowed count + sum a Reactor user writes
 * today with plain reactor-core operators and no StreamFlow class. Records are objects; the stream
 * is split with {@code groupBy} (see <em>Grouping</em>), each key's records are cut into windows with
 * {@code windowUntilChanged} (in arrival order, which for in-order input is event-time order) and
 * each window is folded with {@code reduceWith}. Everything runs synchronously on the calling
 * thread; the measured time is {@link System#nanoTime()} around the blocking subscription, so it
 * includes building the record objects but not generating the event columns.
 *
 * <h2>Per workload</h2>
 * <ul>
 *   <li><b>Tumbling</b>: per key, a new window starts when the record's window start changes; the
 *       window's result is {@code (key, start, start + size, count, sum)}.</li>
 *   <li><b>Sliding</b> ({@code size} a multiple of {@code slide}): per key, {@code slide}-sized panes
 *       are reduced the same way; a sliding buffer over the key's panes (each pane with the pane
 *       before it and the {@code size / slide - 1} panes after it) then emits, for every window whose
 *       first non-empty pane is that pane, the sum of the panes the window covers. Windows without
 *       events give no result, exactly as in the loop.</li>
 *   <li><b>Session</b>: per key, a new session starts when the record is more than {@code gap} after
 *       the key's previous record, <em>or</em> when the session was already closed by the watermark.
 *       The loop (and Flink) close a session {@code [start, last + gap)} once the watermark
 *       {@code maxTs - B - 1}, taken over all keys, reaches {@code last + gap - 1}; a record that
 *       merely touches a closed session then starts a new one. That depends on records of other
 *       keys, which a per-key group never sees, so before grouping the pipeline stamps each record
 *       with the watermark in force when it arrives (a {@code scan} over the ordered input); the
 *       per-key cut ({@code windowUntilChanged} with a comparator of consecutive records) reads that
 *       stamp. With that stamp the results equal the loop's for in-order input.</li>
 * </ul>
 *
 * <h2>Grouping</h2>
 * {@code groupBy} groups never complete before the source does, so every key seen stays an open
 * group until the end, and two {@code groupBy}/{@code flatMap} pitfalls apply with many keys:
 * <ul>
 *   <li><b>The hang</b>: {@code flatMap} only requests as many groups as its concurrency; once more
 *       keys than that are open, {@code groupBy} cannot hand out a new group, that group's records
 *       fill its buffer and the whole pipeline stops requesting. Every {@code flatMap} over groups
 *       here has unbounded concurrency ({@link #GROUP_CONCURRENCY}), which is above any number of
 *       open groups. {@code groupBy}'s prefetch ({@link #GROUP_PREFETCH}) sizes both its request
 *       batches and every group's queue, allocated when the group opens; it is kept small because
 *       every key holds a group until the end.</li>
 *   <li><b>Quadratic completion</b>: when the source completes, every group completes, and
 *       {@code flatMap} handles each inner completion with a drain pass over all its inner
 *       subscribers; with {@code K} groups under one {@code flatMap} that is {@code O(K^2)} work at the
 *       end of the stream: negligible at ten thousand keys, minutes at a hundred thousand, hours at
 *       a million. The textbook pipeline, a single {@code groupBy(key).flatMap(...)}, is
 *       {@link #run(BenchEvents, WindowWorkload, int) run(ev, w, 1)}. The default
 *       {@link #run(BenchEvents, WindowWorkload)} groups in two levels, {@code groupBy(shard of key)}
 *       and then {@code groupBy(key)} inside each shard ({@link #SHARDS} shards), so for a million
 *       keys no {@code flatMap} tracks more than about a thousand groups; it costs a second group
 *       hand-off per record.</li>
 * </ul>
 *
 * <h2>Limits</h2>
 * <ul>
 *   <li>In-order input only: the windows are cut in processing order, so a record that arrives
 *       after a later one of its key would open a second window or session for an interval already
 *       reduced. {@link #run} rejects input whose spec allows disorder instead of computing
 *       something else; there is no watermark, no allowed lateness and no late-record handling.</li>
 *   <li>Results are emitted when a key's next window starts or when the input completes, not when
 *       event time passes the window's end: a key that goes quiet keeps its last window open until
 *       the end of the input. The checksum (the set of results) is the loop's; the emission time is
 *       not, so this system says nothing about result latency.</li>
 *   <li>State grows with the number of keys ever seen (each holds its group, its queue, its window
 *       operator and its current window until the end), not with the number of open windows.</li>
 * </ul>
 */
public final class NaiveReactorWindows {

    /**
     * Concurrency of the {@code flatMap} over the groups: unbounded (it requests every group), so it
     * exceeds any number of open groups and {@code groupBy} never stalls.
     */
    static final int GROUP_CONCURRENCY = Integer.MAX_VALUE;

    /** {@code groupBy} prefetch: its request batch from the source and each group's queue link size. */
    static final int GROUP_PREFETCH = 32;

    /**
     * Shards of the two-level grouping {@link #run(BenchEvents, WindowWorkload)} uses: about the square
     * root of a million keys, so neither level's {@code flatMap} tracks more than about a thousand
     * groups when the groups complete.
     */
    public static final int SHARDS = 1024;

    private NaiveReactorWindows() {
    }

    /** One input record; {@code watermark} is the watermark in force on its arrival (sessions only). */
    record Event(long key, long ts, long value, long watermark) {
    }

    /** One result of a window: key, bounds {@code [start, end)}, count and sum. */
    record Result(long key, long start, long end, long count, long sum) {
    }

    /** A reduced pane (sliding windows): key, pane start, count and sum. */
    record Pane(long key, long start, long count, long sum) {
    }

    /** The mutable accumulator of one window's {@code reduceWith}. */
    static final class Acc {
        long key;
        long first;
        long last;
        long count;
        long sum;

        Acc add(Event e) {
            if (count == 0) {
                key = e.key();
                first = e.ts();
            }
            last = e.ts();
            count++;
            sum += e.value();
            return this;
        }
    }

    /**
     * Runs the workload on the events, grouped in two levels ({@link #SHARDS} shards, then keys), and
     * returns the checksum of its results and the time the subscription took.
     *
     * @throws IllegalArgumentException if the events may be out of order ({@code disorderMillis > 0})
     */
    public static Measured run(BenchEvents ev, WindowWorkload w) {
        return run(ev, w, SHARDS);
    }

    /**
     * Runs the workload with the records first grouped into {@code shards} shards by key, then by key
     * within each shard; {@code shards == 1} is the single {@code groupBy(key)} of the textbook
     * pipeline, whose completion takes time quadratic in the number of keys (see the class comment).
     *
     * @throws IllegalArgumentException if the events may be out of order ({@code disorderMillis > 0})
     *                                  or {@code shards < 1}
     */
    public static Measured run(BenchEvents ev, WindowWorkload w, int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, got " + shards);
        }
        if (ev.spec.disorderMillis() > 0) {
            throw new IllegalArgumentException("naive Reactor needs in-order input, got " + ev.spec
                    + ": a processing-order groupBy/window pipeline cannot give event-time results for"
                    + " out-of-order input");
        }
        Checksum checksum = new Checksum();
        Flux<Result> results = pipeline(ev, w, shards);
        long t0 = System.nanoTime();
        results.doOnNext(r -> checksum.add(r.key(), r.start(), r.end(), r.count(), r.sum()))
                .then()
                .block();
        return new Measured(checksum, System.nanoTime() - t0);
    }

    /** The (cold) pipeline from the event columns to the window results. */
    static Flux<Result> pipeline(BenchEvents ev, WindowWorkload w, int shards) {
        return switch (w) {
            case TUMBLING -> perKey(records(ev), shards, g -> tumbling(g, w.size));
            case SLIDING -> perKey(records(ev), shards, g -> sliding(g, w.size, w.slide));
            case SESSION -> perKey(stampedRecords(ev, ev.spec.disorderMillis()), shards, g -> sessions(g, w.gap));
        };
    }

    /** The records of the event columns. */
    static Flux<Event> records(BenchEvents ev) {
        long[] keys = ev.keys;
        long[] ts = ev.timestamps;
        long[] values = ev.values;
        return Flux.range(0, ev.size()).map(i -> new Event(keys[i], ts[i], values[i], Long.MIN_VALUE));
    }

    /**
     * The records stamped with the watermark in force when each arrives: the largest earlier
     * timestamp minus {@code bound} minus 1 ({@code Long.MIN_VALUE} before the first record).
     */
    static Flux<Event> stampedRecords(BenchEvents ev, long bound) {
        long[] keys = ev.keys;
        long[] ts = ev.timestamps;
        long[] values = ev.values;
        // the seed carries "no record yet"; each step reads the previous record's stamp and timestamp
        Event seed = new Event(0, Long.MIN_VALUE, 0, Long.MIN_VALUE);
        return Flux.range(0, ev.size())
                .scan(seed, (prev, i) -> new Event(keys[i], ts[i], values[i],
                        prev.ts() == Long.MIN_VALUE ? Long.MIN_VALUE
                                : Math.max(prev.watermark(), prev.ts() - bound - 1)))
                .skip(1);
    }

    /** Applies {@code perGroup} to each key's records: {@code groupBy(key)}, inside shards if {@code shards > 1}. */
    private static Flux<Result> perKey(Flux<Event> records, int shards,
                                       Function<GroupedFlux<Long, Event>, Flux<Result>> perGroup) {
        if (shards == 1) {
            return byKey(records, perGroup);
        }
        return records.groupBy(e -> Math.floorMod(e.key(), shards), GROUP_PREFETCH)
                .flatMap(shard -> byKey(shard, perGroup), GROUP_CONCURRENCY);
    }

    private static Flux<Result> byKey(Flux<Event> records, Function<GroupedFlux<Long, Event>, Flux<Result>> perGroup) {
        return records.groupBy(Event::key, GROUP_PREFETCH).flatMap(perGroup, GROUP_CONCURRENCY);
    }

    private static long floorTo(long t, long unit) {
        return t - Math.floorMod(t, unit);
    }

    private static Flux<Result> tumbling(Flux<Event> group, long size) {
        return group.windowUntilChanged(e -> floorTo(e.ts(), size))
                .concatMap(window -> window.reduceWith(Acc::new, Acc::add))
                .map(a -> {
                    long start = floorTo(a.first, size);
                    return new Result(a.key, start, start + size, a.count, a.sum);
                });
    }

    private static Flux<Result> sliding(Flux<Event> group, long size, long slide) {
        if (size % slide != 0) {
            throw new IllegalArgumentException("size " + size + " is not a multiple of slide " + slide);
        }
        int panesPerWindow = (int) (size / slide);
        Pane none = new Pane(0, Long.MIN_VALUE, 0, 0);
        return group.windowUntilChanged(e -> floorTo(e.ts(), slide))
                .concatMap(window -> window.reduceWith(Acc::new, Acc::add))
                .map(a -> new Pane(a.key, floorTo(a.first, slide), a.count, a.sum))
                // each pane with the pane before it and the panes after it a window can still cover
                .startWith(none)
                .buffer(panesPerWindow + 1, 1)
                .concatMapIterable(b -> windowsFirstCovering(b, size, slide));
    }

    /**
     * The windows whose first non-empty pane is {@code b.get(1)}: those starting after the previous
     * pane {@code b.get(0)} and at most {@code size - slide} before it; each sums the panes of
     * {@code b} (from index 1) that it covers.
     */
    private static List<Result> windowsFirstCovering(List<Pane> b, long size, long slide) {
        if (b.size() < 2) {
            return List.of(); // the last pane alone: it was the first pane of the buffer before
        }
        Pane prev = b.get(0);
        Pane first = b.get(1);
        long from = first.start() - size + slide;
        if (prev.start() != Long.MIN_VALUE) {
            from = Math.max(from, prev.start() + slide);
        }
        List<Result> out = new ArrayList<>((int) ((first.start() - from) / slide) + 1);
        for (long start = from; start <= first.start(); start += slide) {
            long end = start + size;
            long count = 0;
            long sum = 0;
            for (int i = 1; i < b.size() && b.get(i).start() < end; i++) {
                count += b.get(i).count();
                sum += b.get(i).sum();
            }
            out.add(new Result(first.key(), start, end, count, sum));
        }
        return out;
    }

    private static Flux<Result> sessions(Flux<Event> group, long gap) {
        // consecutive records of a key share a session when the later one touches the earlier one's
        // session [.., prev + gap) and the watermark had not yet closed it (reached prev + gap - 1)
        return group.windowUntilChanged(e -> e,
                        (prev, cur) -> cur.ts() <= prev.ts() + gap && cur.watermark() < prev.ts() + gap - 1)
                .concatMap(window -> window.reduceWith(Acc::new, Acc::add))
                .map(a -> new Result(a.key, a.first, a.last + gap, a.count, a.sum));
    }
}
