package multiprocessing.internal.spawn;

import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import multiprocessing.internal.heap.Heap;
import multiprocessing.internal.events.ProcessTrace;
import multiprocessing.internal.posix.ErrnoException;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.posix.ProcessIdentity;
import multiprocessing.internal.util.Cleaning;
import multiprocessing.internal.util.TempDir;
import multiprocessing.internal.wait.Parker;
import multiprocessing.internal.util.Durations;

/**
 * A started child process as its parent sees it (Python's {@code popen_spawn_posix.Popen}): its
 * pid, a pidfd that becomes readable when it exits (the sentinel), and this end of its
 * bootstrap channel (a pipe, or a socket for a JVM booted ahead for the forkserver), held open
 * for the child's life so that the child sees end of file exactly when this process has gone,
 * however it ended; or closed early on purpose, to tell a waiting JVM to exit
 * ({@link #abandon}, {@link #retire}).
 *
 * <p>Signals go through the pidfd, so they can never reach an unrelated process that reused
 * the pid.
 */
public final class Popen {
    private final int pid;
    private final int pidfd;
    /**
     * Closes the pidfd of a process object the program dropped without close(), as Python's
     * Popen finalizer closes its sentinel: a program that starts thousands of processes and
     * never closes them must not run out of descriptors.
     */
    private final Cleaner.Cleanable pidfdCloser;
    private int bootstrapFd;
    /** Threads still writing the payload: the descriptor is closed only once they are done. */
    private int payloadWriters;
    private boolean bootstrapReleased;
    private Integer returnCode;
    /** Where the child makes its private directory ({@link TempDir#base()} of its tmpdir). */
    private final Path tempDirBase;
    /**
     * The child's start time ({@link ProcessIdentity#startTime}: 0 when /proc cannot tell)
     * once looked up; -1 before, so that it is looked up once, not at every poll.
     */
    private long childStart = -1;
    /** The child's standard error as it passes through here, or null. */
    private final StderrTap stderr;
    /** Its Flight Recorder events, or null. */
    private volatile ProcessTrace trace;

    /** When the child was spawned (System.nanoTime, just after its posix_spawn). */
    private final long spawnedNanos = System.nanoTime();

    Popen(int pid, int pidfd, int bootstrapFd, StderrTap stderr, Path tempDirBase) {
        this.stderr = stderr;
        this.tempDirBase = tempDirBase;
        this.pid = pid;
        this.pidfd = pidfd;
        this.bootstrapFd = bootstrapFd;
        AtomicInteger open = new AtomicInteger(pidfd);
        this.pidfdCloser = Cleaning.register(this, () -> Posix.closeQuietly(open.getAndSet(-1)));
    }

    public int pid() {
        return pid;
    }

    /** {@return when the child was spawned (System.nanoTime, just after its posix_spawn)} */
    public long spawnedNanos() {
        return spawnedNanos;
    }

    /**
     * Whether the child is past its start: it has said it runs its process, or its standard
     * error has reached its end (it has exited); also when that is not tapped, as nothing would
     * say it. Reaps nothing: any thread may ask.
     */
    public boolean pastStart() {
        return stderr == null || stderr.running() || stderr.drained();
    }

    /**
     * Whether the child has said it runs its process (also when that is not tapped); unlike
     * {@link #pastStart()}, false for a child that ended before it said so.
     */
    public boolean saidRunning() {
        boolean ended;
        synchronized (this) {
            ended = returnCode != null;
        }
        if (stderr != null && !stderr.running() && ended) {
            // Ended: what it wrote before is read by the draining thread, maybe not yet.
            stderr.awaitDrained(200);
        }
        return stderr == null || stderr.running();
    }

    /**
     * Records this child's start and end as {@code trace}'s events (null: none): the start when
     * the child says it runs its process, the end when it is reaped.
     */
    public void trace(ProcessTrace trace) {
        if (trace == null) {
            return;
        }
        this.trace = trace;
        if (stderr != null) {
            stderr.whenRunning(() -> trace.running(pid));
        }
        Integer code = poll(); // it may have ended, and been reaped, before it was traced
        if (code != null) {
            trace.ended(pid, code);
        }
    }

    /** Readable once the child has exited. */
    public int sentinel() {
        return pidfd;
    }

