package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static multiprocessing.internal.posix.Errno.arg;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import multiprocessing.internal.libc.Libc;
import multiprocessing.internal.libc.iovec;
import multiprocessing.internal.libc.pollfd;

/**
 * File descriptors, processes and signals: the part of the libc layer that every other part of
 * the library uses. Each method returns normally or throws an {@link ErrnoException} naming the
 * function, errno's name and strerror's text; EINTR is retried where that is always right.
 */
public final class Posix {
    private Posix() {}

    public static final int O_CLOEXEC = Libc.O_CLOEXEC();
    public static final int O_NONBLOCK = Libc.O_NONBLOCK();
    public static final int POLLIN = Libc.POLLIN();
    public static final int POLLOUT = Libc.POLLOUT();
    public static final int POLLHUP = Libc.POLLHUP();
    public static final int POLLERR = Libc.POLLERR();
    public static final int POLLNVAL = Libc.POLLNVAL();
    /**
     * The peer shut its writing side down, or closed (a TCP FIN): Linux's value on x86_64 and
     * aarch64, hard-coded as a _GNU_SOURCE name the committed bindings lack.
     */
    public static final int POLLRDHUP = 0x2000;
    public static final int SIGTERM = Libc.SIGTERM();
    /**
     * Resumes a stopped process: Linux's value on x86_64 and aarch64, hard-coded as
     * {@link #POLLRDHUP} is, the committed bindings lacking it.
     */
    public static final int SIGCONT = 18;
    public static final int SIGKILL = Libc.SIGKILL();
    public static final int EINTR = Libc.EINTR();
    public static final int EAGAIN = Libc.EAGAIN();
    public static final int EPIPE = Libc.EPIPE();
    public static final int ECONNRESET = Libc.ECONNRESET();
    public static final int ESRCH = Libc.ESRCH();
    public static final int ECHILD = Libc.ECHILD();
    public static final int EBADF = Libc.EBADF();

    // One holder per function: its address is looked up and checked on first use only.
    private static final class Close {
        static final Errno.Function F = Errno.function(Libc.close$address(),
                Libc.close$descriptor());
    }

    private static final class Read {
        static final Errno.Function F = Errno.function(Libc.read$address(), Libc.read$descriptor());
    }

    private static final class Write {
        static final Errno.Function F = Errno.function(Libc.write$address(),
                Libc.write$descriptor());
    }

    private static final class Pipe2 {
        static final Errno.Function F = Errno.function(Libc.pipe2$address(),
                Libc.pipe2$descriptor());
    }

    private static final class Poll {
        static final Errno.Function F = Errno.function(Libc.poll$address(), Libc.poll$descriptor());
    }

    private static final class Dup3 {
        static final Errno.Function F = Errno.function(Libc.dup3$address(), Libc.dup3$descriptor());
    }

    /**
     * fcntl is variadic and not in the jextract bindings (no jextract here to regenerate them):
     * linked by hand, for F_DUPFD_CLOEXEC only.
     */
    private static final class Fcntl {
        static final MethodHandle H = Errno.linkVariadic("fcntl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), 2);
        /** F_LINUX_SPECIFIC_BASE + 6 in linux/fcntl.h, the same on every Linux architecture. */
        static final int F_DUPFD_CLOEXEC = 1030;
    }

    private static final class Kill {
        static final Errno.Function F = Errno.function(Libc.kill$address(), Libc.kill$descriptor());
    }

    private static final class Waitpid {
        static final Errno.Function F = Errno.function(Libc.waitpid$address(),
                Libc.waitpid$descriptor());
    }

    private static final class PidfdOpen {
        static final Errno.Function F =
                Errno.function(Libc.pidfd_open$address(), Libc.pidfd_open$descriptor());
    }

    private static final class PidfdSendSignal {
        static final Errno.Function F = Errno.function(
                Libc.pidfd_send_signal$address(), Libc.pidfd_send_signal$descriptor());
    }

    private static final class Getpid {
        static final Errno.Function F = Errno.function(Libc.getpid$address(),
                Libc.getpid$descriptor());
    }

