package multiprocessing.internal.sync;

import static multiprocessing.internal.sync.SyncLayout.SEQUENCE;
import static multiprocessing.internal.sync.SyncLayout.SEQ_WAITERS;
import static multiprocessing.internal.sync.SyncLayout.SIGNALS;

import java.lang.foreign.MemorySegment;

import multiprocessing.internal.wait.Parker;
import multiprocessing.synchronize.OwnerDeadException;

/**
 * A condition variable over a {@link LockSync}, on the {@code sequence} fields of a block (its
 * own, or, for a Barrier, the block its lock also lives in).
 *
 * <h2>Implementation note</h2>
 * Waiters sleep on the {@code sequence} word, which every signal advances. The bookkeeping is
 * done under the lock, so it needs no CAS loops: {@code seqWaiters} counts waiters not yet
 * signalled, {@code signals} the signals granted and not yet taken. {@code signal(n)} moves
 * {@code k = min(n, seqWaiters)} from the first to the second, advances the sequence and wakes
 * {@code k} sleepers. Waiters register (in {@code seqWaiters}, with the sequence they saw) under
 * the lock, so a signal counts exactly the waiters present; one not yet asleep when it is woken
 * is not lost: Parker's sleepers count makes it see the sequence move. A woken waiter retakes the lock and takes a grant if the sequence moved since it
 * registered and one is left; otherwise it waits again, or on timeout removes itself from
 * {@code seqWaiters}. Grants are anonymous, so which of the waiters present at a signal takes it
 * is not decided, but a waiter that arrived after a signal never takes it, and at most {@code n}
 * waiters return signalled for {@code signal(n)} (CPython's count-based Condition keeps the same
 * accounting with three semaphores). A waiter waits for the sequence to move in {@link Parker},
 * with {@code seqSleepers} as the sleepers count, so a signal wakes the kernel only when
 * someone sleeps there.
 */
public final class ConditionSync {
    private final LockSync lock;
    private final SyncMemory memory;
    private final MemorySegment block;
    private final Parker.Site site;

    public ConditionSync(SyncMemory memory, LockSync lock) {
        this.memory = memory;
        this.block = SyncLayout.check(memory.segment());
        this.site = new Parker.Site(SyncLayout.SEQUENCE.word(block),
                SyncLayout.SEQ_SLEEPERS.word(block));
        this.lock = lock;
    }

    public SyncMemory memory() {
        return memory;
    }

    public LockSync lock() {
        return lock;
    }

    private void checkOwned(String what) {
        if (!lock.heldByCurrentThread()) {
            throw new IllegalMonitorStateException("must acquire() the condition's lock before " + what);
        }
    }

    /**
     * Waits for a signal: true if signalled, false if {@code timeoutNanos} (negative: none)
     * elapsed. Holds the lock again on return, as often as before, also when it throws.
     *
     * @throws InterruptedException only if {@code interruptible}
     */
    public boolean await(long timeoutNanos, boolean interruptible) throws InterruptedException {
        checkOwned("await()");
        if (interruptible && Thread.interrupted()) {
            throw new InterruptedException();
        }
        long start = System.nanoTime();
        SEQ_WAITERS.setVolatile(block, (int) SEQ_WAITERS.getVolatile(block) + 1);
        int seen = (int) SEQUENCE.getVolatile(block);
        int holds = lock.releaseFully();
        while (true) {
            Outcome why = awaitSequence(seen, start, timeoutNanos, interruptible);
            OwnerDeadException dead = null;
            try {
                lock.reacquire(holds);
            } catch (OwnerDeadException e) {
                dead = e; // the lock is ours all the same: finish the bookkeeping first
            }
            int now = (int) SEQUENCE.getVolatile(block);
            int granted = (int) SIGNALS.getVolatile(block);
            Boolean result = null;
            if (now != seen && granted > 0) {
                SIGNALS.setVolatile(block, granted - 1);
                result = true;
            } else if (why != Outcome.MOVED) {
                SEQ_WAITERS.setVolatile(block, (int) SEQ_WAITERS.getVolatile(block) - 1);
                result = false;
            }
            if (dead != null) {
                if (result == null) {
                    SEQ_WAITERS.setVolatile(block, (int) SEQ_WAITERS.getVolatile(block) - 1);
                }
                if (why == Outcome.INTERRUPTED) {
                    Thread.currentThread().interrupt(); // not lost with the exception
                }
                throw dead;
            }
            if (result != null) {
                if (why == Outcome.INTERRUPTED) {
                    if (!result) {
                        throw new InterruptedException();
                    }
                    Thread.currentThread().interrupt(); // signalled first: keep the interrupt
                }
                return result;
            }
            // The sequence moved but others took the grants: still registered, wait again.
            seen = now;
            holds = lock.releaseFully();
        }
    }

    /** How a wait for the sequence to move ended. */
    private enum Outcome { MOVED, TIMED_OUT, INTERRUPTED }

    /** Waits without the lock until the sequence leaves {@code seen}, the deadline or an interrupt. */
    private Outcome awaitSequence(int seen, long start, long timeoutNanos, boolean interruptible) {
        long r = Parker.await(site, () -> (int) SEQUENCE.getVolatile(block) != seen ? 0 : -1,
                start, timeoutNanos, interruptible, null);
        return r >= 0 ? Outcome.MOVED
                : r == Parker.INTERRUPTED ? Outcome.INTERRUPTED : Outcome.TIMED_OUT;
    }

    /** Wakes up to {@code n} waiters; the caller must hold the lock. */
    public void signal(int n) {
        checkOwned("signal()");
        if (n <= 0) {
            return;
        }
        int waiting = (int) SEQ_WAITERS.getVolatile(block);
        int k = Math.min(n, waiting);
        if (k <= 0) {
            return;
        }
        SEQ_WAITERS.setVolatile(block, waiting - k);
        SIGNALS.setVolatile(block, (int) SIGNALS.getVolatile(block) + k);
        int ignored = (int) SEQUENCE.getAndAdd(block, 1);
        site.wake(k);
    }

    public void signalAll() {
        signal(Integer.MAX_VALUE);
    }

    /** Waiters not yet signalled (for toString). */
    public int waiting() {
        return (int) SEQ_WAITERS.getVolatile(block);
    }
}
