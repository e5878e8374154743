package multiprocessing.connection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
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
     *
     * @param objects the objects to watch; not modified
     * @param timeout how long to wait at most; {@code null} waits forever, zero or negative
     *        only checks
     * @return the ready objects in the order of {@code objects}; empty on timeout
     * @throws IllegalArgumentException if an object is of another type (the message names its
     *         class)
     * @throws IllegalStateException if a connection or listener is closed, or a process not
     *         started
     * @throws UncheckedIOException if poll(2) fails
     */
    public static List<Object> await(Collection<?> objects, Duration timeout) {
        List<Object> list = new ArrayList<>(objects);
        int[] fds = new int[list.size()];
        short[] events = new short[list.size()];
        for (int i = 0; i < fds.length; i++) {
            fds[i] = descriptorOf(list.get(i));
            events[i] = (short) Posix.POLLIN;
        }
        long deadline = timeout == null ? 0 : Durations.deadline(timeout);
        while (true) {
            long left = timeout == null ? -1 : Math.max(0, deadline - System.nanoTime());
            short[] revents;
            try {
                revents = Parker.awaitFds(fds, events, left, false);
            } catch (ErrnoException e) {
                throw new UncheckedIOException(e);
            }
            List<Object> ready = new ArrayList<>();
            for (int i = 0; i < revents.length; i++) {
                // HUP, ERR and NVAL count as ready too: reading then reports what happened.
                if (revents[i] != 0) {
                    ready.add(list.get(i));
                }
            }
            // An empty result before the deadline is EINTR: poll again for the time left.
            if (!ready.isEmpty() || (timeout != null && deadline - System.nanoTime() <= 0)) {
                return ready;
            }
        }
    }

    private static int descriptorOf(Object o) {
        Objects.requireNonNull(o, "objects may not contain null");
        return switch (o) {
            case Connection c -> c.fileno();
            case Listener l -> l.fileno();
            case Process p -> p.sentinel();
            case Integer fd -> fd;
            default -> throw new IllegalArgumentException("cannot wait on a "
                    + o.getClass().getName() + ": only Connection, Listener, Process and "
                    + "Integer file descriptors can be waited on");
        };
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
