package multiprocessing.internal.managers;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import multiprocessing.internal.util.Durations;

/**
 * A manager's {@code RLock}: owned by the calling thread of the calling process
 * ({@link Caller}), not by the server thread that runs the call. Given up if the owner's
 * process goes while it holds it ({@link Holdings}). Its waiters are the server's virtual
 * threads, so they wait on a {@link Condition}, never a monitor (see {@link ServerEvent}).
 */
public final class ServerRLock implements Concurrent, Ownable, Holdings.Held {
    private final LockHolder holder = new LockHolder(this);
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
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

    private boolean acquire(long nanos) throws InterruptedException {
        String me = Caller.current();
        lock.lock();
        try {
            if (me.equals(owner)) {
                count++;
                return true;
            }
            long left = nanos;
            boolean waited = false;
            while (owner != null) {
                waited = true;
                if (nanos < 0) {
                    freed.await();
                } else {
                    if (left <= 0) {
                        return false;
                    }
                    left = freed.awaitNanos(left);
                }
            }
            return take(me, 1, waited);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes it, free, for caller {@code me} at depth {@code n}, noted for its client; given up
     * again at once if that client is gone (looked at again if it {@code waited}). Lock held.
     */
    private boolean take(String me, int n, boolean waited) {
        owner = me;
        count = n;
        if (!holder.taken(waited)) {
            free();
            throw new LockHolder.CallerGone();
        }
        return true;
    }

    /** Lock held. */
    private void free() {
        owner = null;
        count = 0;
        freed.signalAll();
    }

    @Override
    public void holderGone(Holdings h) {
        lock.lock();
        try {
            if (owner != null && holder.gone(h)) {
                free();
            }
        } finally {
            lock.unlock();
        }
    }

    public void release() {
        String me = Caller.current();
        lock.lock();
        try {
            if (!me.equals(owner)) {
                throw new IllegalMonitorStateException("cannot release un-acquired lock");
            }
            if (--count == 0) {
                holder.released();
                free();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isOwned() {
        String me = Caller.current();
        lock.lock();
        try {
            return me.equals(owner);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int releaseSave() {
        lock.lock();
        try {
            int saved = count;
            holder.released();
            free();
            return saved;
        } finally {
            lock.unlock();
        }
    }

    /** Interruptibly, as a Lock's: a waiter whose caller gives up must not take it (attack 36). */
    @Override
    public void acquireRestore(int saved) throws InterruptedException {
        String me = Caller.current();
        lock.lockInterruptibly();
        try {
            while (owner != null) {
                freed.await();
            }
            take(me, saved, true);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "<RLock owner=" + owner + " count=" + count + ">";
        } finally {
            lock.unlock();
        }
    }
}
