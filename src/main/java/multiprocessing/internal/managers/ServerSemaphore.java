package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A manager's {@code Semaphore}, or {@code BoundedSemaphore} when {@code bounded}. */
public final class ServerSemaphore implements Concurrent {
    private final Semaphore permits;
    private final int initial;
    private final boolean bounded;

    public ServerSemaphore(int value, boolean bounded) {
        if (value < 0) {
            throw new IllegalArgumentException("semaphore initial value must be >= 0");
        }
        this.permits = new Semaphore(value);
        this.initial = value;
        this.bounded = bounded;
    }

    public boolean acquire() throws InterruptedException {
        permits.acquire();
        return true;
    }

    public boolean acquire(boolean block) throws InterruptedException {
        return block ? acquire() : permits.tryAcquire();
    }

    public boolean acquire(Duration timeout) throws InterruptedException {
        return permits.tryAcquire(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    }

    public synchronized void release() {
        if (bounded && permits.availablePermits() >= initial) {
            throw new IllegalStateException("semaphore released too many times");
        }
        permits.release();
    }

    public int value() {
        return permits.availablePermits();
    }

    @Override
    public String toString() {
        return "<" + (bounded ? "BoundedSemaphore" : "Semaphore") + " value=" + value() + ">";
    }
}
