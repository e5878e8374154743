package multiprocessing.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.jupiter.api.Test;

/**
 * A client's failed attempts to connect are logged once, not at every attempt: a wrong cluster
 * name printed 437 lines of the same three warnings in the 20 s a client tries.
 */
class ConnectionWarningsTest {
    private static LogRecord warning(String message, Throwable thrown) {
        LogRecord r = new LogRecord(Level.WARNING, message);
        r.setThrown(thrown);
        return r;
    }

    @Test
    void theSameWarningBarNumbersIsLetThroughOnceAMinute() {
        Configs.OncePerMinute filter = new Configs.OncePerMinute();
        IllegalStateException refused = new IllegalStateException("cluster name does not match");
        assertTrue(filter.isLoggable(warning(
                "Exception during initial connection to [127.0.0.1]:5990", refused)));
        assertFalse(filter.isLoggable(warning(
                "Exception during initial connection to [127.0.0.1]:5990", refused)));
        assertTrue(filter.isLoggable(warning(
                "Unable to get live cluster connection, retry in 1000 ms, attempt: 1", null)));
        assertFalse(filter.isLoggable(warning(
                "Unable to get live cluster connection, retry in 1050 ms, attempt: 2", null)),
                "the same but for its numbers");
        assertTrue(filter.isLoggable(warning(
                "Exception during initial connection to [127.0.0.1]:5990",
                new java.io.IOException("refused"))), "another cause");
        assertTrue(filter.isLoggable(warning(
                "Unable to get live cluster connection, cluster connect timeout (20000 ms) is"
                        + " reached. Attempt 16.", null)), "another warning");
    }
}
