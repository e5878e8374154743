package multiprocessing.internal.managers;

import java.time.Duration;
import multiprocessing.internal.util.Durations;
import multiprocessing.synchronize.OwnerDeadException;

/**
 * A manager's {@code RLock}: owned by the calling thread of the calling process
 * ({@link Caller}), not by the server thread that runs the call. Given up if the owner's
 * process goes while it holds it ({@link Holdings}).
 */
public final class ServerRLock implements Concurrent, Ownable, Holdings.Held {
    private static final long NONE = Long.MIN_VALUE;

    private String owner;
    private int count;
    /** The owner's client, while owned by one; null for the server's own JVM. */
    private Holdings holder;
    /** The pid of a client that went holding it, told to the next acquirer; else NONE. */
    private long deadHolder = NONE;

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
        return taken();
    }

    /** It was just taken for the current caller: noted for its client. */
    private boolean taken() {
        Holdings h = Caller.holdings();
        if (h != null && !h.add(this)) {
            owner = null;
            count = 0;
            notifyAll();
            throw new IllegalStateException("the caller's process is gone");
        }
        holder = h;
        long dead = deadHolder;
        if (dead != NONE) {
            deadHolder = NONE;
            throw new OwnerDeadException(dead, "lock");
        }
        return true;
    }

    private void forget() {
        if (holder != null) {
            holder.remove(this);
            holder = null;
        }
    }

    @Override
    public synchronized void holderGone(Holdings h) {
        if (holder == h && owner != null) {
            owner = null;
            count = 0;
            holder = null;
            deadHolder = h.pid();
            notifyAll();
        }
    }

    public synchronized void release() {
        if (!Caller.current().equals(owner)) {
            throw new IllegalMonitorStateException("cannot release un-acquired lock");
        }
        if (--count == 0) {
            owner = null;
            forget();
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
        forget();
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
        taken();
    }

    @Override
    public synchronized String toString() {
        return "<RLock owner=" + owner + " count=" + count + ">";
    }
}
