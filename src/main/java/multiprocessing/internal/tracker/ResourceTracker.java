package multiprocessing.internal.tracker;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.Spawn;
import multiprocessing.internal.util.LibraryLog;

/**
 * The client side of the resource tracker (CPython's {@code resource_tracker}): every process
 * of a program reports the shared-memory names it creates and unlinks, and whatever is still
 * registered when the last process of the program has gone is unlinked by the tracker
 * ({@link TrackerMain}), with one warning per name.
 *
 * <p>Implementation note. The processes talk to the tracker through one pipe: the process that
 * first needs it (a registration, or starting a child) creates it; every child started by the
 * library inherits its write end ({@link #fdForChild()}, passed as
 * {@code -Dmultiprocessing.tracker.fd=N}), so the tracker reads end of file exactly when every
 * process of the tree has exited, however it ended (SIGKILL included), with no heartbeat and
 * nothing to wait for at exit. Each message is one line written with one write(2), which a
 * pipe keeps whole (it is shorter than PIPE_BUF) however many processes write at once.
 *
 * <p>The tracker JVM itself starts only with the first registration anywhere in the tree: the
 * read end goes to a detached {@code sh} that waits for the first line and only then
 * {@code exec}s the tracker's JVM with that line as an argument (the shell's {@code read} takes
 * a pipe byte by byte, so nothing after the line is consumed). A program that never creates
 * shared memory thus costs one sleeping shell, not a JVM. The shell runs in the background of
 * a shell that exits at once, so the tracker is nobody's child (no zombie, not among the
 * children a test or a user sees), and it ignores SIGINT, SIGTERM and SIGHUP (as CPython's
 * does), so that a Ctrl-C that ends the program still leaves the tracker to clean up after it.
 * Beyond CPython's, it runs in a process group of its own: a SIGKILL of the program's whole
 * group ({@code kill -9 -PGID}, {@code timeout -s KILL}) killed CPython's tracker with the
 * program, and the segments stayed in {@code /dev/shm}. Being in the background of a terminal,
 * it also ignores SIGTTOU and SIGTTIN, so that its warnings on the program's standard error
 * never stop it ({@code stty tostop}).
 */
public final class ResourceTracker {
    private ResourceTracker() {}

    /** The system property that tells a child which descriptor is the tracker pipe. */
    public static final String FD_PROPERTY = "multiprocessing.tracker.fd";

    /**
     * The option that tells a child its tracker pipe is its descriptor {@code fdInChild}, and
     * that this process handed it.
     */
    public static String childOption(int fdInChild) {
        return "-D" + FD_PROPERTY + "=" + fdInChild + "," + ProcessHandle.current().pid();
    }

    /** Which tracker a child started now reports to: changes when one is started again. */
    public static int generation() {
        return generation;
    }

    private static final String LAUNCHER = """
            trap '' INT TERM HUP TTOU TTIN
            cd /
            (
              IFS= read -r first <&3 || exit 0
              exec "$0" "$@" "$first"
            ) </dev/null >/dev/null &
            """;

    private static int fd = -1;
    private static boolean inheritedChecked;
    /** The pid of the parent that handed this process its pipe, or -1 (none did). */
    private static long parent = -1;
    /** Whether this process watches its tracker ({@link #watch}). */
    private static boolean watching;
    /** When this process last started a tracker again (0: never). */
    private static long restartedNanos;
    /**
     * Counts the trackers this process started again: what a process started before holds
     * the pipe of an earlier one (a forkserver's waiting JVMs retire such ones).
     */
    private static volatile int generation;
    /**
     * Trackers that end within this of being started again, {@link #QUICK_ENDS} times in a
     * row, are taken as unable to run here: no more is started.
     */
    private static final long RESTART_GRACE_NANOS = 10_000_000_000L;
    private static final int QUICK_ENDS = 3;
    /** How many trackers started again in a row ended within the grace. */
    private static int quickEnds;
    private static boolean broken;
    /** Set by {@link #leave}: this process no longer reports anything. */
    private static boolean left;
    /**
     * The names this process registered and has not unregistered, with their inodes (0: not
     * known): what a tracker started again is told ({@link #restart}).
     */
    private static final Map<String, Long> held = new HashMap<>();