    /** preadv2/pwritev2 are not in the jextract bindings: linked by name. */
    private static final class NoWait {
        static final Errno.Function PREADV2 = Errno.function("preadv2", FunctionDescriptor.of(
                JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
        static final Errno.Function PWRITEV2 = Errno.function("pwritev2", FunctionDescriptor.of(
                JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
        /** linux/fs.h: fail with EAGAIN rather than wait (pipes: Linux 5.x and later). */
        static final int RWF_NOWAIT = 0x08;
        static final int EOPNOTSUPP = 95;
        /**
         * Whether RWF_NOWAIT works on the descriptors met so far (cleared on EOPNOTSUPP; off
         * with {@code -Dmultiprocessing.posix.noRwfNowait=true}, to test the other way).
         */
        static volatile boolean supported = !Boolean.getBoolean("multiprocessing.posix.noRwfNowait");
        static final ThreadLocal<MemorySegment> IOVEC =
                ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(iovec.layout()));
        /** The most a pipe write is sure to take at once when poll says it has room. */
        static final long PIPE_BUF = 4096;
    }

    /** Linux's eventfd: not in the bindings, which follow POSIX headers. */
    private static final class EventFd {
        static final Errno.Function F = Errno.function("eventfd",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        /** EFD_CLOEXEC | EFD_NONBLOCK, which sys/eventfd.h defines as these two. */
        static final int FLAGS = O_CLOEXEC | O_NONBLOCK;
    }

    /**
     * A new eventfd (close-on-exec, non-blocking) whose counter starts at 0: readable (POLLIN)
     * once {@link #signalEventFd} has been called on it, for good since nobody reads it.
     */
    public static int eventFd() throws ErrnoException {
        MemorySegment st = Errno.state();
        int fd = (int) Errno.call(EventFd.F, st, arg(0), arg(EventFd.FLAGS));
        if (fd < 0) {
            throw Errno.error("eventfd", st);
        }
        return fd;
    }

    /** Adds 1 to an eventfd's counter, waking whoever polls it. */
    public static void signalEventFd(int fd) throws ErrnoException {
        MemorySegment one = Arena.ofAuto().allocate(JAVA_LONG);
        one.set(JAVA_LONG, 0, 1L);
        write(fd, one, 8);
    }

    /** Not in the jextract bindings: linked by name. */
    private static final class Geteuid {
        static final Errno.Function F = Errno.function("geteuid", FunctionDescriptor.of(JAVA_INT));
    }

    private static final class Sysconf {
        static final Errno.Function F = Errno.function(Libc.sysconf$address(),
                Libc.sysconf$descriptor());
    }

    /**
     * Makes sure a failure can be reported when descriptors have run out (see
     * {@link Errno#prepare()}); cheap after the first call. For code about to open many.
     */
    public static void prepareErrorReports() {
        Errno.prepare();
    }

    public static void close(int fd) throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(Close.F, st, arg(fd));
        // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
        if (r < 0 && Errno.errno(st) != EINTR) {
            throw Errno.error("close", st);
        }
    }

    /** Closes and ignores errors: for clean-up paths that already have an exception to report. */
    public static void closeQuietly(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            close(fd);
        } catch (ErrnoException ignored) {
            // nothing more useful to do on a clean-up path
        }
    }

    /**
     * Reads up to {@code count} bytes into {@code buf}; 0 at end of file, -1 when the descriptor
     * is non-blocking and has nothing (EAGAIN).
     */
    public static long read(int fd, MemorySegment buf, long count) throws ErrnoException {
        MemorySegment st = Errno.state();
        while (true) {
            long r = Errno.call(Read.F, st, arg(fd), buf, arg(count));
            if (r >= 0) {
                return r;
            }
            int e = Errno.errno(st);
            if (e == EAGAIN) {
                return -1;
            }
            if (e != EINTR) {
                throw Errno.error("read", st);
            }
        }
    }

    /** Writes up to {@code count} bytes; -1 when a non-blocking descriptor is full (EAGAIN). */
    public static long write(int fd, MemorySegment buf, long count) throws ErrnoException {
        MemorySegment st = Errno.state();
        while (true) {
            long r = Errno.call(Write.F, st, arg(fd), buf, arg(count));
            if (r >= 0) {
                return r;
            }
            int e = Errno.errno(st);
            if (e == EAGAIN) {
                return -1;
            }
            if (e != EINTR) {
                throw Errno.error("write", st);
            }
        }
    }

    /**
     * As {@link #read}, but never blocks, whatever the descriptor's mode: -1 when nothing can be
     * read now. For a virtual thread, which must not hold its carrier in the kernel: it waits
     * for readiness in the poller instead. preadv2 with RWF_NOWAIT where the kernel takes it for
     * the descriptor; else a poll(2) of it first (then only another process's reader of the
     * same pipe, taking the bytes between the two calls, could make the read wait).
     */
    public static long readNoWait(int fd, MemorySegment buf, long count) throws ErrnoException {
        if (NoWait.supported) {
            long r = vectored(NoWait.PREADV2, "preadv2", fd, buf, count);
            if (r != -2) {
                return r;
            }
        }
        return pollOne(fd, POLLIN, 0) == 0 ? -1 : read(fd, buf, count);
    }

    /**
     * As {@link #write}, but never blocks: -1 when nothing can be written now (see
     * {@link #readNoWait}). Where RWF_NOWAIT is not taken, it writes at most PIPE_BUF bytes
     * after a poll(2) reported room, which a pipe takes whole.
     */
    public static long writeNoWait(int fd, MemorySegment buf, long count) throws ErrnoException {
        if (NoWait.supported) {
            long r = vectored(NoWait.PWRITEV2, "pwritev2", fd, buf, count);
            if (r != -2) {
                return r;
            }
        }
        return pollOne(fd, POLLOUT, 0) == 0 ? -1
                : write(fd, buf, Math.min(count, NoWait.PIPE_BUF));
    }

    /** preadv2/pwritev2 at the current offset with RWF_NOWAIT; -1 on EAGAIN, -2 if not supported. */
    private static long vectored(Errno.Function function, String name, int fd, MemorySegment buf,
            long count)
            throws ErrnoException {
        MemorySegment iov = NoWait.IOVEC.get();
        Errno.setPointer(iov, iovec.iov_base$offset(), buf);
        iovec.iov_len(iov, count);
        MemorySegment st = Errno.state();
        while (true) {
            long r = Errno.callHolding(function, st, buf, arg(fd), iov, arg(1), arg(-1L),
                    arg(NoWait.RWF_NOWAIT));
            if (r >= 0) {
                return r;
            }
            int e = Errno.errno(st);
            if (e == EAGAIN) {
                return -1;
            }
            if (e == NoWait.EOPNOTSUPP) {
                NoWait.supported = false;
                return -2;
            }
            if (e != EINTR) {
                throw Errno.error(name, st);
            }
        }
    }

    /** A pipe: {@code [readEnd, writeEnd]}. */
    public static int[] pipe(int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            MemorySegment st = Errno.state();
            int r = (int) Errno.call(Pipe2.F, st, fds, arg(flags));
            if (r < 0) {
                throw Errno.error("pipe2", st);
            }
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /**
     * A new close-on-exec descriptor for what {@code fd} refers to (F_DUPFD_CLOEXEC): a
     * descriptor kept for another process must not leak into a program this one execs by other
     * means (ProcessBuilder), which closes nothing.
     */
    public static int dup(int fd) throws ErrnoException {
        MemorySegment st = Errno.state();
        int r;
        try {
            r = (int) Fcntl.H.invokeExact(st, fd, Fcntl.F_DUPFD_CLOEXEC, 0);
        } catch (Throwable t) {
            throw Errno.bug(t);
        }
        if (r < 0) {
            throw Errno.error("fcntl(F_DUPFD_CLOEXEC)", st);
        }
        return r;
    }

    /** Duplicates {@code fd} onto {@code target} with the given flags (O_CLOEXEC or 0). */
    public static void dup3(int fd, int target, int flags) throws ErrnoException {
        MemorySegment st = Errno.state();
        while (true) {
            int r = (int) Errno.call(Dup3.F, st, arg(fd), arg(target), arg(flags));
            if (r >= 0) {
                return;
            }
            if (Errno.errno(st) != EINTR) {
                throw Errno.error("dup3", st);
            }
        }
    }

    /**
     * Polls descriptors. {@code fds} and {@code events} are parallel; the returned array holds
     * each descriptor's revents. A negative timeout waits forever. EINTR ends the wait early
     * with nothing ready: callers loop on their own deadline.
     */
    public static short[] poll(int[] fds, short[] events, int timeoutMillis) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(pollfd.layout(), fds.length);
            for (int i = 0; i < fds.length; i++) {
                setPollfd(pollfdAt(set, i), fds[i], events[i]);
            }
            pollSet(set, fds.length, timeoutMillis);
            short[] revents = new short[fds.length];
            for (int i = 0; i < fds.length; i++) {
                revents[i] = pollfd.revents(pollfdAt(set, i));
            }
            return revents;
        }
    }

