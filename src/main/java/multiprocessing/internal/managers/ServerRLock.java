package multiprocessing.internal.managers;

import java.time.Duration;
import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code RLock}: owned by the calling thread of the calling process
 * ({@link Caller}), not by the server thread that runs the call.
 */
public final class ServerRLock implements Concurrent, Ownable {
    private String owner;
    private int count;

    public boolean acquire() throws InterruptedException {
        return acquire(-1);
    }

    public boolean acquire(boolean block) throws InterruptedException {
        return acquire(block ? -1 : 0);
    }

    public boolean acquire(Duration timeout) throws InterruptedException {
        return acquire(Durations.nanos(timeout));
    }

    private synchronized boolean acquire(long nanos) throws InterruptedException {
        String me = Caller.current();
        if (me.equals(owner)) {
            count++;
            return true;
        }
        long deadline = System.nanoTime() + nanos;
        while (owner != null) {
            if (nanos < 0) {
                wait();
            } else {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }
        owner = me;
        count = 1;
        return true;
    }

    public synchronized void release() {
        if (!Caller.current().equals(owner)) {
            throw new IllegalMonitorStateException("cannot release un-acquired lock");
        }
        if (--count == 0) {
            owner = null;
            notifyAll();
        }
    }

    @Override
    public synchronized boolean isOwned() {
        return Caller.current().equals(owner);
    }

    @Override
    public synchronized int releaseSave() {
        int saved = count;
        owner = null;
        count = 0;
        notifyAll();
        return saved;
    }

    @Override
    public synchronized void acquireRestore(int saved) throws InterruptedException {
        while (owner != null) {
            wait();
        }
        owner = Caller.current();
        count = saved;
    }

    @Override
    public synchronized String toString() {
        return "<RLock owner=" + owner + " count=" + count + ">";
    }
}
