package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static multiprocessing.internal.posix.Errno.arg;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import multiprocessing.internal.libc.Libc;

/**
 * epoll(7): one thread waits for readiness of many descriptors. The library's one poller thread
 * waits here on behalf of parked virtual threads (as the JDK's own poller does for sockets).
 * Not in the jextract bindings (no jextract here to regenerate them): linked by name, with the
 * constants of {@code sys/epoll.h}, the same on every Linux architecture.
 */
public final class Epoll {
    private Epoll() {}

    /** Reported once, then disarmed until the next EPOLL_CTL_MOD. */
    public static final int EPOLLONESHOT = 1 << 30;

    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLL_CTL_MOD = 3;
    private static final int ENOENT = Libc.ENOENT();
    private static final int EEXIST = Libc.EEXIST();

    /**
     * struct epoll_event: {@code uint32_t events; epoll_data_t data;}, packed on x86_64 (12
     * bytes), naturally aligned elsewhere (16 bytes).
     */
    public static final StructLayout EVENT = "amd64".equals(System.getProperty("os.arch"))
            || "x86_64".equals(System.getProperty("os.arch"))
            ? MemoryLayout.structLayout(JAVA_INT.withName("events"),
                    JAVA_LONG_UNALIGNED.withName("data")).withName("epoll_event")
            : MemoryLayout.structLayout(JAVA_INT.withName("events"), MemoryLayout.paddingLayout(4),
                    JAVA_LONG.withName("data")).withName("epoll_event");
    private static final VarHandle EVENTS = EVENT.arrayElementVarHandle(PathElement.groupElement("events"));
    private static final VarHandle DATA = EVENT.arrayElementVarHandle(PathElement.groupElement("data"));

    private static final class H {
        static final Errno.Function CREATE1 = Errno.function("epoll_create1",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final Errno.Function CTL = Errno.function("epoll_ctl",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        static final Errno.Function WAIT = Errno.function("epoll_wait",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    }

    /** A new close-on-exec epoll descriptor. */
    public static int create() throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(H.CREATE1, st, arg(Posix.O_CLOEXEC)); // EPOLL_CLOEXEC == O_CLOEXEC
        if (r < 0) {
            throw Errno.error("epoll_create1", st);
        }
        return r;
    }

    /** An array of {@code n} events for {@link #wait} (and one more for {@link #arm}'s use). */
    public static MemorySegment events(Arena arena, int n) {
        return arena.allocate(EVENT, n);
    }

    /**
     * Watches {@code fd} for {@code events} (poll(2)'s POLLIN, POLLOUT: EPOLLIN and EPOLLOUT
     * are the same bits; errors and hang-ups are always reported; with {@link #EPOLLONESHOT} as
     * given), reported with {@code data}: modifies its registration, or adds one if it has none.
     *
     * @param scratch one event's memory
     * @throws ErrnoException EBADF and the like: {@code fd} cannot be watched
     */
    public static void arm(int epfd, int fd, int events, long data, MemorySegment scratch)
            throws ErrnoException {
        EVENTS.set(scratch, 0L, 0L, events);
        DATA.set(scratch, 0L, 0L, data);
        int e = ctl(epfd, EPOLL_CTL_MOD, fd, scratch);
        if (e == ENOENT) {
            e = ctl(epfd, EPOLL_CTL_ADD, fd, scratch);
            if (e == EEXIST) { // added meanwhile by another thread
                e = ctl(epfd, EPOLL_CTL_MOD, fd, scratch);
            }
        }
        if (e != 0) {
            throw new ErrnoException("epoll_ctl", e);
        }
    }

    /** Stops watching {@code fd}; nothing if it was not watched (or is closed already). */
    public static void disarm(int epfd, int fd, MemorySegment scratch) {
        ctl(epfd, EPOLL_CTL_DEL, fd, scratch);
    }

    /** epoll_ctl; 0 or errno. */
    private static int ctl(int epfd, int op, int fd, MemorySegment event) {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(H.CTL, st, arg(epfd), arg(op), arg(fd), event);
        return r < 0 ? Errno.errno(st) : 0;
    }

    /**
     * Waits up to {@code timeoutMillis} (negative: forever) for events into {@code events}
     * ({@code max} of them); returns how many, 0 on timeout or EINTR.
     */
    public static int wait(int epfd, MemorySegment events, int max, int timeoutMillis)
            throws ErrnoException {
        MemorySegment st = Errno.state();
        int r = (int) Errno.call(H.WAIT, st, arg(epfd), events, arg(max), arg(timeoutMillis));
        if (r < 0) {
            if (Errno.errno(st) == Posix.EINTR) {
                return 0;
            }
            throw Errno.error("epoll_wait", st);
        }
        return r;
    }

    /** The events reported in entry {@code i}. */
    public static int eventsAt(MemorySegment events, int i) {
        return (int) EVENTS.get(events, 0L, (long) i);
    }

    /** The data reported in entry {@code i}. */
    public static long dataAt(MemorySegment events, int i) {
        return (long) DATA.get(events, 0L, (long) i);
    }
}