    private static final ThreadLocal<MemorySegment> ONE_POLLFD =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(pollfd.layout()));

    /**
     * Polls one descriptor for {@code events}; returns its revents (0 on timeout or EINTR).
     * Allocation-free: it sits on the latency path of every spinning receive.
     */
    public static int pollOne(int fd, int events, int timeoutMillis) throws ErrnoException {
        MemorySegment one = ONE_POLLFD.get();
        setPollfd(one, fd, events);
        pollSet(one, 1, timeoutMillis);
        return pollfd.revents(one) & 0xffff;
    }

    private static final ThreadLocal<MemorySegment> TWO_POLLFDS =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(pollfd.layout(), 2));

    /**
     * Polls {@code fd} for {@code events} and {@code alsoFd} for input at once: {@code fd}'s
     * revents in the low 16 bits, {@code alsoFd}'s in the next 16 (0 on timeout or EINTR).
     * Allocation-free, as {@link #pollOne}: every blocking wait of a platform thread for a
     * descriptor polls one more, the exit pipe.
     */
    public static int pollTwo(int fd, int events, int alsoFd, int timeoutMillis)
            throws ErrnoException {
        MemorySegment set = TWO_POLLFDS.get();
        MemorySegment first = pollfdAt(set, 0);
        MemorySegment second = pollfdAt(set, 1);
        setPollfd(first, fd, events);
        setPollfd(second, alsoFd, POLLIN);
        pollSet(set, 2, timeoutMillis);
        return (pollfd.revents(first) & 0xffff) | (pollfd.revents(second) & 0xffff) << 16;
    }

