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

    /** Blocks until acquired; always true. */
    public boolean acquire() {
        return sync.acquire(0, Timeouts.FOREVER);
    }

    /** With {@code block} false, acquires only if that can be done now. */
    public boolean acquire(boolean block) {
        return sync.acquire(0, block ? Timeouts.FOREVER : 0);
    }

    /** Waits at most {@code timeout} (negative: not at all); false if it elapsed. */
    public boolean acquire(Duration timeout) {
        return sync.acquire(0, Timeouts.nanos(timeout));
    }

    /** Python's {@code acquire(block, timeout)}: the timeout counts only when blocking. */
    public boolean acquire(boolean block, Duration timeout) {
        return block ? acquire(timeout) : acquire(false);
    }
}
