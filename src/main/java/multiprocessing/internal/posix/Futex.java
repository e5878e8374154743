package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import multiprocessing.internal.libc.Libc;
import multiprocessing.internal.libc.timespec;

/**
 * futex(2) on 32-bit words in shared memory: the one way the synchronizers of the library sleep
 * and wake. Only shared futexes (no {@code FUTEX_PRIVATE_FLAG}): the kernel then keys a waiter on
 * the physical page, so two processes that map the same segment at different addresses meet on
 * the same word, and threads of one process do too.
 *
 * <p>glibc has no futex wrapper, so the call goes through the variadic {@code syscall}. All six
 * arguments are always passed: an argument left out is whatever the register holds, and a
 * garbage timeout pointer gives EINVAL or EFAULT.
 */
public final class Futex {
    private Futex() {}

    private static final long SYS_FUTEX = Libc.SYS_futex();
    private static final int FUTEX_WAIT = Libc.FUTEX_WAIT();
    private static final int FUTEX_WAKE = Libc.FUTEX_WAKE();
    private static final int EAGAIN = Libc.EAGAIN();
    private static final int EINTR = Libc.EINTR();
    private static final int ETIMEDOUT = Libc.ETIMEDOUT();

    /** What ended a {@link #await wait}. */
    public static final int WOKEN = 0;
    /** The word did not hold the expected value when the kernel looked (EAGAIN). */
    public static final int CHANGED = 1;
    /** The relative timeout elapsed. */
    public static final int TIMED_OUT = 2;
    /** A signal handler ran (EINTR): callers re-check their condition and deadline. */
    public static final int INTERRUPTED = 3;

    // long syscall(long number, int* uaddr, int op, int val, timespec* timeout, int* uaddr2, int val3)
    private static final class Syscall {
        static final MethodHandle H = Errno.linkVariadic("syscall", FunctionDescriptor.of(
                JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), 1);
    }

    /** One timespec per thread: a timed wait sits on the latency path and must not allocate. */
    private static final ThreadLocal<MemorySegment> TIMESPEC =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(timespec.layout()));

    /**
     * Sleeps while the 32-bit word at {@code word} (4-byte aligned) holds {@code expected}, until
     * a {@link #wake} on it, the relative {@code timeoutNanos} (negative: none), or a signal.
     *
     * @return {@link #WOKEN}, {@link #CHANGED}, {@link #TIMED_OUT} or {@link #INTERRUPTED}
     */
    public static int await(MemorySegment word, int expected, long timeoutNanos) {
        MemorySegment ts = MemorySegment.NULL;
        if (timeoutNanos >= 0) {
            ts = TIMESPEC.get();
            timespec.tv_sec(ts, timeoutNanos / 1_000_000_000L);
            timespec.tv_nsec(ts, timeoutNanos % 1_000_000_000L);
        }
        MemorySegment st = Errno.state();
        long r;
        try {
            r = (long) Syscall.H.invokeExact(st, SYS_FUTEX, word, FUTEX_WAIT, expected, ts,
                    MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw Errno.bug(t);
        }
        if (r == 0) {
            return WOKEN;
        }
        int e = Errno.errno(st);
        if (e == EAGAIN) {
            return CHANGED;
        }
        if (e == ETIMEDOUT) {
            return TIMED_OUT;
        }
        if (e == EINTR) {
            return INTERRUPTED;
        }
        // EFAULT / EINVAL: a word outside a mapping or misaligned, a bug of the caller.
        throw new IllegalStateException("futex wait failed", Errno.error("futex", st));
    }

    /** Wakes up to {@code count} threads sleeping on {@code word}; returns how many woke. */
    public static int wake(MemorySegment word, int count) {
        MemorySegment st = Errno.state();
        long r;
        try {
            r = (long) Syscall.H.invokeExact(st, SYS_FUTEX, word, FUTEX_WAKE, count,
                    MemorySegment.NULL, MemorySegment.NULL, 0);
        } catch (Throwable t) {
            throw Errno.bug(t);
        }
        if (r < 0) {
            throw new IllegalStateException("futex wake failed", Errno.error("futex", st));
        }
        return (int) r;
    }
}
