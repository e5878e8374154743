package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.STATE;
import static multiprocessing.internal.sync.SyncLayout.WAITERS;

import java.lang.foreign.MemorySegment;

import multiprocessing.internal.posix.Futex;
import multiprocessing.internal.posix.Posix;
import multiprocessing.synchronize.OwnerDeadException;

/**
 * The one blocking mechanism under every primitive of {@code multiprocessing.synchronize}, in
 * the manner of {@link java.util.concurrent.locks.AbstractQueuedSynchronizer}: a subclass says
 * what acquiring and releasing mean as atomic updates of a 32-bit state word in shared memory
 * ({@link #tryAcquire}); this class makes callers wait for it.
 *
 * <h2>Implementation note</h2>
 * The state is the {@code state} field of a {@link SyncLayout} block, which may be mapped by
 * several processes at different addresses; all updates are VarHandle CASes on the segment, so
 * threads of one process and of different processes are alike. An acquire that finds the state
 * unavailable
 * <ol>
 * <li>spins for a bounded time ({@code -Dmultiprocessing.synchronize.spinMicros}, default 50,
 *     0 on a single CPU), re-reading the word and trying again only when it looks available:
 *     a process woken from the kernel on another CPU costs 30-60 us, a hand-off seen while
 *     spinning well under one. After the first microseconds the spin yields the CPU at each
 *     step ({@link #pause}), so a partner waiting for the same CPU is not starved by it;</li>
 * <li>then registers in {@code waiters} and sleeps with FUTEX_WAIT on the state word for the
 *     value it last saw, so a release between its look and its sleep makes the kernel return at
 *     once (the futex compares under its own lock) instead of losing the wake-up.</li>
 * </ol>
 * A release updates the state and wakes only when {@code waiters} is non-zero. The waiter's
 * increment of {@code waiters} then read of the state, and the releaser's update of the state
 * then read of {@code waiters}, are all sequentially consistent, so at least one of the two sees
 * the other: either the releaser wakes or the waiter does not sleep. Unlike Drepper's three-state
 * mutex the waiter count lives beside the word rather than in it, so one mechanism serves locks,
 * semaphores and events, and a release with nobody asleep is one atomic instruction and no
 * system call. There is no queue: wake-ups are not FIFO and a running thread may barge ahead of
 * a woken one (as with a non-fair ReentrantLock), which is what keeps a contended hand-off off
 * the kernel path.
 *
 * <p>Owner death: a subclass whose state names an owner process ({@link #ownerPid}) gets it
 * checked by a sleeping waiter every {@value #OWNER_CHECK_MILLIS} ms; if that process is gone
 * the waiter takes the state over ({@link #tryTakeOver}) and throws
 * {@link OwnerDeadException}. A non-blocking acquire that fails checks the same, at most every
 * {@value #OWNER_CHECK_MILLIS} ms per synchronizer object, so a caller that only polls is not
 * refused forever either. Waits the caller may interrupt sleep in slices of
 * {@value #INTERRUPT_CHECK_MILLIS} ms, since a Java interrupt does not end a futex wait.
 */
public abstract class Synchronizer {
    /** This process's id, the owner value locks store. */
    public static final int PID = Posix.getpid();

    static final long SPIN_NANOS = Runtime.getRuntime().availableProcessors() < 2 ? 0
            : Long.getLong("multiprocessing.synchronize.spinMicros", 50) * 1000;
    /** The first part of the spin that only pauses the CPU (see {@link #pause}). */
    static final long PURE_SPIN_NANOS =
            Long.getLong("multiprocessing.synchronize.pureSpinMicros", 2) * 1000;
    static final long OWNER_CHECK_MILLIS = 100;
    static final long INTERRUPT_CHECK_MILLIS = 20;
    private static final long OWNER_CHECK_NANOS = OWNER_CHECK_MILLIS * 1_000_000;
    private static final long INTERRUPT_CHECK_NANOS = INTERRUPT_CHECK_MILLIS * 1_000_000;

    /** Outcomes of {@link #acquire(int, long, boolean)}. */
    static final int ACQUIRED = 1;
    static final int TIMED_OUT = 0;
    static final int INTERRUPTED = -1;

    final SyncMemory memory;
    final MemorySegment block;
    final MemorySegment stateWord;

    protected Synchronizer(SyncMemory memory) {
        this.memory = memory;
        this.block = SyncLayout.check(memory.segment());
        this.stateWord = block.asSlice(SyncLayout.STATE_OFFSET, 4);
    }

    /** The shared memory this synchronizer lives in. */
    public final SyncMemory memory() {
        return memory;
    }

    /**
     * One attempt to acquire, never blocking. It should read the state before any CAS, so that
     * spinning on it does not keep the cache line bouncing between processors.
     */
    protected abstract boolean tryAcquire(int arg);

    /** The process that owns the synchronizer in {@code state}; 0 for kinds with no owner. */
    protected int ownerPid(int state) {
        return 0;
    }

