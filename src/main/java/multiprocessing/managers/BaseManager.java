package multiprocessing.managers;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import multiprocessing.Context;
import multiprocessing.Multiprocessing;
import multiprocessing.Process;
import multiprocessing.ProcessError;
import multiprocessing.SerializableCallable;
import multiprocessing.SerializableFunction;
import multiprocessing.SerializableRunnable;
import multiprocessing.connection.Address;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Pipe;
import multiprocessing.internal.managers.Keys;
import multiprocessing.internal.managers.ManagerClient;
import multiprocessing.internal.managers.ManagerServer;
import multiprocessing.internal.managers.Messages;
import multiprocessing.internal.managers.Registration;
import multiprocessing.internal.managers.ServerTarget;
import multiprocessing.internal.managers.StandardTypes;
import multiprocessing.internal.spawn.ClassReach;
import multiprocessing.internal.spawn.ProcessAccess;

/**
 * A manager (Python's {@code multiprocessing.managers.BaseManager}): a server process that
 * holds shared objects, and proxies through which any process calls their methods.
 *
 * <p>Register types with {@link #register}, then either {@link #start()} a server process (a
 * daemon child started with the manager's context: it ends with its creator, even one killed
 * by SIGKILL, and after the creator's shutdown hooks, which may still call it; but if a
 * non-daemon child the creator's exit joins is still alive 2 s into that join, which it may be
 * waiting on the manager for, the exit shuts the manager down then, as Python's exit does
 * before it joins: a shutdown hook of the program's that still uses the manager past those 2 s,
 * beside such a child, then fails, where Python runs the program's exit handlers first), serve
 * from this
 * process ({@link #getServer()}{@code .serveForever()}), or
 * {@link #connect()} to a manager some other process serves. {@link #create} makes a shared
 * object and returns its proxy: a {@link java.lang.reflect.Proxy} implementing the registered
 * interface and {@link BaseProxy}.
 *
 * <p>The address is a {@link Address} (TCP or Unix socket; null picks a fresh Unix socket path
 * in the server process's private directory, which no other user can reach), and clients
 * authenticate with CPython's HMAC challenge under the manager's key
 * before anything they send is read. As {@link AutoCloseable}, {@link #close()} shuts a
 * started manager down.
 *
 * <p>Calls on one shared object run one at a time (as a Python server's GIL has them), so an
 * object needs no locking of its own, and its value is read whole
 * ({@link BaseProxy#getValue()}); the server runs them in the thread that reads the calling
 * connection, so a call that takes long holds up the other calls of its process on that
 * connection (a process's next calls go over another of its connections while one is busy,
 * also with a call its caller gave up, interrupted: such a call holds a thread that was
 * interrupted for up to 2 s, waiting for the server's answer, see {@link BaseProxy}). A client that dies during such a call has
 * it interrupted within a fraction of a second, so that a function that waits (a dict's
 * {@code compute} given one) does not hold its object for good. An object of a {@code java.util.concurrent} class, and the synchronization
 * types of {@link SyncManager}, are called concurrently instead, each call in a thread of its
 * own, since their blocking methods (a queue's {@code take}) must let other calls through. A
 * registered object whose methods block should therefore be such a class. An object lives while some process holds a proxy of it; a process that ends (however
 * it ends) gives back every reference it held. A proxy in a message (a queue's item, a pipe's)
 * keeps its object for the message until a receiver has it, even if its sender kept no proxy
 * of its own, or was killed right after its send (in Python such an object may be gone by
 * then): the sender has the server hold a reference for the message before it sends it, a
 * round trip. One in a message never read keeps its object until the manager shuts down.
 */
public class BaseManager implements AutoCloseable {
    /** Python waits 1 s; a loaded machine's JVM may take longer to leave, and it is cheap. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);

    private enum State { INITIAL, STARTED, SERVING, CONNECTED, SHUTDOWN }

    private final Map<String, Registration> registry = new LinkedHashMap<>();
    private final Address requested;
    private final byte[] authKey;
    private final Context context;
    private volatile Address address;
    private State state = State.INITIAL;
    private Process process;
    /** A started manager's pipe to its server process ({@link #start(SerializableRunnable)}). */
    private Pipe control;
    /** Whether {@link #start(SerializableRunnable)} waits for its server process to listen. */
    private volatile boolean starting;
    /** Set by a {@link #shutdown()} during that wait, which then gives up. */
    private volatile boolean abandoned;
    private Server server;

