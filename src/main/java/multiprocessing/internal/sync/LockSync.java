package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.OWNER_NS;
import static multiprocessing.internal.sync.SyncLayout.OWNER_START;
import static multiprocessing.internal.sync.SyncLayout.OWNER_THREAD;
import static multiprocessing.internal.sync.SyncLayout.RECURSION;
import static multiprocessing.internal.sync.SyncLayout.STATE;

import multiprocessing.internal.posix.ProcessIdentity;

/**
 * A mutex whose state is its owner's pid (0 = free), with the owning thread's id beside it:
 * Python's Lock ({@code recursive == false}: any thread of any process may release it) and RLock
 * (only the owning thread, once per acquire). Keeping the pid in the futex word itself means a
 * locked word always names a process whose death a waiter can detect: there is no moment where
 * the lock is held but its owner not yet recorded. The owner's start time and pid namespace,
 * written just after the CAS, tell a live owner from another process that was given the dead
 * owner's pid; in the moment before they are written (0), the pid alone is judged. They are
 * release stores, not volatile ones: each stays after what precedes it (the CAS that took the
 * state; in a release, the clearing stays before the exchange that frees the state, a full
 * fence), which is all a reader needs, and the StoreLoad fence of a volatile store, four per
 * acquire and release, made an uncontended Lock's acquire+release 33 ns where it was 12.5
 * before the start time and namespace were recorded (bench/RESULTS.md).
 *
 * <p>{@code ownerThread} and {@code recursion} are written only by the owner, between its CAS
 * on the state and its release of it, so plain accesses suffice: a thread that reads them has
 * first read the state naming its own process, and its own last write there was to clear them.
 */
public final class LockSync extends Synchronizer {
    private final boolean recursive;

    public LockSync(SyncMemory memory, boolean recursive) {
        super(memory);
        this.recursive = recursive;
    }

    private static long me() {
        return Thread.currentThread().threadId();
    }

    @Override
    protected boolean tryAcquire(int arg) {
        int s = (int) STATE.getVolatile(block);
        if (s == 0) {
            if (STATE.compareAndSet(block, 0, PID)) {
                becomeOwner();
                return true;
            }
            return false;
        }
        if (recursive && s == PID && (long) OWNER_THREAD.get(block) == me()) {
            RECURSION.set(block, (int) RECURSION.get(block) + 1);
            return true;
        }
        return false;
    }

    @Override
    protected boolean available(int s, int arg) {
        return s == 0 || (recursive && s == PID && (long) OWNER_THREAD.get(block) == me());
    }

    /** Records who owns the lock beside the pid the CAS put in the state. */
    private void becomeOwner() {
        OWNER_THREAD.set(block, me());
        RECURSION.set(block, 1);
        OWNER_START.setRelease(block, ProcessIdentity.START);
        OWNER_NS.setRelease(block, ProcessIdentity.NAMESPACE);
    }

    @Override
    protected int ownerPid(int state) {
        return state;
    }

    @Override
    protected boolean tryTakeOver(int state) {
        if (STATE.compareAndSet(block, state, PID)) {
            becomeOwner();
            return true;
        }
        return false;
    }

    @Override
    protected String kind() {
        return recursive ? "RLock" : "Lock";
    }

    /** Python's {@code Lock.release()} / {@code RLock.release()} with their errors. */
    public void release() {
        if (recursive) {
            if (!heldByCurrentThread()) {
                throw new IllegalMonitorStateException(
                        "cannot release an RLock this thread does not hold");
            }
            int r = (int) RECURSION.get(block) - 1;
            if (r > 0) {
                RECURSION.set(block, r);
                return;
            }
        }
        RECURSION.set(block, 0);
        OWNER_THREAD.set(block, 0L);
        // Cleared before the state: a next owner's pid is never read with these of ours.
        OWNER_START.setRelease(block, 0L);
        OWNER_NS.setRelease(block, 0);
        int was = (int) STATE.getAndSet(block, 0);
        if (was == 0) {
            throw new IllegalStateException("release of an unlocked lock");
        }
        wakeWaiters(1);
    }

    public boolean heldByCurrentThread() {
        return (int) STATE.getVolatile(block) == PID && (long) OWNER_THREAD.get(block) == me();
    }

    public boolean locked() {
        return (int) STATE.getVolatile(block) != 0;
    }

    /** The owner's pid, 0 when free. */
    public int owner() {
        return (int) STATE.getVolatile(block);
    }

    /** The calling owner's hold count (1 for a Lock). */
    public int holdCount() {
        return heldByCurrentThread() ? (recursive ? (int) RECURSION.get(block) : 1) : 0;
    }

    /** Releases every hold of the calling owner (a Condition's wait); returns how many. */
    int releaseFully() {
        if (!heldByCurrentThread()) {
            throw new IllegalMonitorStateException("the lock is not held by this thread");
        }
        int holds = recursive ? (int) RECURSION.get(block) : 1;
        RECURSION.set(block, 1); // so that release() drops the lock at once
        release();
        return holds;
    }

    /** Takes the lock again with {@code holds} holds, waiting as long as it takes. */
    void reacquire(int holds) {
        try {
            acquire(0, -1);
        } finally {
            if (heldByCurrentThread()) {
                RECURSION.set(block, holds);
            }
        }
    }
}
