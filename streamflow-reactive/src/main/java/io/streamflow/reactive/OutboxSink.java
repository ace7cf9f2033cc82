package io.streamflow.reactive;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A sink that receives its output one checkpoint at a time, only once that checkpoint is durable
 * (see {@link Checkpointing#sink(OutboxSink, java.util.function.Function)}). Until then the output
 * waits in the checkpoint's outbox, inside the same commit as the state and source positions that
 * produced it.
 * <p>
 * After a crash, the output of a committed checkpoint whose delivery may not have finished is
 * delivered again, with the same id and the same records. A sink is exactly-once when
 * {@link #deliver} is idempotent per checkpoint id: the file sink writes a part file named after
 * the id through a temporary file and an atomic rename; a transactional sink tags its
 * transaction with the id.
 * <p>
 * <b>Fallbacks.</b> When the latest checkpoints are lost (a damaged or deleted state file, a
 * deleted checkpoint directory), the pipeline restores an older checkpoint, or none, and replays
 * its input from there; the output of the lost checkpoints may already be delivered. A sink that
 * keeps a {@link Delivery} record with each delivery, atomically with the records, and lists them
 * in {@link #deliveries()} lets the pipeline go on exactly-once: it replays the input up to the
 * positions of the last delivery without delivering, checks that the replay produced exactly what
 * the sink holds (same number of records, same fingerprint), and only then goes on delivering
 * under new checkpoint ids. {@link StreamSinks#exactlyOnceFiles} keeps them. A sink that does not
 * keep them makes a pipeline whose store fell back refuse to start, since it could deliver results
 * twice (see {@link Checkpointing.Builder#acceptRedeliveryAfterFallback()}).
 * <p>
 * Calls are made one at a time, in increasing id order, on a thread that may block.
 *
 * @param <T> the record type kept in the outbox; it must be serialisable by the state store
 *            (boxed primitives, strings, records, enums, collections of those, or a type with a
 *            registered {@link io.streamflow.reactive.state.StateCodec})
 */
@FunctionalInterface
public interface OutboxSink<T> {

    /**
     * Delivers the output of checkpoint {@code checkpointId} (possibly empty). Throwing fails the
     * pipeline; the records stay in the outbox and are delivered again after a restart.
     *
     * @param checkpointId id of the committed checkpoint; a sink that is called again with an id it
     *                     already holds must not write its records twice
     * @param records      the checkpoint's output, in the order it reached the sink
     * @throws IOException when the output cannot be written; the pipeline fails and a restart
     *                     delivers the same checkpoint again
     */
    void deliver(long checkpointId, List<T> records) throws IOException;

    /**
     * Delivers the output of one checkpoint together with its {@link Delivery} record. This is
     * what the pipeline calls. A sink that keeps deliveries stores {@code delivery} atomically
     * with the records, so that {@link #deliveries()} lists it exactly when the records are there;
     * by default the record is not kept and {@link #deliver(long, List)} is called.
     *
     * @param delivery what the checkpoint stands for: its id, source positions, record count and
     *                 fingerprint
     * @param records  the checkpoint's output, in the order it reached the sink
     * @throws IOException when the output cannot be written; the pipeline fails and a restart
     *                     delivers the same checkpoint again
     */
    default void deliver(Delivery delivery, List<T> records) throws IOException {
        deliver(delivery.checkpointId(), records);
    }

    /**
     * The {@link Delivery} records of the output this sink holds, in any order; empty when the sink
     * does not keep them (the default). Called once when a pipeline starts, on a thread that may
     * block.
     *
     * @return the delivery records of the output the sink holds, or empty when it keeps none
     * @throws IOException when the sink's records cannot be read; the pipeline does not start
     */
    default Optional<List<Delivery>> deliveries() throws IOException {
        return Optional.empty();
    }

    /**
     * What one delivered checkpoint stood for, kept by a sink with its output.
     *
     * @param checkpointId the checkpoint's id
     * @param positions    source name → partition → position of the last input record whose
     *                     output is in this delivery or an earlier one
     * @param records      number of records delivered
     * @param fingerprint  order-independent fingerprint of the records (a sum of 64-bit hashes of
     *                     their encoded form), so that a replay can be checked against them
     * @param endOfInput   whether this was the last checkpoint of a finished input, taken after the
     *                     end-of-input watermark fired every window
     */
    record Delivery(long checkpointId, Map<String, Map<Integer, Long>> positions, long records, long fingerprint,
                    boolean endOfInput) {

        /**
         * Validates the components and keeps an unmodifiable, sorted copy of the positions.
         *
         * @param checkpointId the checkpoint's id, {@code >= 0}
         * @param positions    source name → partition → position of the last input record whose
         *                     output is in this delivery or an earlier one
         * @param records      number of records delivered, {@code >= 0}
         * @param fingerprint  order-independent fingerprint of the records
         * @param endOfInput   whether this was the last checkpoint of a finished input
         * @throws IllegalArgumentException if {@code checkpointId} or {@code records} is negative
         * @throws NullPointerException     if {@code positions}, or a source name, partition map,
         *                                  partition or position in it, is {@code null}
         */
        public Delivery {
            if (checkpointId < 0) {
                throw new IllegalArgumentException("checkpoint id must be >= 0, was " + checkpointId);
            }
            if (records < 0) {
                throw new IllegalArgumentException("records must be >= 0, was " + records);
            }
            Objects.requireNonNull(positions, "positions");
            java.util.TreeMap<String, Map<Integer, Long>> copy = new java.util.TreeMap<>();
            positions.forEach((source, p) -> copy.put(source, Map.copyOf(new java.util.TreeMap<>(p))));
            positions = java.util.Collections.unmodifiableMap(copy);
        }

        private static final String FORMAT = "streamflow-delivery 1";

        /**
         * @return this delivery as a few lines of text, for a sink to store beside or with its
         * output; {@link #parse(String)} reads it back
         */
        public String toText() {
            StringBuilder sb = new StringBuilder(FORMAT).append('\n');
            sb.append("checkpoint ").append(checkpointId).append('\n');
            sb.append("records ").append(records).append('\n');
            sb.append("fingerprint ").append(Long.toHexString(fingerprint)).append('\n');
            sb.append("endOfInput ").append(endOfInput).append('\n');
            for (Map.Entry<String, Map<Integer, Long>> s : positions.entrySet()) {
                for (Map.Entry<Integer, Long> p : new java.util.TreeMap<>(s.getValue()).entrySet()) {
                    sb.append("position ").append(p.getKey()).append(' ').append(p.getValue()).append(' ')
                            .append(java.net.URLEncoder.encode(s.getKey(), java.nio.charset.StandardCharsets.UTF_8))
                            .append('\n');
                }
            }
            sb.append("end");
            return sb.toString();
        }

        /**
         * Reads a delivery written by {@link #toText()}.
         *
         * @param text the text
         * @return the delivery
         * @throws IllegalArgumentException when {@code text} is not a complete delivery record
         */
        public static Delivery parse(String text) {
            String[] lines = text.split("\n");
            if (lines.length < 6 || !lines[0].equals(FORMAT) || !lines[lines.length - 1].equals("end")) {
                throw new IllegalArgumentException("not a complete delivery record");
            }
            long id = Long.parseLong(field(lines[1], "checkpoint"));
            long records = Long.parseLong(field(lines[2], "records"));
            long fingerprint = Long.parseUnsignedLong(field(lines[3], "fingerprint"), 16);
            String end = field(lines[4], "endOfInput");
            if (!end.equals("true") && !end.equals("false")) {
                throw new IllegalArgumentException("endOfInput is " + end);
            }
            Map<String, Map<Integer, Long>> positions = new java.util.TreeMap<>();
            for (int i = 5; i < lines.length - 1; i++) {
                String[] f = field(lines[i], "position").split(" ");
                if (f.length != 3) {
                    throw new IllegalArgumentException("bad position line: " + lines[i]);
                }
                positions.computeIfAbsent(java.net.URLDecoder.decode(f[2], java.nio.charset.StandardCharsets.UTF_8),
                        k -> new java.util.TreeMap<>()).put(Integer.parseInt(f[0]), Long.parseLong(f[1]));
            }
            return new Delivery(id, positions, records, fingerprint, Boolean.parseBoolean(end));
        }

        private static String field(String line, String name) {
            if (!line.startsWith(name + " ")) {
                throw new IllegalArgumentException("expected '" + name + "', found: " + line);
            }
            return line.substring(name.length() + 1);
        }
    }
}
