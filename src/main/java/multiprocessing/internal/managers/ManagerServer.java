package multiprocessing.internal.managers;

import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import multiprocessing.AuthenticationError;
import multiprocessing.ProcessError;
import multiprocessing.connection.Address;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Connections;
import multiprocessing.connection.Listener;
import multiprocessing.internal.managers.Messages.Hello;
import multiprocessing.internal.managers.Messages.Request;
import multiprocessing.internal.managers.Messages.Response;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.spawn.ChildMain;
import multiprocessing.internal.util.HandshakeSlots;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.util.Watchdog;
import multiprocessing.internal.util.LibraryLog;

/**
 * A manager's server (Python's {@code managers.Server}): a listener, the shared objects, and
 * the calls clients make on them.
 *
 * <p>Implementation note. Each accepted connection has a reader thread. A call on an object
 * called one call at a time, and the bookkeeping requests, run in that thread (so a round
 * trip has no thread hand-off on this side, and the thread waits for the next request as a
 * {@link Link} does, spinning briefly, yielding, before it sleeps); the others (calls on
 * {@link Concurrent} objects, creation) each run in a virtual thread of its own, so
 * that calls that block (a lock's acquire, a queue's get) wait without holding up the
 * connection or each other. A client on this machine sends its calls over rings in shared
 * memory that it offers in its hello ({@link RingLink}). An object is called one call at
 * a time under a lock of its own unless it is {@link Concurrent} (see {@link ObjectTable});
 * its result is serialized while that lock is still held, so a dict's snapshot is taken whole.
 * Nothing a client sends is deserialized before the challenge has passed. The challenge runs
 * on the connection's own thread, not in the loop that accepts: a stranger that connects to a
 * manager's port and never answers holds back nobody else (it is let go after the handshake
 * timeout, {@link Watchdog#handshakeTimeout}), and at most {@value HandshakeSlots#MAX}
 * connections wait for their handshake at once: one more pushes the oldest out (closes it)
 * once that one has had 5 seconds to answer, and waits for a place until then
 * ({@link HandshakeSlots}), so a flood costs a bounded number of threads, and a client gets
 * through unless strangers keep more connections open than the places and the backlog hold. A
 * client whose connections all end (it exited, or was killed mid-call) has its references
 * released and its calls in progress interrupted (an inline one by {@link #watchCalls}, as the
 * thread that would see the end runs it), and the locks it held given to their next acquirers
 * with {@link multiprocessing.synchronize.OwnerDeadException} ({@link Holdings}); the server
 * goes on serving the others. A client's cancel (its caller was interrupted) stops a call run
 * in a thread of its own the same way, and is answered at once: stopped, or ended already, its
 * reply then sent ahead of the answer (see {@link ManagerClient}'s interrupts). Object ids
 * begin with a tag of the server's ({@link ObjectTable}), so that a proxy made by an earlier
 * server at the same address is refused, not served another object.
 */
public final class ManagerServer {
    /** What a manager's creator sends its server process to shut it down. */
    public static final byte[] SHUT_DOWN = {'S'};

    private static final Map<Address, ManagerServer> RUNNING = new ConcurrentHashMap<>();
    /**
     * While a reply is written: the server writing it and the client it goes to, which then
     * holds the proxies of that server's objects in it.
     */
    private static final ThreadLocal<Reply> WRITING_FOR = new ThreadLocal<>();

    private record Reply(ManagerServer server, Session session) {}
    /** Proxies of new objects made by the request this thread runs, released after it. */
    private static final ThreadLocal<List<Object>> MADE = ThreadLocal.withInitial(ArrayList::new);
    /** The references counted for the receiver of the reply this thread writes (see handle). */
    private static final ThreadLocal<List<String>> COUNTED_FOR_REPLY =
            ThreadLocal.withInitial(ArrayList::new);
    /** While a registered type's callable runs: the server it makes an object for. */
    private static final ThreadLocal<ManagerServer> MAKING = new ThreadLocal<>();
    private static final int BACKLOG = 16;

