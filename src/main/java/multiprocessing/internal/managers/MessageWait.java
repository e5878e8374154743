package multiprocessing.internal.managers;

import java.io.IOException;

import multiprocessing.connection.Connection;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.wait.Parker;

/**
 * Waits until a manager's connection has a message to read: a server's connection thread
 * before each request, a client's reader before each reply.
 *
 * <p>Implementation note. A round trip whose two ends each sleep in the kernel costs two
 * wake-ups, 30-60 us each when the peers sit on different CPUs; a reply that comes while its
 * reader spins costs a few. So the wait spins for {@link Parker#SPIN_NANOS}, then sleeps in
 * poll(2). Connection's own receive spins too, but only with CPU pauses; here each step after
 * the first microseconds yields the CPU ({@link Parker#pause}), because a manager's waiters
 * are many (a server thread per connection, a reader per client connection, and the callers a
 * reader wakes): when they outnumber the CPUs, a spinner that keeps its CPU delays the very
 * thread it waits for (measured with 8 threads calling one proxy on 2 CPUs: pure spinning
 * made each call slower than never spinning at all), while a yield costs well under a
 * microsecond when nobody else wants the CPU. Once this returns true the connection's receive
 * finds the message at its first look.
 */
final class MessageWait {
    private MessageWait() {}

    /**
     * Waits up to {@code timeoutNanos} (negative: no limit) for a message, or end of file, to
     * be readable on {@code c}.
     *
     * @return whether one is
     * @throws IllegalStateException if the connection is closed
     */
    static boolean await(Connection c, long timeoutNanos) throws IOException {
        long start = System.nanoTime();
        long spin = timeoutNanos < 0 ? Parker.SPIN_NANOS : Math.min(Parker.SPIN_NANOS,
                timeoutNanos);
        long spun;
        while ((spun = System.nanoTime() - start) < spin) {
            Parker.pause(spun);
            if (c.poll()) {
                return true;
            }
        }
        long left = timeoutNanos < 0 ? -1 : Math.max(0, timeoutNanos - spun);
        int revents = Parker.awaitFd(c.fileno(), Posix.POLLIN, left, false);
        if ((revents & Posix.POLLNVAL) != 0) {
            throw new IllegalStateException("the connection's descriptor was closed");
        }
        return revents != 0;
    }
}