    /** A manager on a fresh private Unix socket path, with the process's key. */
    public BaseManager() {
        this(null, null, null);
    }

    /**
     * A manager on {@code address}, not started: {@link #start()}, {@link #getServer()} or
     * {@link #connect()} it.
     *
     * @param address where the server listens (or is served, for {@link #connect()}); null for a
     *        fresh private Unix socket path
     * @param authKey the key clients authenticate with; null for the process's
     *        {@code authKey()}
     */
    public BaseManager(Address address, byte[] authKey) {
        this(address, authKey, null);
    }

    /**
     * As {@link #BaseManager(Address, byte[])}, its server started with {@code context}.
     *
     * @param address where the server listens; null for a fresh Unix socket path in the server process's private directory
     * @param authKey the key clients authenticate with; null for the process's {@code authKey()}
     * @param context the start method of the server process, or null for the default context
     */
    public BaseManager(Address address, byte[] authKey, Context context) {
        this.requested = address;
        this.authKey = (authKey != null ? authKey
                : Multiprocessing.currentProcess().authKey()).clone();
        this.context = context;
    }

    // ------------------------------------------------------------------ registration

    /**
     * Registers {@code typeId}, made by {@code callable}, with proxies implementing
     * {@code proxyInterface}.
     *
     * @param typeId         the name {@link #create} takes
     * @param callable       makes the shared object in the server
     * @param proxyInterface the interface the proxies implement; its methods run in the server
     */
    public void register(String typeId, SerializableCallable<?> callable, Class<?> proxyInterface) {
        register(typeId, callable, proxyInterface, null, null, true);
    }

    /**
     * As {@link #register(String, SerializableCallable, Class)}, the object made from
     * {@code create}'s arguments. A constructor or method reference whose class has overloads
     * of no and of one parameter fits both forms: write a lambda for the one meant.
     *
     * @param typeId         the name {@link #create} takes
     * @param callable       makes the shared object in the server from {@code create}'s arguments
     * @param proxyInterface the interface the proxies implement; its methods run in the server
     */
    public void register(String typeId, SerializableFunction<Object[], ?> callable,
            Class<?> proxyInterface) {
        register(typeId, callable, proxyInterface, null, null, true);
    }

    /**
     * Makes {@code typeId} known without a callable: for a client of a manager served
     * elsewhere ({@link #connect()}), whose server knows how to make it.
     *
     * @param typeId         the name {@link #create} takes
     * @param proxyInterface the interface the proxies implement
     */
    public void register(String typeId, Class<?> proxyInterface) {
        add(typeId, null, proxyInterface, null, null, true);
    }

    /**
     * Python's full {@code register}.
     *
     * @param typeId         the name {@link #create} takes
     * @param callable       makes the shared object in the server
     * @param proxyInterface the interface the proxies implement; its methods run in the server
     * @param exposed the method names clients may call; null for every public method
     * @param methodToTypeId methods whose result becomes a shared object of the named type
     *        (the caller gets a proxy); null for none
     * @param createMethod false if only such a method, not {@link #create}, makes this type
     */
    public void register(String typeId, SerializableCallable<?> callable, Class<?> proxyInterface,
            List<String> exposed, Map<String, String> methodToTypeId, boolean createMethod) {
        add(typeId, callable, proxyInterface, exposed, methodToTypeId, createMethod);
    }

    /**
     * Python's full {@code register}, the object made from {@code create}'s arguments.
     *
     * @param typeId         the name {@link #create} takes
     * @param callable       makes the shared object in the server from {@code create}'s arguments
     * @param proxyInterface the interface the proxies implement; its methods run in the server
     * @param exposed the method names clients may call; null for every public method
     * @param methodToTypeId methods whose result becomes a shared object of the named type
     *        (the caller gets a proxy); null for none
     * @param createMethod false if only such a method, not {@link #create}, makes this type
     */
    public void register(String typeId, SerializableFunction<Object[], ?> callable,
            Class<?> proxyInterface, List<String> exposed, Map<String, String> methodToTypeId,
            boolean createMethod) {
        add(typeId, callable, proxyInterface, exposed, methodToTypeId, createMethod);
    }