    private final Map<String, Registration> registry;
    private final Listener listener;
    private final byte[] authKey;
    /** The handshakes of connections accepted and not yet authenticated, the oldest first. */
    private final HandshakeSlots handshakes = new HandshakeSlots();
    private final Address address;
    private final ObjectTable table = new ObjectTable();
    private final Map<String, Session> sessions = new HashMap<>();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    /** The links of the connections served, closed at shutdown (a ring's wait ends at once). */
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Session local = new Session(ObjectTable.LOCAL);
    /** What to tell of the shutdown, kept even when its object's references are all gone. */
    private final Set<OnServerShutdown> hooks = ConcurrentHashMap.newKeySet();
    /** Counted down when {@link #serveForever} has ended, its shutdown hooks run. */
    private final CountDownLatch served = new CountDownLatch(1);
    private volatile boolean stopping;
    /** The segments a SharedMemoryManager's clients made through this server; null until then. */
    private SegmentTracker segments;

    /**
     * The segment tracker of the server whose registered type is being made on this thread:
     * one per server, shared by all its clients (two SharedMemoryManagers served in one JVM
     * shared one, and the first shut down unlinked the other's segments: review 51).
     */
    static SegmentTracker makingSegments() {
        ManagerServer server = MAKING.get();
        if (server == null) {
            throw new IllegalStateException("a SharedMemoryTracker is made only by a manager's"
                    + " server, for a SharedMemoryManager");
        }
        synchronized (server) {
            if (server.segments == null) {
                server.segments = new SegmentTracker();
            }
            return server.segments;
        }
    }

    /** Connections served now, which {@link #watchCalls} looks at. */
    private final Set<Served> watched = ConcurrentHashMap.newKeySet();
    private Thread watcher;

    /** A client process: its connections and the calls running for them. */
    private static final class Session {
        final String clientId;
        final Holdings holdings;
        int connections;
        /** Its last connection ended and its references were released: it counts no more. */
        boolean left;

        Session(String clientId) {
            this.clientId = clientId;
            this.holdings = new Holdings(clientId);
        }
    }

    /**
     * Binds the listener now (so {@link #address()} is real), guarded by {@code authKey}.
     *
     * @param address where to listen; null for a fresh path in this process's private
     *     directory
     */
    public ManagerServer(Map<String, Registration> registry, Address address, byte[] authKey)
            throws IOException {
        this.registry = Map.copyOf(registry);
        // No key here: the handshake runs on each connection's thread (see the class comment).
        this.listener = new Listener(address, null, BACKLOG, null);
        this.authKey = authKey == null ? null : authKey.clone();
        this.address = listener.address();
        RUNNING.put(this.address, this);
    }

    public Address address() {
        return address;
    }

    /** The running server of this JVM at {@code address}, or null. */
    static ManagerServer running(Address address) {
        ManagerServer s = RUNNING.get(address);
        return s == null || s.stopping ? null : s;
    }

    /**
     * The body of a manager's server process: runs {@code initializer}, listens, reports the
     * address (or why it could not) on its pipe to its creator, and serves until the creator
     * says {@link #SHUT_DOWN} on that pipe or closes it.
     */
    public static void serveInChild(List<Registration> registry, Address address,
            byte[] authKey, multiprocessing.SerializableRunnable initializer, Connection creator)
            throws IOException {
        ManagerServer server;
        try {
            if (initializer != null) {
                initializer.run();
            }
            Map<String, Registration> types = new HashMap<>();
            for (Registration r : registry) {
                types.put(r.typeId(), r);
            }
            server = new ManagerServer(types, address, authKey);
        } catch (Throwable t) {
            try {
                report(creator, t);
            } catch (RuntimeException | IOException notSent) {
                report(creator, new ProcessError(t.toString()));
            }
            creator.close();
            return;
        }
        // Left running by its creator's exit handler (BaseManager), it ends when the creator is
        // gone: as a shutdown would, it first gives back what it holds (a SharedMemoryManager's
        // segments), within a bound.
        ChildMain.whenParentGone(new ShutDownWhenParentGone(server));
        report(creator, server.address());
        // The creator says shut down on the same pipe; its end's closing (the creator gone)
        // means the same.
        LibraryThreads.platform().daemon().name("multiprocessing-manager-creator")
                .start(new ShutDownWhenCreatorSays(server, creator));
        // A start whose types' callables are plain read nothing that needs Fory; a client's
        // first message may: built now, while that client connects. Not in a JVM whose cache
        // has no Fory, mapped because the start needed none: a server of plain calls never
        // builds it, and one that must reads it from the jar once (this key's later servers
        // then map the full cache; AotCache.Kind).
        if (!ChildMain.mapsCacheWithoutFory()) {
            Serialization.buildInBackground();
        }
        if (server.address().family() == multiprocessing.connection.Family.AF_UNIX) {
            RingLink.warmUpInBackground(); // while the first client connects
        }
        server.serveForever();
    }

