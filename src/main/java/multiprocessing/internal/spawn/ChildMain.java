package multiprocessing.internal.spawn;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import multiprocessing.internal.events.Recorder;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Linkage;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.reduction.Handles;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.util.AtExit;
import multiprocessing.internal.util.LibraryThreads;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.wait.PipeStream;

/**
 * The entry point of a spawned child JVM (Python's {@code spawn.spawn_main}): reads the
 * {@link Preparation} from the inherited bootstrap descriptor, runs the process, waits for the
 * non-daemon threads it started, and exits with the process's exit code.
 *
 * <p>A spawned child's main thread reads its payload without a native call: the bootstrap pipe
 * is read with plain {@code java.io} through {@code /proc/self/fd}, because linking the first
 * downcalls of a fresh JVM costs more than the JVM's own start. A payload that holds a channel
 * (whose target will make downcalls anyway) has that link made meanwhile on another thread
 * ({@code Spawner.LinkAhead}); a JVM booted ahead (forkserver) reads its payload from a socket
 * with {@code recvmsg}, linked while it waited.
 */
public final class ChildMain {
    private ChildMain() {}

    /**
     * In a JVM started with the lean AOT cache (which names where to report): has the building
     * of Fory, should this process need it after all, mark the cache's key so that later
     * children of the same jars map the full one.
     */
    public static void reportLeanMiss() {
        String leanMiss = System.getProperty(AotCache.LEAN_MISS_PROPERTY);
        if (leanMiss != null) {
            Serialization.whenBuilt(new AotCache.LeanMissReport(leanMiss));
        }
    }

    /**
     * Whether this JVM maps an AOT cache without Fory, the lean or the channels one (it was
     * told where to report a miss): Fory's classes are not at hand, and building Fory reads
     * them from the jar (~0.3 s).
     */
    public static boolean mapsCacheWithoutFory() {
        return System.getProperty(AotCache.LEAN_MISS_PROPERTY) != null;
    }

    /** How often a daemon child's watcher looks at its parent pid besides its sentinel. */
    private static final long WATCH_NANOS = 5_000_000_000L;

    private static volatile boolean parentAlive = true;
    private static volatile long parentPid = -1;
    private static boolean watching;
    private static volatile boolean child;
    private static volatile boolean receiving;

    public static void main(String[] args) {
        child = true;
        AotCache.reportRefused();
        reportLeanMiss();
        InputStream bootstrap;
        try {
            bootstrap = new FileInputStream("/proc/self/fd/" + Spawner.BOOTSTRAP_FD);
        } catch (IOException e) {
            bootstrapFailed(e);
            return;
        }
        run(bootstrap, null);
    }

    /**
     * Reads the payload from {@code bootstrap} and runs its process, then exits: the whole life
     * of a child after its JVM is up. The process's descriptors are {@code fds} (received from
     * the parent), or with null the ones inherited at 4, 5, ...
     */
    public static void run(InputStream bootstrap, int[] fds) {
        child = true;
        Recorder.registerAheadIfRecording();
        Preparation preparation;
        try {
            DataInputStream in = new DataInputStream(new BufferedInputStream(bootstrap, 1 << 16));
            if (in.readInt() != Spawner.MAGIC) {
                throw new IOException("descriptor " + Spawner.BOOTSTRAP_FD
                        + " does not carry a multiprocessing bootstrap payload");
            }
            int handleCount = in.readInt();
            if (fds == null) {
                fds = new int[handleCount];
                for (int i = 0; i < handleCount; i++) {
                    fds[i] = Spawner.FIRST_HANDLE_FD + i;
                }
            } else if (fds.length != handleCount) {
                throw new IOException("the payload names " + handleCount + " descriptors but "
                        + fds.length + " came with it");
            }
            receiving = true;
            preparation = Spawner.readPreparation(in, Handles.received(fds));
        } catch (IOException | RuntimeException | LinkageError e) {
            bootstrapFailed(e);
            return;
        } finally {
            receiving = false;
        }
        if (preparation.process() instanceof AotCache.Exercise exercise) {
            try {
                exercise.run();
            } finally {
                try {
                    AotCache.Exercise.done();
                } finally {
                    System.exit(0); // also after an error: the cache holds what was loaded
                }
            }
        }
        parentPid = preparation.parentPid();
        // Tells the parent's StderrTap that the process runs: from here on, an exit code is
        // the process's own. Straight to descriptor 2, not through System.err, which code
        // run by the deserialization (a class's static initializer, an agent) may have
        // replaced (review 40: such a child was told it never ran, and the marker went to
        // its log).
        System.err.flush();
        try {
            new FileOutputStream(FileDescriptor.err).write(StderrTap.MARKER);
        } catch (IOException closed) {
            // its standard error closed: the exit code tells what it can
        }
        int code = ProcessAccess.get().bootstrap(preparation.process(), preparation);
        joinNonDaemonThreads(ProcessAccess.get().waitsForItsThreads(preparation.process())
                ? -1 : EndsWithoutItsThreads.GRACE_NANOS);
        if (code == 0) {
            // Returned from main, the JVM ends as a program's does (DestroyJavaVM runs the
            // shutdown hooks) with status 0. System.exit(0) costs ~25 ms more (measured on a
            // bare JVM: 83 against 56 ms): Runtime.exit asks a System.Logger whether to log the
            // exit, which builds the logging backend (java.util.logging's) in every child.
            endWithoutLateThreads(Thread.currentThread());
            return;
        }
        System.exit(code);
    }

