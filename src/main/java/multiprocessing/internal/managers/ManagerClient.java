package multiprocessing.internal.managers;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import multiprocessing.ProcessError;
import multiprocessing.RemoteTraceback;
import multiprocessing.connection.Address;
import multiprocessing.connection.Client;
import multiprocessing.connection.Connection;
import multiprocessing.connection.Family;
import multiprocessing.internal.events.ManagerCallEvent;
import multiprocessing.internal.events.Recorder;
import multiprocessing.internal.managers.Messages.Hello;
import multiprocessing.internal.managers.Messages.Request;
import multiprocessing.internal.managers.Messages.Response;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.AtExit;
import multiprocessing.internal.util.LibraryLog;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.synchronize.OwnerDeadException;

/**
 * This process's connections to one manager, shared by all its proxies and threads.
 *
 * <p>Implementation note. Python gives each thread its own connection, and a call holds it
 * until the reply. Here a process opens at most a few connections to a manager
 * ({@code -Dmultiprocessing.managers.connections}, 2 by default) and many calls travel over
 * each at once: a request carries an id, and each reply is handed to the caller waiting for
 * that id. So a thread blocked in {@code queue.get()} holds no connection, and the thread that
 * will put the item is not kept waiting for one. A new connection is opened only while every
 * open one has a call in flight. When a connection ends (the server shut down or died) every
 * call in flight on it fails at once; the next call tries to connect again, which fails at
 * once if nobody listens there. Over a Unix socket (a manager on this machine, the default) a
 * connection's calls and replies travel over rings in shared memory beside it ({@link
 * RingLink}): a round trip with no system call while calls come back to back.
 *
 * <p>Replies are read by the callers themselves, one at a time per connection (leader and
 * followers): a caller whose reply has not come takes the reading turn if nobody holds it,
 * reads replies (handing each other one to its caller) until its own comes, then wakes a
 * caller still waiting to take the turn. A lone caller thus reads its own reply, with no
 * thread in between: a thread hand-off costs a wake-up, tens of microseconds when the two
 * threads sit on different CPUs, more than the rest of the round trip. The reader waits in
 * slices ({@link Link#receive}, which spins briefly first, yielding), so a caller interrupted
 * while it reads still gives up its call. Virtual threads do
 * not take the turn (a virtual thread blocked in a native read holds its carrier, and a few
 * such callers blocked in {@code queue.get()} could hold every carrier the putter needs): a
 * platform thread of the connection reads for them instead.
 *
 * <p>Interrupts ({@link #cancel}). A caller interrupted while it waits sends a cancel naming
 * its call, which the server stops if it is still running, and waits for whichever comes first,
 * the call's reply or the server's answer to the cancel (at most 2 s, then 250 ms for a stopped
 * call's reply): a call that completed meanwhile returns its result, so an item taken or a lock
 * granted is not lost. If neither comes in time, the caller gives up: the call stays pending,
 * marked abandoned, until its reply comes (read by the connection's helper thread), and its
 * connection counts as stalled meanwhile: the last choice for a new call, and not counted
 * against the limit of connections (up to twice it), since the server may still be running the
 * call on that connection's own thread. A reply that comes just as its caller gives up goes to
 * whichever of the two claims the call first ({@code Call.claim}): what a reply the caller lost
 * hands over ({@link Grant}: a lock or a permit, a queue's item) is given back, by a release in
 * the caller's name or by putting the item back at the queue's head.
 *
 * <p>The connections stay open until the process ends: a shutdown hook may still call the
 * manager (a child that reports its last state as it exits), and the kernel's close of the
 * descriptors tells the server the process is gone. They were once closed by an exit hook of
 * the library's, which ran beside the program's hooks and failed their calls; a reader still
 * blocked at exit does not hold the exit up (bench/RESULTS.md, twelfth session).
 */
public final class ManagerClient {
    private static final int MAX_CONNECTIONS =
            Math.max(1, Integer.getInteger("multiprocessing.managers.connections", 2));
    private static final Map<Address, ManagerClient> CLIENTS = new ConcurrentHashMap<>();
    /** While a reply is read: proxies of this address in it were counted by the server. */
    private static final ThreadLocal<Address> COUNTED = new ThreadLocal<>();
    /** Whether the current thread is one that gives references back (see {@link #decrefs}). */
    private static final ThreadLocal<Boolean> ON_DECREF_THREAD = new ThreadLocal<>();

    private static final byte[] NO_ARGS = Serialization.serialize(new Object[0]);

