package io.streamflow.reactive;

import org.junit.jupiter.api.extension.Extension;
import reactor.test.util.LoggerUtils;

/**
 * Installs reactor-test's capturing logger factory before any test runs, so that the static
 * loggers of operators ({@code private static final Logger LOG}) are created capturable whatever
 * the order of the test classes: {@link LoggerUtils#useCurrentLoggersWithCapture()} only diverts
 * loggers created after it was called. Registered by extension autodetection
 * ({@code junit-platform.properties} and {@code META-INF/services}); while no test enables a
 * capture, the loggers behave exactly like the original ones.
 */
public final class ReactorLoggerCapture implements Extension {

    public ReactorLoggerCapture() {
        LoggerUtils.useCurrentLoggersWithCapture();
    }
}
