package multiprocessing.connection;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.net.BindException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.posix.SocketAddr;
import multiprocessing.internal.posix.Sockets;
import multiprocessing.internal.util.TempDir;
import multiprocessing.internal.util.Watchdog;

/**
 * A bound, listening socket that hands out a {@link Connection} per client (Python's
 * {@code multiprocessing.connection.Listener}). Clients connect with
 * {@link Client#connect(Address, Family, byte[])}.
 *
 * <p>With an authentication key, {@link #accept()} runs CPython's HMAC handshake on each new
 * connection ({@link Connections#deliverChallenge} then {@link Connections#answerChallenge})
 * before returning it. A client that fails it, sends garbage or closes early makes that
 * {@code accept()} throw after closing the client's connection; the listener itself stays
 * usable. A client that connects and stays silent cannot hold {@code accept()} forever: the
 * handshake must finish within 20 seconds (the system property
 * {@code multiprocessing.connection.handshakeTimeoutMillis} changes this; 0 disables it), or
 * {@code accept()} throws {@link SocketTimeoutException}.
 *
 * <p>Several threads may call {@code accept()} at once. {@link #close()} from another thread
 * makes every {@code accept()} in progress, and every later one, throw
 * {@link IllegalStateException} promptly. Closing a listener bound to a Unix socket path
 * removes the socket file, as Python does; an abstract name needs no removal.
 *
 * <p>On a Unix socket only processes of this user are served: {@code accept()} asks the kernel
 * who the peer is (SO_PEERCRED) and refuses another uid with {@link AuthenticationError}, before
 * any handshake; the listener goes on. With no address, a listener binds a fresh path in this
 * process's private directory (mode 0700, removed at exit), as Python 3.12 does.
 */
public final class Listener implements AutoCloseable {
    /** CPython's default: only one client waits in the kernel queue before accept(). */
    private static final int DEFAULT_BACKLOG = 1;
    private static final Cleaner CLEANER = Cleaner.create();

    private final Family family;
    private final Address address;
    private final byte[] authKey;
    private final Resources resources;
    private final Cleaner.Cleanable cleanable;
    private final Set<Watchdog> handshakes = ConcurrentHashMap.newKeySet();
    private volatile Address lastAccepted;
    private volatile Duration handshakeTimeout = Watchdog.handshakeTimeout();

    /** Guards {@link #closed} and {@link #users}. */
    private final Object state = new Object();
    private boolean closed;
    /**
     * Threads inside poll/accept on the listening socket, or waiting on it in
     * {@link Connections#await}: its descriptor stays open for them.
     */
    private int users;

    /**
     * The descriptors, closed by {@link #close()} or, for a listener nobody closed, when it is
     * collected.
     */
    private static final class Resources implements Runnable {
        final int listenFd;
        final int wakeRead;
        final int wakeWrite;
        final Path unlink;

        Resources(int listenFd, int wakeRead, int wakeWrite, Path unlink) {
            this.listenFd = listenFd;
            this.wakeRead = wakeRead;
            this.wakeWrite = wakeWrite;
            this.unlink = unlink;
        }

        @Override
        public void run() {
            Posix.closeQuietly(listenFd);
            Posix.closeQuietly(wakeRead);
            Posix.closeQuietly(wakeWrite);
            if (unlink != null) {
                try {
                    Files.deleteIfExists(unlink);
                } catch (IOException ignored) {
                    // Someone else removed or replaced it: nothing of ours is left to clean.
                }
            }
        }
    }