    /**
     * Registers one of the library's own types ({@link StandardTypes}), which reaches a server
     * process as its name.
     */
    synchronized void registerStandard(Registration r) {
        if (state != State.INITIAL) {
            throw new IllegalStateException("register types before the manager starts");
        }
        registry.put(r.typeId(), r);
    }

    private synchronized void add(String typeId, Object callable, Class<?> proxyInterface,
            List<String> exposed, Map<String, String> methodToTypeId, boolean createMethod) {
        java.util.Objects.requireNonNull(typeId, "typeId");
        if (state != State.INITIAL) {
            throw new IllegalStateException("register types before the manager starts");
        }
        if (proxyInterface != null && !proxyInterface.isInterface()) {
            throw new IllegalArgumentException("a proxy type must be an interface, not "
                    + proxyInterface.getName());
        }
        if (proxyInterface != null
                && !java.lang.reflect.Modifier.isPublic(proxyInterface.getModifiers())) {
            // Other processes rebuild a proxy through the library's resolving class loader,
            // and a proxy class can implement a non-public interface only in that
            // interface's own loader.
            throw new IllegalArgumentException("a proxy interface must be public: make "
                    + proxyInterface.getName() + " public");
        }
        List<Class<?>> interfaces = new ArrayList<>();
        if (proxyInterface != null && proxyInterface != BaseProxy.class) {
            interfaces.add(proxyInterface);
        }
        interfaces.add(BaseProxy.class);
        registry.put(typeId, new Registration(typeId, callable, interfaces, exposed,
                methodToTypeId, createMethod));
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Starts the server process.
     *
     * @throws IllegalStateException if the manager was already started, served, connected or
     *         shut down
     * @throws ProcessError if the server process fails to start or to listen
     */
    public void start() {
        start(null);
    }

    /**
     * Starts the server in a daemon child process, which runs {@code initializer} first (if
     * not null), and waits until it listens.
     *
     * @param initializer what the server process runs before it serves, or null
     * @throws IllegalStateException if the manager was already started, served, connected or
     *         shut down
     * @throws ProcessError if the server process fails to start or to listen
     */
    public synchronized void start(SerializableRunnable initializer) {
        checkInitial();
        starting = true;
        try {
            startServer(initializer);
        } finally {
            starting = false;
            abandoned = false;
        }
    }

    private void startServer(SerializableRunnable initializer) {
        // A list (a map is not a payload PlainStream writes): the server process then starts
        // without building Fory when every type's callable is a plain lambda, as SyncManager's.
        List<Registration> types = List.copyOf(registry.values());
        checkReach(types, initializer);
        Address where = requested;
        byte[] key = authKey;
        // Duplex: the server reports on it where it listens, and this process later tells it
        // to shut down on it, with no connection to the socket, no handshake and no Fory.
        Pipe pipe = Pipe.open(true);
        Connection reader = pipe.left();
        Connection writer = pipe.right();
        Process p = Process.builder()
                .target(new ServerTarget(types, where, key, initializer, writer))
                .daemon(true)
                .context(context == null ? Multiprocessing.getContext() : context)
                .build();
        // Python's name, numbered as its processes are: SyncManager-1, in a child SyncManager-1:2.
        p.name(getClass().getSimpleName() + "-" + ProcessAccess.get().identity(p));
        // Not terminated by the exit handler, which runs beside the program's shutdown hooks
        // (a hook may still call the manager): as a daemon, it ends with this JVM instead;
        // unless a child the handler joins is still alive after a grace, which may be waiting
        // on this manager: then it is shut down, as Python's exit does first.
        ProcessAccess.get().outliveExitHandler(p, this::shutdown);
        Object answer = null;
        try {
            try {
                p.start();
            } catch (IllegalArgumentException unserializable) {
                throw new ProcessError("cannot start the manager's server: its registered types "
                        + "(their callables) and its initializer go to the server process, and "
                        + "one of them cannot: " + unserializable.getMessage(), unserializable);
            }
            ManagerClient.prepare(where); // while the server boots
            // The writer stays open here (a thread of the dummy context shares this very
            // object), so a server that dies before it answers is seen by polling. An
            // initializer may take as long as it likes (as in Python), but a shutdown() from
            // another thread, or an interrupt, ends the wait within a poll.
            while (!reader.poll(Duration.ofMillis(100))) {
                if (!p.isAlive()) {
                    throw new EOFException("the server process ended");
                }
                boolean interrupted = Thread.interrupted();
                if (interrupted || abandoned) {
                    p.terminate();
                    stop(p);
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                        throw new ProcessError("interrupted while the manager's server process "
                                + "started; it was stopped", new InterruptedException());
                    }
                    state = State.SHUTDOWN;
                    throw new ProcessError("the manager was shut down while its server process "
                            + "started; it was stopped");
                }
            }
            try {
                answer = ManagerServer.readReport(reader);
            } catch (IllegalStateException e) {
                stop(p);
                throw new ProcessError("the manager's server process answered its start with "
                        + "what this process cannot read: " + e.getMessage(), e);
            }
        } catch (EOFException e) {
            Integer code = p.exitCode();
            stop(p);
            throw new ProcessError("the manager's server process ended before it listened "
                    + "(exit code " + code + ")", e);
        } catch (IOException e) {
            stop(p);
            throw new UncheckedIOException(e);
        } finally {
            if (!(answer instanceof Address)) {
                writer.close();
                reader.close();
            }
        }
        if (!(answer instanceof Address listening)) {
            stop(p);
            throw answer instanceof Throwable t
                    ? new ProcessError("the manager's server failed to start: " + t, t)
                    : new ProcessError("the manager's server process answered its start with "
                            + answer + ", not an address");
        }
        process = p;
        // Both ends stay open until the shutdown: a thread of the dummy context shares the
        // server's very object.
        control = pipe;
        ready(listening, State.STARTED);
    }