    /**
     * DestroyJavaVM waits for every non-daemon thread, also one that a daemon thread starts
     * after {@link #joinNonDaemonThreads} has looked (Python's child, and System.exit, do not
     * wait for it): a daemon thread watches from the end of {@code main} to the start of the
     * shutdown hooks (which DestroyJavaVM runs only once it is the last non-daemon thread)
     * and ends the JVM with System.exit(0) if such a thread holds it up.
     */
    private static void endWithoutLateThreads(Thread main) {
        LibraryThreads.platform().daemon().name("multiprocessing-child-end")
                .start(new EndWatch(main));
    }

    /**
     * The body of {@link #endWithoutLateThreads}'s thread. A class, not a lambda: the full
     * AOT cache's trainer never ends as a child, so a lambda here was spun at the end of every
     * process a waiting forkserver JVM ran, on the way to its exit. It parks rather than
     * sleeps: a JVM's first {@code Thread.sleep} loads the JFR event class of sleeps, which no
     * AOT cache keeps (JFR's event classes are never archived), from the JDK's modules image
     * at the end of every child.
     */
    static final class EndWatch implements Runnable {
        private final Thread main;

        EndWatch(Thread main) {
            this.main = main;
        }

        @Override
        public void run() {
            try {
                main.join();
            } catch (InterruptedException e) {
                return;
            }
            while (!lateNonDaemonThreadRuns()) {
                java.util.concurrent.locks.LockSupport.parkNanos(LATE_THREAD_CHECK_NANOS);
                if (Thread.interrupted()) {
                    return;
                }
            }
            Thread probe = new Thread(); // never started: a shutdown hook that does nothing
            try {
                Runtime.getRuntime().addShutdownHook(probe);
                Runtime.getRuntime().removeShutdownHook(probe);
            } catch (IllegalStateException e) {
                return; // the hooks run: that thread is one of theirs, or started by one
            }
            System.exit(0);
        }
    }

    /** How often the end of a child looks for a non-daemon thread started late. */
    private static final long LATE_THREAD_CHECK_NANOS = 20_000_000;

