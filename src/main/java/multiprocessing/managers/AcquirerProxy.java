package multiprocessing.managers;

import java.time.Duration;

/**
 * A shared lock, reentrant lock or semaphore (Python's {@code AcquirerProxy}). Any process may
 * release a {@code lock()}; an {@code rLock()} belongs to the thread (of whichever process)
 * that acquired it.
 *
 * <p>A process that goes while it holds a lock or reentrant lock (killed, or exited without
 * releasing it) does not keep it for good, as it would in CPython: once the server sees the
 * process's connections end, the next acquire, in any process, gets the lock and throws
 * {@link multiprocessing.synchronize.OwnerDeadException}, holding it, as the library's own
 * locks do. Whatever the lock protects may have been left half-updated; the acquirer repairs
 * it, then releases the lock as usual. A {@code release()} of a {@code lock()} made before
 * anyone acquired it again is taken as the one the dead process left to another, as any
 * process may release a {@code lock()}. A semaphore has no owner, and keeps what a dead
 * process took.
 *
 * <p>A thread interrupted while it waits in {@code acquire} gets {@link
 * multiprocessing.ProcessError} if it did not get the lock, and {@code true}, with its
 * interrupt status set, if the server gave it the lock before the interrupt reached it (a
 * grant whose reply comes after the thread gave up, from a server stalled for seconds, is
 * given back: see {@link BaseProxy}'s interrupts); or {@code OwnerDeadException} as above,
 * holding the lock. So a thread that catches {@code ProcessError} from {@code acquire} holds
 * the lock if, and only if, it is an {@code OwnerDeadException}.
 */
public interface AcquirerProxy extends BaseProxy {
    /**
     * Acquires it, waiting as long as it takes.
     *
     * @return true
     */
    boolean acquire();

    /**
     * Acquires it, or with {@code block} false only if that can be done now.
     *
     * @param block whether to wait
     * @return whether it was acquired
     */
    boolean acquire(boolean block);

    /**
     * Acquires it, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait at most
     * @return false if {@code timeout} elapsed first
     */
    boolean acquire(Duration timeout);

    /**
     * Releases it: a lock from any process, a reentrant lock by the thread that holds it, a
     * semaphore by anyone.
     */
    void release();
}
