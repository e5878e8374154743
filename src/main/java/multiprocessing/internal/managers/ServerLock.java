package multiprocessing.internal.managers;

import multiprocessing.synchronize.OwnerDeadException;

/**
 * A manager's {@code Lock} (Python's {@code threading.Lock} in the server): not owned, so any
 * caller may release it, as a client's acquire and release may reach the server over different
 * connections and threads. The client whose caller took it is still noted, so that the lock is
 * given up if that client goes while it holds it ({@link Holdings}).
 */
public final class ServerLock extends Permits implements Ownable, Holdings.Held {
    private static final long NONE = Long.MIN_VALUE;

    /** The client whose caller took it, while held; null if none, or the server's own JVM. */
    private Holdings holder;
    /** The pid of a client that went holding it, told to the next acquirer; else NONE. */
    private long deadHolder = NONE;

    public ServerLock() {
        super(1);
    }

    @Override
    synchronized boolean taken() {
        Holdings h = Caller.holdings();
        if (h != null && !h.add(this)) {
            permits.release();
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

    @Override
    public synchronized void release() {
        if (permits.availablePermits() > 0) {
            if (deadHolder != NONE) {
                // Given up for a client that went, and not taken since: this is the release
                // that client left to another (any process may release a Lock).
                deadHolder = NONE;
                return;
            }
            throw new IllegalStateException("release of an unlocked lock");
        }
        if (holder != null) {
            holder.remove(this);
            holder = null;
        }
        permits.release();
    }

    @Override
    public synchronized void holderGone(Holdings h) {
        if (holder == h && permits.availablePermits() == 0) {
            holder = null;
            deadHolder = h.pid();
            permits.release();
        }
    }

    public boolean locked() {
        return permits.availablePermits() == 0;
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

    /** Interruptibly: a waiter whose caller gives up meanwhile must not take it (attack 36). */
    @Override
    public void acquireRestore(int saved) throws InterruptedException {
        acquire();
    }

    @Override
    public String toString() {
        return "<Lock " + (locked() ? "locked" : "unlocked") + ">";
    }
}
