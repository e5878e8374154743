package multiprocessing.internal.wait;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import multiprocessing.internal.posix.Futex;

/**
 * The one way a thread of this library waits for something another thread or process does to
 * shared memory (what {@link java.util.concurrent.locks.LockSupport} is to
 * {@code java.util.concurrent}): every lock, semaphore, condition and queue ring waits here.
 *
 * <h2>Implementation note</h2>
 * A wait is on a {@link Site}: a 32-bit futex word and a count of the threads (of any process)
 * asleep on it, both in shared memory. The caller's {@link Attempt} says whether it can
 * proceed; a waker changes what the attempt looks at, then, if the sleepers count is non-zero,
 * changes or keeps the word and calls FUTEX_WAKE on it. A waiter
 * <ol>
 * <li>spins for a bounded time ({@code -Dmultiprocessing.wait.spinMicros}, default 50, 0 on a
 *     single CPU), trying again after each step: a process woken from the kernel on another
 *     CPU costs 30-60 us, a hand-off seen while spinning well under one. After the first
 *     microseconds ({@code -Dmultiprocessing.wait.pureSpinMicros}, default 2) each step yields
 *     the CPU instead of pausing it ({@link #pause}): the partner a spinner waits for may be
 *     queued on the same CPU (measured on a loaded 2-CPU machine, semaphore ping-pong took
 *     130 us with a 50 us pure spin and 7 us with none);</li>
 * <li>then registers in the sleepers count and, in a loop, reads the word, tries once more,
 *     and sleeps with FUTEX_WAIT for the value it read. A change between its read and its sleep
 *     makes the kernel return at once (it compares under its own lock), and the registration
 *     then look, and the waker's change then count read, are sequentially consistent, so at
 *     least one of the two sees the other: either the waker wakes or the waiter does not
 *     sleep.</li>
 * </ol>
 * Sleeps are sliced: every {@value #INTERRUPT_CHECK_MILLIS} ms when the wait is interruptible
 * (a Java interrupt does not end a futex wait), whenever the caller's {@link Watch} is due
 * (a dead lock owner, a dead queue claimant: nobody will wake for those), and at least every
 * {@value #RECHECK_MILLIS} ms in any case: a sleeper that was woken in this one's place may
 * have been killed before it took what it was woken for, and nobody is left to pass its
 * wake-up on (see "Hand-off").
 *
 * <p>Hand-off: a waker that wakes one sleeper (a lock's release) counts on that sleeper to
 * take what it was woken for. A sleeper that was woken and then gives up (interrupted, timed
 * out, or its watch threw) wakes one other sleeper before it leaves, as AQS's cancelled node
 * unparks its successor; otherwise the lock would be free while another waiter sleeps on. A
 * wake-up passed on needlessly only costs the woken a look. A sleeper killed (SIGKILL) after it
 * was woken passes nothing on: the others find what it left at their next look.
 */
public final class Parker {
    private Parker() {}

    /** How long a waiter spins before it sleeps (0 on a single CPU: nobody else could act). */
    public static final long SPIN_NANOS = Runtime.getRuntime().availableProcessors() < 2 ? 0
            : Long.getLong("multiprocessing.wait.spinMicros", 50) * 1000;
    /** The first part of the spin that only pauses the CPU (see {@link #pause}). */
    static final long PURE_SPIN_NANOS = Long.getLong("multiprocessing.wait.pureSpinMicros", 2) * 1000;
    /** How often an interruptible sleeper looks at its interrupt status. */
    public static final long INTERRUPT_CHECK_MILLIS = 20;
    private static final long INTERRUPT_CHECK_NANOS = INTERRUPT_CHECK_MILLIS * 1_000_000;
    /** How often any sleeper looks again unwoken: a wake-up may have died with its waiter. */
    public static final long RECHECK_MILLIS = 1000;
    private static final long RECHECK_NANOS = RECHECK_MILLIS * 1_000_000;

    /** Results of {@link #await} other than an attempt's own (which are >= 0). */
    public static final long TIMED_OUT = -1;
    public static final long INTERRUPTED = -2;

    private static final VarHandle INT = JAVA_INT.varHandle();

    /**
     * Fault injection for tests: a sleeper woken by a waker stalls this long before it tries
     * again, so that a test can kill its process there.
     */
    private static final long WOKEN_STALL_MILLIS =
            Long.getLong("multiprocessing.wait.testWokenStallMillis", 0);

