package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A manager's {@code Lock} (Python's {@code threading.Lock} in the server): not owned, so any
 * caller may release it, as a client's acquire and release may reach the server over different
 * connections and threads.
 */
public final class ServerLock implements Concurrent, Ownable {
    private final Semaphore permit = new Semaphore(1);

    public boolean acquire() throws InterruptedException {
        permit.acquire();
        return true;
    }

    public boolean acquire(boolean block) throws InterruptedException {
        return block ? acquire() : permit.tryAcquire();
    }

    public boolean acquire(Duration timeout) throws InterruptedException {
        return permit.tryAcquire(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
    }

    public synchronized void release() {
        if (permit.availablePermits() > 0) {
            throw new IllegalStateException("release of an unlocked lock");
        }
        permit.release();
    }

    public boolean locked() {
        return permit.availablePermits() == 0;
    }

    @Override
    public boolean isOwned() {
        return locked();
    }

    @Override
    public int releaseSave() {
        release();
        return 1;
    }

    @Override
    public void acquireRestore(int saved) throws InterruptedException {
        permit.acquireUninterruptibly();
    }

    @Override
    public String toString() {
        return "<Lock " + (locked() ? "locked" : "unlocked") + ">";
    }
}