    /**
     * Records that this process is creating {@code name}, a random name nobody else uses: it
     * is unlinked if the tree ends first.
     */
    public static void register(String name) {
        register(name, 0);
    }

    /**
     * Records that this process created the object {@code name} with inode {@code inode}:
     * it is unlinked if the tree ends first, while the name is still that object's (a name
     * chosen by the caller may be unlinked and made again by anyone; {@link TrackerMain}).
     */
    public static void register(String name, long inode) {
        send("REGISTER", name, inode, true);
    }

    /**
     * Makes sure the tracker's pipe is there (its first use starts the tracker), so that a
     * {@link #register} right after costs one write(2).
     */
    public static synchronized void ready() {
        ensure(true);
    }

    /** Records that {@code name} has been unlinked (a no-op when no tracker was ever needed). */
    public static void unregister(String name) {
        unregister(name, 0);
    }

    /**
     * Records that the object {@code name} with inode {@code inode} (0: not known) has been
     * unlinked.
     */
    public static void unregister(String name, long inode) {
        send("UNREGISTER", name, inode, false);
    }

    /**
     * The write end of the tracker pipe, created if need be, for a child to inherit; -1 if the
     * tracker cannot work here (already reported).
     */
    public static synchronized int fdForChild() {
        int out = ensure(true);
        if (out >= 0 && readerGone(out)) {
            // Checked here too, not only at a failed write: a child handed a pipe nobody reads
            // would start a tracker of its own at its first registration, which would wait
            // for its subtree only.
            restart("gone");
            out = broken ? -1 : fd;
        }
        return out;
    }

    /**
     * Takes this process out of the tree the tracker waits for, if it holds no name the
     * tracker would have to unlink after it: it closes its copy of the pipe, and the tracker
     * no longer waits for it to end. For a process of the tree that outlives the program on
     * purpose: an AOT cache's trainer, which goes on for seconds (minutes on a loaded machine)
     * writing the cache once its tour is done, held up the unlinking of what a SIGKILLed child
     * had left until then (attack 23). Nothing is reported after it.
     *
     * @return whether it left (false: it holds names, or it never had the pipe)
     */
    public static synchronized boolean leave() {
        if (!held.isEmpty() || ensure(false) < 0) {
            return false; // (ensure: the pipe it inherited, which it may not have used yet)
        }
        Posix.closeQuietly(fd);
        fd = -1;
        left = true;
        return true;
    }

    private static synchronized void send(String verb, String name, long inode, boolean create) {
        int out = ensure(create);
        if (out < 0) {
            return;
        }
        if (create) {
            held.put(name, inode);
        } else {
            held.remove(name);
        }
        try {
            write(out, verb, name, inode);
            if (create && !watching && parent <= 0) {
                // From this process's first registration on, not from its first child's
                // start: a program that never makes shared memory has nothing to clean up,
                // and its first start is not to share the CPU with the poller's.
                watching = true;
                watch(out);
            }
        } catch (ErrnoException e) {
            if (e.errno() == Posix.EPIPE) {
                restart(e.getMessage()); // it tells the new tracker what is held, this included
            } else {
                giveUp(e);
            }
        } catch (RuntimeException e) {
            giveUp(e);
        }
    }