    /*
     * The two bodies below are classes, not lambdas, so that the channels cache's trainer,
     * which serves a manager in its own process, can load them (Workout): a lambda it never
     * ran is spun in every server, at its start.
     */

    /** Shuts a server down as its parent goes, giving back what it holds within a bound. */
    static final class ShutDownWhenParentGone implements Runnable {
        private final ManagerServer server;

        ShutDownWhenParentGone(ManagerServer server) {
            this.server = server;
        }

        @Override
        public void run() {
            server.shutdown();
            server.awaitServed(Duration.ofSeconds(5));
        }
    }

    /** Shuts a server down when its creator says so on their pipe, or closes it. */
    static final class ShutDownWhenCreatorSays implements Runnable {
        private final ManagerServer server;
        private final Connection creator;

        ShutDownWhenCreatorSays(ManagerServer server, Connection creator) {
            this.server = server;
            this.creator = creator;
        }

        @Override
        public void run() {
            try {
                creator.recvBytes();
            } catch (IOException | RuntimeException closed) {
                // The creator closed its end or is gone.
            }
            server.shutdown();
        }
    }

    /**
     * Tells the creator where this server listens, or why it does not, as a payload is
     * written: an address then goes without Fory, which this process has not built yet.
     */
    private static void report(Connection report, Object answer) throws IOException {
        report.sendBytes(Serialization.serializeForStart(answer,
                Handles.refusing("a manager's report carries no descriptor")));
    }

    /** Reads what {@link #serveInChild} reported: the server's address or a Throwable. */
    public static Object readReport(Connection report) throws IOException {
        return Serialization.deserializeAtStart(report.recvBytes(),
                Handles.received(new int[0]));
    }

