package io.streamflow.benchmarks.nexmark;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Nexmark events held in memory, in event-number order, so that building them is not part of a
 * measured run. Event time never decreases along the sequence (both the generator and
 * {@link #of(List)} guarantee it), so a watermark with no out-of-orderness bound never finds a
 * late event.
 */
public final class NexmarkEvents {

    private final NexmarkGenerator.Config config;
    private final NexmarkEvent[] events;
    private final int persons;
    private final int auctions;
    private final int bids;

    private NexmarkEvents(NexmarkGenerator.Config config, NexmarkEvent[] events) {
        this.config = config;
        this.events = events;
        int p = 0;
        int a = 0;
        int b = 0;
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < events.length; i++) {
            NexmarkEvent e = Objects.requireNonNull(events[i], "event");
            if (e.dateTime() < previous) {
                throw new IllegalArgumentException("event " + i + " is earlier than event " + (i - 1)
                        + ": events must be in event-time order");
            }
            previous = e.dateTime();
            if (e instanceof Person) {
                p++;
            } else if (e instanceof Auction) {
                a++;
            } else {
                b++;
            }
        }
        this.persons = p;
        this.auctions = a;
        this.bids = b;
    }

    static NexmarkEvents generated(NexmarkGenerator.Config config, NexmarkEvent[] events) {
        return new NexmarkEvents(config, events);
    }

    /** Hand-made events (tests, examples), which must be in event-time order. */
    public static NexmarkEvents of(List<? extends NexmarkEvent> events) {
        return new NexmarkEvents(null, events.toArray(new NexmarkEvent[0]));
    }

    /** @return the generator configuration, empty for hand-made events */
    public Optional<NexmarkGenerator.Config> config() {
        return Optional.ofNullable(config);
    }

    public int size() {
        return events.length;
    }

    /** @return event number {@code i} */
    public NexmarkEvent get(int i) {
        return events[i];
    }

    /** @return a read-only view of the events in order */
    public List<NexmarkEvent> asList() {
        return new AbstractList<>() {
            @Override
            public NexmarkEvent get(int index) {
                return events[index];
            }

            @Override
            public int size() {
                return events.length;
            }
        };
    }

    public int persons() {
        return persons;
    }

    public int auctions() {
        return auctions;
    }

    public int bids() {
        return bids;
    }

    @Override
    public String toString() {
        return (config == null ? events.length + " hand-made Nexmark events" : config.toString()) + " (" + persons
                + " people, " + auctions + " auctions, " + bids + " bids)";
    }
}