    private final Address address;
    /**
     * The thread that gives references back and makes the other bookkeeping calls, in order;
     * one per manager, ended when idle: a manager that stops answering (a network partition,
     * a connection busy with a long call) holds up its own bookkeeping, not every manager's
     * (review 51: one thread served them all, and each proxy sent in a message then cost its
     * sender 5 s).
     */
    private final java.util.concurrent.ThreadPoolExecutor decrefs;
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    private final AtomicLong ids = new AtomicLong();
    private volatile String shutDown;

    private ManagerClient(Address address) {
        this.address = address;
        this.decrefs = new java.util.concurrent.ThreadPoolExecutor(1, 1, 5,
                java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = LibraryThreads.unstarted("multiprocessing-manager-decref", () -> {
                        ON_DECREF_THREAD.set(Boolean.TRUE);
                        r.run();
                    });
                    t.setDaemon(true);
                    return t;
                });
        this.decrefs.allowCoreThreadTimeOut(true);
    }

    /** The connections of this process to the manager at {@code address}. */
    public static ManagerClient of(Address address) {
        return CLIENTS.computeIfAbsent(address, ManagerClient::new);
    }

    static boolean counted(Address address) {
        return address.equals(COUNTED.get());
    }

    /**
     * Makes every later call fail at once with {@code reason} (the manager was shut down from
     * this process), and closes the connections.
     */
    public void shutDown(String reason) {
        shutDown = reason;
        for (Channel c : channels) {
            c.fail(new IllegalStateException(reason));
        }
    }

    /** Lets calls go to a manager started anew at this address. */
    public void reopen() {
        shutDown = null;
    }

    /**
     * A server was just started at this address by this process, so a connection still open
     * to it is to one that ended before (an address is bound by one server at a time): closed
     * now, rather than fail the next call.
     */
    public void startedAnew() {
        reopen();
        for (Channel c : channels) {
            c.fail(new EOFException("a new server was started at " + address));
        }
    }

    /**
     * Readies this process for its first calls to a manager on this machine, in the background
     * ({@link RingLink#warmUpInBackground}): its creator calls this while the server boots.
     */
    public static void prepare(Address address) {
        if (address == null || address.family() == Family.AF_UNIX) {
            RingLink.warmUpInBackground();
        }
    }

    /** How many connections this process has open to the manager (for tests). */
    public int connectionCount() {
        return channels.size();
    }

    /** How each open connection carries its calls: "rings" or "socket" (for tests). */
    public List<String> transports() {
        return channels.stream().map(c -> c.link instanceof RingLink ? "rings" : "socket").toList();
    }

    /** Sends {@code op} and waits for its reply; rethrows the server's exception. */
    public Object call(int op, String target, String method, String[] types, Object[] args)
            throws Throwable {
        return call(op, op == Messages.CREATE ? method : null, target, method, types, args);
    }

    /**
     * As {@link #call(int, String, String, String[], Object[])}, on an object of type
     * {@code typeId}: each call is a Flight Recorder ManagerCall event, which names the type.
     */
    public Object call(int op, String typeId, String target, String method, String[] types,
            Object[] args) throws Throwable {
        if (!Recorder.inUse()) {
            // no event class loaded: Recorder
            return exchange(op, target, method, types, args, Grant.of(op, typeId, target, method));
        }
        ManagerCallEvent event = ManagerCallEvent.calling();
        Throwable thrown = null;
        try {
            return exchange(op, target, method, types, args, Grant.of(op, typeId, target, method));
        } catch (Throwable t) {
            thrown = t;
            throw t;
        } finally {
            event.finish(address, Messages.name(op), typeId,
                    op == Messages.CREATE ? null : method, target, thrown);
        }
    }

    private Object exchange(int op, String target, String method, String[] types, Object[] args,
            Grant grant) throws Throwable {
        String reason = shutDown;
        if (reason != null) {
            throw new IllegalStateException(reason);
        }
        byte[] argBytes;
        multiprocessing.internal.reduction.Handles handles =
                multiprocessing.internal.reduction.Handles.refusing(
                        "a manager's connection cannot carry descriptors");
        try {
            argBytes = Serialization.serialize(args, handles);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the arguments of " + method + " must go to the "
                    + "manager's server process, where the shared object lives, so they must be "
                    + "serializable (a lambda: of a Serializable functional interface, such as "
                    + "the proxy interface's own overloads): " + e.getMessage(), e);
        }
        Response r;
        try {
            r = roundTrip(op, target, method, types, argBytes, grant);
        } catch (NotSent notSent) {
            // What the arguments' proxies were given for the request goes back (review 52:
            // their objects stayed in the server until it shut down).
            handles.unsent();
            throw new ProcessError(notSent.getMessage(), notSent.getCause());
        } catch (ConnectionEnded ended) {
            // A ping is the one call that may go again: its connection ended before it came
            // (the server at this address was started again since this process last called
            // it), and connect() must find the new one (attack 34).
            if (op != Messages.PING || shutDown != null) {
                throw ended;
            }
            r = roundTrip(op, target, method, types, argBytes, null);
        }
        Object value;
        COUNTED.set(address);
        try {
            value = Serialization.deserialize(r.payload());
        } catch (IllegalStateException unreadable) {
            if (r.ok()) {
                throw unreadable;
            }
            // An exception of a class this process lacks: its text still tells what happened.
            ProcessError e = new ProcessError("the manager's server raised an exception this "
                    + "process cannot rebuild (" + unreadable.getMessage() + ")", unreadable);
            e.addSuppressed(new RemoteTraceback(r.traceback()));
            throw e;
        } finally {
            COUNTED.remove();
        }
        if (r.ok()) {
            return value;
        }
        Throwable t = (Throwable) value;
        if (r.traceback() != null) {
            t.addSuppressed(new RemoteTraceback(r.traceback()));
        }
        if (t instanceof InterruptedException && Thread.currentThread().isInterrupted()) {
            throw interrupted(method, t); // the cancel of an interrupted caller ended it
        }
        throw t;
    }

    /** Sends a request over a connection and waits for its reply. */
    private Response roundTrip(int op, String target, String method, String[] types,
            byte[] argBytes, Grant grant) throws Throwable {
        return roundTrip(op, target, method, types, argBytes, grant,
                Thread.currentThread().threadId());
    }

    /** As above, in the name of thread {@code thread} of this process. */
    private Response roundTrip(int op, String target, String method, String[] types,
            byte[] argBytes, Grant grant, long thread) throws Throwable {
        Channel channel = channel();
        long id = ids.incrementAndGet();
        Call call = new Call(Thread.currentThread());
        call.grant = grant;
        channel.pending.put(id, call);
        if (channel.broken) {
            channel.fail(new EOFException("connection closed"));
        }
        try {
            channel.link.send(new Request(id, thread, op, target,
                    method, types, argBytes));
        } catch (IOException e) {
            channel.fail(e);
        } catch (RuntimeException e) {
            if (channel.link.peerGone()) {
                channel.fail(e);
            } else {
                // Not written (a large request found no room in /dev/shm): this call fails,
                // and the connection, the other calls on it and what this process holds stay
                // (review 51: it ended the connection, and a last one took the process's
                // locks and references with it).
                channel.pending.remove(id);
                throw new NotSent("the request to the manager at " + address + " ("
                        + method + ") could not be sent: " + e.getMessage(), e);
            }
        }
        try {
            return channel.await(call, Long.MAX_VALUE, null);
        } catch (InterruptedException e) {
            Response late = cancel(channel, id, call);
            Thread.currentThread().interrupt();
            if (late != null) {
                return late; // the call's own outcome: see exchange for one the cancel ended
            }
            throw interrupted(method, e);
        }
    }

    /** A request that was not written: nothing of it reached the server. */
    private static final class NotSent extends ProcessError {
        private static final long serialVersionUID = 1L;

        NotSent(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private ProcessError interrupted(String method, Throwable cause) {
        return new ProcessError("interrupted while waiting for the manager at " + address
                + " (" + method + ")", cause);
    }

    /**
     * How long an interrupted caller waits for the server's answer to its cancel, which comes
     * at once unless the server is stalled, or its thread for the connection is busy with a
     * long call of the kind it runs itself. Read at each cancel (a rare path), so that tests
     * of stalled servers can shorten it with {@value #CANCEL_ANSWER_PROPERTY} for a while.
     */
    private static final long CANCEL_ANSWER_MILLIS = 2_000;
    static final String CANCEL_ANSWER_PROPERTY = "multiprocessing.managers.testCancelAnswerMillis";

    private static long cancelAnswerNanos() {
        return TimeUnit.MILLISECONDS.toNanos(
                Long.getLong(CANCEL_ANSWER_PROPERTY, CANCEL_ANSWER_MILLIS));
    }
    /** How long a parked caller goes before it looks at the turn again by itself. */
    private static final long LOOK_AGAIN_NANOS = Duration.ofMillis(250).toNanos();
    /** How long it then waits for a call that was stopped to heed the interrupt and reply. */
    private static final long CANCEL_GRACE_NANOS = Duration.ofMillis(250).toNanos();

    /**
     * Gives up call {@code id}, whose caller was interrupted: the server interrupts the call
     * too, so a queue's get gives up instead of taking an item nobody will receive. But the
     * call may have completed before the cancel reached it (the item taken, a lock granted),
     * its reply on the way: thrown away, that reply would lose the item, or leave a lock held
     * by a caller told it did not get it (attack 37; attack 38 with a server stalled 400 ms).
     * So the caller waits for the reply, or for the server's answer to the cancel: the call's
     * reply comes ahead of that answer if the call had ended, and soon after it if the call
     * heeds the interrupt. Returns the reply, or null if none came in time (a stalled server,
     * a call that ignores interrupts): then the reply is dropped when it comes, and what it
     * grants given back ({@link Grant}).
     */
    private Response cancel(Channel channel, long id, Call call) {
        long cancelId = ids.incrementAndGet();
        Call answer = new Call(Thread.currentThread());
        channel.pending.put(cancelId, answer);
        try {
            channel.link.send(new Request(cancelId, Thread.currentThread().threadId(),
                    Messages.CANCEL, Long.toString(id), null, null, NO_ARGS));
        } catch (IOException | RuntimeException gone) {
            // The connection is gone, and the call with it.
            channel.pending.remove(cancelId);
        }
        Response late = null;
        try {
            late = channel.await(call, System.nanoTime() + cancelAnswerNanos(), answer);
            if (late == null && answer.done()) {
                late = channel.await(call, System.nanoTime() + CANCEL_GRACE_NANOS, null);
            }
        } catch (Throwable ended) {
            // Its connection ended: no reply will come.
        }
        if (late == null && !call.claim()) {
            // Its reply came as this caller gave up: it is this caller's, and in a moment
            // handed over (the reader claimed it, then completes the call). Without the claim,
            // a queue's item in a reply that came just then was dropped (review B5).
            while (!call.done()) {
                Thread.onSpinWait();
            }
            late = call.response;
        }
        if (late == null) {
            channel.abandon(id);
        }
        if (!answer.done()) {
            // Not awaited: its answer, when it comes, is dropped. Left pending only while the
            // call itself is, so as not to mark the connection stalled for nothing.
            if (late != null) {
                channel.pending.remove(cancelId);
            } else {
                channel.abandon(cancelId);
            }
        }
        return late;
    }

    /** Whether the exit waits for the gives queued before it (registered once). */
    private static final AtomicBoolean DRAIN_AT_EXIT = new AtomicBoolean();

    /**
     * Has the server hold a reference to {@code id} for a message in flight under {@code
     * transfer} (see {@link Messages#GIVE}) before the message leaves: a sender killed just
     * after its send cannot leave the message's proxy without its object (attack 44: 5% lost
     * when the give went after). The call goes from the thread that gives references back,
     * with no serializer (its arguments are written already, its answer not read): the
     * sender's thread is inside the message's serialization, holding a serializer. {@code
     * proxy} (the sender's) stays reachable until the give is made, so its own reference
     * cannot go first. On that very thread (a given-back item holding a proxy), the give is
     * only queued, and the exit waits for it.
     */
    void give(String id, String transfer, Object proxy) {
        if (shutDown != null) {
            return;
        }
        if (DRAIN_AT_EXIT.compareAndSet(false, true)) {
            AtExit.register(AtExit.Stage.LEAVE, new DrainGives());
        }
        java.util.concurrent.Future<?> done = decrefs.submit(() -> {
            try {
                if (shutDown == null) {
                    roundTrip(Messages.GIVE, id, transfer, null, NO_ARGS, null);
                }
            } catch (Throwable ignored) {
                // The server is gone, and the object with it.
            } finally {
                java.lang.ref.Reference.reachabilityFence(proxy);
            }
        });
        if (ON_DECREF_THREAD.get() != null) {
            return;
        }
        try {
            done.get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the give goes on by itself
        } catch (java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            // A server that does not answer: the give goes on by itself, if it can.
        }
    }

    /** The message that carried {@code transfer} was never sent: its reference goes. */
    void dropLater(String id, String transfer) {
        later(Messages.DROP, id, transfer);
    }

    /** The exit's wait for the gives queued before it, 5 s at most: a class, not a lambda. */
    private static final class DrainGives implements Runnable {
        @Override
        public void run() {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            for (ManagerClient client : CLIENTS.values()) {
                try {
                    client.decrefs.submit(() -> { }).get(
                            Math.max(0, deadline - System.nanoTime()),
                            java.util.concurrent.TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (java.util.concurrent.ExecutionException
                        | java.util.concurrent.TimeoutException
                        | java.util.concurrent.RejectedExecutionException e) {
                    // The server does not answer: its objects are past saving.
                }
            }
        }
    }

    /** Gives back a reference, from a thread of its own (a proxy was collected). */
    void decrefLater(String id) {
        later(Messages.DECREF, id, null);
    }

    /** Sends bookkeeping request {@code op} from the thread that gives references back. */
    private void later(int op, String id, String method) {
        if (shutDown != null) {
            return;
        }
        decrefs.execute(() -> {
            try {
                if (shutDown == null) {
                    call(op, id, method, null, new Object[0]);
                }
            } catch (Throwable ignored) {
                // The server is gone, and the object with it.
            }
        });
    }

    /**
     * The connection for a new call: an idle one, else a new one while there are fewer than
     * the limit, else the least busy. A connection with a call given up in flight (stalled)
     * is the last choice, and not counted against the limit (up to twice it): that call may be
     * one the server runs on the connection's own thread, which a call sent after it there
     * would wait for (attack 38: a second connection busy with a queue's get left no other).
     */
    private synchronized Channel channel() {
        Channel best = null;
        Channel stalledBest = null;
        int stalled = 0;
        for (Channel c : channels) {
            if (c.broken) {
                continue;
            }
            if (c.stalled()) {
                stalled++;
                if (stalledBest == null || c.pending.size() < stalledBest.pending.size()) {
                    stalledBest = c;
                }
            } else if (best == null || c.pending.size() < best.pending.size()) {
                best = c;
            }
        }
        int limit = Math.min(MAX_CONNECTIONS + stalled, 2 * MAX_CONNECTIONS);
        if (best != null && (best.pending.isEmpty() || channels.size() >= limit)) {
            return best;
        }
        if (best == null && stalledBest != null && channels.size() >= limit) {
            return stalledBest;
        }
        Connection connection = connect(Keys.forAddress(address));
        Link link;
        try {
            link = hello(connection);
        } catch (IOException | RuntimeException e) {
            connection.close();
            throw new ProcessError("cannot reach the manager at " + address + ": " + e, e);
        }
        Channel c = new Channel(link);
        channels.add(c);
        return c;
    }

    /** A new connection to the server, its handshake done with {@code key}. */
    private Connection connect(byte[] key) {
        try {
            return Client.connect(address, key);
        } catch (ConnectException e) {
            throw new ProcessError("no manager is serving at " + address + ": " + e.getMessage()
                    + " (it was shut down, died, or never started)", e);
        } catch (IOException e) {
            // The server went during the handshake, or is not a manager: unchecked, as a
            // proxy's methods declare no IOException.
            throw new ProcessError("cannot reach the manager at " + address + ": " + e, e);
        }
    }

    /**
     * Checks that the server accepts {@code key}, over a connection of its own, when calls
     * would otherwise go over connections this process opened with another key: a second
     * manager of this process connecting with a wrong key passed its check over the first
     * one's connection, and its key, then remembered for the address, failed the first one's
     * next connections (review 54).
     *
     * @throws multiprocessing.AuthenticationError if it does not
     */
    public void checkKey(byte[] key) {
        if (channels.isEmpty() || java.util.Arrays.equals(key, Keys.forAddress(address))) {
            return; // a call's connection is made with this key
        }
        connect(key).close();
    }

    /**
     * Says hello on a new connection and settles how calls travel: over rings in shared memory
     * when the server is on this machine and maps them ({@link RingLink}), else over the
     * connection.
     */
    private Link hello(Connection connection) throws IOException {
        RingLink.Offer offer = null;
        if (RingLink.RINGS_OFFERED && address.family() == Family.AF_UNIX) {
            try {
                offer = RingLink.offer(connection);
            } catch (ErrnoException | RuntimeException e) {
                // No room in /dev/shm, say: the calls go over the socket.
            }
        }
        boolean taken = false;
        try {
            try {
                connection.send(offer == null ? new Hello(ClientId.ID, -1, 0)
                        : new Hello(ClientId.ID, offer.fd(), RingLink.BYTES));
            } finally {
                if (offer != null) {
                    Posix.closeQuietly(offer.fd()); // the server has its own now
                }
            }
            Object answer = connection.recv();
            if (!(answer instanceof Boolean b)) {
                throw new IOException("the manager answered hello with " + answer);
            }
            taken = b && offer != null;
        } finally {
            if (offer != null && !taken) {
                offer.withdraw();
            }
        }
        return taken ? offer.link() : new SocketLink(connection);
    }

    /**
     * A call whose reply may hand its caller something that is lost if nobody takes it: a lock
     * or a permit (a standard lock's, semaphore's or condition's {@code acquire}, or a
     * condition's {@code await}, which takes the lock back), or a queue's item (a standard
     * queue's {@code get} or {@code getNowait}). If its caller gave up before the reply came (a
     * server stalled past the cancel's wait, or its thread for the connection busy with a long
     * call, see {@link #cancel}), what the reply hands over is given back: a release in the
     * caller's name (attack 38b: else a lock stayed held by a thread told it did not get it),
     * or the item put back at the queue's head ({@code ServerQueue.giveBack}), where the next
     * {@code get} finds it.
     *
     * @param target the object's id
     * @param thread the calling thread, whose grant a reentrant lock's release must name
     */
    record Grant(String method, String target, long thread) {
        private static final Set<String> LOCKS =
                Set.of("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition");
        private static final Set<String> QUEUES = Set.of("Queue", "JoinableQueue");

        /** The grant a call may make, or null. */
        static Grant of(int op, String typeId, String target, String method) {
            if (op != Messages.CALL || typeId == null) {
                return null;
            }
            boolean grants = LOCKS.contains(typeId)
                    ? method.equals("acquire") || method.equals("await")
                    : QUEUES.contains(typeId) && (method.equals("get") || method.equals("getNowait"));
            return grants ? new Grant(method, target, Thread.currentThread().threadId()) : null;
        }

        private boolean takesAnItem() {
            return method.startsWith("get");
        }

        /**
         * Whether reply {@code r}, whose payload is {@code value}, granted it: a get that
         * returns took an item, an await that returns always took the lock back, and an
         * {@link OwnerDeadException} comes with the lock held (attack 38c).
         */
        boolean granted(Response r, Object value) {
            if (!r.ok()) {
                return !takesAnItem() && value instanceof OwnerDeadException;
            }
            return takesAnItem() || method.equals("await") || Boolean.TRUE.equals(value);
        }

        /** The call that gives back what reply {@code value} granted. */
        String giveBackMethod() {
            return takesAnItem() ? "giveBack" : "release";
        }

        Object[] giveBackArgs(Object value) {
            return takesAnItem() ? new Object[] {value} : new Object[0];
        }
    }

    /**
     * Gives back what the late reply {@code r} granted a caller that gave up (see {@link
     * Grant}), from a thread of its own (the reader must read on).
     */
    private void giveBackLater(Grant grant, Response r) {
        if (shutDown != null) {
            return; // the manager is shut down, and its objects with it
        }
        decrefs.execute(() -> {
            try {
                Object value;
                COUNTED.set(address); // an item's proxies were counted for this process
                try {
                    value = Serialization.deserialize(r.payload());
                } finally {
                    COUNTED.remove();
                }
                if (grant.granted(r, value)) {
                    roundTrip(Messages.CALL, grant.target(), grant.giveBackMethod(), null,
                            Serialization.serialize(grant.giveBackArgs(value)), null,
                            grant.thread());
                    LibraryLog.get().log(System.Logger.Level.DEBUG, "gave back what a "
                            + grant.method() + " of " + grant.target() + " granted after its"
                            + " caller gave up");
                }
            } catch (Throwable e) {
                // The server is gone, and the object with it; or the give-back was refused.
                LibraryLog.get().log(System.Logger.Level.DEBUG, "could not give back what a "
                        + grant.method() + " of " + grant.target() + " granted: " + e);
            }
        });
    }

    /**
     * Drops the reply {@code r}, whose caller gave up, from a thread of its own (the reader
     * must read on): the references the server counted for the proxies in it go back.
     */
    private void dropLater(Response r) {
        if (shutDown != null || !r.ok()) {
            return;
        }
        decrefs.execute(() -> ProxyHandler.dropping(() -> {
            COUNTED.set(address);
            try {
                Serialization.deserialize(r.payload());
            } catch (Throwable unreadable) {
                // A class this process lacks, or a reply too deep: the proxies made before are
                // given back all the same (ProxyHandler.dropping); those after it cannot be.
                LibraryLog.get().log(System.Logger.Level.DEBUG,
                        "a reply whose caller gave up could not be read: " + unreadable);
            } finally {
                COUNTED.remove();
            }
        }));
    }

    /** A call's connection ended before its reply came. */
    private static final class ConnectionEnded extends ProcessError {
        private static final long serialVersionUID = 1L;

        ConnectionEnded(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A call in flight: its caller, and its reply or why it has none. */
    private static final class Call {
        final Thread caller;
        volatile Response response;
        volatile Throwable failure;
        /**
         * Its request is sent and its caller waits for the reply ({@link Channel#await}): only
         * such a caller may be handed the reading turn.
         */
        volatile boolean awaiting;
        /**
         * Its caller gave up waiting (interrupted): the reply, when it comes, is dropped, and
         * what it grants given back ({@link Grant}).
         */
        volatile boolean abandoned;
        /** What its reply may grant its caller, to give back if the caller gave up; or null. */
        Grant grant;
        /**
         * Taken by whichever comes first, the reader handing the reply to its caller, or the
         * caller giving up: the other then knows it lost (see {@link #cancel}).
         */
        private final AtomicBoolean claimed = new AtomicBoolean();

        boolean claim() {
            return claimed.compareAndSet(false, true);
        }

        Call(Thread caller) {
            this.caller = caller;
        }

        boolean done() {
            return response != null || failure != null;
        }

        void complete(Response r) {
            response = r;
            wake();
        }

        void fail(Throwable why) {
            failure = why;
            wake();
        }

        private void wake() {
            if (!abandoned && caller != Thread.currentThread()) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** One connection and the calls in flight on it. */
    private final class Channel {
        /** How long a reader waits before it checks whether its caller was interrupted. */
        private static final long SLICE_NANOS = Duration.ofMillis(50).toNanos();

        final Link link;
        final Map<Long, Call> pending = new ConcurrentHashMap<>();
        /** Whether some thread holds the reading turn. */
        private final AtomicBoolean reading = new AtomicBoolean();
        /**
         * Reads for virtual-thread callers, and the replies of given-up calls nobody awaits
         * (started at the first need).
         */
        private volatile Thread helper;
        volatile boolean broken;

        Channel(Link link) {
            this.link = link;
        }

        /**
         * Waits for {@code call}'s reply, reading replies while nobody else does. With a
         * {@code deadline} ({@link System#nanoTime}, {@code Long.MAX_VALUE} for none), returns
         * null once it passes, or once {@code orUntil} (if not null) is done first, and ignores
         * interrupts: the wait of a caller already interrupted, for the reply its cancel races.
         */
        Response await(Call call, long deadline, Call orUntil) throws Throwable {
            boolean timed = deadline != Long.MAX_VALUE;
            boolean virtual = Thread.currentThread().isVirtual();
            // Before the first look at the turn: a reader that gives it up after that look
            // sees this caller in handOver (volatile write, then read of the same order).
            call.awaiting = true;
            BooleanSupplier waiting = orUntil == null
                    ? () -> !call.done()
                    : () -> !call.done() && !orUntil.done();
            while (waiting.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (timed) {
                    Thread.interrupted(); // kept by the caller, which sets it again after
                    if (left <= 0) {
                        return null;
                    }
                } else if (Thread.interrupted()) {
                    throw givingUp(call);
                }
                if (virtual) {
                    if (!reading.get()) {
                        wakeHelper();
                    }
                    park(timed, left);
                } else if (reading.compareAndSet(false, true)) {
                    try {
                        readWhile(() -> waiting.getAsBoolean() && System.nanoTime() < deadline);
                    } catch (InterruptedException e) {
                        if (!timed) {
                            throw givingUp(call);
                        }
                    } finally {
                        releaseTurn();
                    }
                } else {
                    park(timed, left);
                }
            }
            if (call.failure != null) {
                throw call.failure;
            }
            return call.response;
        }

        /**
         * The caller of {@code call} was interrupted: it sends its cancel next, which may wait
         * for room in the request ring, so it is no longer one to hand the reading turn to
         * (see {@link #handOver}; it was, and could be handed the turn it had just let go,
         * leaving the replies unread while it waited to send: review B1).
         */
        private InterruptedException givingUp(Call call) {
            call.awaiting = false;
            return new InterruptedException();
        }

        /** Whether a call given up is in flight here. */
        boolean stalled() {
            for (Call c : pending.values()) {
                if (c.abandoned) {
                    return true;
                }
            }
            return false;
        }

        /**
         * Parks until handed the turn or the reply; never for good, but a slice at a time: a
         * hand-over that an Error cut short (a reader's stack overflowing as it let go) would
         * otherwise leave this caller parked with its reply unread.
         */
        private void park(boolean timed, long nanos) {
            LockSupport.parkNanos(this, timed ? Math.min(nanos, LOOK_AGAIN_NANOS)
                    : LOOK_AGAIN_NANOS);
        }

        /**
         * A caller gives up waiting: if it was to read next, another caller must. The call
         * stays pending until its reply comes, so that the connection counts as busy with it
         * meanwhile: the server may still be running it on the connection's own thread (an
         * inline call), and a call sent after it there would wait for it, where another
         * connection is free or can be opened (attack 34).
         */
        void abandon(long id) {
            Call c = pending.get(id);
            if (c != null) {
                c.abandoned = true;
                c.awaiting = false;
            }
            if (!reading.get()) {
                handOver();
            }
        }

        /**
         * Reads replies and hands them to their callers while {@code more} holds; returns at
         * once if the connection broke. Interrupted: the caller's own call is given up.
         */
        private void readWhile(BooleanSupplier more)
                throws InterruptedException {
            try {
                while (more.getAsBoolean() && !broken) {
                    Response r = (Response) link.receive(SLICE_NANOS);
                    if (r == null) {
                        if (Thread.currentThread() != helper && Thread.interrupted()) {
                            throw new InterruptedException();
                        }
                        continue;
                    }
                    Call c = pending.remove(r.id());
                    if (c != null) {
                        if (!c.claim()) { // its caller gave up first
                            if (c.grant != null) {
                                giveBackLater(c.grant, r);
                            } else {
                                dropLater(r);
                            }
                        }
                        c.complete(r);
                    }
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Throwable e) {
                fail(e);
            }
        }

        /**
         * Lets go of the reading turn: to a caller that waits for its reply, or, once the
         * connection broke, to nobody, the link closed. Whichever of {@link #fail} and this
         * comes second closes it: fail() takes the turn to close the link only if nobody holds
         * it (else a reader that looked before the connection broke, then let go, left it open
         * for good: review B3).
         */
        private void releaseTurn() {
            reading.set(false);
            if (broken) {
                if (reading.compareAndSet(false, true)) {
                    link.close(); // the turn stays taken, as fail() leaves it
                }
                return;
            }
            handOver();
        }

        /**
         * The reading turn is free: a caller waiting for its reply takes it. Not one still
         * sending its request: with large calls both ways from many threads, that one can be
         * waiting for room in the request ring while the server's thread waits for room in the
         * reply ring, and the turn given to it left the replies unread for good (the waiting
         * callers park with no timeout). A caller whose reply is in the ring has sent its
         * request, so while a reply waits to be read, a caller is here to read it.
         */
        private void handOver() {
            boolean helperWanted = false;
            for (Call c : pending.values()) {
                if (!c.done() && c.awaiting) {
                    if (!c.caller.isVirtual()) {
                        LockSupport.unpark(c.caller);
                        return;
                    }
                    helperWanted = true;
                } else if (c.abandoned) {
                    // Its reply is still to come, and no caller reads for it: a connection
                    // with one is the last choice for calls (stalled), so none may come, and
                    // it would stay stalled after the server is done with it (attack 38b).
                    helperWanted = true;
                }
            }
            if (helperWanted) {
                wakeHelper();
            }
        }

        private void wakeHelper() {
            Thread h = helper;
            if (h == null) {
                synchronized (this) {
                    h = helper;
                    if (h == null) {
                        helper = h = LibraryThreads.platform().daemon()
                                .name("multiprocessing-manager-reader").start(this::help);
                    }
                }
            }
            LockSupport.unpark(h);
        }

        /** The helper's life: reads while calls are pending and nobody else reads. */
        private void help() {
            while (!broken) {
                while (!pending.isEmpty() && !broken && reading.compareAndSet(false, true)) {
                    try {
                        readWhile(() -> !pending.isEmpty());
                    } catch (InterruptedException notByUs) {
                        // The helper is nobody's caller: it reads on.
                    } finally {
                        releaseTurn();
                    }
                }
                LockSupport.park(this);
            }
        }

        void fail(Throwable why) {
            broken = true;
            channels.remove(this);
            String reason = shutDown;
            for (Long id : pending.keySet()) {
                Call c = pending.remove(id);
                if (c != null) {
                    c.fail(reason != null ? new IllegalStateException(reason)
                            : new ConnectionEnded("the connection to the manager at " + address
                                    + " ended during the call (the manager shut down or died): "
                                    + why, why));
                }
            }
            Thread h = helper;
            if (h != null) {
                LockSupport.unpark(h);
            }
            if (reading.compareAndSet(false, true)) {
                link.close(); // nobody reads it, and nobody will: the turn stays taken
            }
        }
    }
}