    /**
     * Binds a socket to {@code address} and listens.
     *
     * @param address where to listen; {@code null} picks a fresh address of {@code family}:
     *        a new socket path in this process's private directory (the default family), or
     *        {@code 127.0.0.1} with a free port
     * @param family the socket family, or {@code null} to take the address's
     * @param backlog how many clients may wait to be accepted (Python's default is 1)
     * @param authKey the key of the HMAC handshake, or {@code null} for none (an empty key
     *        still runs the handshake, as CPython does with {@code b''})
     * @throws IllegalArgumentException if {@code family} does not match the address
     * @throws BindException if the address is in use or cannot be bound (the message names it)
     * @throws IOException if the socket cannot be created
     */
    public Listener(Address address, Family family, int backlog, byte[] authKey)
            throws IOException {
        if (address == null) {
            address = family == Family.AF_INET ? Address.inet("127.0.0.1", 0) : arbitraryUnix();
        }
        if (family != null && family != address.family()) {
            throw new IllegalArgumentException("family " + family + " does not match the "
                    + address.family() + " address " + address);
        }
        this.family = address.family();
        this.authKey = authKey == null ? null : authKey.clone();
        int af = this.family == Family.AF_INET ? Sockets.AF_INET : Sockets.AF_UNIX;
        int fd = Sockets.socket(af, true);
        int[] wake;
        Address bound;
        boolean isBound = false;
        try {
            try {
                Sockets.bindAndListen(fd, address.toSocketAddr(), Math.max(0, backlog));
            } catch (ErrnoException e) {
                BindException b = new BindException("cannot listen on " + address + ": "
                        + e.getMessage());
                b.initCause(e);
                throw b;
            }
            isBound = true;
            bound = Address.of(Sockets.localAddress(fd, af));
            // Non-blocking so that close() never waits for a reader that is not there.
            wake = Posix.pipe(Posix.O_CLOEXEC | Posix.O_NONBLOCK);
        } catch (IOException | RuntimeException e) {
            Posix.closeQuietly(fd);
            // A path we bound is ours to remove; one we failed to bind belongs to someone else.
            if (isBound && this.family == Family.AF_UNIX && !address.isAbstract()) {
                deleteQuietly(Path.of(address.path()));
            }
            throw e;
        }
        this.address = bound == null ? address : bound;
        Path unlink = this.family == Family.AF_UNIX && !address.isAbstract()
                ? Path.of(address.path()) : null;
        this.resources = new Resources(fd, wake[0], wake[1], unlink);
        this.cleanable = CLEANER.register(this, resources);
    }

    /**
     * A listener on a fresh private Unix socket path (Python's {@code Listener()}), no key.
     *
     * @throws IOException if the socket cannot be made or bound
     */
    public Listener() throws IOException {
        this(null, null, DEFAULT_BACKLOG, null);
    }

    /**
     * A listener on {@code address} (a fresh private Unix socket path when null), backlog 1,
     * without authentication.
     *
     * @param address where to listen, or null for a fresh private Unix socket path
     * @throws IOException if the socket cannot be made or bound
     */
    public Listener(Address address) throws IOException {
        this(address, null, DEFAULT_BACKLOG, null);
    }

