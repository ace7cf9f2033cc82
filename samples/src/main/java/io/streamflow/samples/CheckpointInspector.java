package io.streamflow.samples;

import io.streamflow.reactive.CheckpointInfo;
import io.streamflow.reactive.Checkpointing;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Lists the checkpoints of a checkpoint directory, oldest first: id, commit time, source
 * positions, the operators with state, entries per state and outbox size, and the state file's
 * size. The directory is only read.
 * <p>
 * Usage: {@code mvn -q -pl samples -am compile exec:java
 * -Dexec.mainClass=io.streamflow.samples.CheckpointInspector -Dexec.args=<checkpoint-dir>}
 */
public final class CheckpointInspector {

    private CheckpointInspector() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: CheckpointInspector <checkpoint-directory>");
            System.exit(2);
        }
        System.out.print(format(Checkpointing.list(Path.of(args[0]))));
    }

    /** @return one block per checkpoint, or a line saying there is none */
    public static String format(List<CheckpointInfo> checkpoints) {
        if (checkpoints.isEmpty()) {
            return "no checkpoints\n";
        }
        StringBuilder sb = new StringBuilder();
        for (CheckpointInfo c : checkpoints) {
            sb.append("checkpoint ").append(c.id()).append("  ").append(c.time())
                    .append("  file ").append(c.fileBytes()).append(" bytes before commit")
                    .append("  outbox ").append(c.outboxRecords()).append(" records\n");
            for (Map.Entry<String, Map<Integer, Long>> s : c.positions().entrySet()) {
                sb.append("  source ").append(s.getKey()).append(": ");
                s.getValue().forEach((partition, position) -> sb.append('[').append(partition).append("]@")
                        .append(position).append(' '));
                sb.append('\n');
            }
            sb.append("  operators ").append(c.operators()).append('\n');
            c.stateEntries().forEach((state, entries) -> sb.append("    ").append(state).append(": ")
                    .append(entries).append(" entries\n"));
        }
        return sb.toString();
    }
}
