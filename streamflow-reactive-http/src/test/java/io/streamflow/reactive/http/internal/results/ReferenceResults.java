package io.streamflow.reactive.http.internal.results;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The reference model of a result log, written for the tests as plainly as possible: every event
 * in a list, the live results in a list scanned from the start, and a client's view computed by
 * replaying the whole list.
 */
final class ReferenceResults {

    /** One event; for a retraction {@code retracts} is the retracted result's id and the window is its. */
    record Ev(long id, boolean retract, long retracts, String key, long start, long end, long value, String timing,
              long index, boolean isFinal) {
    }

    private final boolean sessions;
    final List<Ev> events = new ArrayList<>();
    private final List<Ev> live = new ArrayList<>();

    ReferenceResults(boolean sessions) {
        this.sessions = sessions;
    }

    void add(String key, long start, long end, long value, String timing, long index, boolean isFinal) {
        Iterator<Ev> it = live.iterator();
        List<Ev> gone = new ArrayList<>();
        while (it.hasNext()) {
            Ev l = it.next();
            boolean supersedes = l.key.equals(key) && (sessions ? l.start < end && start < l.end
                    : l.start == start && l.end == end);
            if (supersedes) {
                gone.add(l);
                it.remove();
            }
        }
        for (Ev g : gone) {
            events.add(new Ev(events.size() + 1, true, g.id, key, g.start, g.end, 0, null, 0, false));
        }
        Ev r = new Ev(events.size() + 1, false, 0, key, start, end, value, timing, index, isFinal);
        events.add(r);
        live.add(r);
    }

    Ev event(long id) {
        return events.get((int) id - 1);
    }

    static String slot(String key, long start, long end) {
        return key + "|" + start + "|" + end;
    }

    /** @return the view of a client after all events: slot to result id */
    Map<String, Long> view() {
        Map<String, Long> view = new HashMap<>();
        for (Ev e : events) {
            apply(view, e);
        }
        return view;
    }

    private static void apply(Map<String, Long> view, Ev e) {
        if (e.retract) {
            view.remove(slot(e.key, e.start, e.end));
        } else {
            view.put(slot(e.key, e.start, e.end), e.id);
        }
    }
}
