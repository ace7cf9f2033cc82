package io.streamflow.reactive.http.internal.sink;

import io.streamflow.reactive.Origin;
import io.streamflow.reactive.StreamRecord;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Idempotency keys: deterministic across replays, so a receiver that keeps the keys it has seen can
 * drop a result sent again after a crash.
 * <ul>
 *   <li>a checkpoint's output: {@code <sink>:cp:<checkpoint id>:<index in the checkpoint's output>:<hash>};</li>
 *   <li>a plain pipeline's record: {@code <sink>:<source>:<partition>:<position or ->:<hash>}, with
 *       {@code :<n>} added for the n-th ({@code n >= 1}) of consecutive records with the same key;</li>
 *   <li>a request: {@code <sink>:batch:<hash of its results' keys>}.</li>
 * </ul>
 * The hash (16 hex digits of SHA-256) covers the result's JSON (and for a plain record its key and
 * timestamp), so a key never stands for two different results, even when checkpoint ids are reused
 * after a fallback to an older checkpoint or a record has no position.
 */
public final class Keys {

    private Keys() {
    }

    /**
     * @param sink         the sink's name
     * @param checkpointId the checkpoint whose output holds the result
     * @param index        the result's index in that output
     * @param json         the result's JSON text
     * @return the result's key
     */
    public static String ofCheckpoint(String sink, long checkpointId, int index, String json) {
        return sink + ":cp:" + checkpointId + ":" + index + ":" + hash(json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @param sink the sink's name
     * @param r    the record
     * @param json the record's formatted JSON
     * @return the key of the record before any occurrence suffix
     */
    public static String ofRecord(String sink, StreamRecord<?, ?> r, byte[] json) {
        Origin o = r.origin();
        MessageDigest md = sha256();
        md.update(String.valueOf(r.key()).getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(Long.toString(r.timestamp()).getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(json);
        return sink + ":" + o.source() + ":" + o.partition() + ":" + (o.position() >= 0 ? Long.toString(o.position())
                : "-") + ":" + hex(md.digest());
    }

    /**
     * @param sink      the sink's name
     * @param itemKeys  the keys of the request's results, in order
     * @return the request's key; ASCII, fit for a header
     */
    public static String ofBatch(String sink, List<String> itemKeys) {
        MessageDigest md = sha256();
        for (String k : itemKeys) {
            md.update(k.getBytes(StandardCharsets.UTF_8));
            md.update((byte) '\n');
        }
        return asciiName(sink) + ":batch:" + hex(md.digest());
    }

    static String hash(byte[] bytes) {
        return hex(sha256().digest(bytes));
    }

    private static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest, 0, 8);
    }

    /** The sink's name with characters a header cannot hold percent-encoded. */
    private static String asciiName(String name) {
        StringBuilder sb = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c > 0x20 && c < 0x7f && c != '%') {
                sb.append((char) c);
            } else {
                sb.append('%').append(HexFormat.of().withUpperCase().toHexDigits((byte) c));
            }
        }
        return sb.toString();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
