package multiprocessing.internal.util;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;


/**
 * Ends an exchange on a connection that takes too long (or outlives its listener) by closing
 * the connection, which wakes the thread blocked on it at once (a connection's close ends the
 * calls waiting on it): a peer that connects and stays silent cannot hold a thread forever.
 * Fire and disarm exclude each other, so a timeout never ends an exchange that has finished.
 * It used to shut down the raw descriptor, whose number a close racing it could already have
 * handed to another file; a close goes through the connection, which releases the descriptor
 * only once no call uses it. Used for the authentication handshake of a listener's clients
 * (a {@code Listener}'s, a manager server's) and a resource sharer's hand-over.
 */
public final class Watchdog {
    public static final int ARMED = 0;
    public static final int TIMED_OUT = 1;
    public static final int CLOSED = 2;
    public static final int DISARMED = 3;
    /** Fired to make room: too many exchanges were pending, and this one was the oldest. */
    public static final int PUSHED_OUT = 4;

    /** The system property that bounds a client's handshake, in milliseconds (0: none). */
    public static final String HANDSHAKE_TIMEOUT_PROPERTY =
            "multiprocessing.connection.handshakeTimeoutMillis";
    private static final long DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 20_000;

    /** How long a new client may take over the authentication handshake; null: no limit. */
    public static Duration handshakeTimeout() {
        long millis = Long.getLong(HANDSHAKE_TIMEOUT_PROPERTY, DEFAULT_HANDSHAKE_TIMEOUT_MILLIS);
        return millis <= 0 ? null : Duration.ofMillis(millis);
    }

    private final Runnable end;
    private final String what;
    private final Supplier<? extends RuntimeException> closed;
    private int state = ARMED;

    /**
     * @param end ends the exchange: closes its connection (safe to run at any time, twice too)
     * @param what what did not finish in time, for the timeout's message
     * @param closed what to throw when {@link #fire fired} with {@link #CLOSED}
     */
    public Watchdog(Runnable end, String what, Supplier<? extends RuntimeException> closed) {
        this.end = end;
        this.what = what;
        this.closed = closed;
    }

    /** Something the watchdog guards: blocking calls on its socket. */
    public interface Exchange<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code exchange}, closing its connection if it is not done within {@code timeout}
     * (null: no limit); disarmed when it returns, before the caller may close the descriptor.
     *
     * @throws SocketTimeoutException if the time ran out
     */
    public <T> T run(Duration timeout, Exchange<T> exchange) throws IOException {
        ScheduledFuture<?> timer = null;
        try {
            if (timeout != null) {
                timer = Timer.EXECUTOR.schedule(() -> fire(TIMED_OUT),
                        Math.max(1, Durations.nanos(timeout)), TimeUnit.NANOSECONDS);
            }
            T result;
            try {
                result = exchange.run();
            } catch (IOException | RuntimeException e) {
                disarm();
                rethrow(e, timeout);
                throw new AssertionError(e); // rethrow always throws
            }
            if (!disarm()) {
                // It fired after the last message: the connection is closed, the peer useless.
                rethrow(new IOException("interrupted: " + what), timeout);
            }
            return result;
        } finally {
            if (timer != null) {
                timer.cancel(false);
            }
        }
    }

    /** Ends the exchange now, unless it is done; {@code why}: TIMED_OUT, CLOSED or PUSHED_OUT. */
    public synchronized void fire(int why) {
        if (state == ARMED) {
            state = why;
            end.run();
        }
    }

    /** Stops it; false if it had already fired. */
    private synchronized boolean disarm() {
        if (state == ARMED) {
            state = DISARMED;
            return true;
        }
        return state == DISARMED;
    }

    /** Rethrows {@code e}, or what it means when this watchdog caused it. */
    private synchronized void rethrow(Exception e, Duration timeout) throws IOException {
        if (state == TIMED_OUT) {
            SocketTimeoutException t = new SocketTimeoutException(what + " within " + timeout);
            t.initCause(e);
            throw t;
        }
        if (state == PUSHED_OUT) {
            throw new IOException(what + " before newer connections pushed it out", e);
        }
        if (state == CLOSED) {
            RuntimeException c = closed.get();
            c.initCause(e);
            throw c;
        }
        if (e instanceof IOException io) {
            throw io;
        }
        throw (RuntimeException) e;
    }

    private static final class Timer {
        static final ScheduledThreadPoolExecutor EXECUTOR = new ScheduledThreadPoolExecutor(1,
                r -> {
                    Thread t = LibraryThreads.unstarted("multiprocessing-handshake-timer", r);
                    t.setDaemon(true);
                    return t;
                });

        static {
            EXECUTOR.setRemoveOnCancelPolicy(true);
        }
    }
}
