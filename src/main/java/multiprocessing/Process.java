package multiprocessing;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import multiprocessing.internal.events.ProcessTrace;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.spawn.ChildMain;
import multiprocessing.internal.spawn.ClassReach;
import multiprocessing.internal.spawn.Popen;
import multiprocessing.internal.spawn.Preparation;
import multiprocessing.internal.spawn.ProcessAccess;
import multiprocessing.internal.spawn.RefusedStart;
import multiprocessing.internal.util.LibraryLog;
import multiprocessing.internal.util.AtExit;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.util.Durations;

/**
 * A process: Python's {@code multiprocessing.Process}, run in a fresh JVM.
 *
 * <p>Give it a target ({@code new Process(() -> work())}), or subclass it and override
 * {@link #run()}; then {@link #start()} it and {@link #join()} it. The process object,
 * with its target and everything the target captures, is serialized and sent to the child,
 * so it must be serializable: lambdas written where a {@link SerializableRunnable} is expected
 * are. A {@code Connection}, a lock, a queue, a shared value or shared memory captured by the
 * target arrives in the child as a working handle on the same resource.
 *
 * <p>The child's exit code is 0 when {@code run()} returns, 1 when it throws (its stack trace
 * is printed to the child's standard error, as Python prints a traceback), {@code n} for
 * {@code System.exit(n)}, and {@code -s} when it was ended by signal {@code s}
 * ({@link #terminate()}: -15, {@link #kill()}: -9). Before exiting, a child waits for the
 * non-daemon threads it started.
 *
 * <p>A daemon process is terminated when its parent exits, even when the parent is killed by
 * SIGKILL (it then ends at once, releasing the shared memory and socket files the library
 * made for it as an exit would, but running no shutdown hook), and may not start children of
 * its own. At the normal exit of a JVM, its daemon children are terminated and its other
 * children are joined, as Python does.
 *
 * <p>Misuse (starting twice, joining before start, using a closed process, a daemon starting a
 * child) throws {@link IllegalStateException}.
 *
 * <p>A process travels to its child through the library's own serialization: its Java
 * serialized form is no API.
 *
 * @serial exclude
 */
public class Process implements AutoCloseable, Serializable {
    private static final long serialVersionUID = 1L;

    // ---- What Python keeps in process.py's module globals, for this JVM. ----
    private static volatile Process current = mainProcess();
    private static volatile Process parent;
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Set<Process> CHILDREN = ConcurrentHashMap.newKeySet();
    private static final Map<Integer, String> SIGNAL_NAMES = Map.of(
            1, "SIGHUP", 2, "SIGINT", 3, "SIGQUIT", 6, "SIGABRT", 9, "SIGKILL",
            10, "SIGUSR1", 12, "SIGUSR2", 13, "SIGPIPE", 14, "SIGALRM", 15, "SIGTERM");
    /**
     * The classes of the library's own process targets (a pool's worker, a manager's server),
     * which the AOT caches' tours rehearse: no program class (see programClass).
     */
    private static final Set<String> LIBRARY_TARGETS = Set.of("multiprocessing.pool.Worker",
            "multiprocessing.internal.managers.ServerTarget",
            "multiprocessing.internal.spawn.IdleTarget");

    static {
        ProcessAccess.set(new ProcessAccess() {
            @Override
            public int bootstrap(Object process, Preparation preparation) {
                return Process.bootstrap(process, preparation);
            }

            @Override
            public Object idleProcess() {
                return new Process(multiprocessing.internal.spawn.IdleTarget.INSTANCE);
            }

            @Override
            public boolean waitsForItsThreads(Object process) {
                return !(process instanceof Process p
                        && p.target instanceof multiprocessing.internal.spawn.EndsWithoutItsThreads);
            }

            @Override
            public String programClass(Object process) {
                if (!(process instanceof Process p)) {
                    return null;
                }
                if (p.getClass() != Process.class) {
                    return p.getClass().getName();
                }
                if (p.target == null) {
                    return null;
                }
                // A lambda's hidden class is named after the class that made it.
                String name = p.target.getClass().getName();
                int lambda = name.indexOf("$$Lambda");
                name = lambda > 0 ? name.substring(0, lambda) : name;
                // The library's own targets are in the caches already: a cache whose list
                // lacks one is not trained again for it. (Not any class from the library's
                // jar: a program's classes may be in that jar too, a fat jar's.)
                return LIBRARY_TARGETS.contains(name) ? null : name;
            }

            @Override
            public Object unnumberedProcess(SerializableRunnable target) {
                return new Process(target, Kind.CHILD);
            }

            @Override
            public void outliveExitHandler(Object process, Runnable stop) {
                Process p = (Process) process;
                if (!p.daemon()) {
                    throw new IllegalArgumentException(p + " is not a daemon: it would outlive"
                            + " its creator");
                }
                p.stopAtExit = stop;
                p.outlivesExitHandler = true;
            }

            @Override
            public boolean pastStart(Object process) {
                Popen p = ((Process) process).popen;
                return p == null || p.pastStart();
            }

            @Override
            public byte[] keyToCarry(Object process) {
                return process instanceof Process p && p.authKey != null ? p.authKey.clone()
                        : null;
            }

            @Override
            public void receiveKey(Object process, byte[] key) {
                if (process instanceof Process p) {
                    p.authKey = key;
                }
            }

            @Override
            public String identity(Object process) {
                return joined(((Process) process).identity);
            }

            @Override
            public boolean saidRunning(Object process) {
                Popen p = ((Process) process).popen;
                return p == null || p.saidRunning();
            }
        });
        Serialization.register(Process.class, new Identity());
    }

