package io.streamflow.reactive.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TlsTest {

    private static final String PASSWORD = "changeit";

    @TempDir
    Path dir;

    private StreamFlowHttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A self-signed certificate for 127.0.0.1 made by the JDK's keytool, written as PEM files. */
    private Path[] selfSigned() throws Exception {
        Path store = dir.resolve("server.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", "server",
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD))
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("keytool finished: " + output).isTrue();
        assertThat(p.exitValue()).as("keytool: " + output).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey("server", PASSWORD.toCharArray());
        Certificate cert = ks.getCertificate("server");
        Path certPem = dir.resolve("server.crt");
        Path keyPem = dir.resolve("server.key");
        Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
        return new Path[]{certPem, keyPem};
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    @Test
    void shouldServeHttpsWithTheGivenCertificateToAClientThatTrustsIt() throws Exception {
        Path[] pem = selfSigned();
        server = StreamFlowHttpServer.builder().port(0).tls(pem[0], pem[1]).start();
        assertThat(server.uri("/health").toString()).startsWith("https://127.0.0.1:");

        HttpClient trusting = HttpClient.create().secure(spec -> spec.sslContext(
                Http11SslContextSpec.forClient().configure(b -> b.trustManager(pem[0].toFile()))));
        HttpTestSupport.Answer health = HttpTestSupport.send(trusting, "GET", server.uri("/health"), Map.of());
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"status\":\"UP\",\"pipelines\":{}}");

        // a client that does not trust the certificate cannot talk to it
        HttpClient defaultTrust = HttpClient.create().secure();
        assertThatThrownBy(() -> HttpTestSupport.send(defaultTrust, "GET", server.uri("/health"), Map.of()))
                .hasStackTraceContaining("PKIX path building failed");
        // nor can a plain HTTP client; and the server keeps serving afterwards
        assertThatThrownBy(() -> HttpTestSupport.send(HttpClient.create(), "GET",
                java.net.URI.create("http://127.0.0.1:" + server.port() + "/health"), Map.of()));
        assertThat(HttpTestSupport.send(trusting, "GET", server.uri("/nope"), Map.of()).status()).isEqualTo(404);
    }

    @Test
    void shouldRefuseToStartWithMissingTlsFilesSayingWhichOnes() {
        Path missing = dir.resolve("absent.crt");
        Path alsoMissing = dir.resolve("absent.key");
        assertThatThrownBy(() -> StreamFlowHttpServer.builder().port(0).tls(missing, alsoMissing).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TLS file " + missing + " does not exist or cannot be read")
                .hasMessageContaining("TLS file " + alsoMissing + " does not exist or cannot be read");
    }
}