    /**
     * The server process finds the classes of the registered types (and of the initializer)
     * wherever this process found them, as a process's target; a class no other process could
     * load is refused before anything starts, naming it.
     */
    private static void checkReach(Iterable<Registration> types, SerializableRunnable initializer) {
        for (Registration r : types) {
            String problem = r.reach();
            if (problem != null) {
                throw new ProcessError("cannot start the manager's server: " + problem);
            }
        }
        if (initializer != null) {
            String problem = ClassReach.unreachable(initializer.getClass());
            if (problem != null) {
                throw new ProcessError("cannot start the manager's server: its initializer: "
                        + problem);
            }
            ClassReach.note(initializer.getClass());
        }
    }

    /**
     * A server for this manager in the current process (Python's {@code get_server()}),
     * already listening; {@link Server#serveForever()} serves.
     *
     * @return the server, listening
     */
    public synchronized Server getServer() {
        checkInitial();
        try {
            server = new Server(new ManagerServer(registry, requested, authKey));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ready(server.address(), State.SERVING);
        return server;
    }

    /**
     * Connects to the manager served at the address given to the constructor, checking that
     * it is there and accepts the key.
     *
     * @throws multiprocessing.AuthenticationError if the key is wrong
     * @throws ProcessError if nobody serves there
     * @throws IllegalStateException if the manager was made without an address, or was already
     *         started, served, connected or shut down
     */
    public synchronized void connect() {
        if (requested == null) {
            throw new IllegalStateException("connect() needs the address of a manager");
        }
        checkInitial();
        ManagerClient client = ManagerClient.of(requested);
        client.reopen();
        client.checkKey(authKey);
        byte[] previous = Keys.remembered(requested);
        Keys.remember(requested, authKey);
        Address served;
        try {
            served = (Address) call(client, Messages.PING, null);
        } catch (RuntimeException | Error e) {
            Keys.restore(requested, previous);
            throw e;
        }
        // Its proxies name the address it listens on, which may differ from the one used here
        // ("localhost", or 0.0.0.0 for every interface): they use the same key.
        Keys.remember(served, authKey);
        ManagerClient.of(served).reopen();
        ready(requested, State.CONNECTED);
    }

    private void ready(Address where, State s) {
        address = where;
        Keys.remember(where, authKey);
        if (s == State.CONNECTED) {
            ManagerClient.of(where).reopen();
        } else {
            ManagerClient.of(where).startedAnew();
        }
        state = s;
    }

    private void checkInitial() {
        if (state != State.INITIAL) {
            throw new IllegalStateException("the manager was already "
                    + state.name().toLowerCase() + (state == State.SHUTDOWN ? "" : ": " + address));
        }
    }

    /**
     * Shuts a started or served manager down: its objects go, and every proxy of it, in any
     * process, throws from then on. Of a connected manager, only this object stops working
     * (the server goes on). A second call does nothing.
     */
    public void shutdown() {
        if (starting) {
            abandoned = true; // start() holds the lock while it waits: it stops at its next look
        }
        synchronized (this) {
            shutdownStarted();
        }
    }

    private void shutdownStarted() {
        State was = state;
        if (was == State.INITIAL || was == State.SHUTDOWN) {
            return;
        }
        state = State.SHUTDOWN;
        if (was == State.CONNECTED) {
            return;
        }
        ManagerClient client = ManagerClient.of(address);
        if (was == State.SERVING) {
            server.shutdown();
        } else {
            try {
                control.left().sendBytes(ManagerServer.SHUT_DOWN);
            } catch (IOException | RuntimeException alreadyGone) {
                // It died or stopped already; the process is stopped below either way.
            }
            stop(process);
            control.close();
            removeSocketFile(address);
        }
        client.shutDown("the manager at " + address + " has been shut down");
    }

    /** Python's {@code _finalize_manager}: join, then terminate, then kill. */
    private static void stop(Process p) {
        try {
            p.join(STOP_WAIT);
            if (p.isAlive()) {
                p.terminate();
                p.join(STOP_WAIT);
            }
            if (p.isAlive()) {
                p.kill();
                p.join();
            }
            // Not closed: its exit code stays readable through process(), as a Python
            // manager's (review 55); its descriptor goes with the object.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A server that had to be terminated (or died) left its Unix socket file: with its
     * process gone, the file is nobody's.
     */
    private static void removeSocketFile(Address a) {
        if (a.family() == multiprocessing.connection.Family.AF_UNIX && !a.isAbstract()) {
            try {
                java.nio.file.Path p = java.nio.file.Path.of(a.path());
                if (!java.nio.file.Files.isRegularFile(p) && !java.nio.file.Files.isDirectory(p)) {
                    java.nio.file.Files.deleteIfExists(p);
                }
            } catch (IOException | RuntimeException ignored) {
                // best effort: someone else may own the path by now
            }
        }
    }

    /** {@link #shutdown()}. */
    @Override
    public void close() {
        shutdown();
    }

    /** {@return the server's address: the real port or socket name once started} */
    public Address address() {
        Address a = address;
        return a != null ? a : requested;
    }

    /**
     * {@return the server process of a started manager (null otherwise); after
     * {@link #shutdown()} it has ended, and its {@code exitCode()} says how (0, or -15 if it had
     * to be terminated)}
     */
    public synchronized Process process() {
        return process;
    }

    // ------------------------------------------------------------------ objects

    /**
     * Makes a shared object of {@code typeId} in the server, from {@code args}, and returns a
     * proxy of it implementing the registered interface and {@link BaseProxy}.
     *
     * @param <T>    the registered proxy interface
     * @param typeId the registered name of the type
     * @param args   the arguments its callable is given
     * @return a proxy of the new object
     * @throws IllegalArgumentException if the server does not know {@code typeId}
     * @throws IllegalStateException if the manager is not running
     */
    @SuppressWarnings("unchecked")
    public <T> T create(String typeId, Object... args) {
        java.util.Objects.requireNonNull(typeId, "typeId");
        return (T) call(ManagerClient.of(running()), Messages.CREATE, typeId, args);
    }

    /**
     * {@return how many shared objects the server holds now (Python's {@code _number_of_objects}):
     * an object goes when no process holds a proxy of it any more; one whose proxy was stored in
     * another shared object (a dict, a list) and taken out of it there goes once the server's
     * garbage collector has found that proxy, which may be later}
     */
    public int numberOfObjects() {
        return (Integer) call(ManagerClient.of(running()), Messages.COUNT, null);
    }

    private synchronized Address running() {
        if (state == State.INITIAL || state == State.SHUTDOWN) {
            throw new IllegalStateException("the manager is " + (state == State.INITIAL
                    ? "not started (start() or connect() it first)" : "shut down"));
        }
        return address;
    }

    private static Object call(ManagerClient client, int op, String typeId, Object... args) {
        try {
            return client.call(op, null, typeId, null, args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new ProcessError(t.toString(), t);
        }
    }

    @Override
    public String toString() {
        return "<" + getClass().getSimpleName() + " " + state.name().toLowerCase() + " "
                + address() + ">";
    }
}