    /**
     * A listener on {@code address}, backlog 1, authenticating clients with {@code authKey}.
     *
     * @param address where to listen, or null for a fresh private Unix socket path
     * @param authKey the key clients must prove they share, or null for no handshake
     * @throws IOException if the socket cannot be made or bound
     */
    public Listener(Address address, byte[] authKey) throws IOException {
        this(address, null, DEFAULT_BACKLOG, authKey);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort on a failure path
        }
    }

    /**
     * Python's arbitrary_address for AF_UNIX (3.12+, gh-97514): a fresh path in this process's
     * private 0700 directory, which no other user can reach. (An abstract name, which Python
     * used before, has no permissions at all.)
     */
    private static Address arbitraryUnix() {
        return Address.unix(TempDir.newSocketPath("listener-").toString());
    }

    /** How long a new client may take over the handshake; null for no limit. For tests. */
    void handshakeTimeout(Duration timeout) {
        this.handshakeTimeout = timeout;
    }

    /**
     * Waits for a client and returns a connection to it, after the HMAC handshake if this
     * listener has a key.
     *
     * @return the connection to the client
     * @throws IllegalStateException if the listener is closed, before or during the call
     * @throws AuthenticationError if the client fails the handshake, or is a process of another
     *         user on a Unix socket (its connection is closed)
     * @throws SocketTimeoutException if the client does not finish the handshake in time
     * @throws IOException if accepting fails, or the client breaks the protocol or hangs up
     *         during the handshake
     */
    public Connection accept() throws IOException {
        Connection connection = Connection.ofSocket(acceptSocket());
        // Only null means no key: CPython runs the challenge with b'' too, and a Python client
        // with authkey=b'' waits for it.
        if (authKey == null) {
            return connection;
        }
        try {
            handshake(connection);
            return connection;
        } catch (IOException | RuntimeException | Error e) {
            connection.close();
            throw e;
        }
    }

    private int acceptSocket() throws IOException {
        synchronized (state) {
            if (closed) {
                throw closedException();
            }
            users++;
        }
        try {
            int[] fds = {resources.listenFd, resources.wakeRead};
            short[] events = {(short) Posix.POLLIN, (short) Posix.POLLIN};
            SocketAddr[] peer = new SocketAddr[1];
            int af = family == Family.AF_INET ? Sockets.AF_INET : Sockets.AF_UNIX;
            while (true) {
                short[] revents = Parker.awaitFds(fds, events, -1, false);
                if (revents[1] != 0 || isClosed()) {
                    throw closedException();
                }
                if (revents[0] == 0) {
                    continue;
                }
                int fd;
                try {
                    fd = Sockets.accept(resources.listenFd, p -> peer[0] = p, af);
                } catch (ErrnoException e) {
                    // The client gave up between poll and accept: wait for the next one.
                    if (e.errnoName().equals("ECONNABORTED") || e.errnoName().equals("EPROTO")) {
                        continue;
                    }
                    throw e;
                }
                if (fd < 0) {
                    // Another thread took the client.
                    continue;
                }
                if (af == Sockets.AF_UNIX) {
                    refuseOtherUsers(fd);
                }
                lastAccepted = Address.of(peer[0]);
                return fd;
            }
        } finally {
            synchronized (state) {
                users--;
                state.notifyAll();
            }
        }
    }

    /**
     * Closes {@code fd} and throws unless its peer runs as this user: an abstract name or a
     * socket file someone made reachable lets any local user connect, and with no key (or a
     * key that leaked) such a peer would be served as one of the program's own processes.
     */
    private static void refuseOtherUsers(int fd) throws IOException {
        int peer;
        try {
            peer = Sockets.peerUid(fd);
        } catch (ErrnoException e) {
            Posix.closeQuietly(fd);
            throw e;
        }
        int self = Posix.geteuid();
        if (peer != self) {
            Posix.closeQuietly(fd);
            throw new AuthenticationError("refused a connection from a process of uid " + peer
                    + ": this listener serves only its own user's processes (uid " + self + ")");
        }
    }

    private void handshake(Connection connection) throws IOException {
        Watchdog watchdog = new Watchdog(connection::close,
                "the client did not complete the authentication handshake",
                Listener::closedException);
        handshakes.add(watchdog);
        try {
            if (isClosed()) {
                watchdog.fire(Watchdog.CLOSED);
            }
            watchdog.run(handshakeTimeout, () -> {
                Connections.deliverChallenge(connection, authKey);
                Connections.answerChallenge(connection, authKey);
                return null;
            });
        } finally {
            handshakes.remove(watchdog);
        }
    }

    boolean isClosed() {
        synchronized (state) {
            return closed;
        }
    }

    /**
     * Counts a {@link Connections#await} in, as an accept is counted (the listening descriptor
     * stays open until {@link #leaveWait}): the listening descriptor and the wake pipe's reading
     * end, which a close makes readable.
     *
     * @throws IllegalStateException if the listener is closed
     */
    int[] enterWait() {
        synchronized (state) {
            if (closed) {
                throw closedException();
            }
            users++;
            return new int[] {resources.listenFd, resources.wakeRead};
        }
    }

    /** Ends what {@link #enterWait} began. */
    void leaveWait() {
        synchronized (state) {
            users--;
            state.notifyAll();
        }
    }

    private static IllegalStateException closedException() {
        return new IllegalStateException("the listener is closed");
    }

    /**
     * {@return the address this listener is bound to: for AF_INET the real port when 0 was asked
     * for}
     */
    public Address address() {
        return address;
    }

    /**
     * {@return the address of the last client accepted, or {@code null} if none yet or if it has no
     * address (a Unix socket client is normally unnamed; Python reports an empty string)}
     */
    public Address lastAccepted() {
        return lastAccepted;
    }

    /** {@return the socket family} */
    public Family family() {
        return family;
    }

    /**
     * The listening socket's descriptor, readable when a client waits to be accepted.
     *
     * @return the descriptor
     * @throws IllegalStateException if the listener is closed
     */
    public int fileno() {
        synchronized (state) {
            if (closed) {
                throw closedException();
            }
            return resources.listenFd;
        }
    }

    /**
     * Closes the listening socket, wakes every thread in {@link #accept()} (they throw
     * {@link IllegalStateException}, handshakes in progress included) and every
     * {@link Connections#await} watching it (which returns it as ready), and removes the socket
     * file of a Unix path. Connections already accepted stay open. A second call does nothing.
     */
    @Override
    public void close() {
        synchronized (state) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            // One byte stays in the pipe: every poll from now on sees it.
            Posix.write(resources.wakeWrite, arena.allocate(1), 1);
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot wake the listener's threads", e);
        }
        for (Watchdog w : handshakes) {
            w.fire(Watchdog.CLOSED);
        }
        boolean interrupted = false;
        synchronized (state) {
            // The accepting threads leave at once: their poll includes the wake pipe.
            while (users > 0) {
                try {
                    state.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        cleanable.clean();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Python's repr, with the address. */
    @Override
    public String toString() {
        return "<Listener " + family + " " + address + (isClosed() ? " closed" : "") + ">";
    }
}