    private static void write(int out, String verb, String name, long inode)
            throws ErrnoException {
        byte[] line = (verb + " " + ProcessHandle.current().pid() + " " + inode + " " + name
                + "\n")
                .getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(line.length);
            MemorySegment.copy(line, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                    line.length);
            long n = Posix.write(out, buf, line.length);
            if (n != line.length) {
                throw new IllegalStateException("short write to the resource tracker: " + n);
            }
        }
    }

    private static void giveUp(Exception e) {
        broken = true;
        LibraryLog.get().log(Level.WARNING, "multiprocessing: the resource tracker is gone ("
                + e.getMessage() + "); shared memory left behind will not be cleaned up");
    }

    /** Whether nobody reads {@code out} any longer: a pipe's write end polls POLLERR then. */
    private static boolean readerGone(int out) {
        try {
            return (Posix.pollOne(out, Posix.POLLOUT, 0) & Posix.POLLERR) != 0;
        } catch (ErrnoException e) {
            return false; // a write will tell
        }
    }

    /**
     * The tracker ended while the program runs (it ignores the signals a program's end sends,
     * so something killed it): as CPython's {@code ensure_running} does, this process starts
     * another and tells it again what it holds, and its children started from now on report
     * to it. A child's new tracker also waits for its parent to end before it cleans up: what
     * the child created and handed on may still be in use there. What other processes of the
     * program registered is tracked again only once they report again (each starts a tracker
     * of its own then); the warning says so.
     */
    private static void restart(String why) {
        long now = System.nanoTime();
        quickEnds = restartedNanos != 0 && now - restartedNanos < RESTART_GRACE_NANOS
                ? quickEnds + 1 : 0;
        if (quickEnds >= QUICK_ENDS) {
            // Those started again end at once (their JVM cannot start here): starting more
            // would cost a JVM and a warning at every registration and start (review 53). Not
            // at the first: something outside may have killed two in a row (attack 52).
            giveUp(new IllegalStateException("the ones started again ended at once: " + why));
            return;
        }
        restartedNanos = now;
        LibraryLog.get().log(Level.WARNING, "multiprocessing: the resource tracker ended ("
                + why + "); starting another in process " + ProcessHandle.current().pid()
                + " with the " + held.size() + " name(s) it holds. Shared memory that other "
                + "processes of the program created before is cleaned up only if they "
                + "create or unlink some again");
        // The ended tracker's write end is left open, never closed: another thread may have
        // taken its number for a child it is about to start (review 53), and a closed number
        // could be reused by anything meanwhile. One per restart, and restarts are few.
        fd = -1;
        generation++;
        int awaited = parent > 0 ? parentPidfd(parent) : -1;
        try {
            fd = launch(awaited);
            for (Map.Entry<String, Long> e : held.entrySet()) {
                write(fd, "REGISTER", e.getKey(), e.getValue());
            }
            if (watching) {
                watch(fd);
            }
        } catch (IOException | RuntimeException e) {
            if (fd >= 0) {
                Posix.closeQuietly(fd);
                fd = -1;
            }
            giveUp(e);
        } finally {
            if (awaited >= 0) {
                Posix.closeQuietly(awaited);
            }
        }
    }

    /**
     * A pidfd of {@code expected}, the parent that handed this process its pipe, while it is
     * still this process's parent; else -1: it has ended, and this process was handed to a
     * subreaper ({@code systemd --user}, a container's init), which a tracker must not wait
     * for (review 53: it waited until logout).
     */
    private static int parentPidfd(long expected) {
        long ppid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
        if (ppid != expected) {
            return -1;
        }
        try {
            int pidfd = Posix.pidfdOpen((int) ppid);
            // Still our parent once the pidfd is open: not a process that reused its pid.
            if (ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L) == ppid) {
                return pidfd;
            }
            Posix.closeQuietly(pidfd);
        } catch (ErrnoException e) {
            // gone already
        }
        return -1;
    }

    private static int ensure(boolean create) {
        if (broken || left) {
            return -1;
        }
        if (fd >= 0) {
            return fd;
        }
        if (!inheritedChecked) {
            inheritedChecked = true;
            fd = inherited();
            if (fd >= 0) {
                return fd;
            }
        }
        if (!create) {
            return -1;
        }
        try {
            fd = launch(-1);
        } catch (IOException | RuntimeException e) {
            broken = true;
            LibraryLog.get().log(Level.WARNING,
                    "multiprocessing: cannot start the resource tracker ("
                    + e.getMessage() + "); shared memory left behind will not be cleaned up");
        }
        return fd;
    }

    /**
     * Has the tracker of {@code out} started again as soon as it ends, in the program's root
     * process once it has registered something: one killed after the last registration was not
     * started again, and everything the program left then stayed in /dev/shm with no word
     * (attack 52). A virtual thread waits for the pipe's reader to go (POLLERR on the write
     * end), through the library's one poller; the other processes of the tree start one again
     * at their next registration only, or each would start a JVM at once.
     */
    private static void watch(int out) {
        Thread.ofVirtual().name("multiprocessing-tracker-watch").start(() -> {
            int r;
            try {
                do {
                    r = multiprocessing.internal.wait.Parker.awaitFd(out, 0, -1, false);
                } while (r == 0); // woken early: look again
            } catch (ErrnoException e) {
                return;
            }
            if ((r & Posix.POLLERR) == 0) {
                return; // closed here (leave): nothing to watch
            }
            synchronized (ResourceTracker.class) {
                if (fd == out && !broken && !left) {
                    restart("gone"); // which watches the new one
                }
            }
        });
    }

    /** The pipe a parent handed down, if the descriptor it named is still a pipe here. */
    private static int inherited() {
        String value = System.getProperty(FD_PROPERTY);
        if (value == null) {
            return -1;
        }
        try {
            // "N,PID": descriptor N, handed by process PID (childOption).
            int comma = value.indexOf(',');
            int n = Integer.parseInt(comma < 0 ? value : value.substring(0, comma));
            Path link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + n));
            if (!link.toString().startsWith("pipe:")) {
                return -1;
            }
            parent = comma < 0 ? -1 : Long.parseLong(value.substring(comma + 1));
            return n;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Starts a tracker and returns the write end of its pipe; with {@code alsoAwait} (a pidfd,
     * or -1) as its descriptor 4, the tracker also waits for that process to end.
     */
    private static int launch(int alsoAwait) throws IOException {
        int[] pipe = Posix.pipe(Posix.O_CLOEXEC);
        try {
            List<String> argv = new ArrayList<>();
            argv.add("sh");
            argv.add("-c");
            argv.add(LAUNCHER);
            argv.addAll(TrackerMain.commandLine());
            // Without the program's JVM options: the tracker needs none, and any of them could
            // stop its JVM, silently (a collector, a heap minimum above its -Xmx32m, an archive
            // choice, in the variables or in files they name: review 52, attacks 49 and 50),
            // and then nothing was ever cleaned up.
            List<String> env = new ArrayList<>();
            System.getenv().forEach((k, v) -> {
                if (!multiprocessing.internal.spawn.Spawner.OPTION_VARIABLES.contains(k)) {
                    env.add(k + "=" + v);
                }
            });
            if (multiprocessing.internal.spawn.WorkingDirectory.gone()) {
                // Its shell would say on the program's standard error that it found no working
                // directory (attack 49): it starts from one that is there.
                argv = multiprocessing.internal.spawn.WorkingDirectory.fromRoot(argv);
            }
            int[] inherit = alsoAwait >= 0 ? new int[] {pipe[0], alsoAwait} : new int[] {pipe[0]};
            int pid = Spawn.spawnInNewGroup(argv.get(0).equals("sh") ? "/bin/sh" : argv.get(0),
                    argv, env, inherit);
            Posix.reap(pid, true);
        } catch (IOException | RuntimeException e) {
            Posix.closeQuietly(pipe[1]);
            throw e;
        } finally {
            Posix.closeQuietly(pipe[0]);
        }
        return pipe[1];
    }
}