    /** Accepts and serves clients until {@link #shutdown()}. */
    public void serveForever() {
        long lastPushWarning = System.nanoTime() - 1_000_000_000L;
        int pushedOut = 0;
        try {
            while (!stopping) {
                try {
                    handshakes.awaitPlace();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                Connection c;
                try {
                    c = listener.accept();
                } catch (IllegalStateException closed) {
                    break;
                } catch (AuthenticationError e) {
                    LibraryLog.get().log(Level.WARNING, "a client of the manager at " + address
                            + " failed authentication: " + e.getMessage());
                    continue;
                } catch (IOException e) {
                    LibraryLog.get().log(Level.DEBUG,
                            "a client of the manager at " + address + " was lost "
                            + "before it was served: " + e);
                    continue;
                }
                connections.add(c);
                Watchdog handshake = authKey == null ? null : new Watchdog(c::close,
                        "the client did not complete the authentication handshake",
                        () -> new IllegalStateException("the manager is shutting down"));
                if (handshake != null && handshakes.admit(handshake)) {
                    pushedOut++;
                    long now = System.nanoTime();
                    // Once a second at most: a flood must not flood the log as well.
                    if (now - lastPushWarning >= 1_000_000_000L) {
                        LibraryLog.get().log(Level.WARNING, "the manager at " + address
                                + " had " + HandshakeSlots.MAX + " connections waiting"
                                + " for their handshake: " + pushedOut + " of the oldest"
                                + " closed since the last such warning");
                        lastPushWarning = now;
                        pushedOut = 0;
                    }
                }
                LibraryThreads.platform().daemon().name("multiprocessing-manager-connection")
                        .start(() -> {
                            if (authenticate(c, handshake)) {
                                serve(c);
                            }
                        });
            }
        } finally {
            shutdown();
            for (Link l : links) {
                l.close();
            }
            for (Connection c : connections) {
                c.close();
            }
            for (OnServerShutdown s : hooks) {
                    try {
                        s.serverShutdown();
                    } catch (RuntimeException e) {
                        LibraryLog.get().log(Level.WARNING, "at the manager's shutdown: " + e);
                    }
            }
            served.countDown();
        }
    }

    /** Waits up to {@code timeout} for {@link #serveForever} to end; false if it has not. */
    boolean awaitServed(Duration timeout) {
        try {
            return served.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Runs the challenge both ways on a new connection (CPython's Listener.accept does it
     * before it returns one), within the handshake timeout; false, with the connection closed,
     * if it failed.
     */
    private boolean authenticate(Connection c, Watchdog handshake) {
        if (handshake == null) {
            return true;
        }
        try {
            if (stopping) {
                handshake.fire(Watchdog.CLOSED);
            }
            handshake.run(Watchdog.handshakeTimeout(), () -> {
                Connections.deliverChallenge(c, authKey);
                Connections.answerChallenge(c, authKey);
                return null;
            });
            return true;
        } catch (AuthenticationError e) {
            LibraryLog.get().log(Level.WARNING, "a client of the manager at " + address
                    + " failed authentication: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            LibraryLog.get().log(Level.DEBUG, "a client of the manager at " + address + " was lost "
                    + "before it was served: " + e);
        } finally {
            handshakes.remove(handshake);
        }
        connections.remove(c);
        c.close();
        return false;
    }

    /** Stops accepting; {@link #serveForever()} returns. */
    public void shutdown() {
        stopping = true;
        handshakes.close();
        RUNNING.remove(address, this);
        listener.close();
        Thread w;
        synchronized (watched) {
            w = watcher;
        }
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    // ------------------------------------------------------------------ one connection

    /** A call running in a thread of its own, which a cancel or the connection's end stops. */
    private record Running(Thread thread, Caller caller) {
        void stop() {
            caller.abandon();
            thread.interrupt();
        }
    }

    /**
     * A connection being served: its link, the thread that reads it and runs its inline calls,
     * the inline call it runs now, and the calls running in threads of their own.
     */
    private static final class Served {
        final Link link;
        final Thread reader = Thread.currentThread();
        /** The call {@link #reader} runs, or null: {@link #watchCalls} looks at it. */
        volatile Caller inline;
        final Map<Long, Running> calls = new ConcurrentHashMap<>();

        Served(Link link) {
            this.link = link;
        }
    }

    /**
     * Serves the requests of {@code session}'s client over {@code s}'s link until it ends (a
     * throw): inline ones here, the others each in a virtual thread listed in its calls while
     * it runs, so that a cancel can stop it.
     */
    private void serveCalls(Served s, Session session) throws IOException {
        while (true) {
            Request r = (Request) s.link.receive(-1);
            if (r.op() == Messages.CANCEL) {
                // A call's thread sends its reply before it leaves calls: one not found here
                // has sent it, ahead of this answer.
                Running running = s.calls.get(Long.parseLong(r.target()));
                if (running != null) {
                    running.stop();
                }
                s.link.send(new Response(r.id(), true, running != null ? STOPPED : ENDED, null));
                continue;
            }
            Caller caller = new Caller(session.clientId + ":" + r.thread(), s.link,
                    session.holdings);
            if (inline(r)) {
                s.inline = caller;
                try {
                    handle(session, s.link, r, caller);
                } finally {
                    s.inline = null;
                }
                continue;
            }
            Thread t = Thread.ofVirtual().name("multiprocessing-manager-call").unstarted(() -> {
                try {
                    handle(session, s.link, r, caller);
                } finally {
                    s.calls.remove(r.id());
                }
            });
            s.calls.put(r.id(), new Running(t, caller));
            t.start();
        }
    }

    /** A cancel's answers: the call was stopped, or had ended already. */
    private static final byte[] STOPPED = Serialization.serialize(true);
    private static final byte[] ENDED = Serialization.serialize(false);

    private static final long WATCH_MILLIS = 250;

    /**
     * Stops the inline calls of clients that are gone. A connection's own thread runs its
     * inline calls, so it learns that the client went only when the call returns; a call that
     * does not (a dict's {@code compute} whose function waits for something that will not come,
     * the client killed meanwhile) would keep its object's lock, and every other client of the
     * object waiting, for good. So every {@value #WATCH_MILLIS} ms, while connections are
     * served, this looks at the inline calls that have run that long, and stops (interrupts)
     * those whose client has hung up. A call that ignores interrupts still runs on.
     */
    private void watchCalls() {
        while (!stopping) {
            if (watched.isEmpty()) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, WATCH_MILLIS * 1_000_000L);
            }
            long now = System.nanoTime();
            for (Served s : watched) {
                Caller c = s.inline;
                if (c != null && !c.marked() && now - c.since >= WATCH_MILLIS * 1_000_000L
                        && s.link.peerGone()) {
                    c.abandon();
                    if (s.inline == c) {
                        s.reader.interrupt();
                    }
                }
            }
        }
    }

    /** Lists {@code s} for {@link #watchCalls}, starting its thread at the first. */
    private void watch(Served s) {
        Thread w;
        synchronized (watched) {
            watched.add(s);
            w = watcher;
            if (w == null) {
                watcher = w = LibraryThreads.platform().daemon()
                        .name("multiprocessing-manager-watcher").start(this::watchCalls);
            }
        }
        LockSupport.unpark(w);
    }

    private void serve(Connection c) {
        Session session = null;
        Served s = null;
        Link link = new SocketLink(c);
        try {
            Object first = c.recv();
            if (!(first instanceof Hello hello)) {
                throw new IOException("a manager's client must say hello first, not " + first);
            }
            link = link(c, hello);
            links.add(link);
            if (stopping) {
                link.close(); // closed by the shutdown before it was listed
            }
            session = join(hello.clientId());
            s = new Served(link);
            watch(s);
            serveCalls(s, session);
        } catch (EOFException | IllegalStateException e) {
            // The client went, or the server is stopping.
        } catch (Throwable e) {
            if (!stopping) {
                LibraryLog.get().log(Level.DEBUG,
                        "a connection of the manager at " + address + " failed: " + e);
            }
        } finally {
            connections.remove(c);
            links.remove(link);
            try {
                link.close();
            } catch (RuntimeException | Error e) {
                // A client's memory gone bad under the link: it still leaves below.
                c.close();
            }
            if (s != null) {
                watched.remove(s);
                // Nobody reads their replies now: stopped, and marked so (a condition's wait
                // then leaves its lock free rather than take it for a caller that is gone).
                for (Running r : s.calls.values()) {
                    r.stop();
                }
            }
            if (session != null) {
                leave(session);
            }
        }
    }

    /**
     * Answers a client's hello: its calls come over the rings it offers when they can be
     * mapped here ({@link RingLink}), else over the connection.
     */
    private Link link(Connection c, Hello hello) throws IOException {
        Link link = new SocketLink(c);
        if (hello.ringsFd() >= 0) {
            try {
                link = RingLink.accept(c, hello.ringsFd(), hello.ringsBytes());
            } catch (ErrnoException | RuntimeException e) {
                LibraryLog.get().log(Level.DEBUG, "the manager at " + address + " cannot map a"
                        + " client's rings (its calls go over the socket): " + e);
            }
        }
        try {
            c.send(link instanceof RingLink);
        } catch (IOException | RuntimeException e) {
            link.close(); // the rings mapped here go with it
            throw e;
        }
        return link;
    }

    /**
     * Whether {@code r} runs in the connection's own thread rather than a thread of its own:
     * a call on an object called one call at a time (whose methods do not block, see {@link
     * multiprocessing.managers.BaseManager}) and the bookkeeping requests. Starting a thread per call would put a
     * thread hand-off, a wake-up of tens of microseconds across CPUs, in every round trip.
     */
    private boolean inline(Request r) {
        return switch (r.op()) {
            case Messages.CALL -> {
                ObjectTable.Entry e = table.find(r.target());
                yield e == null || !e.concurrent();
            }
            case Messages.INCREF, Messages.DECREF, Messages.PING, Messages.COUNT,
                    Messages.GIVE, Messages.TAKE, Messages.DROP -> true;
            default -> false;
        };
    }

    private Session join(String clientId) {
        synchronized (sessions) {
            Session s = sessions.computeIfAbsent(clientId, Session::new);
            s.connections++;
            return s;
        }
    }

    private void leave(Session s) {
        synchronized (sessions) {
            if (--s.connections > 0) {
                return;
            }
            sessions.remove(s.clientId);
            s.left = true;
            // Before a new connection of the same client can join and count references under
            // its id, which a release after would take too (review 51).
            table.releaseAll(s.clientId);
        }
        s.holdings.close();
    }

    private void handle(Session s, Link c, Request r, Caller caller) {
        Response response;
        List<String> counted = COUNTED_FOR_REPLY.get();
        counted.clear();
        caller.enter();
        try {
            Object[] args = (Object[]) Serialization.deserialize(r.args());
            response = new Response(r.id(), true, run(s, r.op(), r.target(), r.method(),
                    r.paramTypes(), args), null);
        } catch (Throwable t) {
            // What was counted for a reply that now carries an exception instead (a call
            // stopped by its caller's cancel as its result was written) goes back.
            giveBack(counted, s);
            response = errorOrPlain(r.id(), t);
        } finally {
            Caller.clear();
        }
        // The call is done: its reply goes out even if a cancel interrupted it just now.
        boolean interrupted = Thread.interrupted();
        try {
            c.send(response);
        } catch (RuntimeException e) {
            if (!c.peerGone()) {
                // The proxies in the reply that never left were counted for its reader:
                // given back (review 52: held until that client exited).
                giveBack(counted, s);
                cannotReply(c, r.id(), e);
            }
        } catch (IOException | InternalError e) {
            // The client is gone, or shrank its rings' memory (InternalError: a page of it is
            // gone); its references go with its connections.
            if (!c.peerGone()) {
                giveBack(counted, s);
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            counted.clear();
            releaseMade();
        }
    }

    /** Gives back what was counted for {@code s}'s reader in a reply it will not get. */
    private void giveBack(List<String> counted, Session s) {
        for (String id : counted) {
            table.decref(id, s.clientId);
        }
        counted.clear();
    }

    /**
     * A reply that could not be written, to a client still there (its large message found no
     * room in /dev/shm, or no descriptor was left): the caller gets an error saying why, or, if
     * even that cannot be sent, the end of the connection. Dropped, its caller waited for good
     * (review 51).
     */
    private void cannotReply(Link c, long id, RuntimeException why) {
        try {
            c.send(errorOrPlain(id, new ProcessError("the manager's server could not send its"
                    + " reply: " + why.getMessage(), why)));
        } catch (IOException | RuntimeException | InternalError e) {
            c.close();
        }
    }

    /** Runs one request; returns its serialized result. */
    private byte[] run(Session s, int op, String target, String method, String[] types,
            Object[] args) throws Throwable {
        if (stopping) {
            throw new IllegalStateException("the manager at " + address + " is shutting down");
        }
        return switch (op) {
            case Messages.CALL -> call(s, table.get(target), method, types, args);
            case Messages.CREATE -> {
                Registration reg = registration(method);
                if (!reg.createMethod()) {
                    throw new IllegalArgumentException("type '" + method + "' was registered "
                            + "with createMethod false: only a method's result can make one");
                }
                Object made;
                MAKING.set(this);
                try {
                    made = reg.make(args);
                } finally {
                    MAKING.remove();
                }
                yield serializeFor(s, share(reg, made));
            }
            case Messages.INCREF -> {
                table.incref(target, s.clientId);
                yield serializeFor(s, null);
            }
            case Messages.DECREF -> {
                table.decref(target, s.clientId);
                yield serializeFor(s, null);
            }
            case Messages.GIVE -> {
                table.give(target, method);
                yield serializeFor(s, null);
            }
            case Messages.TAKE -> {
                table.take(target, method, s.clientId);
                yield serializeFor(s, null);
            }
            case Messages.DROP -> {
                table.drop(target, method);
                yield serializeFor(s, null);
            }
            // Its own address, as the tokens of its objects name it.
            case Messages.PING -> serializeFor(s, address);
            case Messages.COUNT -> serializeFor(s, table.size());
            default -> throw new IllegalArgumentException("unknown manager request " + op);
        };
    }

    private Registration registration(String typeId) {
        Registration reg = registry.get(typeId);
        if (reg == null) {
            throw new IllegalArgumentException("type '" + typeId + "' is not registered with "
                    + "the manager at " + address + " (registered: " + new TreeSet<>(
                            registry.keySet()) + ")");
        }
        return reg;
    }

    private byte[] call(Session s, ObjectTable.Entry e, String method, String[] types,
            Object[] args) throws Throwable {
        if (!method.equals(ProxyHandler.GET_VALUE) && !e.exposed().contains(method)) {
            throw new IllegalArgumentException("method '" + method + "' of shared object type '"
                    + e.registration().typeId() + "' is not exposed (exposed: " + e.exposed()
                    + ")");
        }
        if (e.concurrent()) {
            return callAndSerialize(s, e, method, types, args);
        }
        // Interruptibly: a call of a client that is gone, waiting behind a call that does not
        // return, is stopped too (watchCalls).
        e.lock().lockInterruptibly();
        try {
            return callAndSerialize(s, e, method, types, args);
        } finally {
            e.lock().unlock();
        }
    }

    private byte[] callAndSerialize(Session s, ObjectTable.Entry e, String method,
            String[] types, Object[] args) throws Throwable {
        // The server's list never leaves as itself (a callMethod("clone") returned it too).
        Object result = ServerList.plain(method.equals(ProxyHandler.GET_VALUE) ? e.object()
                : Methods.invoke(e.object(), method, types, args));
        String typeId = e.registration().methodToTypeId().get(method);
        if (typeId != null && result != null) {
            result = share(registration(typeId), result);
        } else if (result instanceof java.util.Map.Entry<?, ?> entry
                && (entry.getClass().getClassLoader() == null
                        || entry.getClass().getClassLoader()
                                == ClassLoader.getPlatformClassLoader())) {
            // The JDK's own entries include internal classes no process may be sent
            // (LinkedHashMap.pollFirstEntry's NullableKeyValueHolder): as a plain entry, or
            // a poll would remove it here and fail to hand it over (attack 44).
            result = new java.util.AbstractMap.SimpleImmutableEntry<>(entry);
        }
        return serializeFor(s, result);
    }

    /** Makes {@code object} a shared object; returns a proxy of it (this server's own). */
    private Object share(Registration reg, Object object) {
        if (object instanceof OnServerShutdown hook) {
            hooks.add(hook);
        }
        Object proxy = ProxyHandler.local(this, table.add(object, reg));
        MADE.get().add(proxy);
        return proxy;
    }

    /**
     * Gives back the references the request's new objects were made with: by now the reply
     * that carries them counted a reference for its receiver (or an object nobody got goes).
     */
    private static void releaseMade() {
        List<Object> made = MADE.get();
        for (Object proxy : made) {
            ProxyHandler.release(proxy);
        }
        made.clear();
    }

    private byte[] serializeFor(Session s, Object value) {
        WRITING_FOR.set(new Reply(this, s));
        try {
            return Serialization.serialize(value);
        } finally {
            WRITING_FOR.remove();
        }
    }

    /**
     * A proxy of {@code address}'s object {@code id} is being written in a reply: its
     * receiver holds a reference from now on (see {@link ProxyHandler}); false if this is no
     * reply of that object's own server to another process. A proxy of another manager's
     * object in a reply (a server of this JVM holding a proxy of another server of this JVM)
     * goes the way of any message's, by a transfer: counted here in its server's books under
     * the replying server's client, it was counted again by the receiver, and never given
     * back (review 57).
     */
    static boolean countForReceiver(Address address, String id) {
        Reply reply = WRITING_FOR.get();
        ManagerServer server = RUNNING.get(address);
        Session s = reply == null ? null : reply.session();
        if (s != null && server != null && reply.server() == server && s != server.local) {
            synchronized (server.sessions) {
                // A call that ends after its client's last connection did (a slow create of a
                // client killed meanwhile) counts nothing for it: nobody would release it
                // (review 51). Its reply goes nowhere.
                if (!s.left) {
                    server.table.incref(id, s.clientId);
                    COUNTED_FOR_REPLY.get().add(id);
                }
            }
            return true;
        }
        return false;
    }

    /** In the server's JVM: {@link ObjectTable#give}, {@link ObjectTable#take}, drop. */
    void give(String id, String transfer) {
        table.give(id, transfer);
    }

    void take(String id, String transfer, String holder) {
        table.take(id, transfer, holder);
    }

    void drop(String id, String transfer) {
        table.drop(id, transfer);
    }

    /**
     * {@link #error}, or if even that fails (a StackOverflowError whose own serialization
     * overflows, no memory) a plain one: every request gets its reply, or its caller waits for
     * good (attack 44: a call on a collection that held itself never returned).
     */
    private Response errorOrPlain(long id, Throwable t) {
        try {
            return error(id, t);
        } catch (Throwable worse) {
            return new Response(id, false, PLAIN_FAILURE, "in the manager's server at " + address
                    + ": " + t.getClass().getName() + " (not sendable: " + worse.getClass()
                            .getName() + ")");
        }
    }

    /** The failure sent when the call's own cannot be (see {@link #errorOrPlain}). */
    private static final byte[] PLAIN_FAILURE = Serialization.serialize(
            new ProcessError("the call failed in the manager's server, with an error that "
                    + "could not be sent (its traceback says which)"));

    private Response error(long id, Throwable t) {
        StringWriter w = new StringWriter();
        w.write("in the manager's server at " + address + " (pid " + ProcessHandle.current().pid()
                + "):\n");
        t.printStackTrace(new PrintWriter(w));
        byte[] payload;
        try {
            payload = Serialization.serialize(t);
        } catch (RuntimeException notSerializable) {
            payload = Serialization.serialize(new ProcessError(t.toString()));
        }
        return new Response(id, false, payload, w.toString());
    }

    // ------------------------------------------------------------------ in the server's JVM

    void incref(String id, String holder) {
        table.incref(id, holder);
    }

    void decref(String id, String holder) {
        table.decref(id, holder);
    }

    Object object(String id) {
        return table.get(id).object();
    }

    /** A call from a proxy in this JVM: the same path, with copies as a client would get. */
    Object callLocal(String id, String method, String[] types, Object[] args) throws Throwable {
        if (stopping) {
            throw new IllegalStateException("the manager at " + address + " has shut down");
        }
        new Caller(ObjectTable.LOCAL + ":" + Thread.currentThread().threadId(), null, null)
                .enter();
        try {
            return Serialization.deserialize(call(local, table.get(id), method, types, args));
        } finally {
            Caller.clear();
            releaseMade();
        }
    }
}
