package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.STATE;

import java.lang.foreign.MemorySegment;

import multiprocessing.internal.events.LockWaitEvent;
import multiprocessing.internal.events.Recorder;
import multiprocessing.internal.posix.Posix;
import multiprocessing.internal.wait.Parker;
import multiprocessing.synchronize.OwnerDeadException;

/**
 * The one blocking mechanism under every primitive of {@code multiprocessing.synchronize}, in
 * the manner of {@link java.util.concurrent.locks.AbstractQueuedSynchronizer}: a subclass says
 * what acquiring and releasing mean as atomic updates of a 32-bit state word in shared memory
 * ({@link #tryAcquire}); this class makes callers wait for it.
 *
 * <h2>Implementation note</h2>
 * The state is the {@code state} field of a {@link SyncLayout} block, which may be mapped by
 * several processes at different addresses; every change of it is a sequentially consistent
 * VarHandle access on the segment (a CAS, a getAndSet, a volatile store), so threads of one
 * process and of different processes are alike, and a waker's change and its read of the
 * sleepers count are never reordered (Parker's handshake needs that). An acquire that finds the state
 * unavailable waits in {@link Parker} with the state word as the futex word and {@code waiters}
 * as its sleepers count: it spins briefly, then sleeps for the value it last saw. A release
 * updates the state and wakes one sleeper only when {@code waiters} is non-zero, so a release
 * with nobody asleep is one atomic instruction and no system call. Unlike Drepper's three-state
 * mutex the waiter count lives beside the word rather than in it, so one mechanism serves locks,
 * semaphores and events. There is no queue: wake-ups are not FIFO and a running thread may barge
 * ahead of a woken one (as with a non-fair ReentrantLock), which is what keeps a contended
 * hand-off off the kernel path; a woken waiter that gives up passes its wake-up on (Parker).
 *
 * <p>Owner death: a subclass whose state names an owner process ({@link #ownerPid}) gets it
 * checked by a sleeping waiter every {@value #OWNER_CHECK_MILLIS} ms; if that process is gone
 * the waiter takes the state over ({@link #takeOverFromDeadOwner}) and throws
 * {@link OwnerDeadException}. A non-blocking acquire that fails, and a timed one that times out,
 * check the same, at most every {@value #OWNER_CHECK_MILLIS} ms per synchronizer object, so a
 * caller that only polls, or retries short waits, is not refused forever either.
 */
public abstract class Synchronizer {
    /** This process's id, the owner value locks store. */
    public static final int PID = Posix.getpid();

    static final long OWNER_CHECK_MILLIS = 100;
    private static final long OWNER_CHECK_NANOS = OWNER_CHECK_MILLIS * 1_000_000;

    /** Outcomes of {@link #acquire(int, long, boolean)}. */
    static final int ACQUIRED = 1;
    static final int TIMED_OUT = 0;
    static final int INTERRUPTED = -1;

    final SyncMemory memory;
    final MemorySegment block;
    final Parker.Site site;
    private final Parker.Watch ownerWatch = new OwnerWatch();

    protected Synchronizer(SyncMemory memory) {
        this.memory = memory;
        this.block = SyncLayout.check(memory.segment());
        this.site = new Parker.Site(SyncLayout.STATE.word(block),
                SyncLayout.WAITERS.word(block));
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

    /**
     * Whether state {@code s} lets an acquire of {@code arg} succeed. A waiter that finds it does
     * not sleeps while the state stays {@code s}: the value it failed on, not one it read before
     * (see {@link Parker#failedOn}).
     */
    protected abstract boolean available(int s, int arg);

    /** The process that owns the synchronizer in {@code state}; 0 for kinds with no owner. */
    protected int ownerPid(int state) {
        return 0;
    }

    /**
     * Whether the owner {@code state} names is this very process, not only its pid: a process
     * that was given a dead owner's pid is not that owner.
     */
    protected boolean ownedHere(int state) {
        return ownerPid(state) == PID;
    }

    /**
     * If the owner of the synchronizer is a dead process, makes the caller the owner in its
     * place and returns the dead owner's pid; 0 if the owner lives, there is none, or the state
     * changed meanwhile.
     */
    protected int takeOverFromDeadOwner() {
        return 0;
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
        // The wait's time starts before Recorder is asked: a JVM's first asking registers the
        // event types when Flight Recorder records (see Recorder), which stretched a first
        // timed wait by as long (attack 29c: 580-670 ms for 500).
        long start = System.nanoTime();
        // No event, nor its class loaded, unless Flight Recorder is in use (see Recorder).
        LockWaitEvent event = Recorder.inUse() ? LockWaitEvent.waiting(ownerPid(state())) : null;
        long r = Parker.await(site, () -> attempt(arg), start, timeoutNanos, interruptible,
                ownerWatch);
        if (event != null) {
            event.finish(kind(), timeoutNanos, r >= 0);
        }
        if (r >= 0) {
            return ACQUIRED;
        }
        if (r == Parker.INTERRUPTED) {
            return INTERRUPTED;
        }
        // A wait shorter than the owner check's interval never looked at the owner: a caller
        // retrying such waits must see a dead owner too, as one that polls does (attack 28:
        // tryLock(20 ms) in a loop was refused for good by a SIGKILLed holder).
        checkOwnerIfDue();
        return TIMED_OUT;
    }

    /** A waiter's try, which names the state it failed on for Parker to sleep on. */
    private long attempt(int arg) {
        int s = state();
        if (!available(s, arg)) {
            return Parker.failedOn(s);
        }
        return tryAcquire(arg) ? 1 : Parker.RETRY;
    }

    /**
     * A sleeping waiter's look at the owner named in the state: nobody wakes it when the owner
     * dies, so it looks every {@value #OWNER_CHECK_MILLIS} ms while another process owns it.
     */
    private final class OwnerWatch implements Parker.Watch {
        @Override
        public long interval(int state) {
            return ownerPid(state) != 0 && !ownedHere(state) ? OWNER_CHECK_NANOS : Long.MAX_VALUE;
        }

        @Override
        public boolean check() {
            int dead = takeOverFromDeadOwner();
            if (dead != 0) {
                throw new OwnerDeadException(dead, kind());
            }
            return false;
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
        if (ownerPid(s) == 0 || ownedHere(s)) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastOwnerCheck < OWNER_CHECK_NANOS) {
            return;
        }
        lastOwnerCheck = now;
        ownerWatch.check();
    }

    /**
     * Wakes up to {@code n} sleepers if there are any. Call after the state update that lets them
     * proceed, made with a sequentially consistent access (a CAS, getAndSet or getAndAdd).
     */
    protected final void wakeWaiters(int n) {
        site.wake(n);
    }
}
