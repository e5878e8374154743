package multiprocessing.connection;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.net.BindException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;

import multiprocessing.AuthenticationError;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.util.Cleaning;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.posix.SocketAddr;
import multiprocessing.internal.posix.Sockets;
import multiprocessing.internal.util.HandshakeSlots;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.TempDir;
import multiprocessing.internal.util.Watchdog;

/**
 * A bound, listening socket that hands out a {@link Connection} per client (Python's
 * {@code multiprocessing.connection.Listener}). Clients connect with
 * {@link Client#connect(Address, Family, byte[])}.
 *
 * <p>With an authentication key, {@link #accept()} runs CPython's HMAC handshake on each new
 * connection ({@link Connections#deliverChallenge} then {@link Connections#answerChallenge})
 * before returning it. A client that fails it, sends garbage or closes early makes an
 * {@code accept()} throw after closing the client's connection; the listener itself stays
 * usable. A client that connects and stays silent is let go after 20 seconds (the system
 * property {@code multiprocessing.connection.handshakeTimeoutMillis} changes this; 0 disables
 * it), and an {@code accept()} throws {@link SocketTimeoutException} for it.
 *
 * <p>Beyond CPython, whose {@code accept()} shakes hands with one client at a time (a peer
 * that connects and says nothing holds every other client back), the handshakes run side by
 * side: while an {@code accept()} is in progress each client that connects is challenged at
 * once, on a thread of its own, and {@code accept()} returns the first to pass, or throws for
 * the first to fail. A handshake that ends after its {@code accept()} has returned is kept
 * for the next one. At most 64 handshakes are under way at once: one more closes the oldest
 * once that one has had 5 seconds to answer, and waits for a place until then (in the kernel's
 * queue of the socket), so that strangers cost a bounded number of threads and a slow client
 * is not cut off by the clients that come after it.
 *
 * <p>Several threads may call {@code accept()} at once. {@link #close()} from another thread
 * makes every {@code accept()} in progress, and every later one, throw
 * {@link IllegalStateException} promptly; that is the way to end one, as
 * {@link Thread#interrupt()} does not. Closing a listener bound to a Unix socket path
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

    private final Family family;
    private final Address address;
    private final byte[] authKey;
    private final Resources resources;
    private final Cleaner.Cleanable cleanable;
    /** The handshakes under way, the oldest first. */
    private final HandshakeSlots handshakes = new HandshakeSlots();
    private volatile Address lastAccepted;
    private volatile Duration handshakeTimeout = Watchdog.handshakeTimeout();

    /** Guards {@link #closed}, {@link #users} and {@link #outcomes}. */
    private final Object state = new Object();
    private boolean closed;
    /**
     * Handshakes ended and not yet handed out by an {@code accept()}. The wake pipe holds a
     * byte for each (written and read under {@link #state} with the queue), and one more once
     * the listener is closed: so a thread polling it wakes for either.
     */
    private final ArrayDeque<Outcome> outcomes = new ArrayDeque<>();
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
                BOUND.remove(unlink);
                deleteSocketFile(unlink);
            }
        }
    }

    private static void deleteSocketFile(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // Someone else removed or replaced it: nothing of ours is left to clean.
        }
    }

    /**
     * The socket files of this process's listeners still open, removed as it exits, as
     * CPython's exit finalizer removes them: a listener never closed (an exception out of
     * main, System.exit) left its file, and the program's next run could not bind the path
     * (review 47). A Cleaner does not run at exit.
     */
    private static final java.util.Set<Path> BOUND = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static void removeAtExit(Path path) {
        if (BOUND.add(path) && BOUND_HOOK.compareAndSet(false, true)) {
            multiprocessing.internal.util.AtExit.register(
                    multiprocessing.internal.util.AtExit.Stage.RELEASE,
                    () -> BOUND.forEach(Listener::deleteSocketFile));
        }
    }

    private static final java.util.concurrent.atomic.AtomicBoolean BOUND_HOOK =
            new java.util.concurrent.atomic.AtomicBoolean();

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
        this.cleanable = Cleaning.register(this, resources);
        if (unlink != null) {
            removeAtExit(unlink);
        }
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
     * @throws AuthenticationError if a client fails the handshake, or is a process of another
     *         user on a Unix socket (its connection is closed)
     * @throws SocketTimeoutException if a client does not finish the handshake in time
     * @throws IOException if accepting fails, or a client breaks the protocol or hangs up
     *         during the handshake
     */
    public Connection accept() throws IOException {
        synchronized (state) {
            if (closed) {
                throw closedException();
            }
            users++;
        }
        try {
            while (true) {
                Outcome ended = takeOutcome();
                if (ended != null) {
                    return ended.handOut(this);
                }
                long full = authKey == null ? 0 : handshakes.admitIn();
                if (full > 0) {
                    // Every place taken by a handshake younger than its due: wait for one to
                    // end (its outcome wakes the pipe), or to be due.
                    Parker.awaitFds(new int[] {resources.wakeRead},
                            new short[] {(short) Posix.POLLIN}, full, false);
                    continue;
                }
                SocketAddr[] peer = new SocketAddr[1];
                int fd = acceptSocket(peer);
                if (fd < 0) {
                    continue; // a handshake ended: hand it out
                }
                Connection connection = Connection.ofSocket(fd);
                Address from;
                try {
                    from = Address.of(peer[0]);
                } catch (RuntimeException | Error e) {
                    connection.close();
                    throw e;
                }
                // Only null means no key: CPython runs the challenge with b'' too, and a Python
                // client with authkey=b'' waits for it.
                if (authKey == null) {
                    lastAccepted = from;
                    return connection;
                }
                startHandshake(connection, from);
            }
        } finally {
            synchronized (state) {
                users--;
                state.notifyAll();
            }
        }
    }

    /**
     * Accepts a client's socket; -1 when the wake pipe has something instead (an ended
     * handshake, which another thread may take first).
     *
     * @throws IllegalStateException if the listener is closed meanwhile
     */
    private int acceptSocket(SocketAddr[] peer) throws IOException {
        int[] fds = {resources.listenFd, resources.wakeRead};
        short[] events = {(short) Posix.POLLIN, (short) Posix.POLLIN};
        int af = family == Family.AF_INET ? Sockets.AF_INET : Sockets.AF_UNIX;
        while (true) {
            short[] revents = Parker.awaitFds(fds, events, -1, false);
            if (isClosed()) {
                throw closedException();
            }
            if (revents[1] != 0) {
                return -1;
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
            return fd;
        }
    }

    /** An ended handshake, taken with its byte of the wake pipe; null if none. */
    private Outcome takeOutcome() throws ErrnoException {
        synchronized (state) {
            if (closed) {
                throw closedException();
            }
            Outcome o = outcomes.poll();
            if (o != null) {
                try (var arena = java.lang.foreign.Arena.ofConfined()) {
                    Posix.read(resources.wakeRead, arena.allocate(1), 1);
                }
            }
            return o;
        }
    }

    /** Keeps an ended handshake for an {@code accept()}; closes its connection once closed. */
    private void offer(Outcome o) {
        synchronized (state) {
            if (!closed) {
                try (var arena = java.lang.foreign.Arena.ofConfined()) {
                    // A byte per handshake under way at most, and the close's: never full.
                    Posix.write(resources.wakeWrite, arena.allocate(1), 1);
                    outcomes.add(o);
                    return;
                } catch (ErrnoException e) {
                    o = new Outcome(null, o.peer(), new IOException(
                            "cannot hand a connection to accept(): " + e.getMessage(), e));
                }
            }
        }
        if (o.connection() != null) {
            o.connection().close();
        }
    }

    /** Challenges a new client on a thread of its own; closes the oldest if too many wait. */
    private void startHandshake(Connection connection, Address from) {
        Watchdog watchdog = new Watchdog(connection::close,
                "the client did not complete the authentication handshake",
                Listener::closedException);
        handshakes.admit(watchdog);
        try {
            LibraryThreads.platform().daemon().name("multiprocessing-listener-handshake")
                    .start(new Handshake(connection, from, watchdog));
        } catch (RuntimeException | Error e) {
            handshakes.remove(watchdog);
            connection.close();
            throw e;
        }
    }

    /** One client's handshake, on its own thread; its outcome goes to {@link #offer}. */
    private final class Handshake implements Runnable {
        private final Connection connection;
        private final Address from;
        private final Watchdog watchdog;

        Handshake(Connection connection, Address from, Watchdog watchdog) {
            this.connection = connection;
            this.from = from;
            this.watchdog = watchdog;
        }

        @Override
        public void run() {
            Throwable failure = null;
            try {
                if (isClosed()) {
                    watchdog.fire(Watchdog.CLOSED);
                }
                watchdog.run(handshakeTimeout, () -> {
                    Connections.deliverChallenge(connection, authKey);
                    Connections.answerChallenge(connection, authKey);
                    return null;
                });
            } catch (IOException | RuntimeException | Error e) {
                failure = e;
                connection.close();
            } finally {
                handshakes.remove(watchdog);
            }
            offer(new Outcome(failure == null ? connection : null, from, failure));
        }
    }

    /** A handshake's end: the authenticated connection, or what the client did wrong. */
    private record Outcome(Connection connection, Address peer, Throwable failure) {
        Connection handOut(Listener listener) throws IOException {
            if (failure == null) {
                listener.lastAccepted = peer;
                return connection;
            }
            // The failure's stack is the handshake thread's; the caller's is what a reader of
            // the trace looks for first.
            failure.addSuppressed(new Throwable("handed to this accept() call; the handshake"
                    + " failed on a thread of the listener (the trace above)"));
            if (failure instanceof IOException e) {
                throw e;
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            throw (Error) failure;
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
     * The listening socket's descriptor, readable when a client waits to be accepted. With a
     * key, a client whose handshake ended after the {@code accept()} that began it had returned
     * waits for the next {@code accept()} without making this readable:
     * {@link Connections#await} sees it, a poll of this descriptor alone does not.
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
        handshakes.close();
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
            // Clients that passed after the last accept(): nobody will take them now.
            for (Outcome o : outcomes) {
                if (o.connection() != null) {
                    o.connection().close();
                }
            }
            outcomes.clear();
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
