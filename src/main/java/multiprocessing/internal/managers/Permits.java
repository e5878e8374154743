package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import multiprocessing.internal.util.Durations;

/**
 * Python's three acquire forms over a {@link Semaphore}, written once for the manager's lock
 * and semaphores; each says for itself what a release may do.
 */
public abstract class Permits implements Concurrent {
    final Semaphore permits;

    Permits(int value) {
        this.permits = new Semaphore(value);
    }

    public boolean acquire() throws InterruptedException {
        // A call given up before it got here takes nothing (the wait below would throw).
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (permits.tryAcquire()) {
            return taken(false);
        }
        permits.acquire();
        return taken(true);
    }

    public boolean acquire(boolean block) throws InterruptedException {
        return block ? acquire() : permits.tryAcquire() && taken(false);
    }

    public boolean acquire(Duration timeout) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (permits.tryAcquire()) {
            return taken(false);
        }
        return permits.tryAcquire(Durations.nanos(timeout), TimeUnit.NANOSECONDS) && taken(true);
    }

    /**
     * A permit was just taken for the current call's caller, after a wait if {@code waited};
     * returns true.
     */
    boolean taken(boolean waited) {
        return true;
    }

    public abstract void release();
}
