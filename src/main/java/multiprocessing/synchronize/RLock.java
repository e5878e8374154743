package multiprocessing.synchronize;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.SyncMemory;
import multiprocessing.internal.sync.Synchronizer;

/**
 * A recursive lock shared by processes and threads (Python's {@code multiprocessing.RLock}): the
 * thread that holds it may acquire it again, and must release it once per acquire; only that
 * thread may release it. Shared with other processes as {@link Lock} is; an acquire (blocking,
 * timed or not) that finds the owner process dead throws {@link OwnerDeadException}, holding
 * the lock once.
 */
public final class RLock extends SharedLock {
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

    /** A new unlocked recursive lock (Python's {@code RLock()}, with the default context). */
    public RLock() {
        this(SyncMemory.allocate());
    }

    RLock(SyncMemory memory) {
        super(memory, true);
    }

    /**
     * Drops one hold; the last one frees the lock.
     *
     * @throws IllegalMonitorStateException if the calling thread does not hold it (Python's
     *     AssertionError)
     */
    @Override
    public void release() {
        super.release();
    }

    @Override
    public Condition newCondition() {
        return new Condition(this);
    }

    /** {@return the calling thread's holds (0 if it does not hold the lock)} */
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
