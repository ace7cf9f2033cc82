package io.streamflow.reactive.internal;

import io.streamflow.reactive.LineDecodingException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The line reader never keeps more of a line than the limit, however long the line is. */
class LineReaderTest {

    @TempDir
    Path dir;

    @Test
    void aLineManyTimesTheLimitIsSkippedWhileTheReaderKeepsAtMostTheLimitPlusOneByte() throws IOException {
        int limit = 4096;
        long longLength = 20L << 20;
        Path file = dir.resolve("long.txt");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            out.write("short\n".getBytes(StandardCharsets.US_ASCII));
            byte[] block = new byte[1 << 16];
            Arrays.fill(block, (byte) 'x');
            for (long written = 0; written < longLength; written += block.length) {
                out.write(block);
            }
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] spanning = new byte[limit];
            Arrays.fill(spanning, (byte) 'y');
            out.write(spanning); // a line of exactly the limit, read across several read buffers
            out.write('\n');
        }
        try (LineReader reader = new LineReader(file, 0, limit, false)) {
            assertThat(reader.readLine()).isEqualTo("short");
            LineDecodingException tooLong = catchThrowableOfType(reader::readLine, LineDecodingException.class);

            assertThat(tooLong.reason()).isEqualTo(LineDecodingException.Reason.TOO_LONG);
            assertThat(tooLong.lineOffset()).isEqualTo(6);
            assertThat(tooLong.lineLength()).isEqualTo(longLength);
            assertThat(tooLong.errorOffset()).isEqualTo(6 + limit);
            assertThat(reader.badLine()).as("nothing of the line is kept").isNull();
            assertThat(reader.lineBufferBytes()).as("bytes held for the line").isLessThanOrEqualTo(limit + 1);
            assertThat(reader.offset()).isEqualTo(6 + longLength + 2);

            assertThat(reader.readLine()).isEqualTo("y".repeat(limit));
            assertThat(reader.lineBufferBytes()).isLessThanOrEqualTo(limit + 1);
            assertThat(reader.readLine()).isNull();
            assertThat(reader.offset()).isEqualTo(Files.size(file));
        }
    }
}
