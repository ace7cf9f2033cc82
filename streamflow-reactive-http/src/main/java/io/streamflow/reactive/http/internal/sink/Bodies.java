package io.streamflow.reactive.http.internal.sink;

import io.streamflow.reactive.http.HttpSink;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * Request bodies: each result is sent as {@code {"idempotencyKey":"...","result":<its JSON>}}, in a
 * JSON array ({@code application/json}) or one per line ({@code application/x-ndjson}).
 */
public final class Bodies {

    /** The mapper of result JSON. */
    public static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private Bodies() {
    }

    /**
     * @param format the body format
     * @return its {@code Content-Type}
     */
    public static String contentType(HttpSink.BodyFormat format) {
        return format == HttpSink.BodyFormat.JSON_LINES ? "application/x-ndjson" : "application/json";
    }

    /**
     * @param format the body format
     * @param items  the request's results
     * @return the body
     */
    public static byte[] encode(HttpSink.BodyFormat format, List<Item> items) {
        if (format == HttpSink.BodyFormat.JSON_LINES) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Item i : items) {
                out.writeBytes(MAPPER.writeValueAsBytes(envelope(i)));
                out.write('\n');
            }
            return out.toByteArray();
        }
        ArrayNode array = MAPPER.createArrayNode();
        for (Item i : items) {
            array.add(envelope(i));
        }
        return MAPPER.writeValueAsBytes(array);
    }

    private static ObjectNode envelope(Item i) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("idempotencyKey", i.key());
        n.set("result", i.result());
        return n;
    }
}
