package io.streamflow.reactive.json;

import io.streamflow.reactive.Event;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Decoding one JSON text: what comes out, and the error that says what was expected when nothing can. */
class JsonDecoderTest {

    record Reading(String sensor, long ts, double temp) {
    }

    private static final JsonDecoder<Event> READINGS = JsonDecoder.events().timestampField("ts").keyField("sensor");

    @Test
    void aJsonObjectBecomesAnEventWithEveryFieldItsKeyAndItsTimestamp() {
        Event e = READINGS.decode("{\"sensor\":\"s1\",\"ts\":1700000000000,\"temp\":21.5,\"n\":3,"
                + "\"tags\":[\"a\",1],\"at\":{\"x\":true},\"none\":null}");

        assertThat(e.key()).isEqualTo("s1");
        assertThat(e.timestamp()).isEqualTo(1_700_000_000_000L);
        assertThat(e.fields()).containsOnlyKeys("sensor", "ts", "temp", "n", "tags", "at", "none");
        assertThat(e.fields().keySet()).containsExactly("sensor", "ts", "temp", "n", "tags", "at", "none");
        assertThat(e.field("ts")).isEqualTo(1_700_000_000_000L);
        assertThat(e.field("n")).isEqualTo(3);
        assertThat(e.doubleField("temp")).isEqualTo(21.5);
        assertThat(e.field("tags")).isEqualTo(List.of("a", 1));
        assertThat(e.field("at")).isEqualTo(Map.of("x", true));
        assertThat(e.fields()).containsEntry("none", null);
    }

