package io.streamflow.reactive;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child JVM of {@link OverLongLineMemoryTest}: reads a file through the default file source into
 * a watermarked stream and reports what came out: {@code report <name> <value>} lines, then
 * {@code done}.
 */
public final class OverLongLineChild {

    private OverLongLineChild() {
    }

    public static void main(String[] args) {
        AtomicLong records = new AtomicLong();
        AtomicLong chars = new AtomicLong();
        AtomicLong dead = new AtomicLong();
        AtomicLong deadOffset = new AtomicLong(-1);
        AtomicLong deadLength = new AtomicLong(-1);
        EventStream.from(StreamSources.fileLines(Path.of(args[0])),
                        WatermarkStrategy.<Void, String>forMonotonousTimestamps()
                                .withTimestampAssigner(r -> 0L))
                .onDeadLetter(d -> d.doOnNext(x -> {
                    dead.incrementAndGet();
                    deadOffset.set(x.origin().position());
                    deadLength.set(((LineDecodingException) x.error()).lineLength());
                }))
                .records()
                .doOnNext(r -> {
                    records.incrementAndGet();
                    chars.addAndGet(r.value().length());
                })
                .then()
                .block();
        System.out.println("report maxMemory " + Runtime.getRuntime().maxMemory());
        System.out.println("report records " + records.get());
        System.out.println("report recordChars " + chars.get());
        System.out.println("report deadLetters " + dead.get());
        System.out.println("report deadOffset " + deadOffset.get());
        System.out.println("report deadLength " + deadLength.get());
        System.out.println("done");
        System.out.flush();
    }
}
