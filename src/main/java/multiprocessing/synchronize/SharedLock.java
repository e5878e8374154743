package multiprocessing.synchronize;

import java.util.concurrent.TimeUnit;

import multiprocessing.internal.sync.LockSync;
import multiprocessing.internal.sync.SyncMemory;

/**
 * What {@link Lock} and {@link RLock} share: Python's {@code acquire}/{@code release} and
 * {@link java.util.concurrent.locks.Lock}'s methods over one {@link LockSync} in shared memory.
 * They differ only in whether the holder may acquire again and who may release.
 */
abstract sealed class SharedLock extends Acquirable<LockSync>
        implements java.util.concurrent.locks.Lock permits Lock, RLock {

    SharedLock(SyncMemory memory, boolean recursive) {
        super(new LockSync(memory, recursive));
    }

    /** Releases the lock (see the subclass for who may). */
    public void release() {
        sync.release();
    }

    /**
     * Takes the lock, waiting as long as it takes (not interruptible, as Python's acquire).
     *
     * <p>If its holder's process died, this throws {@link OwnerDeadException} <em>with the lock
     * held</em>. In {@code lock(); try { ... } finally { unlock(); }} that exception comes
     * before the {@code try}, so nothing releases the lock: a thread that lives on after it
     * (caught further up, in a pool or an executor) must release it itself, or every other
     * process waits for good. Where a holder may be killed, write
     * {@code try { lock.lock(); } catch (OwnerDeadException e) { repair(); }} before the
     * {@code try}/{@code finally}.
     */
    @Override
    public void lock() {
        acquire();
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        sync.acquireInterruptibly(0, Timeouts.FOREVER);
    }

    @Override
    public boolean tryLock() {
        return acquire(false);
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        return sync.acquireInterruptibly(0, Timeouts.nanos(time, unit));
    }

    @Override
    public void unlock() {
        release();
    }

    /** A condition variable over this lock (Python's {@code Condition(lock)}). */
    @Override
    public abstract Condition newCondition();

    /** {@return whether the calling thread holds the lock} */
    public boolean isHeldByCurrentThread() {
        return sync.heldByCurrentThread();
    }
}