    @Test
    void eventsTakeTheirTimeFromTheFieldNamedTimestampUnlessToldOtherwise() {
        assertThat(JsonDecoder.events().decode("{\"timestamp\":42}").timestamp()).isEqualTo(42);
        assertThat(JsonDecoder.events().decode("{\"timestamp\":42}").key()).isNull();
        assertThatThrownBy(() -> JsonDecoder.events().decode("{\"ts\":42}"))
                .isInstanceOf(JsonDecodingException.class)
                .hasMessageContaining("field 'timestamp' is missing")
                .hasMessageContaining("JsonDecoder.timestampField(name)")
                .hasMessageContaining("withoutTimestampField()");
        assertThat(JsonDecoder.events().withoutTimestampField().decode("{\"ts\":42}").timestamp())
                .as("no timestamp field: decode gives no event time")
                .isEqualTo(io.streamflow.reactive.StreamRecord.NO_TIMESTAMP);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "{\"sensor\":\"s1\"}                                    | field 'ts' is missing; expected the event time",
            "{\"sensor\":\"s1\",\"ts\":null}                        | field 'ts' must be an integer (epoch millis), was null",
            "{\"sensor\":\"s1\",\"ts\":\"yesterday\"}               | field 'ts' must be an integer (epoch millis), was \"yesterday\"",
            "{\"sensor\":\"s1\",\"ts\":1.7e12}                      | field 'ts' must be an integer (epoch millis), was 1.7E12",
            "{\"sensor\":\"s1\",\"ts\":true}                        | field 'ts' must be an integer (epoch millis), was true",
            "{\"sensor\":\"s1\",\"ts\":{\"ms\":1}}                  | field 'ts' must be an integer (epoch millis), was {ms=1}",
            "{\"sensor\":\"s1\",\"ts\":123456789012345678901234}    | was 123456789012345678901234 (out of range)",
            "{\"ts\":1}                                             | field 'sensor' (the key) is missing",
            "{\"sensor\":null,\"ts\":1}                             | field 'sensor' (the key) is null",
            "{\"sensor\":[1],\"ts\":1}                              | field 'sensor' (the key) must be a string or a number, was [1]",
            "{\"sensor\":\"s1\",\"ts\":                             | invalid JSON: Unexpected end-of-input",
            "not json                                              | invalid JSON: Unrecognized token 'not'",
            "{\"sensor\":\"s1\",\"ts\":1} x                         | invalid JSON: Unrecognized token 'x'",
            "{\"sensor\":\"s1\",\"ts\":1} {}                        | trailing content after the JSON value: an object at column 24",
            "[1, 2]                                                | expected a JSON object, got an array",
            "null                                                  | expected a JSON object, got null",
            "17                                                    | expected a JSON object, got a number",
            "~~                                                    | empty input; expected a JSON object",
            "~   ~                                                 | empty input; expected a JSON object"})
    void inputThatIsNotAnEventIsAnErrorThatSaysWhatWasExpected(String json, String message) {
        assertThatThrownBy(() -> READINGS.decode(json))
                .isInstanceOf(JsonDecodingException.class)
                .hasMessageContaining(message);
    }

    @Test
    void aSyntaxErrorNamesItsColumnAndKeepsJacksonsExceptionAsCause() {
        assertThatThrownBy(() -> READINGS.decode("{\"sensor\" \"s1\"}"))
                .isInstanceOf(JsonDecodingException.class)
                .hasMessageStartingWith("invalid JSON: Unexpected character ('\"'")
                .hasMessageContaining("at column 11")
                .hasCauseInstanceOf(tools.jackson.core.JacksonException.class);
        assertThatThrownBy(() -> READINGS.decode("{\"sensor\":\"s1\",\n\"ts\":}"))
                .hasMessageContaining("at line 2, column 6");
    }

    @Test
    void aKeyThatIsANumberOrABooleanIsItsText() {
        assertThat(READINGS.decode("{\"sensor\":42,\"ts\":1}").key()).isEqualTo("42");
        assertThat(READINGS.decode("{\"sensor\":true,\"ts\":1}").key()).isEqualTo("true");
        assertThat(READINGS.decode("{\"sensor\":\"\",\"ts\":1}").key()).isEmpty();
    }

    @Test
    void jsonIsBoundToARecordClass() {
        JsonDecoder<Reading> readings = JsonDecoder.of(Reading.class);

        assertThat(readings.decode("{\"sensor\":\"s1\",\"ts\":5,\"temp\":21.5,\"extra\":\"ignored\"}"))
                .isEqualTo(new Reading("s1", 5, 21.5));
        assertThat(readings.timestampField("ts").decode("{\"sensor\":\"s1\",\"ts\":5,\"temp\":21.5}"))
                .isEqualTo(new Reading("s1", 5, 21.5));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "{\"sensor\":\"s1\",\"ts\":5,\"temp\":\"warm\"}        | cannot decode into Reading (at temp): Cannot deserialize value of type `double` from String \"warm\"",
            "{\"sensor\":\"s1\",\"ts\":1.5,\"temp\":1}             | cannot decode into Reading (at ts): Cannot coerce Floating-point value (1.5) to `long`",
            "{\"sensor\":\"s1\",\"temp\":1}                        | cannot decode into Reading (at ts): Cannot map `null` into type `long`",
            "[\"s1\",5,1]                                          | cannot decode into Reading",
            "null                                                 | expected JSON for Reading, got null",
            "~~                                                   | empty input; expected JSON for Reading",
            "{\"sensor\":\"s1\",\"ts\":5,\"temp\":1}]              | invalid JSON: Unexpected close marker ']'"})
    void jsonThatDoesNotFitTheClassIsAnErrorThatNamesTheField(String json, String message) {
        assertThatThrownBy(() -> JsonDecoder.of(Reading.class).decode(json))
                .isInstanceOf(JsonDecodingException.class)
                .hasMessageContaining(message);
    }

    @Test
    void aClassDecoderWithATimestampFieldRequiresIt() {
        JsonDecoder<Reading> readings = JsonDecoder.of(Reading.class).timestampField("time");
        assertThatThrownBy(() -> readings.decode("{\"sensor\":\"s1\",\"ts\":5,\"temp\":1}"))
                .hasMessageContaining("field 'time' is missing");
        assertThatThrownBy(() -> readings.decode("[1]"))
                .hasMessageContaining("expected a JSON object, got an array");
    }

    @Test
    void bytesAreDecodedAsUtf8OrAsTheUnicodeEncodingTheyStartWith() {
        String json = "{\"sensor\":\"s\u00e9\",\"ts\":7}";
        assertThat(READINGS.decode(json.getBytes(StandardCharsets.UTF_8)).key()).isEqualTo("s\u00e9");
        assertThat(READINGS.decode(json.getBytes(StandardCharsets.UTF_16BE)).key()).isEqualTo("s\u00e9");
        byte[] invalid = {'{', '"', 's', 'e', 'n', 's', 'o', 'r', '"', ':', '"', (byte) 0xFF, '"', ',', '"', 't', 's',
                '"', ':', '1', '}'};
        assertThatThrownBy(() -> READINGS.decode(invalid))
                .isInstanceOf(JsonDecodingException.class)
                .hasMessageContaining("invalid JSON: Invalid UTF-8 start byte 0xff");
    }

    @Test
    void nullInputIsAnError() {
        assertThatThrownBy(() -> READINGS.decode((String) null)).isInstanceOf(JsonDecodingException.class)
                .hasMessageContaining("no input (null)");
        assertThatThrownBy(() -> READINGS.decode((byte[]) null)).isInstanceOf(JsonDecodingException.class)
                .hasMessageContaining("no input (null)");
    }

    @Test
    void aGivenMapperIsUsedAsItIs() {
        JsonDecoder<Reading> strict = JsonDecoder.of(Reading.class).mapper(JsonMapper.builder()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build());
        assertThatThrownBy(() -> strict.decode("{\"sensor\":\"s1\",\"ts\":5,\"temp\":1,\"extra\":0}"))
                .hasMessageContaining("Unrecognized property \"extra\"");
        assertThatThrownBy(() -> strict.decode("{\"sensor\":\"s1\",\"ts\":5,\"temp\":1} {}"))
                .as("one value per input whatever the mapper").hasMessageContaining("trailing content");
    }

    @Test
    void settersReturnCopiesAndRejectMistakes() {
        JsonDecoder<Event> base = JsonDecoder.events();
        JsonDecoder<Event> keyed = base.keyField("id");

        assertThat(base.decode("{\"timestamp\":1,\"id\":\"a\"}").key()).as("the original is unchanged").isNull();
        assertThat(keyed.decode("{\"timestamp\":1,\"id\":\"a\"}").key()).isEqualTo("a");
        assertThat(keyed).hasToString("JsonDecoder{events, timestamp field 'timestamp', key field 'id'}");
        assertThatThrownBy(() -> JsonDecoder.of(Reading.class).keyField("sensor"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("keyBy");
        assertThatThrownBy(() -> JsonDecoder.of(Event.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("JsonDecoder.events()");
        assertThatThrownBy(() -> base.timestampField(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> base.keyField(null)).isInstanceOf(NullPointerException.class);
    }
}