    /**
     * Writes a process's identity field by field. Left to Fory, a class it has no serializer
     * for is written with its field metadata and read back by a struct serializer built for it:
     * in a fresh child that cost about 30 ms of its start, 50 ms of its CPU and 6 MB of its
     * heap (the field descriptors, Fory's scalar converters and through them
     * {@code BigDecimal}'s tables, a background walk of every field's class, the transient ones
     * included; bench/RESULTS.md). A subclass's process (Python's overridden {@code run()})
     * still goes the general way, its own fields with it.
     */
    private static final class Identity implements Reducer<Process> {
        @Override
        public void reduce(Process p, Out out) {
            out.writeObject(p.target);
            out.writeObject(p.name);
            out.writeObject(p.daemon);
            out.writeObject(p.identity);
            // A main process has no parent, nor has a child's view of its parent (Python's
            // None); their parentPid field holds their own pid, for this JVM's checks only.
            out.writeLong(p.kind == Kind.MAIN || p.kind == Kind.PARENT_VIEW ? 0 : p.parentPid);
            out.writeObject(p.parentName);
            out.writeObject(p.startMethod);
            out.writeObject(p.jvmOptions);
            out.writeLong(p.knownPid);
        }

        @Override
        public Process rebuild(In in) {
            return new Process(in);
        }
    }

    // ---- The identity of the process: serialized to the child (by Identity: a field added
    // here is added there). ----
    private SerializableRunnable target;
    private String name;
    private Boolean daemon;
    /**
     * Never written with the object (so transient for the serializer's way of a subclass too):
     * the payload that starts the child carries it beside the process (see
     * ProcessAccess.keyToCarry), as Python's AuthenticationString refuses any other pickling;
     * a process sent down a pipe or a queue does not hand out the key.
     */
    private transient byte[] authKey;
    private int[] identity;
    private long parentPid;
    private String parentName;
    private String startMethod;
    private List<String> jvmOptions;
    /**
     * The process's pid once known, 0 before: set in its creator as it starts, in the process
     * itself, and carried in a copy sent to another process (which has no other way to know
     * it: the copy's parentPid is the creator's).
     */
    private long knownPid;

    // ---- The parent's handle on the started child: never serialized. ----
    private transient volatile Popen popen;
    /** Between {@link #start()}'s checks and its popen's arrival (see claimStart). */
    private transient boolean starting;
    /** A terminate() or kill() while starting: sent as soon as there is a process. */
    private transient int signalWhenStarted;
    private transient boolean closed;
    /** Whether this was a copy when closed: closing a copy does not make it a process's own. */
    private transient boolean closedCopy;
    private transient boolean startFailureReported;
    private transient Kind kind;
    private transient JvmContext context;
    /**
     * Left running by this JVM's exit handler, which neither terminates nor joins it: a daemon
     * child that ends with its creator on its own (a manager's server; see
     * {@link #exitChildren}).
     */
    private transient volatile boolean outlivesExitHandler;
    /** What ends a child that outlives the exit handler when a joined child waits on it. */
    private transient volatile Runnable stopAtExit;

    /**
     * How long the exit handler joins non-daemon children before it stops the children that
     * would outlive it (managers' servers), which those children may be waiting on.
     */
    static final Duration EXIT_GRACE = Duration.ofSeconds(2);
    /** How long the exit handler waits for starts other threads are making. */
    private static final Duration START_WAIT_AT_EXIT = Duration.ofSeconds(10);
    /** Starts between their checks and their child's listing (see claimStart). */
    private static final java.util.concurrent.atomic.AtomicInteger STARTS_IN_FLIGHT =
            new java.util.concurrent.atomic.AtomicInteger();
    /** Set as the exit handler begins: later starts are not waited for. */
    private static volatile boolean exiting;

    /**
     * What this object is to this JVM: a child it made (started or not; in the child itself,
     * the current process), its main process, a child's view of its parent, or a copy of a
     * process received from another process (a pipe, a queue, a target's captured object),
     * which can tell its name and pid but cannot wait for, test or signal the process. A copy
     * of a subclass's process, which the serializer writes field by field, is a COPY too when
     * the serializer reads it with its no-argument constructor, and has no kind when it reads
     * it without one (see {@link #isCopy}).
     */
    private enum Kind { CHILD, MAIN, PARENT_VIEW, COPY }

