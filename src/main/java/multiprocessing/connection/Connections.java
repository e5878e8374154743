package multiprocessing.connection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

import multiprocessing.AuthenticationError;
import multiprocessing.Process;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.util.Durations;

/**
 * The module-level functions of Python's {@code multiprocessing.connection}: waiting on many
 * connections at once ({@link #await}, Python's {@code wait}) and the two halves of the HMAC
 * authentication handshake that {@link Listener} and {@link Client} perform
 * ({@link #deliverChallenge}, {@link #answerChallenge}).
 *
 * <p>The handshake speaks both of CPython's protocols: the one of Python 3.12 and later
 * (HMAC-SHA256 by default, the digest named in the messages) and the HMAC-MD5 one of Python
 * 3.11 and before, so either kind of Python peer can authenticate with a Java one.
 */
public final class Connections {
    private Connections() {}

    /**
     * Waits until at least one of {@code objects} is ready, or the timeout passes (Python's
     * {@code multiprocessing.connection.wait}). An object is ready when:
     * <ul>
     * <li>a {@link Connection}: a message, or end of file, can be read;
     * <li>a {@link Listener}: a client is waiting to be accepted;
     * <li>a {@link Process}: it has ended (its {@link Process#sentinel() sentinel} is readable);
     * <li>an {@link Integer}: that file descriptor is readable.
     * </ul>
     * A connection or listener another thread closes during the wait counts as ready at once
     * (receiving from it or accepting then throws): its descriptor stays open until the wait
     * has left, so the wait never watches another file that took its number.
     *
     * @param objects the objects to watch; not modified
     * @param timeout how long to wait at most; {@code null} waits forever, zero or negative
     *        only checks
     * @return the ready objects in the order of {@code objects}; empty on timeout
     * @throws IllegalArgumentException if an object is of another type (the message names its
     *         class), or a negative file descriptor; or if there is nothing to watch and no
     *         timeout: such a wait could never end (Python's blocks for good)
     * @throws IllegalStateException if a connection or listener is closed, or a process not
     *         started
     * @throws UncheckedIOException if poll(2) fails, or no eventfd could be made to watch a
     *         connection's close
     */
    public static List<Object> await(Collection<?> objects, Duration timeout) {
        java.util.Objects.requireNonNull(objects, "objects");
        if (objects.isEmpty() && timeout == null) {
            throw new IllegalArgumentException("nothing to wait for, and no timeout: the wait"
                    + " could never end");
        }
        List<Object> list = new ArrayList<>(objects);
        int n = list.size();
        for (Object o : list) {
            descriptorOf(o); // every type and state checked before anything is counted in
        }
        // The objects' descriptors, then for each connection and listener the descriptor a
        // close by another thread signals: wakes[j] is the index of the object of fds[n + j].
        int[] fds = new int[2 * n];
        int[] wakes = new int[n];
        int woken = 0;
        List<Watched> counted = new ArrayList<>();
        try {
            boolean closedMeanwhile = false;
            for (int i = 0; i < n; i++) {
                // Counted in as a receive or an accept is, so that such a close cannot hand the
                // descriptor's number to another file while this polls it.
                Watched w = Watched.enter(list.get(i));
                if (w == null) {
                    fds[i] = descriptorOf(list.get(i));
                    continue;
                }
                counted.add(w);
                fds[i] = w.fd();
                if (w.wake() < 0) {
                    closedMeanwhile = true;
                } else {
                    fds[n + woken] = w.wake();
                    wakes[woken++] = i;
                }
            }
            fds = Arrays.copyOf(fds, n + woken);
            short[] events = new short[fds.length];
            Arrays.fill(events, (short) Posix.POLLIN);
            long deadline = timeout == null ? 0 : Durations.deadline(timeout);
            while (true) {
                long left = closedMeanwhile ? 0
                        : timeout == null ? -1 : Math.max(0, deadline - System.nanoTime());
                short[] revents = Parker.awaitFds(fds, events, left, false);
                boolean[] isReady = new boolean[n];
                for (int i = 0; i < n; i++) {
                    // HUP, ERR and NVAL count as ready too: reading then reports what happened,
                    // as it does for a connection or listener another thread closed meanwhile.
                    isReady[i] = revents[i] != 0 || Watched.closed(list.get(i));
                }
                for (int j = 0; j < woken; j++) {
                    isReady[wakes[j]] |= revents[n + j] != 0;
                }
                List<Object> ready = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (isReady[i]) {
                        ready.add(list.get(i));
                    }
                }
                // An empty result before the deadline is EINTR: poll again for the time left.
                if (!ready.isEmpty() || (timeout != null && deadline - System.nanoTime() <= 0)) {
                    return ready;
                }
            }
        } catch (ErrnoException e) {
            throw new UncheckedIOException(e);
        } finally {
            counted.forEach(w -> w.leave().run());
        }
    }

    /**
     * A connection or listener counted in for a wait: its descriptor, the one its close
     * signals (-1 if it was closed meanwhile: then it is ready at once), and what ends the count.
     */
    private record Watched(int fd, int wake, Runnable leave) {
        /** Counts {@code o} in, or null for an object whose descriptor nobody closes under us. */
        static Watched enter(Object o) throws ErrnoException {
            // Not a switch on types: such a switch spins a class at its first use in every
            // JVM, which no AOT cache keeps (1-2 ms of a child's start).
            if (o instanceof Connection c) {
                int[] pair = c.enterWait();
                return new Watched(pair[0], pair[1], c::leaveWait);
            }
            if (o instanceof Listener l) {
                int[] pair = l.enterWait();
                return new Watched(pair[0], pair[1], l::leaveWait);
            }
            return null;
        }

        static boolean closed(Object o) {
            return o instanceof Connection c ? c.closed()
                    : o instanceof Listener l && l.isClosed();
        }
    }

    private static int descriptorOf(Object o) {
        Objects.requireNonNull(o, "objects may not contain null");
        if (o instanceof Connection c) {
            return c.fileno();
        }
        if (o instanceof Listener l) {
            return l.fileno();
        }
        if (o instanceof Process p) {
            return p.sentinel();
        }
        if (o instanceof Integer fd) {
            if (fd < 0) {
                // poll(2) skips a negative descriptor: the wait would never end.
                throw new IllegalArgumentException("invalid file descriptor: " + fd);
            }
            return fd;
        }
        throw new IllegalArgumentException("cannot wait on a " + o.getClass().getName()
                + ": only Connection, Listener, Process and Integer file descriptors can be"
                + " waited on");
    }

    /**
     * The server's half of the handshake (Python's {@code deliver_challenge}): sends a
     * challenge in the Python 3.12+ form ({@code {sha256}} and 40 random bytes), checks the
     * peer's answer (a prefixed answer, or a raw HMAC-MD5 from a Python 3.11 client), and tells
     * the peer {@code #WELCOME#} or {@code #FAILURE#}. Messages longer than 256 bytes are
     * refused unread.
     *
     * @param connection the connection to the peer
     * @param authKey    the key the peer must prove it shares
     * @throws AuthenticationError if the answer is wrong or malformed
     * @throws IOException if the connection fails or the peer closes it
     * @throws IllegalArgumentException if {@code authKey} is null
     */
    public static void deliverChallenge(Connection connection, byte[] authKey)
            throws IOException {
        Challenge.deliver(connection, authKey, "sha256");
    }

    /**
     * {@link #deliverChallenge(Connection, byte[])} with another digest (Python 3.12's
     * {@code digest_name}): {@code "md5"}, {@code "sha256"}, {@code "sha384"},
     * {@code "sha3_256"} or {@code "sha3_384"}.
     *
     * @param connection the connection to the peer
     * @param authKey    the key the peer must prove it shares
     * @param digestName the digest of the challenge's HMAC
     * @throws AuthenticationError if the answer is wrong or malformed
     * @throws IOException if the connection fails or the peer closes it
     * @throws IllegalArgumentException for another digest name
     */
    public static void deliverChallenge(Connection connection, byte[] authKey,
            String digestName) throws IOException {
        Challenge.deliver(connection, authKey, Objects.requireNonNull(digestName, "digestName"));
    }

    /**
     * The client's half of the handshake (Python's {@code answer_challenge}): receives a
     * challenge, answers it in the form it came in (prefixed for a Python 3.12+ or Java peer,
     * raw HMAC-MD5 for a Python 3.11 one), and expects {@code #WELCOME#}.
     *
     * @param connection the connection to the peer
     * @param authKey    the key this end proves it shares
     * @throws AuthenticationError if the peer rejects the answer or sends no challenge
     * @throws IOException if the connection fails or the peer closes it
     * @throws IllegalArgumentException if {@code authKey} is null
     */
    public static void answerChallenge(Connection connection, byte[] authKey)
            throws IOException {
        Challenge.answer(connection, authKey);
    }
}
