package multiprocessing.internal.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

import multiprocessing.internal.libc.Libc;
import multiprocessing.internal.libc.timespec;

/**
 * futex(2) on 32-bit words in shared memory: the one way the synchronizers of the library sleep
 * and wake. Only shared futexes (no {@code FUTEX_PRIVATE_FLAG}): the kernel then keys a waiter on
 * the physical page, so two processes that map the same segment at different addresses meet on
 * the same word, and threads of one process do too.
 *
 * <p>glibc has no futex wrapper, so the call goes through {@code syscall}, and through the
 * layer's shared non-variadic downcall handle ({@link Errno}), although {@code syscall} is variadic: a handle of
 * its own cost every process that waited or woke ~5-8 ms more of its start (its stub and method
 * handle forms, which no AOT cache keeps; bench/RESULTS.md, twenty-fourth session). That is a
 * valid call of glibc's x86-64 {@code syscall}, the only one the layer runs on: an assembly
 * routine that moves its six register arguments into the system call's registers and takes the
 * system call's sixth argument from the stack. It reads no count of vector registers (the
 * {@code %al} a variadic call sets, and a non-variadic one leaves undefined), and the stack
 * word it reads is the caller's own. The futex calls made here pass every argument their
 * operation reads in registers: FUTEX_WAIT and FUTEX_WAKE read four (the word, the operation,
 * the value, the timeout), the kernel ignoring {@code uaddr2} and {@code val3} for both (it uses
 * a match-any bitset), and futex_waitv reads five. An argument left out would be whatever the
 * register holds (a garbage timeout pointer gives EINVAL or EFAULT), so each is passed.
 *
 * <p>{@link #waitv} is futex_waitv(2) (Linux 5.16): one thread asleep on up to
 * {@value #WAITV_MAX} words at once, woken by a plain FUTEX_WAKE on any of them. It lets a few
 * platform threads sleep in the kernel on behalf of many parked virtual threads.
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

    /**
     * {@code syscall(SYS_futex, uaddr, op, val, timeout, uaddr2)}: the futex call's arguments in
     * registers (see the class comment; {@code val3}, from the stack, is read by neither
     * operation used here).
     */
    private static final class FutexCall {
        static final Errno.Function CALL = Errno.function("syscall", FunctionDescriptor.of(
                JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }

    /**
     * {@code syscall(SYS_futex_waitv, waiters, nr_futexes, flags, timeout, clockid)}: all of
     * futex_waitv's arguments, in registers.
     */
    private static final class WaitvCall {
        static final Errno.Function CALL = Errno.function("syscall", FunctionDescriptor.of(
                JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    // futex_waitv's numbers and the errno values only it reports are not in the jextract
    // bindings (no jextract here to regenerate them, as Epoll says): written from the headers.

    /** __NR_futex_waitv: one number on every architecture (the unified syscall table). */
    private static final long SYS_FUTEX_WAITV = 449;
    /** FUTEX2_SIZE_U32 (linux/futex.h); no FUTEX2_PRIVATE: shared words, as FUTEX_WAIT's. */
    private static final int FUTEX2_SIZE_U32 = 0x02;
    /** CLOCK_MONOTONIC, the clock of System.nanoTime() on Linux. */
    private static final int CLOCK_MONOTONIC = 1;
    private static final int ENOSYS = 38;
    private static final int EPERM = 1;
    private static final int EFAULT = 14;

    /** The most words one {@link #waitv} call takes (FUTEX_WAITV_MAX). */
    public static final int WAITV_MAX = 128;

    /** struct futex_waitv (linux/futex.h): one word of a {@link #waitv} call. */
    public static final StructLayout WAITV_ENTRY = MemoryLayout.structLayout(
            JAVA_LONG.withName("val"),
            JAVA_LONG.withName("uaddr"),
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("reserved")).withName("futex_waitv");
    /**
     * The entry's fields, made at first use: making a var handle costs milliseconds in a fresh
     * JVM, and every process that sleeps on a futex initializes this class, where only one
     * with a virtual thread waiting uses them.
     */
    private static final class WaitvFields {
        static final VarHandle VAL = waitvField("val");
        static final VarHandle UADDR = waitvField("uaddr");
        static final VarHandle FLAGS = waitvField("flags");
    }

    private static VarHandle waitvField(String name) {
        return WAITV_ENTRY.arrayElementVarHandle(PathElement.groupElement(name));
    }

    /** {@link #waitv}'s result when a word did not hold its value (the others: a woken index). */
    public static final int WAITV_CHANGED = -1;
    /** {@link #waitv}'s result when the deadline passed. */
    public static final int WAITV_TIMED_OUT = -2;
    /** {@link #waitv}'s result when a signal handler ran (EINTR). */
    public static final int WAITV_INTERRUPTED = -3;
    /** A word's memory is no longer mapped (EFAULT). */
    public static final int WAITV_FAULT = -4;

    /**
     * Whether this kernel has futex_waitv (and no seccomp filter refuses it); asked once, on
     * first use (a process with no virtual thread waiting never links the call).
     */
    public static boolean waitvAvailable() {
        return WaitvProbe.AVAILABLE;
    }

    private static final class WaitvProbe {
        static final boolean AVAILABLE = probeWaitv();
    }

    private static boolean probeWaitv() {
        if (Boolean.getBoolean("multiprocessing.wait.noFutexWaitv")) {
            return false; // to test the fallback on kernels that have it
        }
        MemorySegment st = Errno.state();
        long r = Errno.call(WaitvCall.CALL, st, Errno.arg(SYS_FUTEX_WAITV), MemorySegment.NULL,
                Errno.arg(0), Errno.arg(0), MemorySegment.NULL, Errno.arg(0));
        // No words is EINVAL where the call exists; ENOSYS (or a filter's EPERM) where not.
        int e = r < 0 ? Errno.errno(st) : 0;
        return e != ENOSYS && e != EPERM;
    }

    /** Sets entry {@code i} of a {@link #waitv} array: sleep while {@code word} holds {@code expected}. */
    public static void setWaitvEntry(MemorySegment entries, int i, MemorySegment word, int expected) {
        WaitvFields.VAL.set(entries, 0L, (long) i, expected & 0xffffffffL);
        WaitvFields.UADDR.set(entries, 0L, (long) i, word.address());
        WaitvFields.FLAGS.set(entries, 0L, (long) i, FUTEX2_SIZE_U32);
    }

    /**
     * futex_waitv(2): sleeps while each of the first {@code count} words of {@code entries}
     * (set with {@link #setWaitvEntry}) holds its value, until a {@link #wake} on any of them or
     * the absolute CLOCK_MONOTONIC deadline {@code deadlineNanos} (a {@link System#nanoTime()}
     * value; {@code Long.MAX_VALUE}: none). The words' memory must stay mapped during the call.
     *
     * @param deadline a {@link #newTimespec timespec} the call may use for the deadline
     * @return the index of a word that was woken, or {@link #WAITV_CHANGED} (some word did not
     *     hold its value), {@link #WAITV_TIMED_OUT}, {@link #WAITV_INTERRUPTED} (a signal),
     *     {@link #WAITV_FAULT}
     */
    public static int waitv(MemorySegment entries, int count, long deadlineNanos,
            MemorySegment deadline) {
        MemorySegment ts = MemorySegment.NULL;
        if (deadlineNanos != Long.MAX_VALUE) {
            ts = deadline;
            timespec.tv_sec(ts, deadlineNanos / 1_000_000_000L);
            timespec.tv_nsec(ts, deadlineNanos % 1_000_000_000L);
        }
        MemorySegment st = Errno.state();
        long r = Errno.call(WaitvCall.CALL, st, Errno.arg(SYS_FUTEX_WAITV), entries,
                Errno.arg(count), Errno.arg(0), ts, Errno.arg(CLOCK_MONOTONIC));
        if (r >= 0) {
            return (int) r;
        }
        int e = Errno.errno(st);
        if (e == EAGAIN) {
            return WAITV_CHANGED;
        }
        if (e == ETIMEDOUT) {
            return WAITV_TIMED_OUT;
        }
        if (e == EINTR) {
            return WAITV_INTERRUPTED;
        }
        if (e == EFAULT) {
            return WAITV_FAULT;
        }
        throw new IllegalStateException("futex_waitv failed", Errno.error("futex_waitv", st));
    }

    /** A timespec for {@link #waitv}'s deadline. */
    public static MemorySegment newTimespec(Arena arena) {
        return arena.allocate(timespec.layout());
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
        long r = Errno.call(FutexCall.CALL, st, Errno.arg(SYS_FUTEX), word, Errno.arg(FUTEX_WAIT),
                Errno.arg(expected), ts, MemorySegment.NULL);
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
        long r = Errno.call(FutexCall.CALL, st, Errno.arg(SYS_FUTEX), word, Errno.arg(FUTEX_WAKE),
                Errno.arg(count), MemorySegment.NULL, MemorySegment.NULL);
        if (r < 0) {
            throw new IllegalStateException("futex wake failed", Errno.error("futex", st));
        }
        return (int) r;
    }
}
