package io.streamflow.reactive.internal;

import io.streamflow.reactive.OutboxSink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The exactly-once file sink: checkpoint {@code id}'s lines go to {@code part-<id>.txt} (id
 * zero-padded to 20 digits), and its {@link OutboxSink.Delivery} record to
 * {@code .part-<id>.delivery} beside it. Each file is written to a temporary file, forced to disk
 * and atomically renamed, the record first, then the part, with the directory forced after each
 * rename. So a part on disk always has its record; a record without its part is a delivery that
 * did not finish (or a part someone removed) and does not count as delivered.
 */
public final class ExactlyOnceFileSink implements OutboxSink<String> {

    private static final String PART = "part-";
    private static final String PART_SUFFIX = ".txt";
    private static final String RECORD_PREFIX = ".part-";
    private static final String RECORD_SUFFIX = ".delivery";

    private final Path directory;

    public ExactlyOnceFileSink(Path directory) {
        this.directory = Objects.requireNonNull(directory, "directory");
    }

    static String partName(long id) {
        return String.format("%s%020d%s", PART, id, PART_SUFFIX);
    }

    static String recordName(long id) {
        return String.format("%s%020d%s", RECORD_PREFIX, id, RECORD_SUFFIX);
    }

    /** Writes the part without a delivery record (for direct use outside a checkpointed pipeline). */
    @Override
    public void deliver(long checkpointId, List<String> lines) throws IOException {
        if (lines.isEmpty()) {
            return;
        }
        Files.createDirectories(directory);
        writeAtomically(partName(checkpointId), lines);
    }

    @Override
    public void deliver(Delivery delivery, List<String> lines) throws IOException {
        if (lines.isEmpty()) {
            return;
        }
        if (delivery.records() != lines.size()) {
            throw new IllegalArgumentException("delivery of checkpoint " + delivery.checkpointId() + " says "
                    + delivery.records() + " records but has " + lines.size());
        }
        Files.createDirectories(directory);
        writeAtomically(recordName(delivery.checkpointId()), List.of(encode(delivery)));
        writeAtomically(partName(delivery.checkpointId()), lines);
    }

    @Override
    public Optional<List<Delivery>> deliveries() throws IOException {
        if (!Files.isDirectory(directory)) {
            return Optional.of(List.of());
        }
        Map<Long, Path> parts = new HashMap<>();
        Map<Long, Path> records = new HashMap<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (n.startsWith(PART) && n.endsWith(PART_SUFFIX)) {
                    Long id = id(n, PART.length(), PART_SUFFIX.length());
                    if (id != null) {
                        parts.put(id, f);
                    }
                } else if (n.startsWith(RECORD_PREFIX) && n.endsWith(RECORD_SUFFIX)) {
                    Long id = id(n, RECORD_PREFIX.length(), RECORD_SUFFIX.length());
                    if (id != null) {
                        records.put(id, f);
                    }
                } else if ((n.startsWith("." + PART) || n.startsWith("." + RECORD_PREFIX)) && n.endsWith(".tmp")) {
                    // a write that a crash interrupted before its rename: never part of the output
                    Files.deleteIfExists(f);
                }
            }
        }
        List<Delivery> out = new ArrayList<>();
        for (Map.Entry<Long, Path> e : new TreeMap<>(parts).entrySet()) {
            Path record = records.get(e.getKey());
            if (record == null) {
                throw new IOException(e.getValue() + " has no delivery record (" + recordName(e.getKey()) + "): it "
                        + "was not written by a checkpointed pipeline's exactlyOnceFiles, so after a checkpoint "
                        + "fallback nobody could tell which input it stands for. Move it out of " + directory);
            }
            Delivery d;
            try {
                d = decode(Files.readString(record, StandardCharsets.UTF_8));
            } catch (NoSuchFileException gone) {
                throw new IOException("the delivery record " + record + " disappeared while it was read", gone);
            } catch (RuntimeException bad) {
                throw new IOException("the delivery record " + record + " cannot be read: " + bad.getMessage(), bad);
            }
            if (d.checkpointId() != e.getKey()) {
                throw new IOException("the delivery record " + record + " is for checkpoint " + d.checkpointId());
            }
            out.add(d);
        }
        return Optional.of(out);
    }

    private static Long id(String name, int prefix, int suffix) {
        String digits = name.substring(prefix, name.length() - suffix);
        if (digits.length() != 20 || !digits.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return Long.parseLong(digits);
    }

    private void writeAtomically(String name, List<String> lines) throws IOException {
        Path tmp = directory.resolve("." + name + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
             Writer w = new BufferedWriter(new OutputStreamWriter(Channels.newOutputStream(ch),
                     StandardCharsets.UTF_8), 64 * 1024)) {
            for (String line : lines) {
                w.write(line);
                w.write('\n');
            }
            w.flush();
            ch.force(true);
        }
        Files.move(tmp, directory.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    static String encode(Delivery d) {
        return d.toText();
    }

    static Delivery decode(String text) {
        return Delivery.parse(text);
    }

    @Override
    public String toString() {
        return "exactlyOnceFiles(" + directory + ")";
    }
}