    /**
     * Where waiters sleep: {@code word}, the futex word (4 bytes, 4-aligned), and
     * {@code sleepers}, the count of threads asleep on it (4 bytes), both in shared memory.
     */
    public record Site(MemorySegment word, MemorySegment sleepers) {
        /** Wakes up to {@code n} sleepers if there are any (after the change that lets them go). */
        public void wake(int n) {
            if ((int) INT.getVolatile(sleepers, 0L) > 0) {
                Futex.wake(word, n);
            }
        }

        /** Adds one to the word (sequentially consistent), then wakes every sleeper. */
        public void bumpAndWakeAll() {
            if ((int) INT.getVolatile(sleepers, 0L) > 0) {
                int ignored = (int) INT.getAndAdd(word, 0L, 1);
                Futex.wake(word, Integer.MAX_VALUE);
            }
        }

        int value() {
            return (int) INT.getVolatile(word, 0L);
        }
    }

    /** One try: a result >= 0 when the caller can proceed, negative when not yet. */
    @FunctionalInterface
    public interface Attempt {
        long attempt();
    }

    /** What a sleeper looks at now and then, for events nobody will wake it for. */
    public interface Watch {
        /**
         * How long the waiter may sleep before {@link #check} is due, given the word's value
         * ({@code Long.MAX_VALUE}: never).
         */
        long interval(int word);

        /** Looks; true if the waiter should try again at once. May throw to end the wait. */
        boolean check();
    }

    /**
     * Waits until {@code attempt} succeeds, spinning then sleeping on {@code site}.
     *
     * @param start when the timeout began ({@link System#nanoTime()})
     * @param timeoutNanos negative: none; 0: one attempt only
     * @param interruptible whether an interrupt ends the wait (the status is then cleared)
     * @param watch what to look at while asleep, or null
     * @return the attempt's result, {@link #TIMED_OUT} or {@link #INTERRUPTED}
     */
    public static long await(Site site, Attempt attempt, long start, long timeoutNanos,
            boolean interruptible, Watch watch) {
        long r = attempt.attempt();
        if (r >= 0 || timeoutNanos == 0) {
            return r >= 0 ? r : TIMED_OUT;
        }
        long spin = timeoutNanos < 0 ? SPIN_NANOS : Math.min(SPIN_NANOS, timeoutNanos);
        long spun;
        while ((spun = System.nanoTime() - start) < spin) {
            pause(spun);
            r = attempt.attempt();
            if (r >= 0) {
                return r;
            }
        }
        return sleep(site, attempt, start, timeoutNanos, interruptible, watch);
    }

    private static long sleep(Site site, Attempt attempt, long start, long timeoutNanos,
            boolean interruptible, Watch watch) {
        int ignored = (int) INT.getAndAdd(site.sleepers(), 0L, 1);
        boolean woken = false;
        long lastCheck = System.nanoTime();
        try {
            while (true) {
                int w = site.value();
                long r = attempt.attempt();
                if (r >= 0) {
                    woken = false;
                    return r;
                }
                long now = System.nanoTime();
                long slice = timeoutNanos < 0 ? Long.MAX_VALUE : timeoutNanos - (now - start);
                if (slice <= 0) {
                    return TIMED_OUT;
                }
                if (watch != null) {
                    long interval = watch.interval(w);
                    if (interval != Long.MAX_VALUE) {
                        if (now - lastCheck >= interval) {
                            lastCheck = now;
                            if (watch.check()) {
                                continue;
                            }
                        }
                        slice = Math.min(slice, Math.max(1, interval - (now - lastCheck)));
                    }
                }
                slice = Math.min(slice, interruptible ? INTERRUPT_CHECK_NANOS : RECHECK_NANOS);
                woken = Futex.await(site.word(), w, slice) == Futex.WOKEN;
                if (woken && WOKEN_STALL_MILLIS > 0) {
                    stall();
                }
                if (interruptible && Thread.interrupted()) {
                    return INTERRUPTED;
                }
            }
        } finally {
            if (woken && (int) INT.getVolatile(site.sleepers(), 0L) > 1) {
                Futex.wake(site.word(), 1); // see "Hand-off" above
            }
            ignored = (int) INT.getAndAdd(site.sleepers(), 0L, -1);
        }
    }

    private static void stall() {
        try {
            Thread.sleep(WOKEN_STALL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One step of a spin that has lasted {@code spunNanos}: a CPU pause at first, then a yield
     * of the processor, so that a partner queued on the same CPU runs at once (sched_yield costs
     * well under a microsecond when nothing else wants the CPU).
     */
    public static void pause(long spunNanos) {
        if (spunNanos < PURE_SPIN_NANOS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
