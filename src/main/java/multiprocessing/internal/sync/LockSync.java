package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.OWNER_THREAD;
import static multiprocessing.internal.sync.SyncLayout.OWNER_WORD;
import static multiprocessing.internal.sync.SyncLayout.RECURSION;
import static multiprocessing.internal.sync.SyncLayout.STATE;

import multiprocessing.internal.posix.ProcessIdentity;

/**
 * A mutex whose state is its owner's pid (0 = free), with the owning thread's token beside it:
 * Python's Lock ({@code recursive == false}: any thread of any process may release it) and RLock
 * (only the owning thread, once per acquire).
 *
 * <h2>Implementation note</h2>
 * The futex word {@code state} holds the owner's pid and the word beside it,
 * {@code ownerTag}, the owner's {@link ProcessIdentity#tag} (start time and pid namespace), which
 * tells a live owner from another process that was given the dead owner's pid. Together they
 * are one aligned long, {@code ownerWord}: an acquire is one CAS of that long from 0 to this
 * process's word, a release one exchange back to 0. So a locked word always names a process
 * whose death a waiter can detect, with its identity, and the two never disagree: no moment
 * where the lock is held and its owner not yet recorded, nor recorded with the previous
 * owner's identity. Recording the identity in fields of its own, written after the CAS and
 * cleared before the release, cost four more stores per acquire and release and made an
 * uncontended Lock's acquire+release 25-30 ns where it is 13-16 (bench/RESULTS.md); the kernel
 * still sees only the 32-bit {@code state}, the futex word waiters sleep on.
 *
 * <p>{@code ownerThread} holds the owning thread's token ({@link #me}): its thread id with this
 * process's pid in the upper half, so that threads of different processes, whose ids are alike
 * (children running the same code number their threads alike), have different tokens. It and
 * {@code recursion} are written by the owner between its CAS on the owner word and its release,
 * or, for a Lock (which any thread may release), cleared by the releasing thread before the
 * releasing getAndSet; either way the next owner's CAS comes after, so plain accesses suffice. A thread asks whether it holds the lock with two reads,
 * the owner word and then {@code ownerThread}; between them the lock may pass to another thread
 * of any process, which writes its own token there. Only this thread writes this thread's
 * token, and it clears it before it releases: finding its own token means it still holds the
 * lock. With thread ids alone, a thread that read its process's word just before that
 * process's holder released found the id of a same-numbered thread of the next owner's process,
 * and took the lock as its own (two holders of an RLock at once; attack 28).
 */
public final class LockSync extends Synchronizer {
    /** This process's owner word. */
    private static final long MINE = SyncLayout.ownerWord(PID, ProcessIdentity.TAG);

    private final boolean recursive;

    public LockSync(SyncMemory memory, boolean recursive) {
        super(memory);
        this.recursive = recursive;
    }

    /**
     * The token thread {@code threadId} of process {@code pid} keeps in {@code ownerThread}:
     * unique within a process (the id XORed with a constant), and across processes unless a
     * thread id reaches 2^32.
     */
    static long token(int pid, long threadId) {
        return threadId ^ ((long) pid << 32);
    }

    /** The calling thread's {@link #token}. */
    private static long me() {
        return token(PID, Thread.currentThread().threadId());
    }

    private long ownerWord() {
        return (long) OWNER_WORD.getVolatile(block);
    }

    @Override
    protected boolean tryAcquire(int arg) {
        // The CAS at once, as ReentrantLock's first try: reading the word before it cost about
        // a quarter of an uncontended acquire+release (bench/RESULTS.md). Waiters that spin read
        // the state before they come here (Synchronizer.attempt), so they do not fight over the
        // line with failing CASes.
        if (OWNER_WORD.compareAndSet(block, 0L, MINE)) {
            becomeOwner();
            return true;
        }
        if (recursive && ownerWord() == MINE && (long) OWNER_THREAD.get(block) == me()) {
            int holds = (int) RECURSION.get(block);
            if (holds == Integer.MAX_VALUE) {
                // As ReentrantLock: wrapped to 0, the next release would free a lock still held.
                throw new Error("Maximum lock count exceeded");
            }
            RECURSION.set(block, holds + 1);
            return true;
        }
        return false;
    }

    @Override
    protected boolean available(int s, int arg) {
        return s == 0 || (recursive && s == PID && ownerWord() == MINE
                && (long) OWNER_THREAD.get(block) == me());
    }

    /**
     * Records which thread owns the lock, after the CAS that made this process the owner (a
     * Lock keeps no hold count: it has one hold at most).
     */
    private void becomeOwner() {
        OWNER_THREAD.set(block, me());
        if (recursive) {
            RECURSION.set(block, 1);
        }
    }

    @Override
    protected int ownerPid(int state) {
        return state;
    }

    @Override
    protected boolean ownedHere(int state) {
        return state == PID && ownerWord() == MINE;
    }

    @Override
    protected int takeOverFromDeadOwner() {
        long w = ownerWord();
        int pid = SyncLayout.pidOf(w);
        if (pid == 0 || w == MINE) {
            return 0;
        }
        // An owner of this process's pid that is not this process is dead: it had the pid
        // first, in this pid namespace. One of another namespace is as alive as can be told
        // (two containers sharing /dev/shm number their processes alike: both JVMs pid 1).
        int tag = SyncLayout.tagOf(w);
        if (pid == PID ? ProcessIdentity.ofAnotherNamespace(tag)
                : ProcessIdentity.aliveTagged(pid, tag)) {
            return 0;
        }
        if (!OWNER_WORD.compareAndSet(block, w, MINE)) {
            return 0;
        }
        becomeOwner();
        return pid;
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
            RECURSION.set(block, r);
            if (r > 0) {
                return;
            }
        }
        OWNER_THREAD.set(block, 0L);
        long was = (long) OWNER_WORD.getAndSet(block, 0L);
        if (was == 0) {
            throw new IllegalStateException("release of an unlocked lock");
        }
        wakeWaiters(1);
    }

    public boolean heldByCurrentThread() {
        return ownerWord() == MINE && (long) OWNER_THREAD.get(block) == me();
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