    /** The exit code once the child has ended (reaping it), else null. */
    public synchronized Integer poll() {
        if (returnCode == null) {
            if (childStart < 0) {
                // Until it is reaped its pid is its own, even once it has exited: what it left
                // is then looked up by name (its start time is in the names), not listed for.
                childStart = ProcessIdentity.startTime(pid);
            }
            try {
                returnCode = Posix.reap(pid, false);
            } catch (ErrnoException e) {
                throw new IllegalStateException("cannot reap child " + pid + ": " + e.getMessage(), e);
            }
            if (returnCode != null) {
                releaseBootstrap();
                // A child killed (or terminated: it runs no exit hook then) left its holds of
                // shared blocks written down, and its private directory.
                Heap.processEnded(pid, childStart);
                TempDir.removeLeftBy(tempDirBase, pid, childStart);
                ProcessTrace t = trace;
                if (t != null) {
                    t.ended(pid, returnCode);
                }
            }
        }
        return returnCode;
    }

    /**
     * Waits up to {@code timeout} (null: forever) for the child to end; returns its exit code,
     * or null on timeout.
     *
     * @throws InterruptedException if the waiting thread is interrupted
     */
    public Integer await(Duration timeout) throws InterruptedException {
        long deadline = timeout == null ? Long.MAX_VALUE : Durations.deadline(timeout);
        while (true) {
            Integer code = poll();
            if (code != null) {
                return code;
            }
            long left = timeout == null ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            try {
                Parker.awaitFd(pidfd, Posix.POLLIN, Parker.slice(left), true);
            } catch (ErrnoException e) {
                throw new IllegalStateException("cannot wait for child " + pid, e);
            }
        }
    }

    /**
     * Once the child has ended: why it never ran its process (its JVM could not start, or could
     * not load the library or the process), with the first lines of its standard error; null
     * while it runs, and when it ran its process, whatever its exit code.
     */
    public String startFailure() {
        Integer code = poll();
        return code == null || stderr == null ? null : stderr.failure(code);
    }

    /** Sends {@code signal} unless the child has already ended. */
    public void signal(int signal) {
        if (poll() != null) {
            return;
        }
        try {
            Posix.pidfdSendSignal(pidfd, signal);
        } catch (ErrnoException e) {
            if (e.errno() != Posix.ESRCH) {
                throw new IllegalStateException("cannot signal child " + pid + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * The bootstrap descriptor for a thread that writes the rest of the payload, or -1 if it is
     * already released; {@link #endPayloadWrite()} must follow. Until then the descriptor
     * stays open even if the child is reaped, so that the writer's next write can never reach
     * another file that reused the number.
     */
    synchronized int beginPayloadWrite() {
        if (bootstrapReleased) {
            return -1;
        }
        payloadWriters++;
        return bootstrapFd;
    }

    synchronized void endPayloadWrite() {
        payloadWriters--;
        if (bootstrapReleased && payloadWriters == 0) {
            closeBootstrap();
        }
    }

    /**
     * Closes this end of the bootstrap channel now: a JVM still waiting to be handed a process
     * sees end of file and exits (a handed-over child would see its parent as gone).
     */
    public synchronized void abandon() {
        releaseBootstrap();
    }

    private synchronized void releaseBootstrap() {
        bootstrapReleased = true;
        if (payloadWriters == 0) {
            closeBootstrap();
        }
    }

    private void closeBootstrap() {
        if (bootstrapFd >= 0) {
            Posix.closeQuietly(bootstrapFd);
            bootstrapFd = -1;
        }
    }

    /**
     * Ends a child that has not been handed its process, or never will be: closes the
     * bootstrap channel, so that it sees end of file and exits, killing it at once if
     * {@code killAtOnce}, else if it lingers 5 s; reaps it, also from an interrupted thread
     * (whose flag is kept), and closes. A child left unreaped would stay a zombie, forgotten,
     * until this JVM exits.
     */
    public void retire(boolean killAtOnce) {
        abandon();
        if (killAtOnce) {
            signal(Posix.SIGKILL);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        boolean killed = killAtOnce;
        boolean interrupted = false;
        while (true) {
            try {
                Duration left = killed ? null
                        : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                if (await(left) != null) {
                    break;
                }
                signal(Posix.SIGKILL);
                killed = true;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /**
     * Releases the descriptors; the child must have been reaped. Its standard error's pipe is
     * closed by the thread that drains it, at end of file: waited for briefly, since a process
     * the child started may still hold the pipe.
     */
    public synchronized void close() {
        releaseBootstrap();
        pidfdCloser.clean();
        if (stderr != null) {
            stderr.awaitDrained(1000);
        }
    }
}
