package io.streamflow.reactive.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once under SIGKILL: {@link CrashPipeline} runs in a child JVM and is killed with
 * SIGKILL ({@code -Dcrash.kills=N}, default 20 kills), restarted after each kill from its
 * checkpoint directory, and finally let run to the end. The kills are spread over every phase of a
 * run: JVM start-up and the opening of the store, the restore and redelivery right after it, the
 * processing of the input anywhere in it, and the final checkpoint after the input ended (also of
 * a run that only restores a finished pipeline). The part files it delivered must then hold
 * exactly the reference model's results, late records and dead letters: none missing, none twice.
 */
class CheckpointCrashTest {

    private static final int KILLS = Integer.getInteger("crash.kills", 20);
    private static final int LINES = Integer.getInteger("crash.lines", 400_000);

    @TempDir
    Path dir;

    /** Where a run is killed. */
    enum Phase {
        /** a random time after the JVM started: start-up, opening and restoring the store */
        STARTUP,
        /** just after the store was opened and restored: redelivery and the first records */
        OPENED,
        /** after a random number of records */
        PROCESSING,
        /** after the input ended: the final checkpoint and its delivery */
        INPUT_DONE
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES) // child JVMs: about 1 s per run on 2 cores
    void outputIsExactlyOnceAfterSigkillInEveryPhase() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        System.out.println("CheckpointCrashTest seed=" + seed + " kills=" + KILLS + " lines=" + LINES
                + " (replay with -Dcrash.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        Path input = dir.resolve("input.txt");
        List<String> lines = CrashOutput.input(rnd, LINES);
        Files.write(input, lines, StandardCharsets.UTF_8);
        CrashOutput.Expected expected = CrashOutput.expected(lines);

        Path checkpoints = dir.resolve("checkpoints");
        Path output = dir.resolve("out");
        Map<Phase, Integer> killsByPhase = new TreeMap<>();
        int kills = 0;
        int runs = 0;
        while (kills < KILLS) {
            runs++;
            // the last three kills come after the input ended; before them, the other phases
            Phase phase = kills >= KILLS - 3 ? Phase.INPUT_DONE : switch (rnd.nextInt(20)) {
                case 0, 1, 2, 3, 4 -> Phase.STARTUP;
                case 5, 6, 7 -> Phase.OPENED;
                default -> Phase.PROCESSING;
            };
            Run r = new Run(start(input, checkpoints, output, 20 + rnd.nextInt(80)));
            boolean killed = switch (phase) {
                case STARTUP -> r.killAfter(rnd.nextInt(900));
                case OPENED -> r.killWhenSaid("opened", rnd.nextInt(3) == 0 ? rnd.nextInt(30) : 0);
                case PROCESSING -> r.killWhenSaid("progress " + (1 + rnd.nextInt(12)) * CrashPipeline.PROGRESS, 0);
                case INPUT_DONE -> r.killWhenSaid("input-done", rnd.nextInt(25));
            };
            System.out.println("CheckpointCrashTest run " + runs + ": " + (killed ? "killed in phase " + phase
                    : "ended by itself before phase " + phase));
            if (killed) {
                kills++;
                killsByPhase.merge(phase, 1, Integer::sum);
            } else {
                assertThat(r.process.exitValue()).as("child exit code (run " + runs + "), output:\n" + r.said)
                        .isZero();
            }
        }
        Process last = start(input, checkpoints, output, 50);
        String out = new String(last.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(last.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(last.exitValue()).as("final run exit code, output:\n" + out).isZero();
        assertThat(out).contains("done");

        String summary = CrashOutput.check("CheckpointCrashTest", expected, CrashOutput.read(output));
        System.out.println(summary + "; " + kills + " kills over " + runs + " runs, by phase " + killsByPhase);
        assertThat(killsByPhase).containsKeys(Phase.PROCESSING, Phase.INPUT_DONE);
    }

    /**
     * A child JVM and what it printed so far. The test kit's {@code ChildJvm} does the same for the
     * other modules' crash tests; the core's tests cannot use it, because the test kit depends on
     * the core and Maven rejects the cycle a test dependency back on the kit would make.
     */
    static final class Run {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final StringBuffer said = new StringBuffer();

        Run(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        said.append(line).append('\n');
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the process was killed
                }
                lines.add("<eof>");
            }, "crash-test-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Kills the process {@code millis} after now, unless it ends first; @return whether it was killed */
        boolean killAfter(long millis) throws InterruptedException {
            if (process.waitFor(millis, TimeUnit.MILLISECONDS)) {
                return false;
            }
            return kill();
        }

        /** Kills the process {@code delayMillis} after it printed {@code line}; @return whether it was killed */
        boolean killWhenSaid(String line, long delayMillis) throws InterruptedException {
            for (;;) {
                String l = lines.poll(120, TimeUnit.SECONDS);
                assertThat(l).as("the child printed nothing for 2 minutes; so far:\n" + said).isNotNull();
                if (l.equals("<eof>")) {
                    process.waitFor(60, TimeUnit.SECONDS);
                    return false;
                }
                if (l.equals(line)) {
                    return delayMillis == 0 ? kill() : killAfter(delayMillis);
                }
            }
        }

        private boolean kill() throws InterruptedException {
            if (!process.isAlive()) {
                return false;
            }
            process.destroyForcibly(); // SIGKILL on Linux and macOS
            process.waitFor(60, TimeUnit.SECONDS);
            return true;
        }
    }

    static Process start(Path input, Path checkpoints, Path output, long intervalMillis) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                CrashPipeline.class.getName(), input.toString(), checkpoints.toString(), output.toString(),
                Long.toString(intervalMillis));
        pb.redirectErrorStream(true);
        return pb.start();
    }

    /** Lines for {@link CrashPipeline} without poison keys; see {@link CrashOutput#input}. */
    static List<String> input(SplittableRandom rnd, int n) {
        return CrashOutput.input(rnd, n, false);
    }

    /** The reference counts per "key,windowStart"; see {@link CrashOutput#expected}. */
    static Map<String, Long> reference(List<String> lines) {
        return CrashOutput.expected(lines).counts();
    }
}
