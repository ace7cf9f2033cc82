package io.streamflow.reactive.http.internal.results;

import io.streamflow.reactive.http.ResultEvent;

/**
 * One event of the retained log: a result or a retraction, with what the live view and the
 * filters need (key text, window) and the event as sent.
 */
public final class LogEntry {

    final long id;
    final boolean retraction;
    /** id of the retracted result, for a retraction; 0 for a result */
    final long retracts;
    final String keyText;
    final String keyJson;
    final long start;
    final long end;
    /** clock time (ms) of the append, for age retention */
    final long appendedAt;
    final ResultEvent event;

    LogEntry(long id, boolean retraction, long retracts, String keyText, String keyJson, long start, long end,
             long appendedAt, ResultEvent event) {
        this.id = id;
        this.retraction = retraction;
        this.retracts = retracts;
        this.keyText = keyText;
        this.keyJson = keyJson;
        this.start = start;
        this.end = end;
        this.appendedAt = appendedAt;
        this.event = event;
    }

    /** @return whether this is a window-less value (see {@link RetainedLog#NO_WINDOW_START}) */
    boolean windowless() {
        return start == RetainedLog.NO_WINDOW_START && end == RetainedLog.NO_WINDOW_END;
    }

    /** @return the event as a snapshot entry: no id, same JSON (which names the result's id) */
    ResultEvent asSnapshot() {
        return new ResultEvent(null, ResultEvent.Type.SNAPSHOT, event.data());
    }

    WindowKey window() {
        return new WindowKey(start, end);
    }

    boolean overlaps(long otherStart, long otherEnd) {
        return start < otherEnd && otherStart < end;
    }

    @Override
    public String toString() {
        return (retraction ? "retract#" + id + "(" + retracts + ")" : "result#" + id) + " " + keyText + " [" + start
                + ", " + end + ")";
    }

    /** A window as a map key. */
    record WindowKey(long start, long end) implements Comparable<WindowKey> {
        @Override
        public int compareTo(WindowKey o) {
            int c = Long.compare(start, o.start);
            return c != 0 ? c : Long.compare(end, o.end);
        }
    }
}
