package io.streamflow.reactive;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 50 MB line in a file read by a JVM with a 128 MB heap ({@code -DlongLine.xmx=...} to change
 * it): the file source keeps at most the line limit (1 MiB) of it, makes it a dead letter with its
 * length and offset, and reads the lines around it; reading the line whole would run out of memory.
 */
class OverLongLineMemoryTest {

    private static final String XMX = System.getProperty("longLine.xmx", "128m");
    private static final long LINE_BYTES = 50L << 20;
    private static final long CHILD_TIMEOUT_SECONDS = 120;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aFiftyMegabyteLineIsADeadLetterInAJvmWithA128MegabyteHeap() throws Exception {
        Path file = dir.resolve("long-line.txt");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            out.write("before\n".getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[1 << 20];
            Arrays.fill(block, (byte) 'x');
            for (long written = 0; written < LINE_BYTES; written += block.length) {
                out.write(block);
            }
            out.write("\nafter".getBytes(StandardCharsets.US_ASCII));
        }

        Map<String, Long> report = runChild(file);

        assertThat(report.get("maxMemory")).as("the child's heap").isLessThan(LINE_BYTES * 3);
        assertThat(report.get("records")).isEqualTo(2);
        assertThat(report.get("recordChars")).isEqualTo("before".length() + "after".length());
        assertThat(report.get("deadLetters")).isEqualTo(1);
        assertThat(report.get("deadOffset")).isEqualTo("before\n".length());
        assertThat(report.get("deadLength")).isEqualTo(LINE_BYTES);
    }

    private Map<String, Long> runChild(Path file) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path stdout = dir.resolve("child.out");
        Path stderr = dir.resolve("child.err");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + XMX, "-cp", System.getProperty("java.class.path"),
                OverLongLineChild.class.getName(), file.toString());
        pb.redirectOutput(stdout.toFile());
        pb.redirectError(stderr.toFile());
        Process p = pb.start();
        boolean ended = p.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        String out = Files.readString(stdout, StandardCharsets.UTF_8);
        String diagnostics = "\n--- stdout:\n" + tail(out) + "\n--- stderr:\n"
                + tail(Files.readString(stderr, StandardCharsets.UTF_8));
        assertThat(ended).as("child ended within " + CHILD_TIMEOUT_SECONDS + " s" + diagnostics).isTrue();
        assertThat(p.exitValue()).as("exit code of the child (-Xmx" + XMX + ")" + diagnostics).isZero();
        assertThat(out).as("child completed" + diagnostics).contains("done");
        Map<String, Long> report = new HashMap<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("report ")) {
                String[] f = line.trim().split(" ");
                report.put(f[1], Long.parseLong(f[2]));
            }
        }
        return report;
    }

    private static String tail(String text) {
        String[] all = text.split("\n");
        int from = Math.max(0, all.length - 40);
        return String.join("\n", List.of(all).subList(from, all.length));
    }
}