    /** A process whose {@link #run()} a subclass overrides (Python's {@code Process()}). */
    protected Process() {
        this(null, null, null, null, null);
    }

    /**
     * A process that runs {@code target}.
     *
     * @param target what the process runs in its JVM
     */
    public Process(SerializableRunnable target) {
        this(target, null, null, null, null);
    }

    Process(SerializableRunnable target, String name, Boolean daemon, byte[] authKey,
            JvmContext context) {
        if (madeBySerializer()) {
            // A subclass's process being read by the serializer, which runs its no-argument
            // constructor and then sets the fields written: a copy of a process made elsewhere
            // (or of this JVM's own, sent and received back), which takes none of this JVM's
            // process numbers and can never be started as a new one (attack 60). Only this
            // object: one its field initializers make next is a process of this JVM's own
            // (attack 62: a target's Pool or Process built while it was read).
            this.kind = Kind.COPY;
            return;
        }
        Process creator = current;
        this.kind = Kind.CHILD;
        this.target = target;
        this.identity = append(creator.identity, COUNTER.incrementAndGet());
        this.name = name != null ? name : defaultName(getClass(), identity);
        this.daemon = daemon;
        this.authKey = (authKey != null ? authKey : creator.authKey).clone();
        this.parentPid = ProcessHandle.current().pid();
        this.parentName = creator.name;
        this.context = context;
    }