    private static MemorySegment pollfdAt(MemorySegment set, int i) {
        long size = pollfd.layout().byteSize();
        return set.asSlice(i * size, size);
    }

    private static void setPollfd(MemorySegment one, int fd, int events) {
        pollfd.fd(one, fd);
        pollfd.events(one, (short) events);
        pollfd.revents(one, (short) 0);
    }

    /** poll(2) on the first {@code n} entries of {@code set}: how many are ready, 0 on EINTR. */
    private static int pollSet(MemorySegment set, long n, int timeoutMillis)
            throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(Poll.F, st, set, arg(n), arg(timeoutMillis));
        if (r < 0) {
            if (Errno.errno(st) == EINTR) {
                return 0;
            }
            throw Errno.error("poll", st);
        }
        return r;
    }

    public static int getpid() {
        return (int) Errno.call(Getpid.F, Errno.state());
    }

    /** This process's effective user id: who owns what it creates, and whom it trusts. */
    public static int geteuid() {
        return (int) Errno.call(Geteuid.F, Errno.state());
    }

    public static void kill(int pid, int signal) throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(Kill.F, st, arg(pid), arg(signal));
        if (r < 0) {
            throw Errno.error("kill", st);
        }
    }

    /** A descriptor that refers to process {@code pid} and becomes readable when it exits. */
    public static int pidfdOpen(int pid) throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(PidfdOpen.F, st, arg(pid), arg(0));
        if (r < 0) {
            throw Errno.error("pidfd_open", st);
        }
        return r;
    }

    /**
     * Sends a signal through a pidfd: unlike kill(2) it can never hit a process that reused the
     * pid after ours was reaped.
     */
    public static void pidfdSendSignal(int pidfd, int signal) throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(PidfdSendSignal.F, st, arg(pidfd), arg(signal), MemorySegment.NULL,
                arg(0));
        if (r < 0) {
            throw Errno.error("pidfd_send_signal", st);
        }
    }

    /**
     * Reaps child {@code pid} if it has ended and returns its exit code the way Python reports
     * it ({@code n} for exit(n), {@code -s} for signal s); null while it runs.
     */
    public static Integer reap(int pid, boolean block) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment status = arena.allocate(JAVA_INT);
            MemorySegment st = Errno.state();
            int options = block ? 0 : Libc.WNOHANG();
            while (true) {
                int r = (int) Errno.call(Waitpid.F, st, arg(pid), status, arg(options));
                if (r == pid) {
                    return decodeWaitStatus(status.get(JAVA_INT, 0));
                }
                if (r == 0) {
                    return null;
                }
                if (Errno.errno(st) != EINTR) {
                    throw Errno.error("waitpid", st);
                }
            }
        }
    }

    /** WIFEXITED/WEXITSTATUS/WTERMSIG, which jextract cannot bind (function-like macros). */
    static int decodeWaitStatus(int status) {
        int signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : -signal;
    }

    /** Number of processors online (Python's os.cpu_count()). */
    public static int cpuCount() {
        long n = Errno.call(Sysconf.F, Errno.state(), arg(Libc._SC_NPROCESSORS_ONLN()));
        return n > 0 ? (int) n : Runtime.getRuntime().availableProcessors();
    }

    static MemorySegment nullTerminated(Arena arena, java.util.List<String> strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
        }
        array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }
}
