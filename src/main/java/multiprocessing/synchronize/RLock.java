package multiprocessing.synchronize;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.LockSync;
import multiprocessing.internal.sync.SyncMemory;
import multiprocessing.internal.sync.Synchronizer;

/**
 * A recursive lock shared by processes and threads (Python's {@code multiprocessing.RLock}): the
 * thread that holds it may acquire it again, and must release it once per acquire; only that
 * thread may release it. Shared with other processes as {@link Lock} is; a blocking acquire
 * whose owner process died throws {@link OwnerDeadException} holding the lock once.
 */
public class RLock implements java.util.concurrent.locks.Lock {
    static {
        Serialization.register(RLock.class, new Reducer<RLock>() {
            @Override
            public void reduce(RLock value, Out out) {
                value.sync.memory().writeTo(out);
            }

            @Override
            public RLock rebuild(In in) {
                return new RLock(SyncMemory.readFrom(in));
            }
        });
    }

    final LockSync sync;

    /** A new unlocked recursive lock (Python's {@code RLock()}). */
    public RLock() {
        this(SyncMemory.allocate());
    }

    RLock(SyncMemory memory) {
        this.sync = new LockSync(memory, true);
    }

    public boolean acquire() {
        return sync.acquire(0, Timeouts.FOREVER);
    }

    public boolean acquire(boolean block) {
        return sync.acquire(0, block ? Timeouts.FOREVER : 0);
    }

    public boolean acquire(Duration timeout) {
        return sync.acquire(0, Timeouts.nanos(timeout));
    }

    public boolean acquire(boolean block, Duration timeout) {
        return block ? acquire(timeout) : acquire(false);
    }

    /**
     * Drops one hold; the last one frees the lock.
     *
     * @throws IllegalMonitorStateException if the calling thread does not hold it (Python's
     *     AssertionError)
     */
    public void release() {
        sync.release();
    }

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

    @Override
    public Condition newCondition() {
        return new Condition(this);
    }

    public boolean isHeldByCurrentThread() {
        return sync.heldByCurrentThread();
    }

    /** The calling thread's holds (0 if it does not hold the lock). */
    public int getHoldCount() {
        return sync.holdCount();
    }

    @Override
    public String toString() {
        int owner = sync.owner();
        if (sync.heldByCurrentThread()) {
            return "<RLock(" + multiprocessing.Multiprocessing.currentProcess().name() + ", "
                    + sync.holdCount() + ")>";
        }
        if (owner == 0) {
            return "<RLock(None, 0)>";
        }
        return "<RLock(" + (owner == Synchronizer.PID ? "SomeOtherThread" : "SomeOtherProcess")
                + ", nonzero)>";
    }
}
