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
        permits.acquire();
        return taken();
    }

    public boolean acquire(boolean block) throws InterruptedException {
        return block ? acquire() : permits.tryAcquire() && taken();
    }

    public boolean acquire(Duration timeout) throws InterruptedException {
        return permits.tryAcquire(Durations.nanos(timeout), TimeUnit.NANOSECONDS) && taken();
    }

    /** A permit was just taken for the current call's caller; returns true. */
    boolean taken() {
        return true;
    }

    public abstract void release();
}
