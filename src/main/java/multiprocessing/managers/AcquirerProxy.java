package multiprocessing.managers;

import java.time.Duration;

/**
 * A shared lock, reentrant lock or semaphore (Python's {@code AcquirerProxy}). Any process may
 * release a {@code lock()}; an {@code rLock()} belongs to the thread (of whichever process)
 * that acquired it.
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
