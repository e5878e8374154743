package multiprocessing.synchronize;

import java.time.Duration;

import multiprocessing.internal.sync.Synchronizer;

/**
 * Python's four ways to {@code acquire} (blocking, non-blocking, with a timeout, and both
 * arguments), over one {@link Synchronizer}: what locks and semaphores share.
 *
 * @param <S> the synchronizer kind
 */
abstract class Acquirable<S extends Synchronizer> {
    final S sync;

    Acquirable(S sync) {
        this.sync = sync;
    }

    /**
     * Blocks until acquired; always true.
     *
     * @return true
     */
    public boolean acquire() {
        return sync.acquire(0, Timeouts.FOREVER);
    }

    /**
     * With {@code block} false, acquires only if that can be done now.
     *
     * @param block whether to wait
     * @return whether it was acquired
     */
    public boolean acquire(boolean block) {
        return sync.acquire(0, block ? Timeouts.FOREVER : 0);
    }

    /**
     * Waits at most {@code timeout} (negative: not at all); false if it elapsed.
     *
     * @param timeout how long to wait at most
     * @return whether it was acquired
     */
    public boolean acquire(Duration timeout) {
        return sync.acquire(0, Timeouts.nanos(timeout));
    }

    /**
     * Python's {@code acquire(block, timeout)}: the timeout counts only when blocking.
     *
     * @param block   whether to wait
     * @param timeout how long to wait at most, when blocking
     * @return whether it was acquired
     */
    public boolean acquire(boolean block, Duration timeout) {
        return block ? acquire(timeout) : acquire(false);
    }
}