    /** Whether a non-daemon thread other than DestroyJavaVM's own runs. */
    private static boolean lateNonDaemonThreadRuns() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] all = new Thread[root.activeCount() + 8];
        int count = root.enumerate(all, true);
        for (int i = 0; i < count; i++) {
            Thread t = all[i];
            // HotSpot's jni_DestroyJavaVM attaches the launcher's thread under this name.
            if (!t.isDaemon() && t.isAlive() && !t.getName().equals("DestroyJavaVM")) {
                return true;
            }
        }
        return false;
    }

    private static void bootstrapFailed(Throwable e) {
        // Bootstrap bytes it cannot read mean it was not started by Process.start(); an
        // object it cannot rebuild (a segment unlinked meanwhile) is the message itself.
        System.err.println("multiprocessing: the child could not read the process it was "
                + "started for" + (e instanceof IOException
                        ? " (was it started by multiprocessing.Process.start()?): " + e
                        : ": " + e.getMessage()));
        e.printStackTrace();
        System.exit(1);
    }

    /**
     * What a JVM booted ahead of time does before it is handed a process: everything a child
     * does that does not depend on its process, on a process of the library's own whose target
     * does nothing. It is written as a payload, read back and bootstrapped, so that the
     * serializer is built, the classes of that path are loaded and linked and its downcalls
     * bound, and a process handed over later starts at once. The real bootstrap replaces every
     * piece of state this one sets. Runs no user code.
     */
    public static void warmUp(String startMethod) {
        child = true;
        AotCache.reportRefused();
        ProcessAccess access = ProcessAccess.get();
        Object idle = access.idleProcess();
        Preparation preparation = new Preparation(idle, ProcessHandle.current().pid(),
                "MainProcess", startMethod, java.util.List.of(), null);
        byte[] payload = Spawner.payload(preparation,
                Serialization.serializeForStart(idle, Handles.spawning()), 0);
        try {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(payload));
            in.readInt();
            in.readInt();
            preparation = Spawner.readPreparation(in, Handles.received(new int[0]));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        access.bootstrap(preparation.process(), preparation);
        joinNonDaemonThreads(-1);
    }

    /**
     * Whether this child is reading the process it was started for (Python's
     * {@code _inheriting}): what it rebuilds now belongs to a process not yet current, whose
     * key, for one, is not known yet.
     */
    public static boolean receiving() {
        return receiving;
    }

    /**
     * Whether this JVM was started as a child (its entry point is this class's main): it will
     * receive its process object, so it needs no main process of its own.
     */
    public static boolean isChild() {
        return child;
    }

    /**
     * Whether this child's parent is still running: its end of the bootstrap channel is still
     * open (Python's {@code _ParentProcess.is_alive} asks the sentinel too), and it is still the
     * parent (a child whose parent has gone is re-parented, so a later process reusing the old
     * pid cannot look alive). The sentinel answers first: the parent's descriptors close before
     * the kernel re-parents its children.
     */
    public static boolean parentAlive() {
        // No method reference: it would be spun at the watcher's first look (see ParentWatcher).
        java.util.Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        if (parentAlive && parentPid >= 0 && ((parent.isPresent() ? parent.get().pid() : -1L)
                != parentPid || sentinelReadable())) {
            parentAlive = false;
        }
        return parentAlive;
    }

    private static boolean sentinelReadable() {
        try {
            return Posix.pollOne(Spawner.BOOTSTRAP_FD, Posix.POLLIN, 0) != 0;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /** Called by the process bootstrap: a daemon child ends when its parent does. */
    public static synchronized void setDaemon(boolean value) {
        if (value && !watching) {
            watching = true;
            watchParent();
        }
    }

    /** The descriptor that becomes readable (end of file) when the parent has exited. */
    public static int parentSentinel() {
        return Spawner.BOOTSTRAP_FD;
    }

    /**
     * Python terminates daemon children from its exit handler, which a parent killed by SIGKILL
     * never runs. Here a daemon child watches for its parent to go instead, whatever ended it.
     * (PR_SET_PDEATHSIG would fire when the spawning <em>thread</em> ends, which in a JVM can
     * be any short-lived thread.)
     *
     * <p>The watcher waits for the parent's sentinel (descriptor 3, whose other end only the
     * parent holds: end of file once it has gone) through {@link Parker#awaitFd}, whose waits
     * leave the kernel when the JVM exits (a thread blocked in poll(2) would add 300 ms to every
     * child's exit), and looks at the parent pid every 5 s besides, in case the sentinel's other
     * end has leaked into a process that outlives the parent (native code that forks). It used
     * to look at both every 100 ms: ~5 ms of CPU a second in each idle daemon child (a cold
     * wake-up, and the /proc reads of {@code ProcessHandle.parent()}, ~0.8 ms each), so that 200
     * idle children took a whole CPU of this 2-CPU machine just watching their parents.
     * Descriptor 3 itself stays open (the stream read the payload through a descriptor of its
     * own), as the sentinel a child can wait on.
     */
    private static void watchParent() {
        LibraryThreads.platform().daemon().name("multiprocessing-parent-watcher")
                .start(new ParentWatcher());
    }

    /**
     * The parent watcher's body: a class, not a lambda, so that a cache's trainer (no daemon
     * child) can load it (Workout): a lambda it never ran is spun in every daemon child, the
     * first one with its method handle forms (~2 ms of a pool worker's start).
     */
    static final class ParentWatcher implements Runnable {
        @Override
        public void run() {
            if (!Linkage.begun()) {
                int read = readSentinel();
                if (read == EXITING) {
                    return;
                }
                if (read == GONE) {
                    parentAlive = false;
                }
            }
            // An interrupt (a program that interrupts every thread it finds) does not end the
            // watch: a daemon child would then outlive its parent.
            while (parentAlive()) {
                Thread.interrupted();
                try {
                    Parker.awaitFd(Spawner.BOOTSTRAP_FD, Posix.POLLIN, WATCH_NANOS, false);
                } catch (ErrnoException e) {
                    try {
                        Thread.sleep(WATCH_NANOS / 1_000_000); // the parent pid still tells
                    } catch (InterruptedException ignored) {
                        // looked at again, as above
                    }
                }
            }
            Runnable last = whenParentGone;
            if (last != null) {
                try {
                    last.run();
                } catch (RuntimeException | Error e) {
                    // ending all the same
                }
            }
            // What it made goes (its private directory: nobody else would remove it), and
            // threads blocked in the library's reads would hold the halt up 300 ms.
            AtExit.beforeHalt(java.time.Duration.ofSeconds(1));
            Runtime.getRuntime().halt(128 + 15);
        }
    }

    /**
     * {@link #readSentinel}: the parent is gone, the JVM exits, or this way is closed (the
     * watch then polls through the libc layer).
     */
    static final int GONE = 0;
    private static final int EXITING = 1;
    private static final int UNAVAILABLE = 2;

    /**
     * The watch of a child that has not linked the libc layer (a pool's worker of plain tasks,
     * a daemon child that computes): reads the sentinel with the JDK's I/O, blocking until end
     * of file, so as not to link the layer for it (~15 ms of a fresh JVM; see {@link
     * multiprocessing.internal.posix.Linkage}). The exit's last stage closes the read's stream
     * ({@link PipeStream}). What it gives up: the look at the parent pid every 5 s, for a
     * sentinel whose other end leaked into a process that outlives the parent, which only
     * native code forking without exec can do (the library's spawns close every other
     * descriptor, and so do the JDK's).
     */
    private static int readSentinel() {
        return readUntilEnd(Spawner.BOOTSTRAP_FD);
    }

    /** {@link #readSentinel} on descriptor {@code fd} (also the lean cache's trainer's). */
    static int readUntilEnd(int fd) {
        PipeStream sentinel;
        try {
            sentinel = PipeStream.open(fd, true);
        } catch (IOException e) {
            return UNAVAILABLE;
        }
        if (sentinel == null) {
            return EXITING;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(1);
            while (sentinel.readFully(one, 1, 0) > 0) {
                // nothing more is written to it: read past, as the libc watch would poll past
            }
            return sentinel.exited() ? EXITING : GONE; // closed by the exit, or end of file
        } catch (IOException e) {
            return UNAVAILABLE;
        } finally {
            sentinel.close();
        }
    }

    private static volatile Runnable whenParentGone;

    /**
     * Has a daemon child run {@code action} when its parent is gone, just before it ends (it
     * must bound its own time): a manager's server releases what it holds for its clients, as
     * its shutdown would have.
     */
    public static void whenParentGone(Runnable action) {
        whenParentGone = action;
    }

    /**
     * As Python's child does at exit, wait for the non-daemon threads the target started. The
     * threads are listed from the root thread group, not with Thread.getAllStackTraces, which
     * stops the JVM at a safepoint to walk every stack.
     */
    private static void joinNonDaemonThreads(long graceNanos) {
        long deadline = System.nanoTime() + graceNanos;
        Thread self = Thread.currentThread();
        ThreadGroup root = self.getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        while (true) {
            Thread[] all = new Thread[root.activeCount() + 8];
            int count = root.enumerate(all, true);
            List<Thread> running = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Thread t = all[i];
                if (t != self && !t.isDaemon() && t.isAlive()) {
                    running.add(t);
                }
            }
            if (running.isEmpty()) {
                return;
            }
            for (Thread t : running) {
                // Nobody outside can interrupt this thread: a flag set is the target's own,
                // left by code that kept an interrupt it caught. DestroyJavaVM waits all the
                // same, and so does this (review 40: it exited in the middle of their work).
                boolean joined = false;
                while (!joined) {
                    try {
                        if (graceNanos < 0) {
                            t.join();
                            joined = true;
                        } else {
                            long left = deadline - System.nanoTime();
                            if (left <= 0) {
                                return; // the rest is cut off (EndsWithoutItsThreads)
                            }
                            joined = t.join(java.time.Duration.ofNanos(left));
                        }
                    } catch (InterruptedException e) {
                        // the flag is cleared now: join again
                    }
                }
            }
        }
    }
}