    /**
     * Whether this object, of a subclass, is being made by the serializer, which calls its
     * no-argument constructor (Fory's instantiator) as it reads a copy: below the frames of
     * this object's constructors on the stack, the serializer's code. Those frames run from
     * {@code Process}'s down to this object's class, each the same class's other constructor
     * ({@code this(..)}) or a subclass's ({@code super(..)}); a process that a field or static
     * initializer makes, or a constructor of another class, is below frames of the program's
     * or of a constructor that cannot have called this one so (attacks 62 and 64: such
     * processes were taken for copies, and a target's {@code new Pool(1)} threw). The stack
     * cannot tell {@code this(..)} from a {@code new} of the same class through another of its
     * constructors: a process so made while one is read is taken for a copy too. Looked at
     * for a subclass's objects only, of which a program makes about one per child it starts,
     * beside which a walk of the stack (microseconds) is nothing.
     */
    private boolean madeBySerializer() {
        Class<?> type = getClass();
        if (type == Process.class) {
            return false;
        }
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> {
            Class<?> last = null;
            String lastDescriptor = null;
            Iterator<StackWalker.StackFrame> it = frames
                    .dropWhile(f -> !f.getMethodName().equals("<init>")).iterator();
            StackWalker.StackFrame caller = null;
            while (it.hasNext()) {
                StackWalker.StackFrame f = it.next();
                Class<?> c = f.getDeclaringClass();
                boolean ownChain = f.getMethodName().equals("<init>") && (last == null
                        ? c == Process.class
                        : c == last ? !f.getDescriptor().equals(lastDescriptor)
                                : last.isAssignableFrom(c) && c.isAssignableFrom(type));
                if (!ownChain) {
                    caller = f;
                    break;
                }
                last = c;
                lastDescriptor = f.getDescriptor();
            }
            // Frames of a method-handle or reflective call that StackWalker shows by default.
            while (caller != null && isReflection(caller.getClassName()) && it.hasNext()) {
                caller = it.next();
            }
            return last == type && caller != null
                    && caller.getClassName().startsWith("org.apache.fory.");
        });
    }

    private static boolean isReflection(String className) {
        return className.startsWith("java.lang.reflect.")
                || className.startsWith("java.lang.invoke.")
                || className.startsWith("jdk.internal.reflect.");
    }

    /**
     * A child process of the library's own that takes none of its creator's numbers, so that
     * the program's processes are named as if it did not exist (an AOT cache's trainer).
     */
    private Process(SerializableRunnable target, Kind kind) {
        Process creator = current;
        this.kind = kind;
        this.target = target;
        this.identity = append(creator.identity, 0);
        this.name = "multiprocessing-aot-trainer";
        this.daemon = null;
        this.authKey = creator.authKey.clone();
        this.parentPid = ProcessHandle.current().pid();
        this.parentName = creator.name;
        this.context = null;
    }

    /**
     * A process as {@link Identity} wrote it. It is known as the object being read before its
     * fields are: its target may hold this very process.
     */
    @SuppressWarnings("unchecked")
    private Process(Reducer.In in) {
        in.reference(this);
        target = (SerializableRunnable) in.readObject();
        name = (String) in.readObject();
        daemon = (Boolean) in.readObject();
        identity = (int[]) in.readObject();
        parentPid = in.readLong();
        parentName = (String) in.readObject();
        startMethod = (String) in.readObject();
        jvmOptions = (List<String>) in.readObject();
        knownPid = in.readLong();
        kind = Kind.COPY; // a child's own process is made CHILD by its bootstrap
    }

    /** For the main process and a child's view of its parent. */
    private Process(Kind kind, String name, long pid, byte[] authKey) {
        this.kind = kind;
        this.name = name;
        this.identity = new int[0];
        this.authKey = authKey;
        this.parentPid = pid;
        this.knownPid = pid;
        this.daemon = false;
    }

    /**
     * Whether this is a copy received from another process (see {@link Kind}). A subclass's
     * copy read by some other means than this library's serializer (its constructor run
     * outside a read) is a CHILD of this JVM; its fields, set after, still tell: made in
     * another JVM, or started (its pid known) where the child's own object holds the popen.
     */
    private boolean isCopy() {
        if (this == current) {
            return false;
        }
        if (kind == Kind.COPY || kind == null) {
            return true;
        }
        if (closed) {
            return closedCopy;
        }
        return kind == Kind.CHILD && popen == null && !starting
                && (knownPid != 0 || parentPid != ProcessHandle.current().pid());
    }

    /**
     * Refuses {@code what} (Python's words: "join", "test", "terminate"...) on a process this
     * JVM did not start: the current process, a child's parent, a copy received.
     */
    private void checkChild(String what) {
        if (this == current || isCopy() || kind != Kind.CHILD
                || parentPid != ProcessHandle.current().pid()) {
            throw new IllegalStateException("can only " + what + " a child process: " + name
                    + (isCopy() ? " is a copy received from another process"
                            : this == current ? " is the current process"
                            : " is not a child of this process"));
        }
    }

    private static Process mainProcess() {
        // A child's current process is replaced by the one it receives before any user code
        // runs; reading random bytes there would only add to every child's start.
        byte[] key = ChildMain.isChild() ? new byte[32]
                : multiprocessing.internal.util.Urandom.bytes(32);
        return new Process(Kind.MAIN, "MainProcess", ProcessHandle.current().pid(), key);
    }

    private static int[] append(int[] prefix, int n) {
        int[] id = Arrays.copyOf(prefix, prefix.length + 1);
        id[prefix.length] = n;
        return id;
    }

    /**
     * Python's default name: the class's name and the identity, {@code Process-1:2}, or
     * {@code Worker-3} for a subclass {@code Worker}, as Python names it from
     * {@code type(self).__name__}; the library's own subclasses, and anonymous ones, are
     * {@code Process-N}.
     */
    private static String defaultName(Class<?> type, int[] identity) {
        String prefix = type.getSimpleName().isEmpty()
                || type.getPackageName().equals("multiprocessing.dummy")
                ? "Process" : type.getSimpleName();
        return prefix + "-" + joined(identity);
    }

    private static String joined(int[] identity) {
        return Arrays.stream(identity).mapToObj(Integer::toString)
                .collect(Collectors.joining(":"));
    }

    /** {@return a builder for a process with a name, daemon flag or auth key of its own} */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Process} (Python's keyword arguments). */
    public static final class Builder {
        private SerializableRunnable target;
        private String name;
        private Boolean daemon;
        private byte[] authKey;
        private Context context;

        private Builder() {}

        /**
         * Sets what the process runs (Python's {@code target=}).
         *
         * @param target what the process runs in its JVM
         * @return this builder
         */
        public Builder target(SerializableRunnable target) {
            this.target = target;
            return this;
        }

        /**
         * Sets the process's name (Python's {@code name=}); by default {@code Process-N}.
         *
         * @param name the name
         * @return this builder
         */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /**
         * Sets whether the process is a daemon (Python's {@code daemon=}); by default that of the
         * process that creates it.
         *
         * @param daemon true for a daemon, which is terminated when its parent exits
         * @return this builder
         */
        public Builder daemon(boolean daemon) {
            this.daemon = daemon;
            return this;
        }

        /**
         * Sets the process's authentication key; by default its parent's.
         *
         * @param authKey the key, copied
         * @return this builder
         */
        public Builder authKey(byte[] authKey) {
            this.authKey = authKey.clone();
            return this;
        }

        /**
         * The context whose start method and JVM options start the process; the process is
         * then the one {@link Context#process} makes (of the dummy context, a thread).
         *
         * @param context the context, or null for the default one
         * @return this builder
         */
        public Builder context(Context context) {
            this.context = context;
            return this;
        }

        /** {@return the process, not yet started} */
        public Process build() {
            if (context == null || context instanceof JvmContext) {
                return new Process(target, name, daemon, authKey, (JvmContext) context);
            }
            Process p = context.process(target);
            if (name != null) {
                p.name(name);
            }
            if (daemon != null) {
                p.daemon(daemon);
            }
            if (authKey != null) {
                p.authKey(authKey);
            }
            return p;
        }
    }

    // ------------------------------------------------------------------ running

    /**
     * What the process does: runs the target. Subclasses override it. A checked exception
     * from the target propagates unchanged (it ends a child with exit code 1).
     */
    public void run() {
        if (target != null) {
            try {
                target.run();
            } catch (Exception e) {
                throw Process.<RuntimeException>sneaky(e);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T sneaky(Throwable t) throws T {
        throw (T) t;
    }

    /**
     * Starts the process in a new JVM.
     *
     * @throws IllegalStateException if it was started or closed, was created by another
     *         process, or this process is a daemon
     * @throws IllegalArgumentException if the process (its target and what it captures) cannot
     *         be serialized; nothing is started then
     * @throws ProcessError if no child could load a class of the process (a hidden class other
     *         than a serializable lambda's: it has no name to load it by); nothing is started
     * @throws java.io.UncheckedIOException if the machine refused the new process (the
     *         message names the limit: processes, descriptors, memory)
     */
    public void start() {
        boolean counted = claimStart();
        try {
            startClaimed();
        } finally {
            if (counted) {
                STARTS_IN_FLIGHT.decrementAndGet();
            }
        }
    }

    private void startClaimed() {
        boolean started = false;
        try {
            Popen p = launch();
            int signal;
            synchronized (this) {
                popen = p;
                knownPid = p.pid();
                starting = false;
                signal = signalWhenStarted;
            }
            started = true;
            if (signal != 0) {
                send(p, signal);
            }
        } finally {
            if (!started) {
                synchronized (this) {
                    starting = false;
                    // Asked of this start only: a later start's child got it (attack 46).
                    signalWhenStarted = 0;
                }
            }
        }
        Exits.install();
        CHILDREN.add(this);
    }

    /**
     * Checks that this process may start and marks it as starting. The start itself (its
     * serialization, the JVM's spawn) runs outside the monitor, so that another thread's
     * isAlive, terminate or toString does not wait for it (a forkserver start may wait for a
     * warm JVM); a second start or a close meanwhile is refused.
     */
    private synchronized boolean claimStart() {
        checkNotClosed();
        if (isCopy()) {
            throw new IllegalStateException("cannot start " + name + ": it is a copy received "
                    + "from another process");
        }
        if (kind != Kind.CHILD) {
            throw new IllegalStateException("cannot start " + name + ": it is not a child process");
        }
        if (popen != null || starting) {
            throw new IllegalStateException("cannot start a process twice");
        }
        if (parentPid != ProcessHandle.current().pid()) {
            throw new IllegalStateException(
                    "can only start a process object created by the current process");
        }
        if (current.daemon()) {
            throw new IllegalStateException("daemonic processes are not allowed to have children");
        }
        // Counted, then the exit looked at: the exit handler sets its flag, then waits for
        // the count, so a start begun before the exit is waited for, and its child joined or
        // terminated with the others (one started as the handler ran outlived this JVM,
        // attack 46). A start begun once the exit has (a shutdown hook's, as Python's atexit
        // handlers may start processes) is not counted: the hook joins what it starts.
        STARTS_IN_FLIGHT.incrementAndGet();
        boolean counted = !exiting;
        if (!counted) {
            STARTS_IN_FLIGHT.decrementAndGet();
        }
        starting = true;
        return counted;
    }

    private Popen launch() {
        cleanup();
        checkReach();
        JvmContext ctx = context != null ? context : Multiprocessing.defaultJvmContext();
        startMethod = ctx.getStartMethod();
        jvmOptions = ctx.jvmOptions();
        RefusedStart.prepare();
        ProcessTrace trace = ProcessTrace.starting(name, startMethod); // null unless recorded
        // A forkserver context's settings go on to the child's own default context (review 48:
        // its children's JVMs were kept as the defaults said, not as this context says).
        ForkServerContext forkserver = ctx instanceof ForkServerContext f ? f : null;
        Preparation preparation = new Preparation(this, parentPid, parentName, startMethod,
                jvmOptions, Multiprocessing.logLevelName(),
                forkserver == null ? -1 : forkserver.maxWarm(),
                forkserver == null ? null : forkserver.idleTimeout().toString());
        Popen p;
        try {
            p = ctx.popen(preparation);
        } catch (IOException e) {
            throw new UncheckedIOException(RefusedStart.explain(name, e), e);
        }
        p.trace(trace);
        return p;
    }

    /**
     * Notes where the classes of this process and its target come from, so that the child
     * finds them (see ClassReach), and refuses at once a class no child could load.
     */
    private void checkReach() {
        ClassReach.note(Thread.currentThread().getContextClassLoader());
        for (Object o : new Object[] {this, target}) {
            if (o != null) {
                String problem = ClassReach.unreachable(o.getClass());
                if (problem != null) {
                    throw new ProcessError("cannot start " + name + ": " + problem);
                }
                ClassReach.note(o.getClass());
            }
        }
    }

    /**
     * Waits until the process ends.
     *
     * @throws InterruptedException if this thread is interrupted while it waits
     * @throws IllegalStateException if this JVM did not start the process, or it was closed
     * @throws ProcessError if the process ended without running its target (its JVM could not
     *         start, or could not read the process): the message says why, with the first
     *         lines of its standard error; only the first wait that sees it throws
     */
    public void join() throws InterruptedException {
        joinUntil(null);
    }

    /**
     * Waits up to {@code timeout} for the process to end; returns normally whether it ended
     * or not (check {@link #exitCode()} or {@link #isAlive()}). A negative timeout does not wait.
     *
     * @param timeout how long to wait at most
     * @throws InterruptedException if this thread is interrupted while it waits
     * @throws IllegalStateException as {@link #join()}
     * @throws ProcessError as {@link #join()}
     */
    public void join(Duration timeout) throws InterruptedException {
        joinUntil(Durations.nanos(timeout) == 0 ? Duration.ZERO : timeout);
    }

    private void joinUntil(Duration timeout) throws InterruptedException {
        if (kind == Kind.PARENT_VIEW) {
            checkNotClosed();
            awaitParent(timeout);
            return;
        }
        Popen p = checkJoinable();
        if (p.await(timeout) != null) {
            CHILDREN.remove(this);
            reportStartFailure(p);
        }
    }

    /**
     * The first wait that sees the child end without having run its process throws, saying
     * why (a JVM that could not start, a class it could not load) with the child's first lines
     * of standard error: a bare exit code 1 would say nothing. Later waits return, as for any
     * ended process.
     */
    private void reportStartFailure(Popen p) {
        String failure;
        synchronized (this) {
            if (startFailureReported) {
                return;
            }
            failure = p.startFailure();
            startFailureReported = failure != null;
        }
        if (failure != null) {
            throw new ProcessError("process " + name + " (pid " + p.pid()
                    + ") never ran: " + failure);
        }
    }

    private synchronized Popen checkJoinable() {
        checkNotClosed();
        checkChild("join");
        if (popen == null) {
            throw new IllegalStateException("can only join a started process");
        }
        return popen;
    }

    /**
     * A child's join of its parent (Python's {@code _ParentProcess.join}): waits until the
     * parent has ended, seen as end of file on the bootstrap channel the parent holds open.
     */
    private static void awaitParent(Duration timeout) throws InterruptedException {
        long deadline = timeout == null ? Long.MAX_VALUE : Durations.deadline(timeout);
        while (ChildMain.parentAlive()) {
            long left = timeout == null ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            try {
                if (Parker.awaitFd(ChildMain.parentSentinel(), Posix.POLLIN, Parker.slice(left),
                        true) != 0) {
                    return;
                }
            } catch (multiprocessing.internal.posix.ErrnoException e) {
                throw new IllegalStateException("cannot wait for the parent process", e);
            }
        }
    }

    /** {@return whether the process has started and not yet ended} */
    public synchronized boolean isAlive() {
        checkNotClosed();
        if (this == current) {
            return true;
        }
        if (kind == Kind.PARENT_VIEW) {
            return ChildMain.parentAlive();
        }
        checkChild("test");
        if (popen == null) {
            return false;
        }
        if (popen.poll() == null) {
            return true;
        }
        CHILDREN.remove(this);
        return false;
    }

    /**
     * Ends the process with SIGTERM (exit code -15); no exit handlers run in it. Does nothing
     * before {@link #start()} (Python's fails there with an AttributeError) and after the
     * process has ended, so that cleanup code may call it whatever happened.
     *
     * @throws IllegalStateException if this JVM did not create the process: the current
     *     process, {@link Multiprocessing#parentProcess()}, a copy received from another process
     */
    public synchronized void terminate() {
        signal(Posix.SIGTERM);
    }

    /**
     * Ends the process with SIGKILL (exit code -9); as {@link #terminate()}, a no-op before.
     *
     * @throws IllegalStateException as {@link #terminate()}
     */
    public synchronized void kill() {
        signal(Posix.SIGKILL);
    }

    /**
     * Signals the process; one that another thread is starting gets the signal once it
     * exists (it ran on, review 49), a kill overriding a terminate.
     */
    private void signal(int signal) {
        checkNotClosed();
        checkChild(signal == Posix.SIGKILL ? "kill" : "terminate");
        if (popen != null) {
            send(popen, signal);
        } else if (starting && signalWhenStarted != Posix.SIGKILL) {
            signalWhenStarted = signal;
        }
    }

    /**
     * A SIGTERM is followed by a SIGCONT: a stopped process (SIGSTOP, a debugger, a job
     * control stop) keeps a SIGTERM pending until it resumes, and a pool's terminate() waited
     * for it for good (attack 45; Python's does too). SIGKILL ends a stopped process as it is.
     */
    private static void send(Popen popen, int signal) {
        popen.signal(signal);
        if (signal == Posix.SIGTERM) {
            popen.signal(Posix.SIGCONT);
        }
    }

    /**
     * Releases the process's resources. A second call does nothing.
     *
     * @throws IllegalStateException if the process is still running
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (starting) {
            throw new IllegalStateException("cannot close a process while it is starting");
        }
        if (popen != null) {
            if (popen.poll() == null) {
                throw new IllegalStateException("cannot close a process while it is still "
                        + "running; call join() or terminate() first");
            }
            popen.close();
            popen = null;
        }
        CHILDREN.remove(this);
        closedCopy = isCopy();
        closed = true;
    }

    private void checkNotClosed() {
        if (closed) {
            throw new IllegalStateException("process object is closed");
        }
    }

    // ------------------------------------------------------------------ properties

    /**
     * {@return the process's name, {@code Process-N} unless one was given ({@code Worker-N}
     * for a subclass {@code Worker}, as in Python) (Python's {@code p.name})}
     */
    public String name() {
        return name;
    }

    /**
     * Renames the process (Python's {@code p.name = ...}).
     *
     * @param name the new name
     */
    public synchronized void name(String name) {
        this.name = java.util.Objects.requireNonNull(name, "name");
    }

    /**
     * {@return whether this is a daemon process; by default that of the process that created it}
     */
    public boolean daemon() {
        return daemon != null ? daemon : (this != current && current.daemon());
    }

    /**
     * Sets the daemon flag; only before {@link #start()}.
     *
     * @param daemon true for a daemon, which is terminated when its parent exits
     */
    public synchronized void daemon(boolean daemon) {
        if (popen != null || starting) {
            throw new IllegalStateException("process has already started");
        }
        if (isCopy()) {
            throw new IllegalStateException("cannot make " + name + " a daemon or not: it is a "
                    + "copy received from another process");
        }
        this.daemon = daemon;
    }

    /**
     * {@return the authentication key, 32 random bytes in the main process, inherited by children}
     *
     * @throws IllegalStateException for a process object that came from another process other
     *         than as the process it started (the key stays behind, as in Python)
     */
    public byte[] authKey() {
        if (authKey == null || isCopy()) {
            throw new IllegalStateException("the authentication key of " + name + " stayed in "
                    + "the process that sent this object: a key goes only to the child a process "
                    + "starts, as in Python");
        }
        return authKey.clone();
    }

    /**
     * Sets the authentication key (Python's {@code p.authkey = ...}).
     *
     * @param key the new key
     */
    public synchronized void authKey(byte[] key) {
        this.authKey = key.clone();
    }

    /** {@return the process id; null before start} */
    public synchronized Long pid() {
        checkNotClosed();
        if (this == current) {
            return ProcessHandle.current().pid();
        }
        if (kind == Kind.CHILD && !isCopy()) {
            return popen == null ? null : (long) popen.pid();
        }
        // The main process, a child's parent, a copy: null for a copy sent before its start.
        return knownPid == 0 ? null : knownPid;
    }

    /**
     * {@return the exit code: null while running (or before start); 0, 1 for an uncaught exception,
     * {@code n} for {@code System.exit(n)}, {@code -s} for signal {@code s}}
     */
    public synchronized Integer exitCode() {
        checkNotClosed();
        return popen == null ? null : popen.poll();
    }

    /**
     * A descriptor that becomes readable when the process ends, for
     * {@code Connections.await}.
     *
     * @return the descriptor
     * @throws IllegalStateException before start
     */
    public synchronized int sentinel() {
        checkNotClosed();
        if (kind == Kind.PARENT_VIEW) {
            return ChildMain.parentSentinel();
        }
        if (isCopy()) {
            checkChild("wait for");
        }
        if (popen == null) {
            throw new IllegalStateException("process not started");
        }
        return popen.sentinel();
    }

    /** Python's repr: {@code <Process name='Process-1' pid=42 parent=41 started daemon>}. */
    @Override
    public synchronized String toString() {
        Integer exit = null;
        String status;
        if (this == current) {
            status = "started";
        } else if (closed) {
            status = "closed";
        } else if (kind == Kind.PARENT_VIEW) {
            status = ChildMain.parentAlive() ? "started" : "stopped";
        } else if (isCopy() || parentPid != ProcessHandle.current().pid()) {
            status = "unknown";
        } else if (popen == null) {
            status = "initial";
        } else {
            exit = popen.poll();
            status = exit != null ? "stopped" : "started";
        }
        StringBuilder s = new StringBuilder("<").append(getClass().getSimpleName().isEmpty()
                ? "Process" : getClass().getSimpleName());
        s.append(" name='").append(name).append('\'');
        if (popen != null) {
            s.append(" pid=").append(popen.pid());
        } else if (this == current) {
            s.append(" pid=").append(ProcessHandle.current().pid());
        } else if ((kind != Kind.CHILD || isCopy()) && knownPid != 0) {
            s.append(" pid=").append(knownPid); // a parent's view, a copy received
        }
        if (kind != Kind.PARENT_VIEW) {
            s.append(" parent=").append(kind == Kind.MAIN || parentPid == 0 ? "None"
                    : Long.toString(parentPid));
        }
        s.append(' ').append(status);
        if (exit != null) {
            s.append(" exitcode=").append(exit < 0 && SIGNAL_NAMES.containsKey(-exit)
                    ? "-" + SIGNAL_NAMES.get(-exit) : exit.toString());
        }
        if (daemon()) {
            s.append(" daemon");
        }
        return s.append('>').toString();
    }

    // ------------------------------------------------------------------ module state

    static Process current() {
        return current;
    }

    static Process parentView() {
        return parent;
    }

    /** Reaps finished children and returns the live ones (Python's active_children). */
    static List<Process> activeChildren() {
        cleanup();
        return new ArrayList<>(CHILDREN);
    }

    /** Forgets children that have ended (Python's {@code process._cleanup}). */
    private static void cleanup() {
        for (Process p : CHILDREN) {
            Popen pp = p.popen;
            if (pp == null || pp.poll() != null) {
                CHILDREN.remove(p);
            }
        }
    }

    /**
     * Python's {@code _exit_function}: terminate daemonic children, join the others; a child
     * marked to outlive it (a manager's server, which the program's own shutdown hooks may
     * still be calling, beside this one) is left to end with this JVM, unless a child being
     * joined is still alive after {@link #EXIT_GRACE}: it may be waiting on that server (a
     * manager's queue, lock or event), so the server is stopped then, as Python's exit shuts
     * its managers down before it joins (with no grace: its exit handlers run in order).
     */
    static void exitChildren() {
        exiting = true;
        awaitStartsInFlight();
        for (Process p : activeChildren()) {
            if (p.daemon() && !p.outlivesExitHandler) {
                try {
                    p.terminate();
                } catch (RuntimeException ignored) {
                    // closed concurrently: the others are still to be ended (review 40)
                }
            }
        }
        long graceEnd = System.nanoTime() + EXIT_GRACE.toNanos();
        boolean stopped = false;
        for (Process p : activeChildren()) {
            if (p.outlivesExitHandler) {
                continue;
            }
            try {
                while (!stopped) {
                    long left = graceEnd - System.nanoTime();
                    if (left > 0) {
                        p.join(Duration.ofNanos(left));
                    }
                    if (!p.isAlive()) {
                        break;
                    }
                    stopOutliving();
                    stopped = true;
                }
                p.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IllegalStateException ignored) {
                // closed concurrently
            } catch (ProcessError ignored) {
                // it never ran; its standard error has said why
            }
        }
    }

    /**
     * Waits, {@link #START_WAIT_AT_EXIT} at most, for the starts other threads had begun when
     * the exit began: their children are then among those the exit joins or terminates.
     */
    private static void awaitStartsInFlight() {
        long end = System.nanoTime() + START_WAIT_AT_EXIT.toNanos();
        while (STARTS_IN_FLIGHT.get() > 0 && System.nanoTime() < end) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Stops the children marked to outlive the exit handler, each as its owner would. */
    private static void stopOutliving() {
        for (Process p : activeChildren()) {
            Runnable stop = p.stopAtExit;
            if (p.outlivesExitHandler && stop != null) {
                try {
                    stop.run();
                } catch (RuntimeException | Error e) {
                    LibraryLog.get().log(System.Logger.Level.DEBUG, "at exit, " + p
                            + " could not be stopped: " + e);
                }
            }
        }
    }

    /** Installs the exit handler once, when the first child starts. */
    private static final class Exits {
        static {
            AtExit.register(AtExit.Stage.CHILDREN, Process::exitChildren);
        }

        static void install() {
            // the static initializer does the work, once
        }
    }

    /**
     * Runs in the child (Python's {@code Process._bootstrap}): this object becomes the current
     * process, its run() runs, and the exit code says how it ended.
     */
    private static int bootstrap(Object received, Preparation preparation) {
        Process self = (Process) received;
        self.kind = Kind.CHILD;
        self.knownPid = ProcessHandle.current().pid();
        byte[] parentKey = self.authKey;
        parent = new Process(Kind.PARENT_VIEW, preparation.parentName(),
                preparation.parentPid(), parentKey);
        current = self;
        COUNTER.set(0);
        ChildMain.setDaemon(self.daemon());
        Multiprocessing.prepareChild(preparation);
        // Python's util.info lines, only when the parent logs (logToStderr): the logger is
        // built then anyway, and a child that logs nothing never builds it.
        boolean logs = preparation.logLevel() != null;
        if (logs) {
            LibraryLog.get().log(System.Logger.Level.INFO, "child process calling self.run()");
        }
        int exitCode;
        try {
            self.run();
            exitCode = 0;
        } catch (Throwable e) {
            StringWriter trace = new StringWriter();
            try (PrintWriter out = new PrintWriter(trace)) {
                out.println("Process " + self.name + ":");
                e.printStackTrace(out);
            }
            System.err.print(trace);
            System.err.flush();
            exitCode = 1;
        }
        if (logs) {
            LibraryLog.get().log(System.Logger.Level.INFO,
                    "process exiting with exitcode " + exitCode);
        }
        return exitCode;
    }
}
