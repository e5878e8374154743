package multiprocessing.synchronize;

import multiprocessing.internal.reduction.Reducer;
import multiprocessing.internal.reduction.Serialization;
import multiprocessing.internal.sync.SyncMemory;

/**
 * A non-recursive lock shared by processes and threads (Python's {@code multiprocessing.Lock}):
 * once a thread of any process holds it, every other attempt, from any thread or process
 * (the holder's own thread included), waits until it is released; any thread of any process may
 * release it.
 *
 * <p>It lives in one small block of shared memory and is handed to another process by capturing
 * it in a process's target, storing it in a field of an object sent, or sending it through a
 * {@link multiprocessing.connection.Connection}: the other process then uses the same lock.
 *
 * <p>The fast path is one CAS in user space; a waiter spins briefly and then sleeps on a futex.
 * If the process holding the lock dies, the next acquire throws {@link OwnerDeadException}
 * (holding the lock) instead of waiting forever; see there. A non-blocking or timed acquire
 * ({@code tryLock()}, {@code acquire(false)}) throws it too, once it finds the owner gone. A lock
 * released by a process other than the one that acquired it counts as owned by its acquirer
 * until then: if the acquirer dies meanwhile, a waiter reports it as dead, and holds it; the
 * release the other process was to make then frees that waiter's hold (nothing tells the two
 * apart), so a lock handed from process to process this way should not also rely on
 * {@link OwnerDeadException}.
 *
 * <p>{@code acquire} and {@code lock()} are not interruptible (as in Python); use
 * {@link #lockInterruptibly()} or {@link #tryLock(long, TimeUnit)} for waits an interrupt ends.
 */
public final class Lock extends SharedLock {
    static {
        Serialization.register(Lock.class, new Reducer<Lock>() {
            @Override
            public void reduce(Lock value, Out out) {
                value.sync.memory().writeTo(out);
            }

            @Override
            public Lock rebuild(In in) {
                return new Lock(SyncMemory.readFrom(in));
            }
        });
    }

    /** A new unlocked lock (Python's {@code Lock()}, with the default context). */
    public Lock() {
        this(SyncMemory.allocate());
    }

    Lock(SyncMemory memory) {
        super(memory, false);
    }

    /**
     * Releases the lock, whoever holds it.
     *
     * @throws IllegalStateException if it is not locked (Python's ValueError)
     */
    @Override
    public void release() {
        super.release();
    }

    @Override
    public Condition newCondition() {
        return new Condition(this);
    }

    /** {@return whether some thread of some process holds the lock now} */
    public boolean locked() {
        return sync.locked();
    }

    @Override
    public String toString() {
        int owner = sync.owner();
        String name = sync.heldByCurrentThread() ? multiprocessing.Multiprocessing.currentProcess().name()
                : owner == 0 ? "None" : owner == multiprocessing.internal.sync.Synchronizer.PID
                ? "SomeOtherThread" : "SomeOtherProcess";
        return "<Lock(owner=" + name + ")>";
    }
}
