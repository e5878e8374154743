package multiprocessing.connection;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.Sockets;
import multiprocessing.internal.util.Durations;
import multiprocessing.internal.util.Watchdog;

/**
 * Connects to a {@link Listener} (Python's {@code multiprocessing.connection.Client}), of
 * this process, another Java process or a Python one.
 */
public final class Client {
    private Client() {}

    /**
     * Connects to {@code address} and, with a key, authenticates: answers the listener's
     * challenge, then challenges it in turn (CPython's order).
     *
     * <p>The handshake must end within 20 seconds of the connection (the system property
     * {@code multiprocessing.connection.handshakeTimeoutMillis} changes this; 0 disables it),
     * so that a peer that accepts and never speaks cannot hold this thread (CPython's waits
     * forever). A {@link Listener} of this library challenges a client as soon as one of its
     * {@code accept()} calls is in progress, whatever other clients do; a listener that calls
     * {@code accept()} later than that (a server busy with one client at a time, as CPython's
     * are) fails this call with {@link SocketTimeoutException}: raise the limit for
     * such a server. The connection itself must be made within the same time: a Unix
     * socket's {@code connect(2)} waits for room while its listener's queue of clients not yet
     * accepted is full, with no limit of its own (CPython's waits for good).
     *
     * @param address where the listener is
     * @param family the socket family, or {@code null} to take the address's
     * @param authKey the shared key, or {@code null} for no handshake (an empty key still
     *        runs it, as CPython does with {@code b''})
     * @return the connection to the listener
     * @throws IllegalArgumentException if {@code family} does not match the address
     * @throws ConnectException if nobody listens there (the message names the address)
     * @throws AuthenticationError if the listener has another key or answers the challenge
     *         wrongly
     * @throws SocketTimeoutException if the connection is not made, or the handshake does not
     *         end, in time: also when the listener sends no challenge at all (a listener without
     *         a key), which neither end can tell sooner
     * @throws IOException if the connection fails during the handshake
     */
    public static Connection connect(Address address, Family family, byte[] authKey)
            throws IOException {
        java.util.Objects.requireNonNull(address, "address");
        if (family != null && family != address.family()) {
            throw new IllegalArgumentException("family " + family + " does not match the "
                    + address.family() + " address " + address);
        }
        int fd = Sockets.socket(address.family() == Family.AF_INET ? Sockets.AF_INET
                : Sockets.AF_UNIX);
        Duration limit = Watchdog.handshakeTimeout();
        try {
            if (limit == null) {
                Sockets.connect(fd, address.toSocketAddr());
            } else if (!Sockets.connect(fd, address.toSocketAddr(), Durations.nanos(limit))) {
                Posix.closeQuietly(fd);
                throw new SocketTimeoutException("cannot connect to " + address + " within "
                        + limit + ": its listener does not accept (a Unix socket's queue of"
                        + " clients waiting for accept() is full) or does not answer");
            }
        } catch (ErrnoException e) {
            Posix.closeQuietly(fd);
            ConnectException c = new ConnectException("cannot connect to " + address + ": "
                    + e.getMessage());
            c.initCause(e);
            throw c;
        } catch (RuntimeException e) {
            Posix.closeQuietly(fd);
            throw e;
        }
        Connection connection = Connection.ofSocket(fd);
        // An empty key is a key (CPython's b''): only null skips the handshake.
        if (authKey != null) {
            // Bounded as a listener bounds its clients' (Watchdog.handshakeTimeout): a peer
            // that accepts and then says nothing must not hold this thread forever (a received
            // proxy naming such an address is read by a call like this one; attack 18c).
            Watchdog handshake = new Watchdog(connection::close,
                    "the listener at " + address + " did not complete the authentication "
                    + "handshake", () -> new IllegalStateException("the connection was closed"));
            try {
                handshake.run(limit, () -> {
                    Connections.answerChallenge(connection, authKey);
                    Connections.deliverChallenge(connection, authKey);
                    return null;
                });
            } catch (IOException | RuntimeException | Error e) {
                connection.close();
                throw e;
            }
        }
        return connection;
    }

    /**
     * Connects without authentication.
     *
     * @param address where the listener is
     * @return the connection to the listener
     * @throws ConnectException if nobody listens there (the message names the address)
     * @throws IOException if the connection fails
     */
    public static Connection connect(Address address) throws IOException {
        return connect(address, null, null);
    }

    /**
     * Connects and authenticates with {@code authKey}.
     *
     * @param address where the listener is
     * @param authKey the shared key, or {@code null} for no handshake
     * @return the connection to the listener
     * @throws ConnectException if nobody listens there (the message names the address)
     * @throws AuthenticationError if the listener has another key or answers the challenge
     *         wrongly
     * @throws SocketTimeoutException as {@link #connect(Address, Family, byte[])}: a listener
     *         that sends no challenge (one without a key) is found out only then
     * @throws IOException if the connection fails during the handshake
     */
    public static Connection connect(Address address, byte[] authKey) throws IOException {
        return connect(address, null, authKey);
    }
}
