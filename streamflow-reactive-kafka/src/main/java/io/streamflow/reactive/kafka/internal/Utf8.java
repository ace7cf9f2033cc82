package io.streamflow.reactive.kafka.internal;

import org.apache.kafka.common.serialization.Deserializer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 decoding: bytes that are not well-formed UTF-8 are an error naming the first bad
 * byte, never replaced with U+FFFD as {@code new String(bytes, UTF_8)} and Kafka's
 * {@code StringDeserializer} do (silent corruption).
 */
public final class Utf8 {

    private Utf8() {
    }

    /**
     * Decodes {@code bytes}.
     *
     * @param bytes the bytes
     * @return the text
     * @throws IllegalArgumentException if the bytes are not well-formed UTF-8
     */
    public static String decode(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new IllegalArgumentException("not valid UTF-8: " + result.length() + " malformed byte(s) at index "
                    + in.position() + " of " + bytes.length);
        }
        return out.flip().toString();
    }

    /** A Kafka deserializer of strict UTF-8 text; {@code null} stays {@code null}. */
    public static final class StrictDeserializer implements Deserializer<String> {
        @Override
        public String deserialize(String topic, byte[] data) {
            return data == null ? null : decode(data);
        }
    }
}
