package io.streamflow.reactive.http.internal.server;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CredentialsTest {

    private static final String TOKEN = "0123456789abcdef-token";

    @Test
    void shouldAcceptOnlyTheExactBearerTokenNotAPrefixAnExtensionOrAnotherCase() {
        Credentials c = new Credentials(TOKEN, null, null);
        assertThat(c.accepts(Map.of("Authorization", "Bearer " + TOKEN)::get, null)).isTrue();
        assertThat(c.accepts(Map.of("Authorization", "bearer " + TOKEN)::get, null)).as("scheme is case-blind")
                .isTrue();
        assertThat(c.accepts(Map.of("Authorization", "Bearer " + TOKEN.substring(1))::get, null)).isFalse();
        assertThat(c.accepts(Map.of("Authorization", "Bearer " + TOKEN + "0")::get, null)).isFalse();
        assertThat(c.accepts(Map.of("Authorization", "Bearer " + TOKEN.toUpperCase())::get, null)).isFalse();
        assertThat(c.accepts(Map.of("Authorization", "Bearer ")::get, null)).isFalse();
        assertThat(c.accepts(Map.of("Authorization", "Basic " + TOKEN)::get, null)).isFalse();
        assertThat(c.accepts(Map.<String, String>of()::get, null)).isFalse();
        assertThat(c.accepts(Map.<String, String>of()::get, TOKEN)).as("query token of a page").isTrue();
        assertThat(c.accepts(Map.<String, String>of()::get, "")).isFalse();
    }

    @Test
    void shouldCompareFixedLengthDigestsSoThatNeitherContentNorLengthOfAGuessShowsInTheTime() {
        // the secret is never compared directly: both sides become SHA-256 digests, which
        // MessageDigest.isEqual compares in time that depends only on their (fixed) length
        byte[] expected = Credentials.digest(TOKEN);
        assertThat(expected).hasSize(32);
        assertThat(Credentials.digest("x")).hasSize(32);
        assertThat(Credentials.digest("x".repeat(10_000))).hasSize(32);
        assertThat(Credentials.matches(expected, TOKEN)).isTrue();
        assertThat(Credentials.matches(expected, TOKEN.substring(0, 8))).isFalse();
    }

    @Test
    void shouldNeedNothingWhenNoCredentialsAreConfiguredAndNameTheApiKeyHeaderOtherwise() {
        Credentials none = new Credentials(null, null, null);
        assertThat(none.required()).isFalse();
        assertThat(none.accepts(Map.<String, String>of()::get, null)).isTrue();

        Credentials key = new Credentials(null, "X-Api-Key", "key-0123456789abcdef");
        assertThat(key.accepts(Map.of("X-Api-Key", "key-0123456789abcdef")::get, null)).isTrue();
        assertThat(key.accepts(Map.of("Authorization", "Bearer key-0123456789abcdef")::get, null)).isFalse();
        assertThat(key.challenges()).containsExactly("ApiKey realm=\"streamflow\", header=\"X-Api-Key\"");
        assertThat(key.expected()).isEqualTo("the API key in the 'X-Api-Key' header");
        assertThatThrownBy(() -> new Credentials(null, "X-Api-Key", null))
                .hasMessage("an API key needs both its header and its value");
    }
}
