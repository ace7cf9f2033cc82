package io.streamflow.reactive.http;

import java.util.Objects;

/**
 * One event of a {@link ResultLog} as a client receives it: an optional id, a type and a JSON text.
 * <p>
 * The JSON of every type is documented on {@link Type}. An event with an id is part of the
 * numbered log (ids are assigned by the log, start at 1 and grow by 1 per logged event, never
 * timestamps); a client that stores the id of the last event it received resumes exactly after
 * it. Events without an id (reset, snapshot entries, heartbeats) are not in the log.
 * <p>
 * {@link #toSseFrame()} renders the server-sent-events frame. For Spring WebFlux map each event
 * in one line, with no Spring type in this library:
 * {@code ServerSentEvent.builder(e.data()).id(e.idText()).event(e.eventName()).comment(e.comment()).build()}
 * (every accessor used there returns {@code null} where the frame has no such field).
 *
 * @param id   the event id in the log, or {@code null} for events that carry none
 * @param type what the event means
 * @param data the JSON text of the event (one line), or {@code null} for a heartbeat
 */
public record ResultEvent(Long id, Type type, String data) {

    /** The heartbeat: no id, no data; rendered as the SSE comment line {@code : keep-alive}. */
    public static final ResultEvent HEARTBEAT = new ResultEvent(null, Type.HEARTBEAT, null);

    /**
     * Validates the components.
     *
     * @param id   the event id, {@code >= 0}, or {@code null}
     * @param type what the event means
     * @param data the JSON text; {@code null} only for a heartbeat
     * @throws NullPointerException     if {@code type} is {@code null}, or {@code data} is
     *                                  {@code null} for a type other than {@link Type#HEARTBEAT}
     * @throws IllegalArgumentException if {@code id} is negative, or {@code data} holds a line break
     */
    public ResultEvent {
        Objects.requireNonNull(type, "type");
        if (type != Type.HEARTBEAT) {
            Objects.requireNonNull(data, "data");
        }
        if (id != null && id < 0) {
            throw new IllegalArgumentException("event id must be >= 0, was " + id);
        }
        if (data != null && (data.indexOf('\n') >= 0 || data.indexOf('\r') >= 0)) {
            throw new IllegalArgumentException("event data must be one line of JSON, was: " + data);
        }
    }

    /** What an event means; the JSON of its {@link #data()} is given for each. */
    public enum Type {
        /**
         * A window result, with an id: {@code {"id":17,"key":"k","window":{"start":0,"end":60000},
         * "value":...,"pane":{"timing":"EARLY|ON_TIME|LATE","index":0,"final":false}}}; {@code id}
         * repeats the event id, {@code key} and {@code value} are written by Jackson (the value after
         * the log's value writer). A client puts it under ({@code key}, {@code window}). A
         * window-less value ({@code ResultLog.appendValue}, e.g. a running aggregate) has no
         * {@code window} and no {@code pane}: {@code {"id":17,"key":"k","value":...}}; a client puts
         * it under the key alone.
         */
        RESULT("result"),
        /**
         * An earlier result no longer holds, with an id of its own (it is in the log, a resume
         * replays it): {@code {"id":18,"retracts":17,"key":"k","window":{"start":0,"end":60000},
         * "reason":"superseded"}}, where {@code retracts} is the id of the earlier result and
         * {@code window} its window. A client removes ({@code key}, {@code window}). The reason is
         * {@code superseded} just before the result that replaces it (a later pane of the same window,
         * or a merged session), or {@code expired} when the result leaves the live view: older than
         * the retention age, or the oldest of more live windows than the retain count. The
         * retraction of a window-less value has no {@code window}; it is superseded by the key's next
         * value.
         */
        RETRACT("retract"),
        /**
         * Without id: the client must drop every result it holds, because the id it resumed from is
         * no longer retained, unknown to this log (another run, larger than the head), or absent with
         * a snapshot requested: {@code {"reason":"...","lastEventId":5,"head":9000}} ({@code lastEventId}
         * is {@code null} when the client sent none). Snapshot events and a snapshot end follow.
         */
        RESET("reset"),
        /**
         * Without id: the current result of one live window, same JSON as its {@link #RESULT} event
         * ({@code id} is the id of that result, so a later retraction can name it).
         */
        SNAPSHOT("snapshot"),
        /**
         * The snapshot is complete, with the id of the log head it reflects as event id and as
         * {@code {"head":9000}}; live events after that id follow. Only this event of a snapshot has
         * an id, so a client cut off in the middle of a snapshot still holds its old id and is reset
         * again.
         */
        SNAPSHOT_END("snapshot-end"),
        /** Keeps an idle connection open through proxies; no id, no data, rendered as {@code : keep-alive}. */
        HEARTBEAT("heartbeat");

        private final String eventName;

        Type(String eventName) {
            this.eventName = eventName;
        }

        /** @return the SSE event name: {@code result}, {@code retract}, {@code reset}, {@code snapshot}, {@code snapshot-end} or {@code heartbeat} */
        public String eventName() {
            return eventName;
        }
    }

    /** @return the id as decimal text, or {@code null} when the event carries none */
    public String idText() {
        return id == null ? null : Long.toString(id);
    }

    /** @return the SSE event name ({@link Type#eventName()}), or {@code null} for a heartbeat, which is a comment */
    public String eventName() {
        return type == Type.HEARTBEAT ? null : type.eventName();
    }

    /** @return {@code "keep-alive"} for a heartbeat, {@code null} for every other event */
    public String comment() {
        return type == Type.HEARTBEAT ? "keep-alive" : null;
    }

    /**
     * @return the server-sent-events frame: {@code id: N\nevent: TYPE\ndata: JSON\n\n} (without the
     * {@code id:} line when the event has no id), or {@code : keep-alive\n\n} for a heartbeat
     */
    public String toSseFrame() {
        if (type == Type.HEARTBEAT) {
            return ": keep-alive\n\n";
        }
        StringBuilder sb = new StringBuilder(data.length() + 40);
        if (id != null) {
            sb.append("id: ").append(id).append('\n');
        }
        return sb.append("event: ").append(type.eventName()).append('\n')
                .append("data: ").append(data).append("\n\n").toString();
    }
}
