package multiprocessing.internal.managers;

import java.time.Duration;
import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code RLock}: owned by the calling thread of the calling process
 * ({@link Caller}), not by the server thread that runs the call. Given up if the owner's
 * process goes while it holds it ({@link Holdings}).
 */
public final class ServerRLock implements Concurrent, Ownable, Holdings.Held {
    private final LockHolder holder = new LockHolder(this);
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
        return take(me, 1);
    }

    /**
     * Takes it, free, for caller {@code me} at depth {@code n}, noted for its client; given up
     * again at once if that client is gone.
     */
    private boolean take(String me, int n) {
        owner = me;
        count = n;
        if (!holder.taken()) {
            free();
            throw new LockHolder.CallerGone();
        }
        return true;
    }

    private void free() {
        owner = null;
        count = 0;
        notifyAll();
    }

    @Override
    public synchronized void holderGone(Holdings h) {
        if (owner != null && holder.gone(h)) {
            free();
        }
    }

    public synchronized void release() {
        if (!Caller.current().equals(owner)) {
            throw new IllegalMonitorStateException("cannot release un-acquired lock");
        }
        if (--count == 0) {
            holder.released();
            free();
        }
    }

    @Override
    public synchronized boolean isOwned() {
        return Caller.current().equals(owner);
    }

    @Override
    public synchronized int releaseSave() {
        int saved = count;
        holder.released();
        free();
        return saved;
    }

    /** Interruptibly, as a Lock's: a waiter whose caller gives up must not take it (attack 36). */
    @Override
    public synchronized void acquireRestore(int saved) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        while (owner != null) {
            wait();
        }
        take(Caller.current(), saved);
    }

    @Override
    public synchronized String toString() {
        return "<RLock owner=" + owner + " count=" + count + ">";
    }
}