    /**
     * Makes the caller the owner in place of the dead owner of {@code state}; false if the state
     * has changed meanwhile.
     */
    protected boolean tryTakeOver(int state) {
        return false;
    }

    /** What a sleeping waiter names in its OwnerDeadException ("lock", "RLock"). */
    protected String kind() {
        return getClass().getSimpleName();
    }

    final int state() {
        return (int) STATE.getVolatile(block);
    }

    /** Blocks until acquired; false when the timeout (negative: none) elapsed first. */
    public final boolean acquire(int arg, long timeoutNanos) {
        return acquire(arg, timeoutNanos, false) == ACQUIRED;
    }

    /** As {@link #acquire(int, long)}, but an interrupt ends the wait. */
    public final boolean acquireInterruptibly(int arg, long timeoutNanos)
            throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        int r = acquire(arg, timeoutNanos, true);
        if (r == INTERRUPTED) {
            throw new InterruptedException();
        }
        return r == ACQUIRED;
    }

    /**
     * @return {@link #ACQUIRED}, {@link #TIMED_OUT} or {@link #INTERRUPTED} (only when
     *     {@code interruptible}; the interrupt status is then cleared)
     */
    final int acquire(int arg, long timeoutNanos, boolean interruptible) {
        if (tryAcquire(arg)) {
            return ACQUIRED;
        }
        if (timeoutNanos == 0) {
            checkOwnerIfDue();
            return TIMED_OUT;
        }
        long start = System.nanoTime();
        long spin = timeoutNanos < 0 ? SPIN_NANOS : Math.min(SPIN_NANOS, timeoutNanos);
        if (spin > 0) {
            do {
                pause(System.nanoTime() - start);
                if (tryAcquire(arg)) {
                    return ACQUIRED;
                }
            } while (System.nanoTime() - start < spin);
        }
        int ignored = (int) WAITERS.getAndAdd(block, 1);
        try {
            while (true) {
                int s = state();
                if (tryAcquire(arg)) {
                    return ACQUIRED;
                }
                long remaining = timeoutNanos < 0 ? Long.MAX_VALUE
                        : timeoutNanos - (System.nanoTime() - start);
                if (remaining <= 0) {
                    return TIMED_OUT;
                }
                int owner = ownerPid(s);
                boolean foreignOwner = owner != 0 && owner != PID;
                long slice = remaining;
                if (foreignOwner) {
                    slice = Math.min(slice, OWNER_CHECK_NANOS);
                }
                if (interruptible) {
                    slice = Math.min(slice, INTERRUPT_CHECK_NANOS);
                }
                int r = Futex.await(stateWord, s, slice == Long.MAX_VALUE ? -1 : slice);
                if (interruptible && Thread.interrupted()) {
                    return INTERRUPTED;
                }
                if (r == Futex.TIMED_OUT && foreignOwner && state() == s
                        && !Futex.processAlive(owner) && tryTakeOver(s)) {
                    throw new OwnerDeadException(owner, kind());
                }
            }
        } finally {
            ignored = (int) WAITERS.getAndAdd(block, -1);
        }
    }

    /**
     * When this process last asked, for a non-blocking acquire, whether the owner lives: a
     * caller that only polls must see a dead owner too, but not pay a look at /proc each time.
     */
    private volatile long lastOwnerCheck = System.nanoTime() - OWNER_CHECK_NANOS;

    /**
     * A failed non-blocking acquire: takes the state over from a dead owner, at most every
     * {@value #OWNER_CHECK_MILLIS} ms, as a sleeping waiter would.
     */
    private void checkOwnerIfDue() {
        int s = state();
        int owner = ownerPid(s);
        if (owner == 0 || owner == PID) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastOwnerCheck < OWNER_CHECK_NANOS) {
            return;
        }
        lastOwnerCheck = now;
        if (state() == s && !Futex.processAlive(owner) && tryTakeOver(s)) {
            throw new OwnerDeadException(owner, kind());
        }
    }

    /**
     * One step of a spin that has lasted {@code spunNanos}: a CPU pause at first, then a yield
     * of the processor. The partner a spinner waits for may be queued on the same CPU (two
     * processes on a busy machine often are), and then a pure spin only delays it for the whole
     * budget: measured on a loaded 2-CPU machine, semaphore ping-pong took 130 us with a 50 us
     * pure spin and 7 us with none. sched_yield lets such a partner run at once and costs well
     * under a microsecond when nothing else wants the CPU.
     */
    static void pause(long spunNanos) {
        if (spunNanos < PURE_SPIN_NANOS) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }

    /**
     * Wakes up to {@code n} sleepers if there are any. Call after the state update that lets them
     * proceed, made with a sequentially consistent access (a CAS, getAndSet or getAndAdd).
     */
    protected final void wakeWaiters(int n) {
        if ((int) WAITERS.getVolatile(block) > 0) {
            Futex.wake(stateWord, n);
        }
    }
}
