package multiprocessing.managers;

import java.time.Duration;

/**
 * A shared lock, reentrant lock or semaphore (Python's {@code AcquirerProxy}). Any process may
 * release a {@code lock()}; an {@code rLock()} belongs to the thread (of whichever process)
 * that acquired it.
 */
public interface AcquirerProxy extends BaseProxy {
    boolean acquire();

    boolean acquire(boolean block);

    /** False if {@code timeout} elapsed first. */
    boolean acquire(Duration timeout);

    void release();
}
