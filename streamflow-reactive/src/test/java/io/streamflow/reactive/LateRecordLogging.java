package io.streamflow.reactive;

import org.junit.jupiter.api.Assumptions;
import reactor.test.util.LoggerUtils;
import reactor.util.Logger;

import java.lang.reflect.Field;

/**
 * Late-record log lines come from static loggers ({@code private static final Logger LOG}).
 * {@link LoggerUtils#useCurrentLoggersWithCapture()} only diverts loggers created <em>after</em> it
 * was called, so a test can capture such a line only when the logging class was initialised after
 * the capture was installed. {@link ReactorLoggerCapture} installs it before any test runs; should
 * that extension not be registered and another test class of the same JVM initialise the logging
 * class first, the line cannot be captured: the test is then aborted (reported as skipped) with
 * that reason instead of passing without having seen the line.
 */
final class LateRecordLogging {

    private LateRecordLogging() {
    }

    static void assumeCapturable(String className) {
        LoggerUtils.useCurrentLoggersWithCapture();
        Logger logger;
        try {
            Class<?> type = Class.forName(className, true, LateRecordLogging.class.getClassLoader());
            Field field = type.getDeclaredField("LOG");
            field.setAccessible(true);
            logger = (Logger) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot read the static logger of " + className, e);
        }
        Assumptions.assumeTrue(logger.getClass().getName().endsWith("LoggerUtils$DivertingLogger"),
                () -> "the static logger of " + className + " was created before LoggerUtils"
                        + ".useCurrentLoggersWithCapture() ran in this JVM (another test class initialised it "
                        + "first), so its log lines cannot be captured here");
    }
}
